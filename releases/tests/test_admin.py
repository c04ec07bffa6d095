"""Admin: the releases board, read-only released bundles, operations through the policy, tenant scoping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imperium.core.actors import Actor
from imperium.core.models import AuditLog, VerificationRequest
from releases import fix_services, services
from releases.models import FixProposal, Release, TenantChannelEvent
from releases.selectors import release_for_tenant
from tenants.models import ClientSettings
from tenants.tests.factories import UserFactory
from tenants.tests.test_scoping import settings_form_data

pytestmark = pytest.mark.django_db

BOARD = reverse("admin:releases_releasepointer_changelist")


@pytest.fixture
def on_canary(make_stable, make_release, system):
    make_stable("1.0.0")
    make_release("1.1.0")
    services.release_start_canary(actor=system, version="1.1.0")


def board_tenants(response, channel: str) -> set[str]:
    return {t.slug for ch in response.context["channels"] if ch["name"] == channel for t in ch["tenants"]}


def test_the_board_shows_pointers_and_tenants_per_channel(login, superuser, tenant_a, tenant_b, on_canary, system):
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    response = login(superuser).get(BOARD)
    assert response.status_code == 200
    assert board_tenants(response, "canary") == {"alpha"} and board_tenants(response, "stable") == {"bravo"}
    html = response.content.decode()
    assert "1.1.0" in html and "1.0.0" in html and "No canary analysis yet" in html
    assert response.context["can_operate"] is True


def test_an_operator_sees_only_own_tenants_and_cannot_operate(login, operator_a, tenant_a, tenant_b, on_canary):
    client = login(operator_a)
    response = client.get(BOARD)
    assert response.status_code == 200 and response.context["can_operate"] is False
    assert board_tenants(response, "stable") == {"alpha"}
    assert "bravo" not in response.content.decode()
    client.post(BOARD, {"op": "deploy_canary", "tenant": "alpha"})
    assert release_for_tenant(tenant_a).channel == "stable"
    assert not TenantChannelEvent.objects.exists()


def test_a_staff_user_without_membership_sees_no_board(login, on_canary):
    nobody = UserFactory(username="nobody")
    assert login(nobody).get(BOARD).status_code == 403


def test_the_ceo_operates_from_the_board_through_the_policy(login, superuser, tenant_a, on_canary):
    client = login(superuser)
    assert client.post(BOARD, {"op": "deploy_canary", "tenant": "alpha"}).status_code == 302
    assert release_for_tenant(tenant_a).version == "1.1.0"
    event = TenantChannelEvent.objects.get()
    assert (event.source, event.actor_label) == ("admin", "root")
    client.post(BOARD, {"op": "deploy_stable", "reason": "looks good"})
    request = VerificationRequest.objects.get(action="release.promote_stable")
    assert request.status == "pending" and request.params["version"] == "1.1.0"
    assert Release.objects.get(version="1.1.0").status == "canary"
    client.post(BOARD, {"op": "rollback", "tenant": "alpha"})
    assert release_for_tenant(tenant_a).version == "1.0.0"


def test_a_released_bundle_is_read_only_in_admin(login, superuser, on_canary):
    release = Release.objects.get(version="1.0.0")
    client = login(superuser)
    url = reverse("admin:releases_release_change", args=[release.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert "ambiguity_ratio" in page.content.decode()  # the effective config is shown
    assert client.post(url, {"notes": "edited", "answering": '{"thresholds": {"min_confidence": 0.1}}'}).status_code == 403
    assert Release.objects.get(pk=release.pk).answering == {}


def test_drafts_are_created_and_edited_in_admin_through_the_policy(login, superuser):
    client = login(superuser)
    add = reverse("admin:releases_release_add")
    data = {"version": "2.0.0", "image_tag": "v2.0.0", "notes": "", "answering": '{"thresholds": {"min_confidence": 0.65}}',
            "eval_thresholds": "{}", "flags": '{"llm_composer": true}'}
    assert client.post(add, data).status_code == 302
    release = Release.objects.get(version="2.0.0")
    assert release.effective_config()["flags"]["llm_composer"] is True and release.author_label == "root"
    assert AuditLog.objects.filter(action="policy.executed", payload__action="release.create_draft").exists()

    bad = client.post(add, {**data, "version": "2.1.0", "answering": '{"thresholds": {"min_confidence": 5}}'})
    assert bad.status_code == 200 and "between 0 and 1" in str(bad.context["adminform"].form.errors)
    assert not Release.objects.filter(version="2.1.0").exists()

    change = reverse("admin:releases_release_change", args=[release.pk])
    edit = {k: v for k, v in data.items() if k != "version"} | {"answering": '{"thresholds": {"min_confidence": 0.7}}'}
    assert client.post(change, edit).status_code == 302
    assert Release.objects.get(pk=release.pk).answering == {"thresholds": {"min_confidence": 0.7}}


def test_an_operator_cannot_create_releases(login, operator_a):
    response = login(operator_a).get(reverse("admin:releases_release_add"))
    assert response.status_code == 403


def test_tenant_owned_release_rows_are_scoped(login, operator_a, tenant_a, tenant_b, on_canary, system):
    for tenant in (tenant_a, tenant_b):
        services.tenant_deploy_canary(actor=system, tenant=tenant)
        fix_services.fix_proposal_create(actor=system, title=f"fix for {tenant.slug}", branch=f"fix/{tenant.slug}", tenant=tenant)
    fix_services.fix_proposal_create(actor=system, title="global fix", branch="fix/global")
    client = login(operator_a)
    events = client.get(reverse("admin:releases_tenantchannelevent_changelist")).context["cl"].queryset
    assert {e.tenant.slug for e in events} == {"alpha"}
    proposals = client.get(reverse("admin:releases_fixproposal_changelist")).context["cl"].queryset
    assert {p.title for p in proposals} == {"fix for alpha"}
    theirs = FixProposal.objects.get(title="fix for bravo")
    assert client.get(reverse("admin:releases_fixproposal_change", args=[theirs.pk])).status_code == 302


def test_fix_proposal_actions_run_through_the_policy(login, superuser, tenant_a):
    proposal = fix_services.fix_proposal_create(actor=Actor.system(), title="fix", branch="fix/x", tenant=tenant_a)
    client = login(superuser)
    url = reverse("admin:releases_fixproposal_changelist")
    client.post(url, {"action": "put_on_canary", "_selected_action": [proposal.pk]})  # refused: CI has not passed
    assert FixProposal.objects.get(pk=proposal.pk).status == "proposed" and not Release.objects.exists()
    FixProposal.objects.filter(pk=proposal.pk).update(status="ci_passed")
    client.post(url, {"action": "put_on_canary", "_selected_action": [proposal.pk]})
    assert FixProposal.objects.get(pk=proposal.pk).status == "canary"
    client.post(url, {"action": "mark_verified", "_selected_action": [proposal.pk]})
    client.post(url, {"action": "release_to_stable", "_selected_action": [proposal.pk]})
    assert VerificationRequest.objects.get(action="fixer.apply_code_fix").status == "pending"
    assert FixProposal.objects.get(pk=proposal.pk).status == "verified"


def test_the_tenant_settings_form_flips_channels_only_for_the_ceo(login, operator_a, superuser, tenant_a, on_canary):
    url = reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])
    for user, expected in ((operator_a, "stable"), (superuser, "canary")):
        client = login(user)
        data = settings_form_data(client, url)
        data.update({"release_channel": "canary", "new_chatflow_token": ""})
        assert client.post(url, data).status_code == 302
        assert ClientSettings.objects.get(pk=tenant_a.settings.pk).release_channel == expected
    assert TenantChannelEvent.objects.get().actor_label == "root"


def test_the_ceo_records_a_fix_proposal_in_admin(login, superuser, tenant_a, incident_of):
    incident = incident_of(tenant_a)
    client = login(superuser)
    assert client.get(reverse("admin:releases_fixproposal_add")).status_code == 200
    response = client.post(reverse("admin:releases_fixproposal_add"), {
        "title": "Escalate voice notes", "branch": "fix/voice", "pr_url": "https://github.com/acme/imperium/pull/7",
        "commit_sha": "", "incident": incident.pk, "tenant": tenant_a.pk, "notes": "",
    })
    assert response.status_code == 302
    proposal = FixProposal.objects.get()
    assert (proposal.status, proposal.incident, proposal.tenant, proposal.created_by_label) == ("proposed", incident, tenant_a, "root")
    assert AuditLog.objects.filter(action="policy.executed", payload__action="fixer.propose_fix").exists()


def test_admin_refuses_a_fix_proposal_for_an_unknown_incident(login, superuser, tenant_a):
    response = login(superuser).post(reverse("admin:releases_fixproposal_add"), {
        "title": "Escalate voice notes", "branch": "fix/voice", "pr_url": "", "commit_sha": "", "incident": 987654,
        "tenant": tenant_a.pk, "notes": "",
    })
    assert response.status_code == 200 and response.context["adminform"].form.errors["incident"]
    assert not FixProposal.objects.exists()
