"""Canary analysis: is the canary release worse for its tenants than stable is for the others?
(the verdicts and settings: docs/RELEASES.md "Canary analysis").

Each run compares the turns canary tenants got from the canary release with the turns stable
tenants got from stable (`conversations.selectors.release_turn_stats`; a tenant's turns from before
its flip count on neither side) and stores a `CanaryAnalysis`: inconclusive (too few turns, or
worse but not significantly: z below CANARY_MIN_Z), failed (canary tenants go back to stable, the
release is rolled back, one incident, one alert) or successful (riding fix proposals verified).
"Exactly once" across concurrent runs: the run that tells the CEO stores a unique `notice_key`
(`failed:<version>`, `inconclusive:<version>`); a second run loses on that constraint.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from imperium.core.actors import Actor
from incidents.alerts import alert_raise
from incidents.errors import error_log_record
from incidents.services import incident_open
from releases import texts
from releases.choices import AnalysisResult, Channel, ReleaseStatus
from releases.defaults import DEFAULTS_VERSION
from releases.models import CanaryAnalysis
from releases.selectors import fix_proposals_on_canary, pointers_current, tenants_on_channel

logger = logging.getLogger(__name__)

ANALYSIS_ACTOR = "canary-analysis"
# (metric, settings name of its limit) — rates compared as canary minus stable.
RATE_LIMITS = (
    ("qc_fail_rate", "CANARY_MAX_QC_FAIL_INCREASE"),
    ("escalation_rate", "CANARY_MAX_ESCALATION_INCREASE"),
    ("delivery_failure_rate", "CANARY_MAX_DELIVERY_FAILURE_INCREASE"),
    ("error_rate", "CANARY_MAX_ERROR_RATE_INCREASE"),
)


def analysis_thresholds() -> dict[str, float | int]:
    """The limits in force (settings; documented in .env.example and docs/RELEASES.md)."""
    names = ["CANARY_ANALYSIS_WINDOW_MINUTES", "CANARY_ANALYSIS_MIN_TURNS", *(name for _, name in RATE_LIMITS),
             "CANARY_MIN_Z", "CANARY_MAX_P95_RATIO", "CANARY_MAX_P95_INCREASE_MS"]
    return {name.removeprefix("CANARY_").lower(): getattr(settings, name) for name in names}


@dataclass
class Verdict:
    result: str
    reasons: list[dict[str, Any]] = field(default_factory=list)


def canary_verdict(canary: dict[str, Any], stable: dict[str, Any], thresholds: dict[str, Any]) -> Verdict:
    """Judge two sides' `release_turn_stats` (pure: no reads, no writes)."""
    needed = int(thresholds["analysis_min_turns"])
    short = [
        {"side": side, "turns": stats["turns"], "needed": needed, "text": f"{side}: {stats['turns']} of {needed} turns needed"}
        for side, stats in (("canary", canary), ("stable", stable)) if stats["turns"] < needed
    ]
    if short:
        return Verdict(AnalysisResult.INCONCLUSIVE, short)
    worse: list[dict[str, Any]] = []
    unsure: list[dict[str, Any]] = []
    min_z = float(thresholds.get("min_z", 0.0))
    for metric, setting in RATE_LIMITS:
        limit = float(thresholds[setting.removeprefix("CANARY_").lower()])
        increase = canary[metric] - stable[metric]
        if increase <= limit:
            continue
        z = rate_increase_z(canary[metric], _rate_base(canary, metric), stable[metric], _rate_base(stable, metric))
        text = f"{metric} {canary[metric]:.3f} vs stable {stable[metric]:.3f} (+{increase:.3f} > {limit})"
        reason = {"metric": metric, "canary": canary[metric], "stable": stable[metric], "limit": limit,
                  "z": round(z, 2) if math.isfinite(z) else None}
        if z >= min_z:
            worse.append({**reason, "text": text})
        else:  # above the limit, but this few turns could show it by chance: wait for more
            unsure.append({**reason, "min_z": min_z, "text": f"{text}, not yet significant (z {z:.2f} < {min_z})"})
    c95, s95 = canary.get("total_ms_p95"), stable.get("total_ms_p95")
    ratio, slack = float(thresholds["max_p95_ratio"]), float(thresholds["max_p95_increase_ms"])
    if c95 is not None and s95 is not None and c95 > s95 * ratio and c95 - s95 > slack:
        worse.append({"metric": "total_ms_p95", "canary": c95, "stable": s95, "limit": ratio,
                      "text": f"total_ms_p95 {c95:.0f} ms vs stable {s95:.0f} ms (> ×{ratio} and +{slack:.0f} ms)"})
    if worse:
        return Verdict(AnalysisResult.FAILED, worse)
    if unsure:
        return Verdict(AnalysisResult.INCONCLUSIVE, unsure)
    return Verdict(AnalysisResult.SUCCESSFUL)


