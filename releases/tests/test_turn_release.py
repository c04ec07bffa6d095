"""Turns are answered with the tenant's release and the KB version its channel serves.

These run the real pipeline entry point (`conversations.services.turns.turn_run_now`: webhook → turn →
real answer brain → send to the ChatFlow sandbox) and read what a person would check: the
reply the customer got, and the MessageTrace's release and KB version columns.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from imperium.telegram.tests.conftest import ceo_allowed, deliver  # noqa: F401
from knowledge import services as kb
from releases import services
from releases.tests.pipeline import (  # noqa: F401
    ACTOR,
    _fresh_knowledge_caches,
    _pipeline_isolation,
    ask_turn,
    import_kb,
    inline,
    queued,
    sent_text,
    webhook,
)

pytestmark = pytest.mark.django_db


def test_a_canary_release_with_a_stricter_threshold_changes_only_the_canary_tenants_decision(tenant_a, tenant_b, ask_turn):  # noqa: F811
    for tenant in (tenant_a, tenant_b):
        import_kb(tenant)
    services.release_create_draft(actor=ACTOR, version="1.1.0", overrides={"answering": {"thresholds": {"min_confidence": 0.99}}})
    services.release_start_canary(actor=ACTOR, version="1.1.0")
    services.tenant_deploy_canary(actor=ACTOR, tenant=tenant_a)

    canary = ask_turn(tenant_a, "Вечерний макияж сколько стоит")
    stable = ask_turn(tenant_b, "Вечерний макияж сколько стоит")

    assert (canary.decision, canary.reason, canary.release, canary.kb_version) == ("escalate", "low_confidence", "1.1.0", 1)
    assert (stable.decision, stable.release, stable.kb_version) == ("answer", "defaults", 1)
    assert "14 000 ₸" in sent_text(stable)
    assert canary.turn.release == "1.1.0" and stable.turn.release == "defaults"

    services.tenant_rollback(actor=ACTOR, tenant=tenant_a)
    again = ask_turn(tenant_a, "Вечерний макияж сколько стоит", phone="+77019998877")
    assert (again.decision, again.release) == ("answer", "defaults")


def test_a_canary_release_with_a_changed_template_changes_only_the_canary_tenants_reply(tenant_a, tenant_b, ask_turn):  # noqa: F811
    for tenant in (tenant_a, tenant_b):
        import_kb(tenant)
    services.release_create_draft(actor=ACTOR, version="1.0.0")
    services.release_start_canary(actor=ACTOR, version="1.0.0")
    services.release_promote_stable(actor=ACTOR, version="1.0.0")
    services.release_create_draft(actor=ACTOR, version="1.1.0", copy_from="1.0.0",
                                  overrides={"answering": {"templates": {"join": "\n\n———\n\n"}}})
    services.release_start_canary(actor=ACTOR, version="1.1.0")
    services.tenant_deploy_canary(actor=ACTOR, tenant=tenant_a)

    burst = ("Салам", "адрес на толе би какой", "и до скольки в будни работаете")
    canary, stable = ask_turn(tenant_a, *burst), ask_turn(tenant_b, *burst)

    assert canary.decision == stable.decision == "answer" and canary.sources == stable.sources and len(canary.sources) == 2
    assert "———" in sent_text(canary) and "———" not in sent_text(stable)
    assert (canary.release, stable.release) == ("1.1.0", "1.0.0")


def test_a_canary_tenant_is_served_its_candidate_kb_version_and_a_stable_tenant_only_its_stable_one(tenant_a, ask_turn):  # noqa: F811
    stable_kb = import_kb(tenant_a)
    candidate = kb.kb_version_clone(actor=ACTOR, version=stable_kb)
    item = candidate.items.get(external_id="price-makeup")
    kb.kb_item_save(actor=ACTOR, version=candidate, item=item, external_id=item.external_id, question=item.question,
                    answer=item.answer.replace("вечерний — 14 000 ₸", "вечерний — 15 000 ₸"))
    kb.kb_version_mark_candidate(actor=ACTOR, version=candidate)
    services.release_create_draft(actor=ACTOR, version="1.1.0")
    services.release_start_canary(actor=ACTOR, version="1.1.0")

    before = ask_turn(tenant_a, "Вечерний макияж сколько стоит", phone="+77010000001")
    assert (before.kb_version, before.release) == (stable_kb.number, "defaults") and "14 000 ₸" in sent_text(before)

    services.tenant_deploy_canary(actor=ACTOR, tenant=tenant_a)
    on_canary = ask_turn(tenant_a, "Вечерний макияж сколько стоит", phone="+77010000002")
    assert (on_canary.kb_version, on_canary.release) == (candidate.number, "1.1.0") and "15 000 ₸" in sent_text(on_canary)

    services.tenant_rollback(actor=ACTOR, tenant=tenant_a)
    after = ask_turn(tenant_a, "Вечерний макияж сколько стоит", phone="+77010000003")
    assert after.kb_version == stable_kb.number and "14 000 ₸" in sent_text(after)


def test_a_tenant_serving_no_kb_version_is_never_answered_from_a_draft(tenant_a, ask_turn):  # noqa: F811
    draft = import_kb(tenant_a, stable=False)  # imported, never reviewed or promoted

    trace = ask_turn(tenant_a, "Сколько стоит маникюр?")

    assert (trace.decision, trace.reason, trace.kb_version) == ("escalate", "no_knowledge", None)
    assert trace.release == "defaults"
    assert {"rule": "knowledge_present", "passed": False, "detail": "the tenant serves no KB version on its channel"} in trace.gate
    assert sent_text(trace) == tenant_a.settings.holding_reply_template  # the customer is told a human will answer
    # ask (docs/CONTRACTS.md "Command line") still tries the newest draft when nothing is served: that is how a draft is checked.
    out = StringIO()
    call_command("ask", "--tenant", tenant_a.slug, "--json", "Сколько стоит маникюр?", stdout=out)
    assert f'"kb_version": {draft.number}' in out.getvalue() and '"action": "answer"' in out.getvalue()


def test_status_in_telegram_shows_the_release_and_kb_version_the_next_turn_gets(deliver, telegram_bot, ceo_allowed, tenant_a,  # noqa: F811
                                                                               ask_turn):  # noqa: F811
    from imperium.telegram.testing.updates import CEO, message_update
    from imperium.telegram.tests.conftest import replies

    deliver(message_update("/status alpha"))
    assert "Релиз: defaults — канал stable" in replies(telegram_bot, CEO["id"])[-1]
    assert "База знаний: нет версии для клиентов" in replies(telegram_bot, CEO["id"])[-1]

    stable_kb = import_kb(tenant_a)
    candidate = kb.kb_version_clone(actor=ACTOR, version=stable_kb)
    kb.kb_version_mark_candidate(actor=ACTOR, version=candidate)
    services.release_create_draft(actor=ACTOR, version="1.1.0", image_tag="v1.1.0")
    services.release_start_canary(actor=ACTOR, version="1.1.0")
    deliver(message_update("/deploy canary alpha"))
    ask_turn(tenant_a, "Сколько стоит маникюр?")

    deliver(message_update("/status alpha"))
    status = replies(telegram_bot, CEO["id"])[-1]
    assert "Релиз: 1.1.0 — канал canary, образ v1.1.0" in status
    assert f"База знаний: v{candidate.number} (кандидат для канарейки)" in status
    assert f"релиз 1.1.0, база v{candidate.number}" in status


def test_a_thank_you_after_an_answer_gets_a_polite_reply_and_bothers_no_manager(tenant_a, ask_turn):  # noqa: F811
    from conversations.models import Escalation
    from conversations.tests.helpers import conversation_of

    import_kb(tenant_a)
    answer = ask_turn(tenant_a, "Сколько стоит маникюр с покрытием?")
    assert "9 000 ₸" in sent_text(answer)
    thanks = ask_turn(tenant_a, "Спасибо большое, до свидания!", at=answer.created_at.replace(hour=11))
    assert thanks.decision == "answer" and thanks.sources == []
    assert sent_text(thanks) == "Пожалуйста! Если появятся вопросы — пишите, с радостью помогу."
    assert conversation_of(tenant_a).state == "bot"  # the bot keeps the conversation
    assert not Escalation.objects.exists()
