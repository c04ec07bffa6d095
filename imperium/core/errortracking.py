"""Error tracking with Sentry (`SENTRY_DSN`; off when empty), for web, workers and beat.

What leaves the process is scrubbed in `before_send` / `before_breadcrumb`: phone numbers become
`[phone]`, values under keys that carry customer or manager texts (text, body, message text,
phone, …) become `[Filtered]`; local variables and request bodies are never sent. Every event
carries the tenant and the correlation id (imperium.core.correlation) as tags.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"
# +7 701 123 45 67, 87011234567, (701) 123-45-67 … : 10 to 15 digits with the usual separators.
PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s\-().]*\d){9,14}(?![\w.])")
SENSITIVE_KEYS = frozenset({
    "text", "texts", "body", "raw", "message_text", "messages", "reply", "answer", "holding_reply", "question", "caption",
    "phone", "customer_phone", "from", "to", "to_masked", "contact", "wa_id", "authorization", "cookie", "token", "secret",
    "webhook_secret", "chatflow_token", "password", "data",
})
_MAX_DEPTH = 12


def scrub(value: Any, *, key: str | None = None, depth: int = 0) -> Any:
    """A copy of `value` with sensitive keys filtered and phone numbers masked in every string."""
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return FILTERED
    if depth > _MAX_DEPTH:
        return FILTERED
    if isinstance(value, str):
        return PHONE.sub("[phone]", value)
    if isinstance(value, dict):
        return {k: scrub(v, key=str(k), depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, depth=depth + 1) for v in value]
    return value


def before_send(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    from imperium.core.correlation import get_correlation_id, get_tenant_label

    tags = dict(event.get("tags") or {})
    correlation_id = get_correlation_id()
    tenant = get_tenant_label()
    if correlation_id:
        tags.setdefault("correlation_id", correlation_id)
    if tenant:
        tags.setdefault("tenant", tenant)
    event["tags"] = tags
    for name in ("exception", "logentry", "message", "extra", "contexts", "breadcrumbs", "request", "threads"):
        if name in event:
            event[name] = _scrub_section(name, event[name])
    return event


def _scrub_section(name: str, value: Any) -> Any:
    if name == "request" and isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in ("data", "cookies")}
        headers = value.get("headers")
        if isinstance(headers, dict):
            value["headers"] = {k: (FILTERED if k.lower() in ("authorization", "cookie", "webhook-signature",
                                                              "x-telegram-bot-api-secret-token") else v)
                                for k, v in headers.items()}
    if name == "exception" and isinstance(value, dict):
        for item in value.get("values") or []:
            for frame in ((item.get("stacktrace") or {}).get("frames") or []):
                frame.pop("vars", None)
    return scrub(value)


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    return scrub(crumb)


def init_error_tracking(component: str) -> bool:
    """Turn Sentry on for this process when SENTRY_DSN is set (web: imperium.wsgi; worker and beat:
    imperium.celery). Returns whether it did."""
    from django.conf import settings

    if not settings.SENTRY_DSN:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.APP_VERSION,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(monitor_beat_tasks=False),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
    )
    sentry_sdk.set_tag("component", component)
    logger.info("error tracking on (Sentry, component %s)", component)
    return True
