"""`celery_lpush` copies kombu's Redis envelope by hand; these pin the kombu version it was checked against."""

from __future__ import annotations

import re
from pathlib import Path

import kombu
from django.conf import settings

from imperium.core.celery_lpush import KOMBU_VERSION_CHECKED


def test_the_installed_kombu_is_the_one_the_envelope_was_checked_against():
    # On a kombu upgrade: run conversations/tests/test_dispatch.py (kombu's own envelope against ours, and a
    # real worker consuming it, with REDIS_URL set), read kombu's Redis transport changes, then move the pin.
    assert kombu.__version__ == KOMBU_VERSION_CHECKED


def test_requirements_pin_that_kombu():
    requirements = (Path(settings.BASE_DIR) / "requirements.txt").read_text()
    assert re.search(rf"^kombu=={re.escape(KOMBU_VERSION_CHECKED)}$", requirements, flags=re.M)
