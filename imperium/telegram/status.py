"""The /status <tenant> report: a list of sections other modules extend.

    from imperium.telegram.status import register_status_section

    def traffic_section(tenant: Client) -> str:      # Russian text, rendered from a template
        stats = conversations.selectors.delivery_stats(tenant, hours=24)
        return render("status/traffic", stats=stats)

    register_status_section("traffic", traffic_section, order=30)

Built-in sections: tenant (10), health (20), errors (80), alerts (90). A section that raises
shows a one-line "unavailable" note instead of breaking the whole report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from imperium.health import run_health_checks
from imperium.telegram.texts import render
from incidents.choices import AlertStatus
from incidents.models import Alert, ErrorLog
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
    settings_row = getattr(tenant, "settings", None)
    return render("status/tenant", tenant=tenant, settings=settings_row)


def health_section(tenant: Client) -> str:
    results = run_health_checks()
    return render("status/health", failing=[r for r in results if not r.ok], results=results)


def errors_section(tenant: Client) -> str:
    since = timezone.now() - WINDOW
    tenant_errors = ErrorLog.objects.for_tenant(tenant).filter(created_at__gte=since)
    system_errors = ErrorLog.objects.filter(tenant__isnull=True, created_at__gte=since).count()
    return render(
        "status/errors", count=tenant_errors.count(), last=list(tenant_errors.order_by("-created_at", "-id")[:3]),
        system_count=system_errors,
    )


def alerts_section(tenant: Client) -> str:
    since = timezone.now() - WINDOW
    alerts = Alert.objects.for_tenant(tenant).filter(created_at__gte=since)
    return render(
        "status/alerts",
        total=alerts.count(),
        waiting=alerts.filter(status__in=[AlertStatus.PENDING, AlertStatus.SENDING]).count(),
        failed=alerts.filter(status=AlertStatus.FAILED).count(),
    )


register_status_section("tenant", tenant_section, order=10)
register_status_section("health", health_section, order=20)
register_status_section("errors", errors_section, order=80)
register_status_section("alerts", alerts_section, order=90)
