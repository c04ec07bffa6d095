"""Manager- and CEO-facing service messages: English in admin and on the command line, Russian in
Telegram (locale/ru). The compiled catalog must match its source, and every message there must
be translated with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from imperium.core.exceptions import ApplicationError

PO = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def po_entries() -> list[tuple[str, str]]:
    text = PO.read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, flags=re.M)
    unescape = lambda s: s.replace('\\"', '"').replace("\\\\", "\\")  # noqa: E731
    return [(unescape(mid), unescape(ms)) for mid, ms in pairs if mid]


def test_every_catalog_message_is_translated_with_the_same_placeholders_and_compiled():
    assert "fuzzy" not in PO.read_text(encoding="utf-8"), "a fuzzy entry (left by makemessages) is not compiled: translate it"
    entries = po_entries()
    assert len(entries) >= 50
    with translation.override(settings.TELEGRAM_LANGUAGE):
        for msgid, msgstr in entries:
            assert msgstr, f"untranslated: {msgid}"
            assert set(re.findall(r"%\((\w+)\)s", msgid)) == set(re.findall(r"%\((\w+)\)s", msgstr)), msgid
            # The .mo in the repository is compiled from this .po (manage.py compilemessages -l ru -i .venv).
            assert gettext(msgid) == msgstr, f"stale django.mo for: {msgid}"


@pytest.mark.django_db
def test_a_service_refusal_is_english_by_default_and_russian_in_the_telegram_language():
    from imperium.core.actors import Actor
    from releases.operations import deploy_stable

    with pytest.raises(ApplicationError) as english:
        deploy_stable(actor=Actor.system("test"), source="cli")
    assert english.value.message.startswith("No canary release to promote")
    with translation.override(settings.TELEGRAM_LANGUAGE), pytest.raises(ApplicationError) as russian:
        deploy_stable(actor=Actor.system("test"), source="telegram")
    assert russian.value.message.startswith("Нет канареечного релиза для продвижения")
