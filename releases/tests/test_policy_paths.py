"""Release operations through the write-risk policy: low risk runs at once, high risk waits for the CEO."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog, VerificationRequest
from imperium.core.policy import verification_approve, verification_expire_due, verification_reject
from releases import operations, services
from releases.models import Release, ReleasePointer, ReleasePointerEvent
from releases.selectors import release_for_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_canary(make_stable, make_release, system):
    """Stable 1.0.0, canary 1.1.0."""
    make_stable("1.0.0")
    make_release("1.1.0")
    services.release_start_canary(actor=system, version="1.1.0")


def stable_version() -> str | None:
    pointer = ReleasePointer.objects.select_related("release").get(channel="stable")
    return pointer.release.version if pointer.release else None


def test_deploy_canary_by_the_ceo_runs_at_once(tenant_a, on_canary):
    outcome = operations.deploy_canary(actor=Actor.telegram(1001, "ceo"), tenant="alpha", source="telegram")
    assert outcome.status == "executed" and outcome.result["to_channel"] == "canary"
    assert release_for_tenant(tenant_a).version == "1.1.0"
    assert not VerificationRequest.objects.exists()
    assert AuditLog.objects.filter(action="policy.executed", payload__action="tenant.deploy_canary").count() == 1


def test_tenant_rollback_runs_at_once(tenant_a, on_canary, system):
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    outcome = operations.rollback(actor=Actor.telegram(1001, "ceo"), tenant="alpha", reason="complaint")
    assert outcome.status == "executed" and release_for_tenant(tenant_a).version == "1.0.0"


def test_start_canary_and_create_draft_are_low_risk(system):
    overrides = {"answering": {"thresholds": {"min_confidence": 0.7}}}
    assert operations.create_draft(actor=system, version="2.0.0", overrides=overrides).status == "executed"
    assert operations.start_canary(actor=system, version="2.0.0").status == "executed"
    assert Release.objects.get(version="2.0.0").status == "canary"


def test_deploy_stable_waits_and_an_approval_executes_once_under_a_double_press(tenant_b, on_canary, superuser, alerts,
                                                                                 django_capture_on_commit_callbacks):
    outcome = operations.deploy_stable(actor=Actor.telegram(1001, "ceo"), reason="canary clean for 2 days")
    assert outcome.status == "pending" and outcome.request.params["version"] == "1.1.0"
    assert "1.1.0" in outcome.request.summary
    assert stable_version() == "1.0.0" and release_for_tenant(tenant_b).version == "1.0.0"  # nothing yet

    ceo = Actor.from_user(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        first = verification_approve(request_id=outcome.request.pk, actor=ceo)
        second = verification_approve(request_id=outcome.request.pk, actor=ceo)
    assert first.status == "executed" and first.result == {"version": "1.1.0", "status": "stable"}
    assert second.status == "executed" and second.extra["already"] is True
    assert stable_version() == "1.1.0" and release_for_tenant(tenant_b).version == "1.1.0"
    assert ReleasePointerEvent.objects.filter(channel="stable", operation="promote_stable", to_release__version="1.1.0").count() == 1
    assert AuditLog.objects.filter(action="release.promoted_stable", payload__version="1.1.0").count() == 1
    assert [a["title"] for a in alerts].count("Стабильный релиз: 1.1.0") == 1


def test_a_rejected_promotion_never_runs(on_canary, superuser):
    request = operations.deploy_stable(actor=Actor.system()).request
    verification_reject(request_id=request.pk, actor=Actor.from_user(superuser), reason="not yet")
    assert verification_approve(request_id=request.pk, actor=Actor.from_user(superuser)).status == "rejected"
    assert stable_version() == "1.0.0"
    assert Release.objects.get(version="1.1.0").status == "canary"


def test_an_expired_promotion_never_runs(on_canary, superuser):
    request = operations.deploy_stable(actor=Actor.system()).request
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert verification_expire_due() == 1
        assert verification_approve(request_id=request.pk, actor=Actor.from_user(superuser)).status == "expired"
    assert stable_version() == "1.0.0"


def test_an_operator_cannot_approve_a_promotion(on_canary, operator_a):
    request = operations.deploy_stable(actor=Actor.system()).request
    with pytest.raises(ApplicationError) as excinfo:
        verification_approve(request_id=request.pk, actor=Actor.from_user(operator_a))
    assert excinfo.value.status == 403 and stable_version() == "1.0.0"


def test_an_approval_of_a_stale_promotion_fails_and_changes_nothing(on_canary, make_release, system, superuser):
    request = operations.deploy_stable(actor=system).request
    make_release("1.2.0")
    services.release_start_canary(actor=system, version="1.2.0")  # the canary moved on meanwhile
    outcome = verification_approve(request_id=request.pk, actor=Actor.from_user(superuser))
    assert outcome.status == "failed" and "stale" in outcome.error
    assert stable_version() == "1.0.0" and Release.objects.get(version="1.2.0").status == "canary"


def test_deploy_stable_without_a_canary_is_refused_before_asking_anyone(make_stable, system):
    make_stable("1.0.0")
    with pytest.raises(ApplicationError):
        operations.deploy_stable(actor=system)
    assert not VerificationRequest.objects.exists()


def test_stable_rollback_waits_for_the_ceo_and_pins_both_ends(tenant_a, make_stable, superuser, system):
    make_stable("1.0.0")
    make_stable("1.1.0")
    outcome = operations.rollback_stable(actor=system, reason="answers got worse")
    assert outcome.status == "pending"
    assert outcome.request.params | {} == {"from_version": "1.1.0", "to_version": "1.0.0", "to_label": "1.0.0",
                                           "reason": "answers got worse"}
    assert outcome.request.summary == "Roll stable back from 1.1.0 to 1.0.0"
    assert release_for_tenant(tenant_a).version == "1.1.0"
    approved = verification_approve(request_id=outcome.request.pk, actor=Actor.from_user(superuser))
    assert approved.status == "executed" and approved.result["to_version"] == "1.0.0"
    assert release_for_tenant(tenant_a).version == "1.0.0"


def test_canary_auto_rollback_is_low_risk(tenant_a, on_canary, system):
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    outcome = operations.canary_auto_rollback(actor=Actor.system("canary-analysis"), reason="escalations 2x", analysis="7")
    assert outcome.status == "executed" and outcome.result["tenants"] == ["alpha"]
    assert release_for_tenant(tenant_a).version == "1.0.0"
