"""A release is immutable once it leaves draft: services, model, queryset and database all refuse."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog
from releases import services
from releases.models import Release, ReleaseEvent, ReleaseImmutableError

pytestmark = pytest.mark.django_db


def test_a_draft_can_change_and_every_change_is_audited(make_release, system):
    make_release("1.0.0", answering={"thresholds": {"min_confidence": 0.6}})
    release = services.release_update_draft(actor=system, version="1.0.0", overrides={"answering": {"thresholds": {"min_confidence": 0.7}}},
                                            notes="tighter gate")
    assert release.effective_config()["answering"]["thresholds"]["min_confidence"] == 0.7
    entry = AuditLog.objects.get(action="release.draft_updated")
    assert entry.payload["answering"] == {"from": {"thresholds": {"min_confidence": 0.6}}, "to": {"thresholds": {"min_confidence": 0.7}}}
    assert release.history.count() == 2  # created + changed


def test_services_refuse_to_change_a_released_bundle(make_stable, system):
    make_stable("1.0.0", answering={"thresholds": {"min_confidence": 0.6}})
    with pytest.raises(ApplicationError) as excinfo:
        services.release_update_draft(actor=system, version="1.0.0", overrides={"answering": {"thresholds": {"min_confidence": 0.1}}})
    assert excinfo.value.status == 409
    assert Release.objects.get(version="1.0.0").answering == {"thresholds": {"min_confidence": 0.6}}


def test_the_model_refuses_to_save_a_changed_released_bundle(make_stable):
    release = make_stable("1.0.0")
    release.refresh_from_db()
    release.answering = {"templates": {"llm_system": "Отвечай как угодно"}}
    with pytest.raises(ReleaseImmutableError):
        release.save()
    release.refresh_from_db()
    release.status = "draft"
    with pytest.raises(ReleaseImmutableError):
        release.save()
    with pytest.raises(ReleaseImmutableError):
        release.delete()


def test_the_queryset_refuses_bulk_edits_of_released_bundles(make_stable, make_release):
    make_stable("1.0.0")
    make_release("1.1.0")
    with pytest.raises(ReleaseImmutableError):
        Release.objects.all().update(flags={"llm_composer": True})
    with pytest.raises(ReleaseImmutableError):
        Release.objects.filter(version="1.0.0").update(status="draft")
    with pytest.raises(ReleaseImmutableError):
        Release.objects.all().delete()
    assert Release.objects.drafts().update(notes="ok") == 1  # drafts stay editable


def test_the_database_refuses_raw_sql_edits_of_a_released_bundle(make_stable):
    release = make_stable("1.0.0", answering={"thresholds": {"min_confidence": 0.6}})
    table = Release._meta.db_table
    for sql in (f"UPDATE {table} SET answering = '{{}}' WHERE id = %s", f"UPDATE {table} SET status = 'draft' WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [release.pk])
    with connection.cursor() as cursor:  # status moves stay possible
        cursor.execute(f"UPDATE {table} SET status = 'retired' WHERE id = %s", [release.pk])
    release.refresh_from_db()
    assert release.status == "retired" and release.answering == {"thresholds": {"min_confidence": 0.6}}


def test_event_rows_are_append_only(make_release):
    event = ReleaseEvent.objects.get(release=make_release("1.0.0"))
    event.reason = "rewritten"
    with pytest.raises(ApplicationError):
        event.save()
    with pytest.raises(ApplicationError):
        event.delete()


def test_it_refuses_duplicate_and_malformed_versions(make_release):
    make_release("1.0.0")
    with pytest.raises(ApplicationError) as excinfo:
        make_release("1.0.0")
    assert excinfo.value.status == 409
    for bad in ("v1.0.0", "1.0", "latest", "defaults", "1.0.0 "):
        with pytest.raises(ApplicationError):
            make_release(bad)
    assert Release.objects.count() == 1
