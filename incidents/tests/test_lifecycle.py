"""The incident lifecycle on its own: thresholds, dedup, reopen, nag, skips, acknowledge, prune."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.core.models import AuditLog
from incidents.checks import Observation
from incidents.choices import IncidentEventKind, IncidentStatus
from incidents.models import Alert, CheckResult, Incident, IncidentEvent
from incidents.services import checks_prune, incident_acknowledge, incident_observe, incident_open, incident_resolve

pytestmark = pytest.mark.django_db


def fail(check="redis", detail="ConnectionError: refused", **kw):
    return Observation(check=check, ok=False, detail=detail, severity="critical", **kw)


def ok(check="redis", **kw):
    return Observation(check=check, ok=True, detail="ok", **kw)


@pytest.fixture
def observe(django_capture_on_commit_callbacks, time_machine):
    time_machine.move_to(timezone.now())

    def run(*observations, minutes=1):
        outcomes = []
        for observation in observations:
            time_machine.shift(timedelta(minutes=minutes))
            with django_capture_on_commit_callbacks(execute=True):
                outcomes.append(incident_observe(observation=observation))
        return outcomes

    return run


def test_k_failures_open_one_incident_and_m_passes_resolve_it(observe, settings):
    settings.SENTINEL_OPEN_AFTER, settings.SENTINEL_RESOLVE_AFTER = 3, 2
    outcomes = observe(fail(), fail(), ok(), fail(), fail())
    assert [o.change for o in outcomes] == ["failing", "failing", "", "failing", "failing"]  # a pass breaks the streak
    assert not Incident.objects.exists()
    outcomes = observe(fail(), fail(), ok(), fail(), ok(), ok())
    assert [o.change for o in outcomes] == ["opened", "still_failing", "", "still_failing", "", "resolved"]
    assert Incident.objects.get().status == IncidentStatus.RESOLVED
    assert list(Alert.objects.order_by("id").values_list("severity", flat=True)) == ["critical", "info"]


def test_skipped_observations_neither_pass_nor_fail(observe):
    observe(fail(), Observation(check="redis", ok=True, skipped=True, detail="not configured"), fail())
    assert Incident.objects.get().status == IncidentStatus.OPEN
    observe(ok(), Observation(check="redis", ok=True, skipped=True, detail="not configured"), ok())
    assert Incident.objects.get().status == IncidentStatus.RESOLVED


def test_targets_are_separate_incidents_and_a_tenant_is_kept(observe, tenant_a, tenant_b):
    observe(*[fail("chatflow", target=t.slug, tenant_id=t.pk) for t in (tenant_a, tenant_b) for _ in range(2)])
    incidents = {i.fingerprint: i for i in Incident.objects.all()}
    assert set(incidents) == {"chatflow:alpha", "chatflow:bravo"}
    assert incidents["chatflow:alpha"].tenant == tenant_a and Alert.objects.filter(tenant=tenant_a).count() == 1


def test_a_failure_within_the_cool_down_reopens_instead_of_duplicating(observe, settings):
    settings.SENTINEL_REOPEN_COOLDOWN_MINUTES = 30
    observe(fail(), fail(), ok(), ok())
    incident = Incident.objects.get()
    outcomes = observe(fail(), fail(), minutes=5)
    assert [o.change for o in outcomes] == ["failing", "reopened"]
    incident.refresh_from_db()
    assert Incident.objects.count() == 1 and incident.status == IncidentStatus.OPEN and incident.reopen_count == 1
    assert incident.resolved_at is None
    texts = list(Alert.objects.order_by("id").values_list("text", flat=True))
    assert len(texts) == 3 and "открыт повторно" in texts[2]
    assert IncidentEvent.objects.filter(incident=incident, kind=IncidentEventKind.REOPENED).count() == 1

    observe(ok(), ok())
    observe(fail(), fail(), minutes=31)  # past the cool-down: a new incident
    assert Incident.objects.count() == 2


def test_the_nag_is_off_by_default_and_stops_once_acknowledged(observe, settings):
    observe(fail(), fail(), *[fail()] * 30)
    assert Alert.objects.count() == 1

    settings.SENTINEL_NAG_MINUTES = 10
    outcomes = observe(*[fail()] * 25)
    # The last alert is 31 minutes old: nag now, then every 10 minutes.
    assert [i for i, o in enumerate(outcomes) if o.change == "nagged"] == [0, 10, 20]
    assert Alert.objects.count() == 4 and "никто не принял" in Alert.objects.order_by("-id").first().text
    incident = Incident.objects.get()
    incident_acknowledge(incident_id=incident.pk, actor=Actor.telegram(1, "@ceo"))
    observe(*[fail()] * 30)
    assert Alert.objects.count() == 4


def test_a_changed_failure_is_written_on_the_timeline_once(observe):
    observe(fail(), fail(), fail(), fail(detail="TimeoutError"), fail(detail="TimeoutError"))
    events = IncidentEvent.objects.filter(kind=IncidentEventKind.CHECK_FAILED)
    assert [e.message for e in events] == ["TimeoutError"]
    assert Incident.objects.get().failure_count == 5


def test_opening_twice_returns_the_open_incident(db):
    first, created = incident_open(fingerprint="canary:alpha", kind="canary", title="Канарейка хуже стабильной")
    second, created_again = incident_open(fingerprint="canary:alpha", kind="canary", title="Канарейка хуже стабильной")
    assert created and not created_again and first.pk == second.pk
    assert Alert.objects.count() == 1


def test_acknowledge_and_resolve_are_audited_once(db, superuser):
    incident, _ = incident_open(fingerprint="x", kind="x", title="x")
    actor = Actor.from_user(superuser)
    assert incident_acknowledge(incident_id=incident.pk, actor=actor)[1] is True
    assert incident_acknowledge(incident_id=incident.pk, actor=actor)[1] is False
    assert incident_resolve(incident_id=incident.pk, actor=actor, note="перезапустил")[1] is True
    assert incident_resolve(incident_id=incident.pk, actor=actor)[1] is False
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.acknowledged_by == "root" and incident.resolved_by == "root"
    assert AuditLog.objects.filter(action="incident.acknowledged").count() == 1
    assert AuditLog.objects.filter(action="incident.resolved").count() == 1
    event = IncidentEvent.objects.get(incident=incident, kind=IncidentEventKind.ACKNOWLEDGED)
    assert event.source == "web" and event.actor_kind == "user"
    assert "перезапустил" in IncidentEvent.objects.get(incident=incident, kind=IncidentEventKind.RESOLVED).message


def test_passes_are_stored_when_they_matter_and_hourly_otherwise(observe):
    observe(*[ok()] * 10)
    assert CheckResult.objects.filter(fingerprint="redis").count() == 1
    observe(*[ok()] * 61)
    assert CheckResult.objects.filter(fingerprint="redis").count() == 2  # the hourly keep-alive
    observe(fail(), ok(), ok())
    assert CheckResult.objects.filter(fingerprint="redis").count() == 4  # the failure and the pass after it


def test_prune_keeps_results_of_open_incidents(observe, settings, time_machine):
    settings.SENTINEL_RETENTION_DAYS = 1
    observe(fail("database"), fail("database"), fail("redis"), ok("redis"))
    time_machine.shift(timedelta(days=2))
    removed = checks_prune()
    assert removed["check_results"] == 2
    assert set(CheckResult.objects.values_list("fingerprint", flat=True)) == {"database"}
