"""The release bundle is edited with a JSON editor whose assets ship in the package (no CDN),
and a section that is not valid is refused with the form's error, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from releases.models import Release

pytestmark = pytest.mark.django_db


def test_the_add_page_uses_the_vendored_json_editor(login, superuser):
    page = login(superuser).get(reverse("admin:releases_release_add")).content.decode()
    assert "dist/jsoneditor.min.js" in page and "new JSONEditor" in page
    assert "cdn" not in page.lower()


def test_an_invalid_bundle_is_refused_with_an_error_not_a_500(login, superuser):
    response = login(superuser).post(reverse("admin:releases_release_add"), {
        "version": "2025.11.1", "image_tag": "", "notes": "", "answering": "{not json", "eval_thresholds": "{}", "flags": "{}",
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Release.objects.filter(version="2025.11.1").exists()


def test_a_valid_bundle_is_saved_through_the_service(login, superuser):
    response = login(superuser).post(reverse("admin:releases_release_add"), {
        "version": "2025.11.2", "image_tag": "", "notes": "", "answering": "{}", "eval_thresholds": "{}", "flags": "{}",
    })
    assert response.status_code == 302
    assert Release.objects.get(version="2025.11.2").is_draft
