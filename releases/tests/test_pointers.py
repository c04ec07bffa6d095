"""Channel pointers and release_for_tenant: what a tenant's next turn is served, through flips and rollbacks."""

from __future__ import annotations

import pytest

from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog
from releases import services
from releases.config import effective_bundle
from releases.models import Release, ReleasePointer, ReleasePointerEvent, TenantChannelEvent
from releases.selectors import release_for_tenant, stable_rollback_target
from tenants.models import ClientSettings

pytestmark = pytest.mark.django_db


def channel_of(tenant) -> str:
    return ClientSettings.objects.get(client=tenant).release_channel


def test_a_tenant_with_no_release_at_all_gets_the_complete_defaults(tenant_a):
    resolved = release_for_tenant(tenant_a)
    assert resolved.version == "defaults" and resolved.release is None and resolved.is_default
    assert resolved.channel == "stable"
    assert dict(resolved.as_dict()["config"]) == effective_bundle()
    assert resolved.config["answering"]["rules"][0] == "input_length" and resolved.config["flags"] == {}


def test_stable_and_canary_tenants_follow_their_pointers_and_rollback_flips_back(tenant_a, tenant_b, make_stable,
                                                                                 make_release, system, alerts):
    make_stable("1.0.0", answering={"thresholds": {"min_confidence": 0.6}})
    make_release("1.1.0", answering={"thresholds": {"min_confidence": 0.8}}, image_tag="v1.1.0")
    services.release_start_canary(actor=system, version="1.1.0")
    assert release_for_tenant(tenant_a).version == "1.0.0"  # still stable: canary affects canary tenants only

    flip = services.tenant_deploy_canary(actor=system, tenant=tenant_a, reason="try it")
    assert flip.changed and flip.release_version == "1.1.0"
    canary = release_for_tenant(tenant_a)
    assert (canary.version, canary.channel, canary.image_tag) == ("1.1.0", "canary", "v1.1.0")
    assert canary.config["answering"]["thresholds"]["min_confidence"] == 0.8
    stable = release_for_tenant(tenant_b)
    assert (stable.version, stable.config["answering"]["thresholds"]["min_confidence"]) == ("1.0.0", 0.6)

    back = services.tenant_rollback(actor=system, tenant=tenant_a, reason="customers complained")
    assert back.changed and channel_of(tenant_a) == "stable"
    assert release_for_tenant(tenant_a).version == "1.0.0"
    events = list(TenantChannelEvent.objects.for_tenant(tenant_a).order_by("id").values_list("from_channel", "to_channel", "operation"))
    assert events == [("stable", "canary", "deploy_canary"), ("canary", "stable", "rollback")]
    assert AuditLog.objects.filter(action="tenant.release_channel_changed", tenant=tenant_a).count() == 2


def test_flips_are_idempotent(tenant_a, make_release, system):
    make_release("1.0.0")
    services.release_start_canary(actor=system, version="1.0.0")
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    assert services.tenant_deploy_canary(actor=system, tenant=tenant_a).changed is False
    assert TenantChannelEvent.objects.count() == 1


def test_deploy_canary_is_refused_while_there_is_no_canary_release(tenant_a, system):
    with pytest.raises(ApplicationError) as excinfo:
        services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    assert "release_canary" in excinfo.value.message and excinfo.value.status == 409
    assert channel_of(tenant_a) == "stable"


def test_a_canary_tenant_without_a_canary_release_is_served_stable(tenant_a, make_stable, make_release, system):
    make_release("1.0.0")
    services.release_start_canary(actor=system, version="1.0.0")
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    services.release_promote_stable(actor=system, version="1.0.0")  # clears the canary pointer
    resolved = release_for_tenant(tenant_a)
    assert (resolved.version, resolved.channel, resolved.serving_channel) == ("1.0.0", "canary", "stable")


def test_promotion_makes_every_stable_tenant_use_the_canary_release(tenant_a, tenant_b, make_stable, make_release, system, alerts,
                                                                    django_capture_on_commit_callbacks):
    make_stable("1.0.0")
    make_release("1.1.0", flags={"llm_composer": True})
    services.release_start_canary(actor=system, version="1.1.0")
    with django_capture_on_commit_callbacks(execute=True):
        services.release_promote_stable(actor=system, version="1.1.0")
    assert {release_for_tenant(t).version for t in (tenant_a, tenant_b)} == {"1.1.0"}
    assert release_for_tenant(tenant_b).config["flags"]["llm_composer"] is True
    statuses = dict(Release.objects.values_list("version", "status"))
    assert statuses == {"1.0.0": "retired", "1.1.0": "stable"}
    assert ReleasePointer.objects.get(channel="canary").release is None
    assert [a["title"] for a in alerts] == ["Стабильный релиз: 1.1.0"]


