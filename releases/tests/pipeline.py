"""Driving the real reply pipeline from releases tests: the pipeline's own test fixtures plus
`ask_turn`, which sends customer messages through the signed webhook and runs the turn task's
entry point (`conversations.services.turns.turn_run_now`: release + KB resolution, real answer brain,
send to the ChatFlow sandbox). Import the fixtures a test module needs from here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from conversations.conftest import _pipeline_isolation, inline, message_body, queued, webhook  # noqa: F401
from conversations.models import MessageTrace, SandboxMessage
from conversations.services.turns import turn_run_now
from conversations.tests.helpers import conversation_of
from imperium.core.actors import Actor
from knowledge import services as kb
from knowledge.conftest import EVAL_DIR, _fresh_knowledge_caches  # noqa: F401

ACTOR = Actor.system("test")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PHONE = "+77011234567"


def import_kb(tenant, *, stable: bool = True):
    """The public Lotus Beauty KB as the tenant's first version (stable unless told otherwise)."""
    content = (EVAL_DIR / "lotus-beauty" / "kb.jsonl").read_text(encoding="utf-8")
    version = kb.kb_import(actor=ACTOR, tenant=tenant, file_name="kb.jsonl", content=content)
    return kb.kb_version_make_first_stable(actor=ACTOR, version=version) if stable else version


@pytest.fixture
def ask_turn(webhook, inline):  # noqa: F811
    """ask_turn(tenant, *texts, phone=..., at=T0) -> the MessageTrace of the turn that answered them."""

    def _ask(tenant, *texts: str, phone: str = PHONE, at: datetime = T0) -> MessageTrace:
        with time_machine.travel(at, tick=False) as traveller:
            for text in texts:
                webhook.post(tenant, payload=message_body(text=text, **{"from": phone}))
            traveller.shift(15)
            with inline():
                turn_run_now(conversation_of(tenant, phone).pk)
        return MessageTrace.objects.for_tenant(tenant).order_by("-id").first()

    return _ask


def sent_text(trace: MessageTrace) -> str:
    return SandboxMessage.objects.get(idempotency_key__endswith=f"turn{trace.turn_id}").text
