"""KB promotion is refused while the tenant's kb_eval is below the release thresholds (when it has cases)."""

from __future__ import annotations

import pytest

from imperium.core import policy
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import VerificationRequest
from imperium.core.policy import policy_execute, verification_approve
from releases import kb_gate, services
from releases.kb_gate import KbEvalSummary, kb_promotion_check

pytestmark = pytest.mark.django_db

promoted: list[tuple[str, int]] = []
GOOD = KbEvalSummary(cases=129, accuracy=0.95, shame_rate=0.0, escalation_precision=0.9, escalation_recall=0.97)
BAD = KbEvalSummary(cases=129, accuracy=0.71, shame_rate=0.03, escalation_precision=0.9, escalation_recall=0.97)


@pytest.fixture(autouse=True)
def kb_promote_executor():
    """Stand-in for the gate's kb.promote executor (restored afterwards); `provide` stands in for the evaluation."""
    policy._discover()
    saved = policy._ACTIONS.get("kb.promote")
    promoted.clear()

    @policy.register_action("kb.promote", summary="Promote KB v{version} of {tenant}")
    def _promote(*, actor, tenant, version):
        promoted.append((tenant, version))
        return {"tenant": tenant, "version": version}

    yield
    if saved is None:
        policy._ACTIONS.pop("kb.promote", None)
    else:
        policy._ACTIONS["kb.promote"] = saved


@pytest.fixture
def provide(monkeypatch):
    def evaluation_gives(summary):
        monkeypatch.setattr(kb_gate, "kb_eval_summary", lambda tenant, version: summary)

    return evaluation_gives


def test_it_refuses_a_promotion_request_below_the_thresholds_without_asking_the_ceo(tenant_a, provide):
    provide(BAD)
    with pytest.raises(ApplicationError) as excinfo:
        policy_execute("kb.promote", Actor.telegram(1001, "ceo"), {"tenant": "alpha", "version": 3}, tenant=tenant_a)
    assert excinfo.value.status == 409
    assert "accuracy 0.710 < 0.8" in excinfo.value.message and "shame rate 0.030 > 0.0" in excinfo.value.message
    assert not VerificationRequest.objects.exists() and promoted == []


def test_it_refuses_at_approval_when_the_numbers_dropped_meanwhile(tenant_a, superuser, provide):
    provide(GOOD)
    request = policy_execute("kb.promote", Actor.system(), {"tenant": "alpha", "version": 3}, tenant=tenant_a).request
    provide(BAD)
    outcome = verification_approve(request_id=request.pk, actor=Actor.from_user(superuser))
    assert outcome.status == "failed" and "below the release thresholds" in outcome.error
    assert promoted == []


def test_it_lets_a_good_version_through_after_approval(tenant_a, superuser, provide):
    provide(GOOD)
    request = policy_execute("kb.promote", Actor.system(), {"tenant": "alpha", "version": 3}, tenant=tenant_a).request
    assert verification_approve(request_id=request.pk, actor=Actor.from_user(superuser)).status == "executed"
    assert promoted == [("alpha", 3)]


def test_a_tenant_without_cases_is_not_blocked(tenant_a, provide):
    provide(None)
    assert kb_promotion_check(tenant=tenant_a, kb_version=1).status == "no_cases"
    provide(KbEvalSummary(cases=0, accuracy=0.0, shame_rate=1.0))
    assert kb_promotion_check(tenant=tenant_a, kb_version=1).allowed


def test_a_version_that_cannot_be_evaluated_is_refused_with_the_reason(tenant_a, monkeypatch):
    """Fails closed: cases exist but the evaluation cannot run (here the brain is down)."""
    from knowledge import services as kb_services

    ceo = Actor.telegram(1001, "ceo")
    kb_services.kb_eval_set_save(actor=ceo, tenant=tenant_a, cases=[{"id": "c1", "category": "faq", "expect": "answer",
                                                                     "messages": ["Сколько стоит стрижка?"]}])
    version = kb_services.kb_import(actor=ceo, tenant=tenant_a, file_name="kb.jsonl",
                                    content='{"id": "cut", "question": "Сколько стоит стрижка?", "answer": "6 000 ₸."}')

    def brain_down(*args, **kwargs):
        raise ConnectionError("LLM unreachable")

    monkeypatch.setattr("conversations.answering.brain.decide_reply", brain_down)
    result = kb_promotion_check(tenant=tenant_a, kb_version=version.number)
    assert not result.allowed and result.status == "unevaluated" and "LLM unreachable" in result.failures[0]
    with pytest.raises(ApplicationError) as excinfo:
        policy_execute("kb.promote", ceo, {"tenant": "alpha", "version": version.number}, tenant=tenant_a)
    assert excinfo.value.status == 409 and "could not be evaluated" in excinfo.value.message and "LLM unreachable" in excinfo.value.message
    assert not VerificationRequest.objects.exists() and promoted == []


def test_the_thresholds_come_from_the_stable_release(tenant_a, make_stable, provide):
    make_stable("1.0.0", eval={"min_accuracy": 0.7, "max_shame_rate": 0.05})
    provide(BAD)
    result = kb_promotion_check(tenant=tenant_a, kb_version=2)
    assert result.allowed and result.status == "passed" and result.thresholds["min_accuracy"] == 0.7
    services.release_rollback_stable(actor=Actor.system())  # back to the defaults: 0.9
    assert kb_promotion_check(tenant=tenant_a, kb_version=2).failures[0].startswith("accuracy")
