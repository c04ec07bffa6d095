"""`ask` says which KB version answered and what the live bot serves."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from imperium.core.actors import Actor
from knowledge import services

ACTOR = Actor.system("test")


def _ask(tenant, *args: str) -> str:
    out = StringIO()
    call_command("ask", "--tenant", tenant.slug, *args, stdout=out)
    return out.getvalue()


def test_ask_on_a_draft_says_customers_get_a_hand_over_until_a_version_is_promoted(tenant_a, lotus_kb):
    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=lotus_kb)
    text = _ask(tenant_a, "Сколько стоит маникюр с покрытием?")
    assert "decision:   answer" in text  # the draft is tried, as before
    assert f"answered from:   KB v{draft.number} (draft)" in text
    assert "live bot serves: no KB version on the stable channel: customers get a hand-over (no_knowledge)" in text
    body = json.loads(_ask(tenant_a, "--json", "Сколько стоит маникюр с покрытием?"))
    assert body["action"] == "answer" and body["live_kb_version"] is None and "no_knowledge" in body["live_bot_serves"]

    services.kb_version_promote(actor=ACTOR, version=draft)
    newer = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=lotus_kb + "\n")
    text = _ask(tenant_a, "--kb-version", str(newer.number), "Сколько стоит маникюр с покрытием?")
    assert f"answered from:   KB v{newer.number} (draft)" in text
    assert f"live bot serves: KB v{draft.number} (stable) on the stable channel" in text
    assert f"note: customers are answered from KB v{draft.number}, not from this one" in text
    text = _ask(tenant_a, "Сколько стоит маникюр с покрытием?")
    assert f"answered from:   KB v{draft.number} (stable)" in text and "note:" not in text


def test_ask_without_any_version_says_so(tenant_b):
    text = _ask(tenant_b, "Сколько стоит маникюр?")
    assert "decision:   escalate (no_knowledge)" in text
    assert "answered from:   no KB version (the tenant has none)" in text and "customers get a hand-over" in text