def _rate_base(stats: dict[str, Any], metric: str) -> int:
    """How many cases a side's rate is a share of (delivery failures: of sent + failed messages)."""
    if metric == "delivery_failure_rate" and "sent" in stats:
        return int(stats["sent"]) + int(stats.get("send_failed", 0))
    return int(stats["turns"])


def rate_increase_z(canary_rate: float, canary_n: int, stable_rate: float, stable_n: int) -> float:
    """One-sided two-proportion z statistic (pooled) of the canary's rate above stable's: how many
    standard errors the increase is. 1.645 is 95 % confidence that the canary is really worse, not
    unlucky. With no variance at all (both sides 0 % or 100 %), any increase is certain."""
    if canary_n <= 0 or stable_n <= 0:
        return 0.0
    pooled = (canary_rate * canary_n + stable_rate * stable_n) / (canary_n + stable_n)
    error = math.sqrt(pooled * (1 - pooled) * (1 / canary_n + 1 / stable_n))
    increase = canary_rate - stable_rate
    if error == 0:
        return math.inf if increase > 0 else 0.0
    return increase / error


def canary_analysis_run(*, now: datetime | None = None) -> CanaryAnalysis | None:
    """Run canary analysis once (see the module doc). Returns the stored analysis, or None when
    nothing is on canary. Safe to run concurrently and repeatedly: the rollback is idempotent,
    the CEO is told once per canary release and verdict kind."""
    from conversations.selectors import release_turn_stats

    now = now or timezone.now()
    pointers = pointers_current()
    canary_pointer, stable_pointer = pointers.get(Channel.CANARY), pointers.get(Channel.STABLE)
    release = canary_pointer.release if canary_pointer is not None and canary_pointer.release_id else None
    if release is None or release.status != ReleaseStatus.CANARY:
        return None
    canary_tenants = list(tenants_on_channel(Channel.CANARY))
    if not canary_tenants:
        return None
    stable_version = stable_pointer.release.version if stable_pointer is not None and stable_pointer.release_id else DEFAULTS_VERSION
    stable_ids = list(tenants_on_channel(Channel.STABLE).values_list("pk", flat=True))
    thresholds = analysis_thresholds()
    since = now - timedelta(minutes=int(thresholds["analysis_window_minutes"]))
    canary = release_turn_stats(tenant_ids=[t.pk for t in canary_tenants], release=release.version, since=since, until=now)
    stable = release_turn_stats(tenant_ids=stable_ids, release=stable_version, since=since, until=now)
    verdict = canary_verdict(canary, stable, thresholds)
    fields = {
        "release": release, "release_version": release.version, "stable_version": stable_version, "result": verdict.result,
        "window_start": since, "window_end": now, "canary_tenants": [t.slug for t in canary_tenants],
        "stable_tenant_count": len(stable_ids), "canary_metrics": canary, "stable_metrics": stable, "thresholds": thresholds,
        "reasons": verdict.reasons,
    }
    if verdict.result == AnalysisResult.FAILED:
        return _failed(fields)
    if verdict.result == AnalysisResult.INCONCLUSIVE:
        return _inconclusive(fields)
    return _successful(fields)


def canary_analysis_beat() -> dict[str, Any] | None:
    """The beat job's body: run the analysis and return its summary. A crash is made loud (an
    ErrorLog row and an alert, folded while it repeats) and re-raised: a broken analysis would
    otherwise leave a bad canary running with nobody noticing."""
    from releases.selectors import canary_analysis_summary

    try:
        analysis = canary_analysis_run()
    except Exception as exc:
        error_log_record(where="releases.canary_analysis.crash", exc=exc)
        alert_raise(title=texts.CANARY_ANALYSIS_CRASHED_TITLE, text=texts.CANARY_ANALYSIS_CRASHED_TEXT.format(
            error=f"{type(exc).__name__}: {exc}"[:300]), severity="warning", key="canary:analysis-crashed")
        raise
    return canary_analysis_summary(analysis) if analysis is not None else None


def _create_noticed(fields: dict[str, Any], notice_key: str) -> CanaryAnalysis | None:
    """Store the analysis as the one that tells the CEO; None when another run already did."""
    try:
        with transaction.atomic():
            return CanaryAnalysis.objects.create(**fields, notice_key=notice_key)
    except IntegrityError:
        return None


@transaction.atomic
def _failed(fields: dict[str, Any]) -> CanaryAnalysis:
    from releases.operations import canary_auto_rollback

    version = fields["release_version"]
    analysis = _create_noticed(fields, f"failed:{version}")
    if analysis is None:  # another run already rolled this release back and reported it
        return CanaryAnalysis.objects.create(**fields, action_detail={"note": "already handled by an earlier run"})
    reason = "canary analysis #{}: {}".format(analysis.pk, "; ".join(r["text"] for r in fields["reasons"]))
    outcome = canary_auto_rollback(actor=Actor.system(ANALYSIS_ACTOR), reason=reason[:1000], analysis=str(analysis.pk),
                                   notify=False)
    rollback = outcome.result or {}
    CanaryAnalysis.objects.filter(pk=analysis.pk).update(action="rolled_back", action_detail=rollback)
    analysis.action, analysis.action_detail = "rolled_back", rollback
    canary_incident_open(analysis=analysis, rollback=rollback)
    return analysis


