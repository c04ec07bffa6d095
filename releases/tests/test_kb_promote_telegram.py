"""`/kb promote` end to end through the Telegram webhook, with the real knowledge executor and the
releases eval gate: pending request → the CEO's Approve button → the KB version is stable exactly
once; a version below the release thresholds on the tenant's cases is refused up front."""

from __future__ import annotations

import pytest

from imperium.core.models import AuditLog, VerificationRequest
from imperium.telegram.testing.updates import CEO, MANAGER, message_update
from imperium.telegram.tests.conftest import ceo_allowed, deliver, operator_allowed, replies  # noqa: F401
from imperium.telegram.tests.test_verification import CO_CEO, announcement, co_ceo_allowed, press_button  # noqa: F401
from knowledge import services as kb
from knowledge.evaluation import load_cases
from knowledge.models import KnowledgeEvalRun, KnowledgeVersion
from releases.tests.pipeline import ACTOR, EVAL_DIR, _fresh_knowledge_caches, import_kb  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def lotus_with_cases(tenant_a):
    """tenant_a serves KB v1; its evaluation cases are stored (so promotion is judged on them)."""
    stable = import_kb(tenant_a)
    cases = load_cases((EVAL_DIR / "lotus-beauty" / "cases.jsonl").read_text(encoding="utf-8"))
    kb.kb_eval_set_save(actor=ACTOR, tenant=tenant_a, cases=cases)
    return stable


def draft_from(stable, *, manicure_price: str | None = None) -> KnowledgeVersion:
    draft = kb.kb_version_clone(actor=ACTOR, version=stable)
    if manicure_price:
        item = draft.items.get(external_id="price-manicure")
        kb.kb_item_save(actor=ACTOR, version=draft, item=item, external_id=item.external_id, question=item.question,
                        answer=item.answer.replace("5 000 ₸", manicure_price))
    return draft


def status_of(version: KnowledgeVersion) -> str:
    version.refresh_from_db()
    return version.status


def test_kb_promote_from_telegram_waits_for_the_ceo_and_promotes_exactly_once(deliver, telegram_bot, ceo_allowed, operator_allowed,  # noqa: F811
                                                                               co_ceo_allowed, lotus_with_cases):  # noqa: F811
    draft = draft_from(lotus_with_cases)

    deliver(message_update(f"/kb promote alpha {draft.number}"))

    request = VerificationRequest.objects.get()
    assert request.status == "pending" and request.action == "kb.promote"
    assert request.params == {"tenant": "alpha", "version": draft.number}
    assert f"Запрос #{request.pk} создан" in replies(telegram_bot, CEO["id"])[-1]
    assert status_of(draft) == "draft" and status_of(lotus_with_cases) == "stable"  # nothing changed yet

    params = announcement(telegram_bot)
    assert press_button(deliver, telegram_bot, params, 0, user=MANAGER).startswith("Подтверждать")  # only the CEO
    assert status_of(draft) == "draft"
    assert press_button(deliver, telegram_bot, params, 0).startswith("Свой запрос")  # the requester: four eyes
    assert status_of(draft) == "draft"
    assert press_button(deliver, telegram_bot, params, 0, user=CO_CEO) == "Подтверждено и выполнено."
    assert status_of(draft) == "stable" and status_of(lotus_with_cases) == "archived"
    assert press_button(deliver, telegram_bot, params, 0, user=CO_CEO).startswith("Уже решено")  # a second tap

    assert AuditLog.objects.filter(action="kb.promoted", tenant=draft.tenant).count() == 1
    assert AuditLog.objects.filter(action="policy.approved").count() == 1
    request.refresh_from_db()
    assert request.status == "executed" and request.result == {"tenant": "alpha", "version": draft.number, "status": "stable"}
    # The gate judged the version on the tenant's cases (at request time and again before executing).
    assert KnowledgeEvalRun.objects.filter(version=draft, passed=True).count() == 2


def test_kb_promote_is_refused_while_the_version_is_below_the_release_thresholds(deliver, telegram_bot, ceo_allowed,  # noqa: F811
                                                                                 lotus_with_cases):
    wrong_prices = draft_from(lotus_with_cases, manicure_price="6 500 ₸")

    deliver(message_update(f"/kb promote alpha {wrong_prices.number}"))

    reply = replies(telegram_bot, CEO["id"])[-1]
    assert reply.startswith("❌ Не выполнено") and "ниже порогов релиза" in reply and "shame rate" in reply
    assert not VerificationRequest.objects.exists()  # the CEO is never asked to approve a refusal
    assert status_of(wrong_prices) == "draft" and status_of(lotus_with_cases) == "stable"
    assert KnowledgeEvalRun.objects.get(version=wrong_prices).passed is False