def test_promotion_refuses_a_stale_version(make_release, system):
    make_release("1.0.0")
    make_release("1.1.0")
    services.release_start_canary(actor=system, version="1.0.0")
    services.release_start_canary(actor=system, version="1.1.0")  # 1.0.0 is superseded (retired)
    with pytest.raises(ApplicationError) as excinfo:
        services.release_promote_stable(actor=system, version="1.0.0")
    assert "1.1.0" in excinfo.value.message
    assert Release.objects.get(version="1.0.0").status == "retired"
    assert ReleasePointer.objects.get(channel="stable").release is None


def test_start_canary_refuses_a_release_that_left_draft(make_stable, system):
    make_stable("1.0.0")
    with pytest.raises(ApplicationError):
        services.release_start_canary(actor=system, version="1.0.0")


def test_stable_rollback_goes_back_through_good_releases_never_forward(tenant_a, make_stable, system, alerts):
    make_stable("1.0.0")
    make_stable("1.1.0")
    make_stable("1.2.0")
    assert stable_rollback_target().version == "1.1.0"

    first = services.release_rollback_stable(actor=system, expected_version="1.2.0", reason="bad prompts")
    assert (first.from_version, first.to_version) == ("1.2.0", "1.1.0")
    assert release_for_tenant(tenant_a).version == "1.1.0"

    second = services.release_rollback_stable(actor=system)
    assert (second.from_version, second.to_version) == ("1.1.0", "1.0.0")  # not forward to the bad 1.2.0

    third = services.release_rollback_stable(actor=system)
    assert third.to_version is None and release_for_tenant(tenant_a).version == "defaults"
    with pytest.raises(ApplicationError):
        services.release_rollback_stable(actor=system)
    statuses = dict(Release.objects.values_list("version", "status"))
    assert statuses == {"1.0.0": "rolled_back", "1.1.0": "rolled_back", "1.2.0": "rolled_back"}
    ops = list(ReleasePointerEvent.objects.filter(channel="stable").order_by("id").values_list("operation", flat=True))
    assert ops == ["promote_stable"] * 3 + ["rollback_stable"] * 3


def test_stable_rollback_refuses_a_stale_request_and_a_target_that_was_never_stable(make_stable, make_release, system):
    make_stable("1.0.0")
    make_stable("1.1.0")
    make_release("2.0.0")
    with pytest.raises(ApplicationError):
        services.release_rollback_stable(actor=system, expected_version="1.0.0")
    with pytest.raises(ApplicationError):
        services.release_rollback_stable(actor=system, to_version="2.0.0")
    assert ReleasePointer.objects.get(channel="stable").release.version == "1.1.0"


def test_stable_rollback_leaves_a_running_canary_alone(tenant_a, tenant_b, make_stable, make_release, system):
    make_stable("1.0.0")
    make_stable("1.1.0")
    make_release("1.2.0")
    services.release_start_canary(actor=system, version="1.2.0")
    services.tenant_deploy_canary(actor=system, tenant=tenant_a)
    services.release_rollback_stable(actor=system, expected_version="1.1.0")
    assert release_for_tenant(tenant_b).version == "1.0.0"
    assert release_for_tenant(tenant_a).version == "1.2.0"


def test_canary_rollback_takes_every_canary_tenant_back_with_one_alert(tenant_a, tenant_b, make_stable, make_release, system,
                                                                       alerts, django_capture_on_commit_callbacks):
    make_stable("1.0.0")
    make_release("1.1.0")
    services.release_start_canary(actor=system, version="1.1.0")
    for tenant in (tenant_a, tenant_b):
        services.tenant_deploy_canary(actor=system, tenant=tenant)
    alerts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.canary_rollback(actor=system, reason="QC-fail rate 3x stable", analysis_ref="analysis:7")
    assert result.tenants == ["alpha", "bravo"] and result.release_rolled_back
    assert {release_for_tenant(t).version for t in (tenant_a, tenant_b)} == {"1.0.0"}
    assert Release.objects.get(version="1.1.0").status == "rolled_back"
    assert ReleasePointer.objects.get(channel="canary").release is None
    assert len(alerts) == 1 and alerts[0]["severity"] == "warning"
    with django_capture_on_commit_callbacks(execute=True):
        again = services.canary_rollback(actor=system, reason="again")
    assert not again.changed and len(alerts) == 1


def test_release_for_tenant_costs_two_queries(tenant_a, make_stable, django_assert_max_num_queries):
    make_stable("1.0.0", answering={"thresholds": {"min_confidence": 0.6}})
    release_for_tenant(tenant_a)
    with django_assert_max_num_queries(2):
        resolved = release_for_tenant(tenant_a.pk)
    assert resolved.version == "1.0.0" and resolved.pointer_revision == 1


def test_canary_selectors(make_release, system):
    from releases.selectors import canary_release

    assert canary_release() is None
    make_release("1.0.0")
    services.release_start_canary(actor=system, version="1.0.0")
    assert canary_release().version == "1.0.0"
    services.release_promote_stable(actor=system, version="1.0.0")
    assert canary_release() is None
