"""Management commands: each runs through the write-risk policy and prints the outcome."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imperium.core.models import AuditLog, VerificationRequest
from releases import fix_services
from releases.ci import CIStatus
from releases.models import FixProposal, Release
from releases.selectors import release_for_tenant

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_release_cycle_from_the_command_line(tenant_a, tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"answering": {"thresholds": {"min_confidence": 0.7}, "templates": {"join": "\n"}}}),
                      encoding="utf-8")
    assert "executed release.create_draft" in run("release_create", "--version", "1.0.0", "--bundle", str(bundle),
                                                  "--image-tag", "v1.0.0")
    assert "executed release.start_canary" in run("release_canary", "--version", "1.0.0")
    assert "executed tenant.deploy_canary" in run("deploy_canary", "--tenant", "alpha", "--reason", "pilot")
    status = json.loads(run("release_status", "--tenant", "alpha", "--json"))
    assert status["tenant"] == {"slug": "alpha", "channel": "canary", "serving_channel": "canary", "release": "1.0.0",
                                "image_tag": "v1.0.0"}
    assert status["channels"]["canary"]["tenants"] == ["alpha"]

    pending = run("deploy_stable")
    request = VerificationRequest.objects.get(action="release.promote_stable")
    assert f"pending verification #{request.pk}" in pending
    assert release_for_tenant(tenant_a).config["answering"]["templates"]["join"] == "\n"
    assert "executed tenant.rollback" in run("rollback", "--tenant", "alpha")
    assert release_for_tenant(tenant_a).version == "defaults"  # stable still serves the defaults until approval
    assert "pending verification" in run("release_status")
    entry = AuditLog.objects.filter(action="policy.executed").first()
    assert entry.actor_kind == "system" and entry.actor_label.startswith("cli:")


def test_rollback_stable_prints_the_pending_request_as_json(make_stable):
    make_stable("1.0.0")
    make_stable("1.1.0")
    body = json.loads(run("rollback_stable", "--json", "--reason", "bad answers"))
    assert body["status"] == "pending" and body["risk"] == "high"
    request = VerificationRequest.objects.get(pk=body["verification_request"])
    assert request.params["from_version"] == "1.1.0" and request.params["to_version"] == "1.0.0"


def test_canary_rollback_takes_the_canary_down(tenant_a, make_stable, make_release, system):
    from releases import services

    make_stable("1.0.0")
    make_release("1.1.0")
    services.release_start_canary(actor=system, version="1.1.0")
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    assert "executed canary.auto_rollback" in run("canary_rollback", "--reason", "wrong prices on canary")
    assert release_for_tenant(tenant_a).version == "1.0.0"
    assert Release.objects.get(version="1.1.0").status == "rolled_back"


def test_commands_report_refusals_as_errors(tenant_a, tmp_path):
    with pytest.raises(CommandError, match="Unknown tenant"):
        run("deploy_canary", "--tenant", "nosuch")
    with pytest.raises(CommandError, match="No canary release"):
        run("deploy_canary", "--tenant", "alpha")
    bad = tmp_path / "bad.json"
    bad.write_text('{"answering": {"thresholds": {"min_confidence": 7}}}', encoding="utf-8")
    with pytest.raises(CommandError, match="between 0 and 1"):
        run("release_create", "--version", "1.0.0", "--bundle", str(bad))
    with pytest.raises(CommandError, match="nothing to roll back"):
        run("rollback_stable")
    assert not Release.objects.exists()


def test_the_fix_commands(tenant_a, incident_of):
    with pytest.raises(CommandError, match="Unknown incident #5"):
        run("fix_propose", "--title", "Fix coalescing", "--branch", "fix/coalesce", "--incident", "5", "--tenant", "alpha")
    incident = incident_of(tenant_a)
    assert "executed fixer.propose_fix" in run("fix_propose", "--title", "Fix coalescing", "--branch", "fix/coalesce",
                                               "--sha", "abcdef1", "--incident", str(incident.pk), "--tenant", "alpha")
    proposal = FixProposal.objects.get()
    assert proposal.incident == incident
    fix_services.fix_proposal_ci_update(delivery_id="x", ci=CIStatus(event="ci_status", branch="fix/coalesce", sha="abcdef1",
                                                                    state="passed"))
    assert "executed fixer.canary_fix" in run("fix_canary", "--proposal", str(proposal.pk))
    assert Release.objects.get().version == f"0.0.1-fix.{proposal.pk}"
    assert "executed fixer.verify_fix" in run("fix_verify", "--proposal", str(proposal.pk))
    assert "pending verification" in run("fix_release", "--proposal", str(proposal.pk))
    assert FixProposal.objects.get().status == "verified"
