"""Four eyes on high-risk requests, in admin, with the personas: the operator who asks, the
superuser who asks and may not approve their own request, the CEO who approves (once)."""

from __future__ import annotations

import re

import pytest

from imperium.core.actors import Actor
from imperium.core.models import AuditLog, VerificationRequest
from imperium.core.policy import policy_execute, verification_approve
from knowledge import services as kb
from knowledge.choices import VersionStatus
from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
KB = '{"id": "hours", "question": "До скольки работаете?", "answer": "С 10:00 до 21:00."}\n'


@pytest.fixture
def ceo(db):
    return UserFactory(username="ceo", is_superuser=True)


@pytest.fixture
def draft(tenant_a):
    return kb.kb_import(actor=Actor.system("test"), tenant=tenant_a, file_name="kb.jsonl", content=KB)


def _request_promotion(web, draft) -> VerificationRequest:
    response = web.post("/admin/knowledge/knowledgeversion/", {"action": "request_promotion", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    return VerificationRequest.objects.get(action="kb.promote", params__version=draft.number)


def _page(web, request) -> str:
    response = web.get(f"/admin/imperium/verificationrequest/{request.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def _decide(web, request, decision, **extra):
    return web.post(f"/admin/imperium/verificationrequest/{request.pk}/decide/", {"decision": decision, **extra}, follow=True)


def test_the_operator_who_asked_sees_no_buttons_and_is_refused(draft, operator_a, login):
    web = login(operator_a)
    request = _request_promotion(web, draft)
    page = _page(web, request)
    assert 'name="approve"' not in page and 'id="verification-decision"' in page
    response = _decide(web, request, "approve")
    assert response.status_code == 200
    request.refresh_from_db()
    draft.refresh_from_db()
    assert request.status == "pending" and draft.status == VersionStatus.DRAFT
    assert AuditLog.objects.filter(action="policy.approval_refused", actor_label="op-a").exists()


def test_a_superuser_cannot_approve_their_own_request(draft, superuser, login):
    web = login(superuser)
    request = _request_promotion(web, draft)
    page = _page(web, request)
    assert 'name="approve"' not in page and 'class="errornote"' in page
    _decide(web, request, "approve")
    request.refresh_from_db()
    draft.refresh_from_db()
    assert request.status == "pending" and draft.status == VersionStatus.DRAFT
    assert AuditLog.objects.filter(action="policy.self_approval_refused", actor_label="root").count() == 1
    # The list action is the same service: refused as well.
    web.post("/admin/imperium/verificationrequest/", {"action": "approve", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.status == "pending" and AuditLog.objects.filter(action="policy.self_approval_refused").count() == 2


def test_the_ceo_approves_once_even_when_pressing_twice(draft, operator_a, ceo, login):
    request = _request_promotion(login(operator_a), draft)
    web = login(ceo)
    page = _page(web, request)
    assert 'name="approve"' in page and 'name="reject"' in page
    # Parameters as text, not JSON.
    params = page.split('<ul class="readable-params">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<li><b>[^<]+</b>: ([^<]+)</li>", params) == ["alpha", "1"] and '{"tenant"' not in page
    first = _decide(web, request, "approve")
    second = _decide(web, request, "approve")
    assert first.status_code == second.status_code == 200
    draft.refresh_from_db()
    request.refresh_from_db()
    assert draft.status == VersionStatus.STABLE and request.status == "executed" and request.decided_by_label == "ceo"
    assert AuditLog.objects.filter(action="policy.approved").count() == 1
    assert AuditLog.objects.filter(action="kb.promoted").count() == 1
    assert [m.level_tag for m in second.context["messages"]] == ["warning"]  # "already decided"
    assert 'name="approve"' not in _page(web, request)


def test_the_ceo_rejects_with_a_reason(draft, operator_a, ceo, login):
    request = _request_promotion(login(operator_a), draft)
    _decide(login(ceo), request, "reject", reason="not before the holidays")
    request.refresh_from_db()
    draft.refresh_from_db()
    assert request.status == "rejected" and request.error == "not before the holidays" and draft.status == VersionStatus.DRAFT


def test_self_approval_is_allowed_when_the_setting_says_so(draft, superuser, login, settings):
    settings.VERIFICATION_ALLOW_SELF_APPROVAL = True
    web = login(superuser)
    request = _request_promotion(web, draft)
    assert 'name="approve"' in _page(web, request)
    _decide(web, request, "approve")
    draft.refresh_from_db()
    assert draft.status == VersionStatus.STABLE


def test_the_service_refuses_the_requester_in_every_channel(tenant_a, draft, ceo):
    request = policy_execute("kb.promote", Actor.from_user(ceo), {"tenant": "alpha", "version": draft.number}, tenant=tenant_a).request
    from imperium.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        verification_approve(request_id=request.pk, actor=Actor.from_user(ceo))
    assert refused.value.status == 403 and refused.value.extra == {"code": "self_approval"}
    other = UserFactory(username="ceo2", is_superuser=True)
    assert verification_approve(request_id=request.pk, actor=Actor.from_user(other)).status == "executed"
