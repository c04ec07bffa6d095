"""The Telegram outbox: a database outbox in front of Telegram for every message we send
(delivery rules and settings: docs/TELEGRAM.md "Alerts and notices (the Telegram outbox)").

Two kinds of message go through it, one word each: an *alert* is for the CEO alert chat
(`alert_raise`); a *notice* is for a tenant's managers about a conversation (written by
`imperium.telegram.notices` and handed over with `telegram_message_enqueue`, as are verification
requests); `tenant_notify` sends a tenant's managers a line outside a conversation. The row model
is `Alert` for every kind (stored kind values `alert` / `notification`, kept).

Callers write a row in their own transaction and return; a task sends it (`alert_send`), a beat
sweep retries what is due. Nothing here raises into the caller or waits for Telegram. If the caller
rolls back, the message goes with it: raise alerts about a failure after leaving the failed block.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.botapi.callback_data import callback_data_build
from imperium.core.botapi.client import TelegramClient, TelegramError, get_client
from imperium.core.botapi.keyboards import InlineButton, inline_keyboard
from imperium.core.correlation import get_correlation_id
from imperium.core.exceptions import ApplicationError
from imperium.core.plaintext import render_plain
from imperium.core.services import audit_record
from incidents.choices import AlertKind, AlertSeverity, AlertStatus
from incidents.models import Alert

logger = logging.getLogger(__name__)

DEDUP_WINDOW = timedelta(minutes=15)
DEFAULT_MAX_ATTEMPTS = 8
SENDING_LEASE = timedelta(minutes=5)  # far above TELEGRAM_TIMEOUT: a 'sending' row this old lost its worker
RATE_WINDOW = timedelta(seconds=60)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 30 * 60
SWEEP_BATCH = 200
ACK_ACTION = "alert.ack"
OPEN_STATUSES = (AlertStatus.PENDING, AlertStatus.SENDING)


@dataclass
class AlertSendOutcome:
    """What one send attempt did. `status`: sent | retry | failed | not_configured |
    rate_limited | not_due | skipped (already sent, failed or being sent) | missing."""

    status: str
    alert: Alert | None
    error: str = ""
    retry_after: float | None = None
    telegram_status: int | None = None

    @property
    def message_id(self) -> int | None:
        return self.alert.sent_message_id if self.alert is not None else None


def telegram_configured() -> bool:
    """True when alerts can be delivered: a bot token and an alert chat."""
    return bool(settings.ALERT_BOT_TOKEN and settings.ALERT_CHAT_ID)


# --- writing ------------------------------------------------------------------------------
def alert_raise(
    *,
    title: str,
    text: str = "",
    severity: str = "warning",
    tenant: Any = None,
    key: str = "",
    reply_markup: dict[str, Any] | None = None,
) -> Alert | None:
    """Queue an alert for the CEO/alert chat (ALERT_CHAT_ID, topic ALERT_TOPIC_ID).

    `key` folds repeats of one alert (see the module doc). `reply_markup` replaces the default
    «Принял» button (e.g. incidents carry `incident.ack:<id>`). Never raises: if even the row
    cannot be written (database down), the alert is logged and None is returned. Without a
    configured bot the row is stored as failed ("not configured") and the alert is logged.
    """
    try:
        return _enqueue(
            kind=AlertKind.ALERT, chat_id=str(settings.ALERT_CHAT_ID or ""), topic_id=settings.ALERT_TOPIC_ID,
            title=title, text=text, severity=severity, tenant=tenant, key=key, reply_markup=reply_markup,
        )
    except Exception:  # an alert must never break the code path that raised it
        logger.exception("ALERT could not be stored [%s] %s: %s", severity, title, text[:500])
        return None


def telegram_message_enqueue(
    *,
    chat_id: int | str,
    text: str,
    topic_id: int | None = None,
    tenant: Any = None,
    key: str = "",
    reply_markup: dict[str, Any] | None = None,
    reply_to_message_id: int | None = None,
    severity: str = "info",
    title: str = "",
) -> Alert | None:
    """Queue a message (already rendered `text`, optional inline keyboard) for any chat/topic.

    Same outbox, retries, rate limit and dedup as alerts; `sent_message_id` on the returned
    row is filled once Telegram accepted it. Never raises (None when the row cannot be written).
    """
    try:
        return _enqueue(
            kind=AlertKind.NOTIFICATION, chat_id=str(chat_id or ""), topic_id=topic_id, title=title, text=text,
            severity=severity, tenant=tenant, key=key, reply_markup=reply_markup, reply_to_message_id=reply_to_message_id,
        )
    except Exception:
        logger.exception("Telegram message could not be stored for chat %s", chat_id)
        return None


def tenant_notify(
    *,
    tenant: Any,
    text: str,
    topic_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
    reply_to_message_id: int | None = None,
    key: str = "",
    severity: str = "info",
    title: str = "",
) -> Alert | None:
    """Queue a message for the tenant's Telegram chat and topic (ClientSettings.telegram_chat_id /
    telegram_topic_id; `topic_id` overrides the topic, e.g. a per-conversation topic).

    A tenant without a chat is not a reason to be silent: the message goes to the CEO alert
    chat instead, prefixed with a note saying the tenant's chat is not configured (no buttons,
    since nobody there handles them). Never raises.
    """
    try:
        from tenants.models import ClientSettings

        client_settings = ClientSettings.objects.for_tenant(tenant).select_related("client").first()
        if client_settings is None or not client_settings.telegram_chat_id:
            fallback = render_plain(
                "incidents/alerts/tenant_chat_missing.txt",
                {"tenant": getattr(client_settings, "client", None) or tenant, "text": text},
            )
            return telegram_message_enqueue(
                chat_id=str(settings.ALERT_CHAT_ID or ""), topic_id=settings.ALERT_TOPIC_ID, text=fallback, tenant=tenant,
                key=key, severity=severity, title=title,
            )
        return telegram_message_enqueue(
            chat_id=client_settings.telegram_chat_id, topic_id=topic_id or client_settings.telegram_topic_id, text=text,
            tenant=tenant, key=key, reply_markup=reply_markup, reply_to_message_id=reply_to_message_id, severity=severity,
            title=title,
        )
    except Exception:
        logger.exception("Telegram notification for tenant %s could not be stored", getattr(tenant, "slug", tenant))
        return None


def _tenant_id(tenant: Any) -> int | None:
    if tenant is None or tenant == "":
        return None
    if isinstance(tenant, str) and not tenant.isdigit():
        from tenants.models import Client

        return Client.objects.filter(slug=tenant).values_list("pk", flat=True).first()
    return int(getattr(tenant, "pk", tenant))


def _enqueue(
    *,
    kind: str,
    chat_id: str,
    topic_id: int | None,
    title: str,
    text: str,
    severity: str,
    tenant: Any,
    key: str,
    reply_markup: dict[str, Any] | None = None,
    reply_to_message_id: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Alert:
    now = timezone.now()
    severity = severity if severity in AlertSeverity.values else AlertSeverity.WARNING
    tenant_id = _tenant_id(tenant)
    key = (key or "")[:200]
    log = logger.warning if kind == AlertKind.ALERT else logger.info
    log("%s [%s] %s: %s", kind.upper(), severity, title, text[:500], extra={"alert_key": key, "alert_tenant": tenant_id})

    if key:
        existing = _fold_repeat(key, now)
        if existing is not None:
            return existing
    fields: dict[str, Any] = dict(
        kind=kind, severity=severity, title=title[:200], text=text, chat_id=chat_id[:64], topic_id=topic_id or None,
        reply_markup=reply_markup, reply_to_message_id=reply_to_message_id, dedup_key=key, tenant_id=tenant_id,
        max_attempts=max_attempts, next_attempt_at=now, correlation_id=get_correlation_id(),
    )
    configured = bool(settings.ALERT_BOT_TOKEN and chat_id)
    if not configured:
        # Recorded (admin shows what would have been sent) but never retried: stale alerts must
        # not flood the chat the day the bot gets configured.
        fields.update(status=AlertStatus.FAILED, failed_at=now, last_error=_not_configured_reason(chat_id))
    try:
        with transaction.atomic():  # a savepoint: losing the dedup race must not break the caller's transaction
            alert = Alert.objects.create(**fields)
    except IntegrityError:
        existing = _fold_repeat(key, now) if key else None
        if existing is None:
            raise
        return existing
    if configured:
        _schedule_send(alert.pk, 0)
    return alert


def _fold_repeat(key: str, now: Any) -> Alert | None:
    existing = (
        Alert.objects.filter(dedup_key=key)
        .filter(Q(status__in=OPEN_STATUSES) | Q(created_at__gte=now - DEDUP_WINDOW))
        .order_by("-created_at", "-id")
        .first()
    )
    if existing is not None:
        Alert.objects.filter(pk=existing.pk).update(repeats=F("repeats") + 1)
        existing.repeats += 1
    return existing


def _not_configured_reason(chat_id: str) -> str:
    if not settings.ALERT_BOT_TOKEN:
        return "Telegram is not configured: ALERT_BOT_TOKEN is empty."
    return "No chat to send to: ALERT_CHAT_ID (or the tenant's Telegram chat) is empty."


def _schedule_send(alert_id: int, delay: float) -> None:
    def enqueue() -> None:
        from imperium.core.queueing import task_enqueue

        task_enqueue("incidents.alert_send", (alert_id,), countdown=delay if delay > 0 else None)

    # robust: a broker that is down must not fail the caller's commit; the sweep sends it later.
    transaction.on_commit(enqueue, robust=True)


# --- sending ------------------------------------------------------------------------------
def alert_render_text(alert: Alert) -> str:
    """The text Telegram receives for this row (Russian templates for alerts and tests)."""
    if alert.kind == AlertKind.NOTIFICATION:
        text = alert.text
        if alert.repeats:
            text += "\n\n" + render_plain("incidents/alerts/repeats.txt", {"repeats": alert.repeats})
        return text
    template = "incidents/alerts/test.txt" if alert.kind == AlertKind.TEST else "incidents/alerts/alert.txt"
    return render_plain(template, {"alert": alert, "tenant": alert.tenant, "severity": alert.severity})


def _reply_markup(alert: Alert) -> dict[str, Any] | None:
    if alert.reply_markup:
        return alert.reply_markup
    if alert.kind == AlertKind.ALERT and alert.severity != AlertSeverity.INFO:
        label = render_plain("incidents/alerts/ack_button.txt")
        return inline_keyboard([[InlineButton(label, callback_data_build(ACK_ACTION, alert.pk))]])
    return None


def alert_send(*, alert_id: int, client: TelegramClient | None = None) -> AlertSendOutcome:
    """Try to deliver one pending, due alert. Safe to call twice or concurrently: a guarded
    pending → sending update lets exactly one caller send; the others get `skipped`.

    At-least-once: a worker that dies after Telegram accepted the message but before the row
    says `sent` leaves it `sending`; after SENDING_LEASE the sweep sends it again (a repeated
    alert is better than a lost one)."""
    now = timezone.now()
    alert = Alert.objects.select_related("tenant").filter(pk=alert_id).first()
    if alert is None:
        return AlertSendOutcome("missing", None)
    if alert.status != AlertStatus.PENDING:
        return AlertSendOutcome("skipped", alert)
    if alert.next_attempt_at > now:
        return AlertSendOutcome("not_due", alert, retry_after=(alert.next_attempt_at - now).total_seconds())
    client = client or get_client()
    if not client.configured or not alert.chat_id:
        reason = _not_configured_reason(alert.chat_id)
        Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).update(
            status=AlertStatus.FAILED, failed_at=now, last_error=reason
        )
        alert.refresh_from_db()
        return AlertSendOutcome("not_configured", alert, error=reason)
    wait = _chat_rate_wait(alert.chat_id, now)
    if wait:
        Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).update(next_attempt_at=now + timedelta(seconds=wait))
        _schedule_send(alert.pk, wait)
        alert.refresh_from_db()
        return AlertSendOutcome("rate_limited", alert, error="per-chat rate limit", retry_after=wait)
    claimed = Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING, next_attempt_at__lte=now).update(
        status=AlertStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return AlertSendOutcome("skipped", alert)
    alert.refresh_from_db()
    try:
        message = client.send_message(
            chat_id=alert.chat_id, text=alert_render_text(alert), thread_id=alert.topic_id,
            reply_markup=_reply_markup(alert), reply_to_message_id=alert.reply_to_message_id,
        )
    except TelegramError as exc:
        return _after_failure(alert, exc)
    Alert.objects.filter(pk=alert.pk, status=AlertStatus.SENDING).update(
        status=AlertStatus.SENT, sent_at=timezone.now(), sent_message_id=message.get("message_id"), last_error="",
        last_error_status=None,
    )
    alert.refresh_from_db()
    logger.info("alert %s sent to chat %s as message %s", alert.pk, alert.chat_id, alert.sent_message_id)
    return AlertSendOutcome("sent", alert)


def _chat_rate_wait(chat_id: str, now: Any) -> float:
    """Seconds until this chat has a free slot (0 = send now). Counted from the outbox, so it
    holds across processes; two workers racing for the last slot may both send, and Telegram's
    429 (honoured below) catches that rare overshoot."""
    recent = Alert.objects.filter(chat_id=chat_id).filter(
        Q(status=AlertStatus.SENT, sent_at__gt=now - RATE_WINDOW) | Q(status=AlertStatus.SENDING)
    )
    if recent.count() < settings.TELEGRAM_CHAT_MESSAGES_PER_MINUTE:
        return 0
    oldest = recent.filter(status=AlertStatus.SENT).order_by("sent_at").values_list("sent_at", flat=True).first()
    return max(1.0, ((oldest or now) + RATE_WINDOW - now).total_seconds())


def _backoff(attempts: int) -> float:
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1), BACKOFF_MAX_SECONDS)
    return delay * random.uniform(1.0, 1.2)  # jitter spreads retries of many alerts


def _after_failure(alert: Alert, exc: TelegramError) -> AlertSendOutcome:
    now = timezone.now()
    error = str(exc)[:2000]
    if not exc.permanent and alert.attempts < alert.max_attempts:
        delay = max(1.0, float(exc.retry_after) if exc.retry_after is not None else _backoff(alert.attempts))
        until = now + timedelta(seconds=delay)
        Alert.objects.filter(pk=alert.pk, status=AlertStatus.SENDING).update(
            status=AlertStatus.PENDING, next_attempt_at=until, claimed_at=None, last_error=error, last_error_status=exc.status
        )
        if exc.status == 429:
            # Telegram's flood control is per chat: everything else queued for it waits too.
            Alert.objects.filter(chat_id=alert.chat_id, status=AlertStatus.PENDING, next_attempt_at__lt=until).update(
                next_attempt_at=until
            )
        logger.warning("alert %s not sent (attempt %s/%s), retry in %.0fs: %s", alert.pk, alert.attempts, alert.max_attempts,
                       delay, error)
        _schedule_send(alert.pk, delay)
        alert.refresh_from_db()
        return AlertSendOutcome("retry", alert, error=error, retry_after=delay, telegram_status=exc.status)

    Alert.objects.filter(pk=alert.pk, status=AlertStatus.SENDING).update(
        status=AlertStatus.FAILED, failed_at=now, claimed_at=None, last_error=error, last_error_status=exc.status
    )
    alert.refresh_from_db()
    from incidents.errors import error_log_record

    error_log_record(
        where="alerts.send", exc=exc, tenant=alert.tenant_id,
        context={"alert_id": alert.pk, "kind": alert.kind, "chat_id": alert.chat_id, "attempts": alert.attempts,
                 "telegram_status": exc.status},
    )
    if alert.kind == AlertKind.NOTIFICATION and alert.chat_id != str(settings.ALERT_CHAT_ID or ""):
        title, _, body = render_plain(
            "incidents/alerts/delivery_failed.txt", {"alert": alert, "tenant": alert.tenant, "error": error}
        ).partition("\n")
        alert_raise(title=title, text=body.strip(), severity=AlertSeverity.CRITICAL, tenant=alert.tenant_id,
                    key=f"telegram.delivery_failed:{alert.chat_id}")
    return AlertSendOutcome("failed", alert, error=error, telegram_status=exc.status)


def alerts_sweep_due(*, limit: int = SWEEP_BATCH) -> list[int]:
    """Beat job: put back rows whose worker died mid-send, then enqueue a send for every due
    pending row (oldest first). Returns the ids enqueued. Idempotent (sends are claimed)."""
    now = timezone.now()
    revived = Alert.objects.filter(status=AlertStatus.SENDING, claimed_at__lt=now - SENDING_LEASE).update(
        status=AlertStatus.PENDING, next_attempt_at=now, claimed_at=None, last_error="worker lost during send; resending"
    )
    if revived:
        logger.warning("alerts sweep: %s alert(s) stuck in 'sending' put back to pending", revived)
    ids = list(
        Alert.objects.filter(status=AlertStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for alert_id in ids:
        _schedule_send(alert_id, 0)
    return ids


# --- operator actions ---------------------------------------------------------------------
def alert_acknowledge(*, alert_id: int, actor: Actor) -> tuple[Alert, bool]:
    """Mark an alert as seen by someone (the «Принял» button). Returns (alert, changed);
    a second press changes nothing. Audited as `alert.acknowledged`."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=actor.label[:150]
        )
        alert = Alert.objects.select_related("tenant").get(pk=alert_id)
        if changed:
            audit_record(actor=actor, action="alert.acknowledged", tenant=alert.tenant_id, obj=alert)
    return alert, bool(changed)


