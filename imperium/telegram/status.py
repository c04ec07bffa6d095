"""The /status <tenant> report: a list of sections other modules extend.

    from imperium.telegram.status import register_status_section

    def queue_section(tenant: Client) -> str:        # Russian text, rendered from a template
        return render("status/queue", depth=...)

    register_status_section("queue", queue_section, order=40)

Built-in sections (each reads through selectors): tenant (10: status, release channel and
release, KB version serving, Telegram chat), health (20: /admin/health), traffic (30: the last
24 h of the reply path — inbound, replies, escalations by reason, delivery success rate, what
waits for a manager now), incidents (70: open incidents once the incidents app has its model;
re-register "incidents" to replace it), errors (80), alerts (90). A section that raises shows a
one-line "unavailable" note instead of breaking the whole report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from imperium.core.health import run_health_checks
from imperium.telegram import selectors
from imperium.telegram.texts import ESCALATION_REASONS, render
from tenants.models import Client

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class StatusSection:
    name: str
    order: int
    render: Callable[[Client], str]


STATUS_SECTIONS: dict[str, StatusSection] = {}


def register_status_section(name: str, func: Callable[[Client], str], *, order: int = 50) -> None:
    STATUS_SECTIONS[name] = StatusSection(name=name, order=order, render=func)


def status_report(tenant: Client) -> str:
    parts = []
    for section in sorted(STATUS_SECTIONS.values(), key=lambda s: (s.order, s.name)):
        try:
            text = section.render(tenant)
        except Exception as exc:  # one broken section must not hide the rest of the report
            logger.exception("status section %s failed for %s", section.name, tenant.slug)
            text = render("status/section_failed", section=section.name, error=f"{type(exc).__name__}: {exc}"[:200])
        if text:
            parts.append(text)
    return "\n\n".join(parts)


def tenant_section(tenant: Client) -> str:
    from knowledge.selectors import kb_version_serving
    from releases.selectors import release_for_tenant

    settings_row = getattr(tenant, "settings", None)
    release = release_for_tenant(tenant)
    kb_version = kb_version_serving(tenant, channel=release.channel)
    return render("status/tenant", tenant=tenant, settings=settings_row, release=release, kb_version=kb_version)


def health_section(tenant: Client) -> str:
    results = run_health_checks()
    return render("status/health", failing=[r for r in results if not r.ok], results=results)


def traffic_section(tenant: Client) -> str:
    from conversations.selectors import tenant_activity

    now = timezone.now()
    activity = tenant_activity(tenant, since=now - WINDOW)
    reasons = [(ESCALATION_REASONS.get(reason, reason), n) for reason, n in activity["escalations_by_reason"].items()]
    oldest = activity["oldest_waiting_since"]
    waited = int((now - oldest).total_seconds() // 60) if oldest else None
    rate = activity["delivery_success_rate"]
    return render("status/traffic", a=activity, reasons=reasons, waited=waited,
                  rate=f"{rate * 100:.1f}".rstrip("0").rstrip(".") if rate is not None else None)


def incidents_section(tenant: Client) -> str:
    return render("status/incidents", incidents=selectors.incidents_open(tenant))


def errors_section(tenant: Client) -> str:
    since = timezone.now() - WINDOW
    tenant_errors = selectors.error_logs_recent(tenant, since=since)
    return render("status/errors", count=tenant_errors.count(), last=list(tenant_errors[:3]),
                  system_count=selectors.system_error_count(since=since))


def alerts_section(tenant: Client) -> str:
    return render("status/alerts", **selectors.alert_counts(tenant, since=timezone.now() - WINDOW))


register_status_section("tenant", tenant_section, order=10)
register_status_section("health", health_section, order=20)
register_status_section("traffic", traffic_section, order=30)
register_status_section("incidents", incidents_section, order=70)
register_status_section("errors", errors_section, order=80)
register_status_section("alerts", alerts_section, order=90)
