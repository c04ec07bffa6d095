"""The Fixer loop: proposal → CI → draft release on canary → verified → stable (after the CEO) or rolled back."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog
from imperium.core.policy import verification_approve
from releases import operations, services
from releases.ci import sign
from releases.models import FixProposal, Release
from releases.selectors import fix_proposals_on_canary, next_fix_version, release_for_tenant

pytestmark = pytest.mark.django_db

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


def ci_passes(settings, branch: str = "fix/qdrant-retry") -> None:
    settings.CI_WEBHOOK_SECRET = "s3cret"
    body = json.dumps({"branch": branch, "sha": SHA, "status": "passed"}).encode()
    response = HttpClient().post("/releases/ci-webhook", data=body, content_type="application/json",
                                 HTTP_X_HUB_SIGNATURE_256=sign(body, "s3cret"), HTTP_X_GITHUB_DELIVERY=f"pass-{branch}")
    assert response.status_code == 200, response.content


@pytest.fixture
def incident(tenant_a, incident_of):
    return incident_of(tenant_a)


@pytest.fixture
def proposal(tenant_a, incident, alerts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = operations.propose_fix(actor=Actor.system("fixer"), title="Retry Qdrant timeouts", branch="fix/qdrant-retry",
                                         pr_url="https://github.com/acme/imperium/pull/42", commit_sha=SHA, incident=incident.pk,
                                         tenant="alpha")
    assert outcome.status == "executed"
    return FixProposal.objects.get(pk=outcome.result["proposal"])


def test_a_fix_travels_from_proposal_to_stable_with_the_ceo_approving_the_last_step(
    tenant_a, tenant_b, incident, proposal, make_stable, settings, superuser, alerts, django_capture_on_commit_callbacks
):
    make_stable("1.4.0", answering={"thresholds": {"min_confidence": 0.6}})
    with django_capture_on_commit_callbacks(execute=True):
        ci_passes(settings)
        version = next_fix_version(proposal)
        assert version == f"1.4.1-fix.{proposal.pk}"
        canary = operations.canary_fix(actor=Actor.telegram(1001, "ceo"), proposal=proposal.pk, version=version, image_tag="sha-3f7868")
        assert canary.status == "executed" and canary.result["status"] == "canary"
        release = Release.objects.get(version=version)
        assert release.status == "canary" and release.image_tag == "sha-3f7868"
        assert release.answering == {"thresholds": {"min_confidence": 0.6}}  # the stable bundle carried over: the fix changes code only
        services.tenant_deploy_canary(actor=Actor.system(), tenant=tenant_a)
        assert release_for_tenant(tenant_a).version == version and release_for_tenant(tenant_b).version == "1.4.0"

        assert operations.verify_fix(actor=Actor.system("canary-analysis"), proposal=proposal.pk).result["status"] == "verified"
        pending = operations.release_fix(actor=Actor.telegram(1001, "ceo"), proposal=proposal.pk)
        assert pending.status == "pending" and pending.request.params == {"proposal": proposal.pk, "version": version}
        assert pending.request.tenant_id == tenant_a.pk
        assert release_for_tenant(tenant_b).version == "1.4.0"
        approved = verification_approve(request_id=pending.request.pk, actor=Actor.from_user(superuser))
    assert approved.status == "executed" and approved.result["status"] == "released"
    assert release_for_tenant(tenant_b).version == version
    proposal.refresh_from_db()
    assert [e.to_status for e in proposal.events.order_by("id")] == ["proposed", "ci_passed", "canary", "verified", "released"]
    assert proposal.incident == incident
    statuses = [a["title"].split(": ", 1)[1] for a in alerts if a["title"].startswith("Фикс")]
    assert statuses == ["предложен", "CI пройден", "на канарейке", "проверен на канарейке", "выпущен в стабильный канал"]
    assert AuditLog.objects.filter(action="fix.status_changed", object_id=str(proposal.pk)).count() == 4


def test_a_fix_that_has_not_passed_ci_cannot_go_to_canary(proposal):
    with pytest.raises(ApplicationError) as excinfo:
        operations.canary_fix(actor=Actor.system(), proposal=proposal.pk, version="0.0.1-fix.1")
    assert "only a CI-passed fix" in excinfo.value.message
    assert not Release.objects.exists()


def test_a_fix_is_released_only_once_verified(proposal, settings):
    ci_passes(settings)
    operations.canary_fix(actor=Actor.system(), proposal=proposal.pk, version="0.0.1-fix.1")
    pending = operations.release_fix(actor=Actor.system(), proposal=proposal.pk)
    from django.contrib.auth import get_user_model

    ceo = get_user_model().objects.create(username="ceo", is_staff=True, is_superuser=True)
    outcome = verification_approve(request_id=pending.request.pk, actor=Actor.from_user(ceo))
    assert outcome.status == "failed" and "only a verified fix" in outcome.error
    assert FixProposal.objects.get(pk=proposal.pk).status == "canary"


def test_a_failing_canary_rolls_the_fix_back(tenant_a, proposal, settings, system):
    ci_passes(settings)
    operations.canary_fix(actor=system, proposal=proposal.pk, version="0.0.1-fix.1")
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    assert list(fix_proposals_on_canary()) == [proposal]
    operations.canary_auto_rollback(actor=Actor.system("canary-analysis"), reason="send failures 10%")
    assert FixProposal.objects.get(pk=proposal.pk).status == "rolled_back"
    assert list(fix_proposals_on_canary()) == []
    assert release_for_tenant(tenant_a).version == "defaults"


def test_a_stable_rollback_rolls_a_released_fix_back(proposal, settings, system):
    ci_passes(settings)
    operations.canary_fix(actor=system, proposal=proposal.pk, version="0.0.1-fix.1")
    operations.verify_fix(actor=system, proposal=proposal.pk)
    services.release_promote_stable(actor=system, version="0.0.1-fix.1")
    assert FixProposal.objects.get(pk=proposal.pk).status == "released"
    result = services.release_rollback_stable(actor=system, reason="regression")
    assert result.fix_proposals == [proposal.pk]
    assert FixProposal.objects.get(pk=proposal.pk).status == "rolled_back"


def test_it_refuses_a_bad_proposal(tenant_a):
    for kwargs in ({"title": "", "branch": "fix/x"}, {"title": "x", "branch": "bad branch"},
                   {"title": "x", "branch": "fix/x", "commit_sha": "xyz"}, {"title": "x", "branch": "fix/x", "pr_url": "ftp://x"}):
        with pytest.raises(ApplicationError):
            operations.propose_fix(actor=Actor.system(), **kwargs)
    assert not FixProposal.objects.exists()


def test_a_proposal_names_an_existing_incident_and_takes_its_tenant(tenant_a, incident_of):
    incident = incident_of(tenant_a)
    outcome = operations.propose_fix(actor=Actor.system("fixer"), title="Retry", branch="fix/retry", incident=incident.pk)

    proposal = FixProposal.objects.get(pk=outcome.result["proposal"])
    assert proposal.incident == incident and proposal.tenant == tenant_a


def test_it_refuses_an_unknown_incident_and_stores_nothing(tenant_a):
    with pytest.raises(ApplicationError) as excinfo:
        operations.propose_fix(actor=Actor.system(), title="Retry", branch="fix/retry", incident=424242, tenant="alpha")
    assert "424242" in excinfo.value.message
    assert not FixProposal.objects.exists()


def test_it_refuses_another_tenants_incident(tenant_a, tenant_b, incident_of):
    incident = incident_of(tenant_b)
    with pytest.raises(ApplicationError):
        operations.propose_fix(actor=Actor.system(), title="Retry", branch="fix/retry", incident=incident.pk, tenant="alpha")
    assert not FixProposal.objects.exists()


def test_a_system_incident_may_be_fixed_for_a_tenant_and_deleting_it_keeps_the_proposal(tenant_a, incident_of):
    incident = incident_of(None)
    outcome = operations.propose_fix(actor=Actor.system(), title="Retry", branch="fix/retry", incident=incident.pk, tenant="alpha")
    proposal = FixProposal.objects.get(pk=outcome.result["proposal"])
    assert proposal.tenant == tenant_a and proposal.incident == incident

    incident.delete()
    proposal.refresh_from_db()
    assert proposal.incident is None and proposal.status == "proposed"