def alert_retry(*, alert_id: int, actor: Actor) -> bool:
    """Give a failed alert a fresh set of attempts now (admin action). Audited."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert_id, status=AlertStatus.FAILED).update(
            status=AlertStatus.PENDING, next_attempt_at=timezone.now(), attempts=0, failed_at=None,
            max_attempts=DEFAULT_MAX_ATTEMPTS,
        )
        if changed:
            alert = Alert.objects.get(pk=alert_id)
            audit_record(actor=actor, action="alert.retried", tenant=alert.tenant_id, obj=alert)
            _schedule_send(alert_id, 0)
    return bool(changed)


def alert_send_test(*, actor: Actor, text: str = "", tenant: Any = None) -> AlertSendOutcome:
    """Send a test message now, synchronously (POST /alerts/test): to the alert chat, or to the
    tenant's chat/topic when `tenant` is given. One attempt, never retried later: the operator
    is waiting for the answer. Audited as `alert.test` with the outcome."""
    if tenant is not None:
        from tenants.models import ClientSettings

        client_settings = ClientSettings.objects.for_tenant(tenant).first()
        if client_settings is None or not client_settings.telegram_chat_id:
            raise ApplicationError(
                _("Tenant %(tenant)s has no Telegram chat configured.") % {"tenant": getattr(tenant, 'slug', tenant)}, status=400
            )
        chat_id, topic_id = str(client_settings.telegram_chat_id), client_settings.telegram_topic_id
    else:
        chat_id, topic_id = str(settings.ALERT_CHAT_ID or ""), settings.ALERT_TOPIC_ID
    now = timezone.now()
    alert = Alert.objects.create(
        kind=AlertKind.TEST, severity=AlertSeverity.INFO, title="test", text=text[:1000], chat_id=chat_id, topic_id=topic_id,
        tenant_id=_tenant_id(tenant), max_attempts=1, next_attempt_at=now, correlation_id=get_correlation_id(),
    )
    outcome = alert_send(alert_id=alert.pk)
    if outcome.status == "rate_limited":
        Alert.objects.filter(pk=alert.pk, status=AlertStatus.PENDING).update(
            status=AlertStatus.FAILED, failed_at=now, last_error="per-chat rate limit; not retried (test alert)"
        )
        outcome.alert = Alert.objects.get(pk=alert.pk)
    audit_record(
        actor=actor, action="alert.test", tenant=alert.tenant_id, obj=alert,
        payload={"status": outcome.status, "error": outcome.error, "message_id": outcome.message_id},
    )
    return outcome
