"""Canary analysis: a worse canary rolls itself back with one alert; too little data waits and says
so once; an equal canary is successful and verifies the fixes riding it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from conversations.models import Conversation, MessageTrace, OutboundMessage, Turn
from imperium.celery_routes import CELERY_BEAT_SCHEDULE, TASK_ROUTES
from imperium.core.models import AuditLog
from incidents.models import Alert, ErrorLog
from releases import fix_services, services
from releases.analysis import analysis_thresholds, canary_verdict, rate_increase_z
from releases.choices import FixStatus
from releases.models import CanaryAnalysis, FixProposal, Release
from releases.selectors import release_for_tenant
from releases.tasks import canary_analysis
from releases.tests.pipeline import (  # noqa: F401
    ACTOR,
    T0,
    _fresh_knowledge_caches,
    _pipeline_isolation,
    ask_turn,
    import_kb,
    inline,
    queued,
    webhook,
)
from tenants.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
NOW = T0 + timedelta(minutes=5)


@pytest.fixture
def canary_running(tenant_a, tenant_b):
    """Release 1.1.0 on canary with tenant_a on it; tenant_b on stable (built-in defaults)."""
    services.release_create_draft(actor=ACTOR, version="1.1.0")
    services.release_start_canary(actor=ACTOR, version="1.1.0")
    services.tenant_deploy_canary(actor=ACTOR, tenant=tenant_a)
    return Release.objects.get(version="1.1.0")


def add_turns(tenant, release: str, count: int, *, escalated: int = 0, reason: str = "low_confidence", failed_sends: int = 0,
              errors: int = 0, total_ms: float = 900.0, at=NOW - timedelta(minutes=2)) -> None:
    """`count` finished turns of `tenant` answered with `release`, as the pipeline records them: a
    turn, its trace and its outbound message (and ErrorLogs sharing the turn's correlation id)."""
    conversation = Conversation.objects.create(tenant=tenant, customer_key=uuid.uuid4().hex, customer_phone="+77010000000",
                                               customer_phone_masked="+7701•••0000", created_at=at, updated_at=at)
    for i in range(count):
        is_escalated = i < escalated
        turn = Turn.objects.create(
            tenant=tenant, conversation=conversation, status="escalated" if is_escalated else "answered",
            decision="escalate" if is_escalated else "answer", reason=reason if is_escalated else "", created_at=at, finished_at=at,
            release=release, kb_version=1, correlation_id=uuid.uuid4().hex, message_count=1,
        )
        MessageTrace.objects.create(tenant=tenant, conversation=conversation, turn=turn, created_at=at, correlation_id=turn.correlation_id,
                                    decision=turn.decision, reason=turn.reason, release=release, kb_version=1, total_ms=total_ms)
        OutboundMessage.objects.create(tenant=tenant, conversation=conversation, turn=turn, kind="holding" if is_escalated else "reply",
                                       text="…", idempotency_key=f"t{tenant.pk}-turn{turn.pk}", created_at=at, updated_at=at,
                                       status="failed" if i < failed_sends else "sent")
        if i < errors:
            ErrorLog.objects.create(tenant=tenant, where="conversations.decide_reply", correlation_id=turn.correlation_id)


def run_analysis(django_capture_on_commit_callbacks, at=NOW):
    """Run the beat task as beat would; returns (its result, the alerts it raised)."""
    before = set(Alert.objects.values_list("pk", flat=True))
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = canary_analysis.apply().get()
    return result, list(Alert.objects.exclude(pk__in=before))


def test_a_worse_canary_is_rolled_back_automatically_with_one_alert(settings, tenant_a, tenant_b, ask_turn, canary_running,  # noqa: F811
                                                                    django_capture_on_commit_callbacks):
    # Real turns through the pipeline: the canary release's stricter threshold makes its tenant escalate.
    settings.CANARY_ANALYSIS_MIN_TURNS = 3
    for tenant in (tenant_a, tenant_b):
        import_kb(tenant)
    services.release_create_draft(actor=ACTOR, version="1.2.0", overrides={"answering": {"thresholds": {"min_confidence": 0.99}}})
    services.release_start_canary(actor=ACTOR, version="1.2.0")  # supersedes 1.1.0; tenant_a follows the canary pointer
    for n in range(3):
        for tenant in (tenant_a, tenant_b):
            ask_turn(tenant, "Вечерний макияж сколько стоит", phone=f"+7701000000{n}")

    result, alerts = run_analysis(django_capture_on_commit_callbacks)

    assert result["result"] == "failed" and result["release"] == "1.2.0" and result["action"] == "rolled_back"
    metrics = {row["name"]: (row["canary"], row["stable"]) for row in result["metrics"]}
    assert metrics["turns"] == (3, 3) and metrics["qc_fail_rate"] == (1.0, 0.0) and metrics["escalation_rate"] == (1.0, 0.0)
    assert release_for_tenant(tenant_a).channel == "stable"  # the customers are back on stable at once
    assert Release.objects.get(version="1.2.0").status == "rolled_back"
    [alert] = alerts
    assert alert.severity == "critical" and "1.2.0" in alert.title and "доля эскалаций по шлюзу качества" in alert.text
    assert "alpha" in alert.text
    from incidents.models import Incident

    incident = Incident.objects.get(fingerprint="canary:failed:1.2.0")
    assert incident.status == "open" and incident.severity == "critical"
    assert alert.dedup_key.startswith(f"incident:{incident.pk}:opened")
    analysis = CanaryAnalysis.objects.get()
    assert ErrorLog.objects.get(where="releases.canary_analysis").context["analysis"] == analysis.pk
    rollback = AuditLog.objects.get(action="policy.executed", payload__action="canary.auto_rollback")
    assert rollback.actor_label == "canary-analysis" and AuditLog.objects.filter(action="release.canary_rolled_back").count() == 1

    assert run_analysis(django_capture_on_commit_callbacks) == (None, [])  # nothing on canary any more: quiet
    assert CanaryAnalysis.objects.count() == 1


@pytest.mark.parametrize(
    ("canary_kwargs", "failing"),
    [
        ({"escalated": 30, "reason": "ungrounded"}, ["qc_fail_rate", "escalation_rate"]),
        ({"escalated": 30, "reason": "booking"}, ["escalation_rate"]),  # not the gate's doing: QC-fail rate is fine
        ({"escalated": 4, "reason": "ungrounded", "failed_sends": 10}, ["delivery_failure_rate"]),
        ({"escalated": 4, "reason": "ungrounded", "errors": 10}, ["error_rate"]),
        ({"escalated": 4, "reason": "ungrounded", "total_ms": 2500.0}, ["total_ms_p95"]),
    ],
)
def test_each_metric_beyond_its_limit_fails_the_canary(tenant_a, tenant_b, canary_running, canary_kwargs, failing,
                                                       django_capture_on_commit_callbacks):
    add_turns(tenant_a, "1.1.0", 40, **canary_kwargs)
    add_turns(tenant_b, "defaults", 40, escalated=4, reason="ungrounded", failed_sends=1, errors=1)

    result, alerts = run_analysis(django_capture_on_commit_callbacks)

    assert result["result"] == "failed" and len(alerts) == 1
    assert [reason.split(" ")[0] for reason in result["reasons"]] == failing
    assert release_for_tenant(tenant_a).channel == "stable"


def test_too_little_data_is_inconclusive_and_the_ceo_is_told_once(tenant_a, tenant_b, canary_running,
                                                                  django_capture_on_commit_callbacks):
    add_turns(tenant_a, "1.1.0", 5, escalated=5, reason="ungrounded")  # looks terrible, but five turns prove nothing
    add_turns(tenant_b, "defaults", 50)

    first, first_alerts = run_analysis(django_capture_on_commit_callbacks)
    second, second_alerts = run_analysis(django_capture_on_commit_callbacks, at=NOW + timedelta(minutes=5))
    third, third_alerts = run_analysis(django_capture_on_commit_callbacks, at=NOW + timedelta(minutes=10))

    assert first["result"] == second["result"] == third["result"] == "inconclusive"
    assert first["reasons"] == ["canary: 5 of 30 turns needed"]
    [alert] = first_alerts
    assert alert.severity == "info" and "1.1.0" in alert.title and "5 из 30" in alert.text
    assert second_alerts == [] and third_alerts == []  # not on every run
    assert release_for_tenant(tenant_a).channel == "canary"  # keeps waiting
    assert list(CanaryAnalysis.objects.order_by("id").values_list("action", flat=True)) == ["notified", "", ""]


def test_an_equal_canary_is_successful_and_verifies_the_fix_riding_it(settings, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    proposal = fix_services.fix_proposal_create(actor=ACTOR, title="Retry Qdrant timeouts", branch="fix/qdrant-retry")
    fix_services.fix_proposal_transition(proposal=proposal, to_status=FixStatus.CI_PASSED, actor=ACTOR)
    fix_services.fix_proposal_start_canary(actor=ACTOR, proposal_id=proposal.pk, version="0.0.1-fix.1")
    services.tenant_deploy_canary(actor=ACTOR, tenant=tenant_a)
    add_turns(tenant_a, "0.0.1-fix.1", 40, escalated=6, reason="booking", total_ms=1000.0)
    add_turns(tenant_b, "defaults", 60, escalated=8, reason="booking", total_ms=950.0)

    result, alerts = run_analysis(django_capture_on_commit_callbacks)

    assert result["result"] == "successful" and result["reasons"] == []
    assert result["action"] == "fixes_verified" and result["action_detail"] == {"fix_proposals": [proposal.pk]}
    assert FixProposal.objects.get(pk=proposal.pk).status == "verified"
    assert [a.title for a in alerts] == [f"Фикс #{proposal.pk}: проверен на канарейке"]  # the Fixer loop reports the step
    assert release_for_tenant(tenant_a).version == "0.0.1-fix.1"  # nothing rolled back

    again, again_alerts = run_analysis(django_capture_on_commit_callbacks, at=NOW + timedelta(minutes=5))
    assert again["result"] == "successful" and again["action"] == "" and again_alerts == []


def test_a_canary_that_looks_worse_on_too_few_turns_waits_then_fails_once_it_is_significant(
    tenant_a, tenant_b, canary_running, django_capture_on_commit_callbacks
):
    # 7 of 30 escalated against 3 of 30: +13 points, over the 10-point limit, but z = 1.39 — chance can do that.
    add_turns(tenant_a, "1.1.0", 30, escalated=7, reason="booking", at=NOW - timedelta(minutes=40))
    add_turns(tenant_b, "defaults", 30, escalated=3, reason="booking", at=NOW - timedelta(minutes=40))

    first, first_alerts = run_analysis(django_capture_on_commit_callbacks)
    second, second_alerts = run_analysis(django_capture_on_commit_callbacks, at=NOW + timedelta(minutes=5))

    assert first["result"] == second["result"] == "inconclusive"
    assert first["reasons"] == ["escalation_rate 0.233 vs stable 0.100 (+0.133 > 0.1), not yet significant (z 1.39 < 1.645)"]
    [alert] = first_alerts
    assert alert.severity == "info" and "не значима (z 1.39 < 1.645)" in alert.text and "1.1.0" in alert.title
    assert second_alerts == []  # told once
    assert release_for_tenant(tenant_a).channel == "canary"

    # Twice the turns at the same rates: z = 1.96, the increase is real.
    add_turns(tenant_a, "1.1.0", 30, escalated=7, reason="booking")
    add_turns(tenant_b, "defaults", 30, escalated=3, reason="booking")
    third, third_alerts = run_analysis(django_capture_on_commit_callbacks, at=NOW + timedelta(minutes=6))

    assert third["result"] == "failed" and third["action"] == "rolled_back" and len(third_alerts) == 1
    assert release_for_tenant(tenant_a).channel == "stable"


def test_the_z_statistic_of_a_rate_increase():
    assert rate_increase_z(7 / 30, 30, 3 / 30, 30) == pytest.approx(1.386, abs=0.001)
    assert rate_increase_z(14 / 60, 60, 6 / 60, 60) == pytest.approx(1.960, abs=0.001)
    assert rate_increase_z(1.0, 3, 0.0, 3) == pytest.approx(2.449, abs=0.001)
    assert rate_increase_z(0.1, 30, 0.3, 30) < 0  # canary better
    assert rate_increase_z(0.0, 30, 0.0, 30) == 0.0 and rate_increase_z(0.5, 0, 0.1, 30) == 0.0
    assert rate_increase_z(1.0, 40, 1.0, 40) == 0.0


def test_turns_from_before_a_flip_and_outside_the_window_count_on_neither_side(tenant_a, tenant_b, canary_running,
                                                                               django_capture_on_commit_callbacks):
    add_turns(tenant_a, "defaults", 50, escalated=50, reason="ungrounded")  # tenant_a before its flip: stable release
    add_turns(tenant_a, "1.1.0", 40, at=NOW - timedelta(hours=2), escalated=40, reason="ungrounded")  # too old
    add_turns(tenant_b, "defaults", 40)
    third = ClientFactory(slug="charlie")
    add_turns(third, "1.1.0", 40)  # stable tenant with a stale label: not canary data

    result, _ = run_analysis(django_capture_on_commit_callbacks)
    metrics = {row["name"]: (row["canary"], row["stable"]) for row in result["metrics"]}
    assert metrics["turns"] == (0, 40) and result["result"] == "inconclusive"


def test_nothing_on_canary_means_no_analysis(tenant_a, django_capture_on_commit_callbacks):
    services.release_create_draft(actor=ACTOR, version="1.1.0")
    services.release_start_canary(actor=ACTOR, version="1.1.0")  # a canary release, but no tenant on it
    assert run_analysis(django_capture_on_commit_callbacks) == (None, [])
    assert not CanaryAnalysis.objects.exists()


def test_a_failure_another_run_already_handled_is_not_reported_again(tenant_a, tenant_b, canary_running,
                                                                     django_capture_on_commit_callbacks):
    add_turns(tenant_a, "1.1.0", 40, escalated=40, reason="ungrounded")
    add_turns(tenant_b, "defaults", 40)
    CanaryAnalysis.objects.create(release=canary_running, release_version="1.1.0", stable_version="defaults", result="failed",
                                  window_start=NOW, window_end=NOW, notice_key="failed:1.1.0")  # a concurrent run got there first

    result, alerts = run_analysis(django_capture_on_commit_callbacks)

    assert result["result"] == "failed" and result["action"] == "" and alerts == []


def test_the_verdict_uses_the_configured_limits(settings):
    stats = {"turns": 100, "qc_fail_rate": 0.10, "escalation_rate": 0.20, "delivery_failure_rate": 0.0, "error_rate": 0.0,
             "total_ms_p95": 1000.0}
    thresholds = analysis_thresholds()
    assert canary_verdict({**stats, "escalation_rate": 0.29}, stats, thresholds).result == "successful"  # +9 points < 10
    assert canary_verdict({**stats, "escalation_rate": 0.31}, stats, thresholds).result == "failed"
    assert canary_verdict({**stats, "total_ms_p95": 1400.0}, stats, thresholds).result == "successful"  # < ×1.5
    assert canary_verdict({**stats, "total_ms_p95": 1600.0}, stats, thresholds).result == "failed"
    assert canary_verdict({**stats, "total_ms_p95": 150.0}, {**stats, "total_ms_p95": 90.0}, thresholds).result == "successful"  # +60 ms
    assert canary_verdict(stats, {**stats, "turns": 3}, thresholds).reasons[0]["side"] == "stable"
    settings.CANARY_MAX_ESCALATION_INCREASE = 0.5
    assert canary_verdict({**stats, "escalation_rate": 0.6}, stats, analysis_thresholds()).result == "successful"


def test_significance_decides_between_waiting_and_failing(settings):
    base = {"turns": 30, "qc_fail_rate": 0.0, "escalation_rate": 0.10, "delivery_failure_rate": 0.0, "error_rate": 0.0,
            "total_ms_p95": 1000.0}
    worse = {**base, "escalation_rate": 7 / 30}
    assert canary_verdict(worse, base, analysis_thresholds()).result == "inconclusive"
    assert canary_verdict({**worse, "turns": 60}, {**base, "turns": 60}, analysis_thresholds()).result == "failed"
    settings.CANARY_MIN_Z = 0.0  # the absolute limits alone
    assert canary_verdict(worse, base, analysis_thresholds()).result == "failed"
    # Delivery failures are a share of sent + failed messages, not of turns.
    settings.CANARY_MIN_Z = 1.645
    sends = {**base, "sent": 300, "send_failed": 0}
    assert canary_verdict({**sends, "delivery_failure_rate": 0.06, "sent": 282, "send_failed": 18}, sends,
                          analysis_thresholds()).result == "failed"
    assert canary_verdict({**base, "delivery_failure_rate": 0.06}, base, analysis_thresholds()).result == "inconclusive"


def test_a_crashing_analysis_is_loud(monkeypatch, tenant_a, canary_running, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("conversations.selectors.release_turn_stats", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        canary_analysis.apply().get()
    assert ErrorLog.objects.get(where="releases.canary_analysis.crash").exception_type == "RuntimeError"
    alert = Alert.objects.get(dedup_key="canary:analysis-crashed")
    assert "database went away" in alert.text and "не откатится" in alert.text


def test_it_runs_on_beat_and_is_routed():
    assert TASK_ROUTES["releases.canary_analysis"] == {"queue": "default"}
    assert CELERY_BEAT_SCHEDULE["releases-canary-analysis"]["task"] == "releases.canary_analysis"


def test_the_board_shows_the_latest_analysis(login, superuser, operator_a, tenant_a, tenant_b, canary_running,
                                             django_capture_on_commit_callbacks):
    add_turns(tenant_a, "1.1.0", 5)
    add_turns(tenant_b, "defaults", 50)
    run_analysis(django_capture_on_commit_callbacks)
    board = reverse("admin:releases_releasepointer_changelist")

    html = login(superuser).get(board).content.decode()
    assert "INCONCLUSIVE" in html and "canary: 5 of 30 turns needed" in html and "canary tenants: alpha" in html
    assert login(superuser).get(reverse("admin:releases_canaryanalysis_changelist")).status_code == 200

    operator = login(operator_a)
    html = operator.get(board).content.decode()
    assert "INCONCLUSIVE" in html and "canary tenants: 1;" in html
    assert operator.get(reverse("admin:releases_canaryanalysis_changelist")).status_code == 403


def test_canary_analysis_command_prints_the_verdict(tenant_a, tenant_b, canary_running):
    from io import StringIO

    from django.core.management import call_command

    add_turns(tenant_a, "1.1.0", 5)
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("canary_analysis", stdout=out)
    assert "inconclusive" in out.getvalue() and "canary 1.1.0 vs stable defaults" in out.getvalue()
    status = StringIO()
    call_command("release_status", stdout=status)
    assert "latest canary analysis #" in status.getvalue() and "inconclusive — canary 1.1.0 vs stable defaults" in status.getvalue()
    assert "canary: 5 of 30 turns needed" in status.getvalue()
