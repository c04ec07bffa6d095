"""The fixer beyond the happy paths: proposals for risky remediations, giving up, the
sentinel watchdog; the sentinel command; the direct alert when the database is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from imperium.core.models import VerificationRequest
from imperium.core.policy import ActionSpec
from incidents.choices import FixState, IncidentEventKind, IncidentStatus
from incidents.models import CheckResult, Incident, IncidentEvent
from incidents.services import incident_open
from incidents.tests.conftest import alert_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_index(tenant_a):
    incident, _ = incident_open(fingerprint="qdrant.points:alpha", kind="qdrant.points", target="alpha", tenant=tenant_a,
                                title="Индекс базы знаний не совпадает с Postgres")
    return incident


def test_a_remediation_that_is_not_low_risk_becomes_a_proposal(stale_index, fixer, monkeypatch):
    from imperium.core import policy

    real = policy.action_spec
    monkeypatch.setattr(policy, "action_spec",
                        lambda name: ActionSpec(name, "high") if name == "fixer.reindex_tenant" else real(name))

    report = fixer()

    assert report.proposed == [stale_index.pk]
    request = VerificationRequest.objects.get()
    assert request.action == "fixer.reindex_tenant" and request.params == {"tenant": "alpha"} and request.status == "pending"
    stale_index.refresh_from_db()
    assert stale_index.fix_state == FixState.PROPOSED and stale_index.status == IncidentStatus.OPEN
    note = IncidentEvent.objects.get(incident=stale_index, kind=IncidentEventKind.NOTE)
    assert f"verification request #{request.pk}" in note.message
    fixer()
    assert VerificationRequest.objects.count() == 1


def test_the_fixer_retries_then_gives_up_and_says_so(stale_index, fixer, time_machine, settings):
    time_machine.move_to(timezone.now())
    # Embedded index: the rebuild works, but the Qdrant check has nothing to verify against.
    for _ in range(settings.FIXER_MAX_ATTEMPTS):
        fixer()
        fixer()  # inside FIXER_RETRY_MINUTES: nothing happens
        time_machine.shift(timedelta(minutes=settings.FIXER_RETRY_MINUTES + 1))
    fixer()
    stale_index.refresh_from_db()
    assert stale_index.fix_attempts == settings.FIXER_MAX_ATTEMPTS and stale_index.fix_state == FixState.GAVE_UP
    kinds = list(IncidentEvent.objects.filter(incident=stale_index).values_list("kind", flat=True))
    assert kinds.count(IncidentEventKind.REMEDIATION_STARTED) == 3 and kinds.count(IncidentEventKind.REMEDIATION_FAILED) == 3
    assert "gave up" in IncidentEvent.objects.filter(incident=stale_index).last().message
    assert stale_index.status == IncidentStatus.OPEN


def test_incidents_without_a_remediation_are_left_to_people(db, fixer):
    incident, _ = incident_open(fingerprint="errors.spike", kind="errors.spike", title="Всплеск ошибок")
    fixer()
    incident.refresh_from_db()
    assert incident.fix_state == FixState.NOT_APPLICABLE and incident.fix_attempts == 0
    assert not IncidentEvent.objects.filter(incident=incident).exclude(kind__in=["opened", "alert_sent"]).exists()


def test_the_fixer_watches_the_sentinel(db, settings, sentinel, fixer, telegram_bot, celery_eager, time_machine):
    time_machine.move_to(timezone.now())
    settings.SENTINEL_CHECKS = ["incidents.checks.system.DatabaseCheck", "incidents.checks.system.SentinelHeartbeatCheck"]
    sentinel()
    fixer()
    assert not Incident.objects.exists()

    time_machine.shift(timedelta(seconds=settings.SENTINEL_STALE_SECONDS + 30))  # beat stopped
    fixer()
    time_machine.shift(60)
    fixer()
    incident = Incident.objects.get()
    assert incident.fingerprint == "sentinel.heartbeat" and "is celery beat running?" in incident.summary
    [text] = alert_texts(telegram_bot)
    assert "Sentinel перестал проверять систему" in text

    sentinel()  # beat is back
    time_machine.shift(60)
    fixer()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and len(alert_texts(telegram_bot)) == 2


def test_sentinel_once_prints_every_result_and_fails_when_something_fails(db, settings, capsys, monkeypatch):
    settings.SENTINEL_CHECKS = ["incidents.checks.system.DatabaseCheck", "incidents.checks.system.RedisCheck"]
    settings.REDIS_URL = ""
    call_command("sentinel", "--once")
    out = capsys.readouterr().out
    assert "ok   database" in out and "skip redis" in out and "0 failing of 2" in out

    monkeypatch.setattr("imperium.core.health.connection", type("Down", (), {"cursor": lambda self: (_ for _ in ()).throw(
        OperationalError("connection refused"))})())
    with pytest.raises(SystemExit) as exit_info:
        call_command("sentinel", "--once", "--check", "database")
    assert exit_info.value.code == 1 and "FAIL database" in capsys.readouterr().out

    before = CheckResult.objects.count()
    with pytest.raises(SystemExit):
        call_command("sentinel", "--once", "--dry-run", "--json")
    assert '"state": "FAIL"' in capsys.readouterr().out and CheckResult.objects.count() == before

    with pytest.raises(CommandError, match="unknown check"):
        call_command("sentinel", "--once", "--check", "nope")


def test_a_database_the_sentinel_cannot_write_to_is_reported_straight_to_telegram(db, settings, sentinel, telegram_bot, monkeypatch):
    settings.SENTINEL_CHECKS = ["incidents.checks.system.DatabaseCheck"]

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("incidents.sentinel.sentinel_run_start", down)
    report = sentinel(times=3)
    assert report.recorded is False
    [text] = alert_texts(telegram_bot)
    assert text.startswith("🔴 Критично: база данных недоступна") and "server closed the connection" in text

    monkeypatch.undo()
    sentinel(times=2)
    texts = alert_texts(telegram_bot)
    assert len(texts) == 2 and texts[1].startswith("✅ База данных снова отвечает")
    assert not (settings.VAR_DIR / "sentinel-database-down.json").exists()
