"""Write-risk policy: low vs high risk, approval exactly once, reject, expiry, unauthorised approver."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog, VerificationRequest
from imperium.core.policy import (
    action_spec,
    policy_execute,
    register_action,
    register_verification_notifier,
    verification_approve,
    verification_expire_due,
    verification_reject,
)
from tenants.models import Client
from tenants.tests.test_scoping import settings_form_data

runs: list[dict] = []


@register_action("test.high_counter", summary="count for {tenant}")
def _high_counter(*, actor, tenant):
    runs.append({"tenant": tenant, "actor": actor.label})
    return {"count": len(runs)}


@pytest.fixture(autouse=True)
def _reset_runs():
    runs.clear()


@pytest.mark.django_db
def test_it_runs_low_risk_actions_at_once_and_audits(tenant_a, operator_a):
    outcome = policy_execute("tenant.enable", Actor.from_user(operator_a), {"tenant": "alpha"}, tenant=tenant_a)
    assert outcome.status == "executed" and outcome.result == {"status": "active"}
    assert AuditLog.objects.filter(action="policy.executed", payload__action="tenant.enable").exists()
    assert not VerificationRequest.objects.exists()


@pytest.mark.django_db
def test_it_turns_high_risk_actions_into_pending_requests(tenant_a, operator_a, django_capture_on_commit_callbacks):
    announced = []
    register_verification_notifier(announced.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = policy_execute("tenant.disable", Actor.from_user(operator_a), {"tenant": "alpha"}, tenant=tenant_a)
    finally:
        from imperium.core import policy

        policy._NOTIFIERS.remove(announced.append)
    assert outcome.status == "pending"
    assert [r.pk for r in announced] == [outcome.request.pk]
    assert Client.objects.get(pk=tenant_a.pk).status == "active"  # nothing happened yet
    request = outcome.request
    assert request.status == "pending" and request.expires_at > timezone.now() and request.tenant == tenant_a
    assert AuditLog.objects.filter(action="policy.verification_requested").count() == 1


def test_unclassified_actions_count_as_high_risk():
    assert action_spec("test.high_counter").risk == "high"
    assert action_spec("kb.promote").risk == "high"
    assert action_spec("tenant.rollback").risk == "low"


@pytest.mark.django_db
def test_it_executes_an_approval_once_even_when_pressed_twice(tenant_a, superuser):
    request = policy_execute("test.high_counter", Actor.system(), {"tenant": "alpha"}).request
    ceo = Actor.from_user(superuser)
    first = verification_approve(request_id=request.pk, actor=ceo)
    second = verification_approve(request_id=request.pk, actor=ceo)
    assert first.status == "executed" and first.result == {"count": 1}
    assert second.status == "executed" and second.extra["already"] is True
    assert len(runs) == 1
    assert AuditLog.objects.filter(action="policy.approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_executes_once_under_concurrent_presses(tenant_a, superuser):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs Postgres (CI runs it); SQLite serialises writers anyway")
    request = policy_execute("test.high_counter", Actor.system(), {"tenant": "alpha"}).request
    ceo = Actor.from_user(superuser)
    barrier = threading.Barrier(4)
    outcomes = []

    def press():
        barrier.wait()
        try:
            outcomes.append(verification_approve(request_id=request.pk, actor=ceo).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1
    assert outcomes == ["executed"] * 4


@pytest.mark.django_db
def test_it_refuses_an_unauthorised_approver_and_audits(tenant_a, operator_a):
    request = policy_execute("test.high_counter", Actor.system(), {"tenant": "alpha"}).request
    with pytest.raises(ApplicationError) as excinfo:
        verification_approve(request_id=request.pk, actor=Actor.from_user(operator_a))
    assert excinfo.value.status == 403
    with pytest.raises(ApplicationError):
        verification_approve(request_id=request.pk, actor=Actor.telegram(999, "stranger"))
    assert runs == []
    assert VerificationRequest.objects.get(pk=request.pk).status == "pending"
    assert AuditLog.objects.filter(action="policy.approval_refused").count() == 2


@pytest.mark.django_db
def test_it_records_a_rejection_and_never_executes_it(superuser):
    request = policy_execute("test.high_counter", Actor.system(), {"tenant": "alpha"}).request
    rejected = verification_reject(request_id=request.pk, actor=Actor.from_user(superuser), reason="no")
    assert rejected.status == "rejected" and rejected.decided_by_label == "root"
    assert verification_approve(request_id=request.pk, actor=Actor.from_user(superuser)).status == "rejected"
    assert runs == []


@pytest.mark.django_db
def test_it_expires_requests_and_refuses_late_approval(superuser):
    request = policy_execute("test.high_counter", Actor.system(), {"tenant": "alpha"}).request
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert verification_expire_due() == 1
        outcome = verification_approve(request_id=request.pk, actor=Actor.from_user(superuser))
    assert outcome.status == "expired" and runs == []
    assert AuditLog.objects.filter(action="policy.expired").count() == 1


@pytest.mark.django_db
def test_it_marks_a_failing_approved_action_failed(tenant_a, superuser):
    request = policy_execute("tenant.disable", Actor.system(), {"tenant": "nosuch"}).request
    outcome = verification_approve(request_id=request.pk, actor=Actor.from_user(superuser))
    assert outcome.status == "failed" and "Unknown tenant" in outcome.error
    assert VerificationRequest.objects.get(pk=request.pk).status == "failed"


@pytest.mark.django_db
def test_admin_lists_the_queue_and_approves(login, superuser, tenant_a):
    request = policy_execute("tenant.disable", Actor.system(), {"tenant": "alpha"}, tenant=tenant_a).request
    client = login(superuser)
    assert client.get(reverse("admin:imperium_verificationrequest_changelist")).status_code == 200
    response = client.post(
        reverse("admin:imperium_verificationrequest_changelist"), {"action": "approve", "_selected_action": [request.pk]}
    )
    assert response.status_code == 302
    assert Client.objects.get(pk=tenant_a.pk).status == "disabled"


@pytest.mark.django_db
def test_admin_holding_reply_change_waits_for_verification(login, operator_a, tenant_a):
    client = login(operator_a)
    url = reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])
    data = settings_form_data(client, url)
    data.update({"holding_reply_template": "Новый текст", "escalation_sla_minutes": 20})
    assert client.post(url, data).status_code == 302
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.escalation_sla_minutes == 20  # low risk: applied
    assert tenant_a.settings.holding_reply_template != "Новый текст"  # high risk: waits
    assert VerificationRequest.objects.get(action="tenant.holding_reply_change").status == "pending"