def canary_incident_open(*, analysis: CanaryAnalysis, rollback: dict[str, Any]) -> None:
    """The incident of a failed canary, with exactly one alert to the CEO (the incident's).

    Records an ErrorLog row with the numbers and what was rolled back (so the RCA bundle has
    them) and opens an incident `canary:failed:<version>` after commit; the rollback itself is
    told not to alert. This is the only place canary analysis reports a failure."""

    version = analysis.release_version
    error_log_record(
        where="releases.canary_analysis",
        message=f"canary release {version} is worse than stable {analysis.stable_version}: "
                + "; ".join(r["text"] for r in analysis.reasons),
        context={"analysis": analysis.pk, "release": version, "stable": analysis.stable_version, "canary": analysis.canary_metrics,
                 "stable_metrics": analysis.stable_metrics, "rollback": rollback},
    )
    tenants = ", ".join(rollback.get("tenants") or []) or texts.CANARY_FAILED_NOTHING_TO_ROLL_BACK
    text = texts.CANARY_FAILED_TEXT.format(
        analysis=analysis.pk, version=version, stable=analysis.stable_version, window=analysis.thresholds.get("analysis_window_minutes"),
        reasons=_reason_lines(analysis.reasons), tenants=tenants,
    )
    title = texts.CANARY_FAILED_TITLE.format(version=version)
    transaction.on_commit(lambda: incident_open(
        fingerprint=f"canary:failed:{version}", kind="canary.failed", title=title, summary=text, severity="critical",
        target=version, actor=Actor.system("canary-analysis"), data={"analysis": analysis.pk, "rollback": rollback},
    ))


@transaction.atomic
def _inconclusive(fields: dict[str, Any]) -> CanaryAnalysis:
    """Told once per canary release and kind: too few turns (`inconclusive:<version>`), or worse
    than stable but not yet significantly (`unsure:<version>`)."""
    version = fields["release_version"]
    unsure = any("metric" in reason for reason in fields["reasons"])
    kind = "unsure" if unsure else "inconclusive"
    if CanaryAnalysis.objects.filter(notice_key=f"{kind}:{version}").exists():
        return CanaryAnalysis.objects.create(**fields)
    analysis = _create_noticed(fields, f"{kind}:{version}")
    if analysis is None:
        return CanaryAnalysis.objects.create(**fields)
    CanaryAnalysis.objects.filter(pk=analysis.pk).update(action="notified")
    analysis.action = "notified"
    template, title_template = ((texts.CANARY_UNSURE_TEXT, texts.CANARY_UNSURE_TITLE) if unsure
                                else (texts.CANARY_INCONCLUSIVE_TEXT, texts.CANARY_INCONCLUSIVE_TITLE))
    text = template.format(
        analysis=analysis.pk, version=version, stable=analysis.stable_version, min_turns=analysis.thresholds["analysis_min_turns"],
        window=analysis.thresholds["analysis_window_minutes"], reasons=_reason_lines(analysis.reasons),
    )
    title = title_template.format(version=version)
    transaction.on_commit(lambda: alert_raise(title=title, text=text, severity="info", key=f"canary:{kind}:{version}"))
    return analysis


@transaction.atomic
def _successful(fields: dict[str, Any]) -> CanaryAnalysis:
    from releases.operations import verify_fix

    analysis = CanaryAnalysis.objects.create(**fields)
    verified = []
    for proposal in fix_proposals_on_canary().filter(release__version=analysis.release_version):
        verify_fix(actor=Actor.system(ANALYSIS_ACTOR), proposal=proposal.pk, note=f"canary analysis #{analysis.pk}: successful")
        verified.append(proposal.pk)
    if verified:
        CanaryAnalysis.objects.filter(pk=analysis.pk).update(action="fixes_verified", action_detail={"fix_proposals": verified})
        analysis.action, analysis.action_detail = "fixes_verified", {"fix_proposals": verified}
    return analysis


def _reason_lines(reasons: list[dict[str, Any]]) -> str:
    lines = []
    for reason in reasons:
        if "metric" in reason:
            name = texts.METRIC_NAMES.get(reason["metric"], reason["metric"])
            as_ms = reason["metric"] == "total_ms_p95"
            line = f"• {name}: канарейка {_num(reason['canary'], as_ms)}, стабильный {_num(reason['stable'], as_ms)}"
            if "min_z" in reason:
                line += texts.CANARY_NOT_SIGNIFICANT.format(z=reason["z"], min_z=reason["min_z"])
            lines.append(line)
        else:
            side = "канарейка" if reason.get("side") == "canary" else "стабильный"
            lines.append(f"• {side}: {reason['turns']} из {reason['needed']} ответов")
    return "\n".join(lines)


def _num(value: Any, as_ms: bool = False) -> str:
    if not isinstance(value, int | float):
        return str(value)
    return f"{value:.0f}" if as_ms else f"{value:.1%}"
