"""Telegram update intake: store first (deduplicated by update_id), process in a task.

Webhook and polling feed the same path: `telegram_update_store` → on commit, the
`telegram.update_process` task → `telegram_update_process` → the update router (`router.py`). A beat sweep
(`telegram_updates_sweep`) re-enqueues updates whose task was lost and revives updates whose
worker died mid-way, so the database, not the broker, guarantees every update is handled.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from imperium.core.correlation import get_correlation_id
from imperium.core.exceptions import IntegrationError
from imperium.core.safejson import UnsafeJSON, loads_safe, storable_text, text_clean
from imperium.telegram.choices import UpdateStatus
from imperium.telegram.models import TelegramDeadLetter, TelegramUpdate
from imperium.telegram.updates import IncomingUpdate, MalformedUpdate

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
DEAD_LETTER_BODY_CHARS = 64 * 1024
MAX_ATTEMPTS = 5
PROCESSING_LEASE = timedelta(minutes=10)
SWEEP_GRACE = timedelta(seconds=30)  # leave fresh updates to the task enqueued on commit
SWEEP_BATCH = 200


@dataclass(frozen=True)
class StoreResult:
    status: str  # accepted | duplicate | dead_letter
    update: TelegramUpdate | None = None
    dead_letter: TelegramDeadLetter | None = None


def telegram_update_store_body(*, body: bytes, source: str = "webhook") -> StoreResult:
    """Store a raw webhook body. Malformed input (not JSON, not an Update, nested too deep, NaN)
    becomes a dead letter and is reported as such, never raised. Strings are normalised (NUL
    removed, lone surrogates replaced) so the stored payload always fits a jsonb column."""
    if len(body) > MAX_BODY_BYTES:
        return StoreResult("dead_letter", dead_letter=_dead_letter(f"body over {MAX_BODY_BYTES} bytes", body, source))
    try:
        payload = loads_safe(body)
    except UnsafeJSON as exc:
        return StoreResult("dead_letter", dead_letter=_dead_letter(f"not JSON: {exc}", body, source))
    return telegram_update_store(payload=payload, source=source, raw_body=body)


def telegram_update_store(
    *, payload: Any, source: str = "webhook", raw_body: bytes | None = None, enqueue: bool = True
) -> StoreResult:
    """Store one Update and (unless `enqueue=False`, for a caller that processes it itself)
    enqueue its processing on commit.

    Idempotent: the unique `update_id` makes a redelivered update a `duplicate` that does
    nothing. A payload that is not a usable Update is kept as a dead letter."""
    try:
        incoming = IncomingUpdate.from_payload(payload)
    except MalformedUpdate as exc:
        body = raw_body if raw_body is not None else json.dumps(payload, ensure_ascii=False, default=str).encode()
        return StoreResult("dead_letter", dead_letter=_dead_letter(str(exc), body, source))
    if TelegramUpdate.objects.filter(update_id=incoming.update_id).exists():
        return StoreResult("duplicate", update=None)
    try:
        with transaction.atomic():
            update = TelegramUpdate.objects.create(
                update_id=incoming.update_id,
                kind=incoming.kind,
                payload=payload,
                chat_id=incoming.chat_id,
                from_user_id=incoming.sender.id if incoming.sender else None,
                correlation_id=get_correlation_id(),
            )
    except IntegrityError:  # the same update arrived twice at once
        return StoreResult("duplicate", update=None)
    if enqueue:
        _schedule_process(update.pk, 0)
    return StoreResult("accepted", update=update)


def _dead_letter(reason: str, body: bytes, source: str) -> TelegramDeadLetter:
    text = storable_text(body[:DEAD_LETTER_BODY_CHARS * 4])[:DEAD_LETTER_BODY_CHARS]
    logger.warning("telegram update kept as a dead letter: %s", reason[:300])
    return TelegramDeadLetter.objects.create(reason=text_clean(reason[:300]), body=text, source=source,
                                             correlation_id=get_correlation_id())


def _schedule_process(update_pk: int, delay: float) -> None:
    def enqueue() -> None:
        from imperium.core.queueing import task_enqueue

        task_enqueue("telegram.update_process", (update_pk,), countdown=delay if delay > 0 else None)

    transaction.on_commit(enqueue, robust=True)


def telegram_update_process(*, update_pk: int) -> str:
    """Process one stored update, once: a guarded received → processing update lets exactly one
    worker in; a processed or failed update is never processed again (returns 'skipped').

    Outcomes: the handler's result (processed); a retryable IntegrationError puts the update
    back to `received` with a delay (Telegram's retry_after, or backoff) up to MAX_ATTEMPTS;
    anything else marks it failed and stores an ErrorLog.
    """
    now = timezone.now()
    claimed = TelegramUpdate.objects.filter(pk=update_pk, status=UpdateStatus.RECEIVED, next_attempt_at__lte=now).update(
        status=UpdateStatus.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return "skipped"
    update = TelegramUpdate.objects.get(pk=update_pk)
    from imperium.telegram.router import registry

    try:
        incoming = IncomingUpdate.from_payload(update.payload)
        result = registry.dispatch(incoming)
    except IntegrationError as exc:
        if not exc.permanent and update.attempts < MAX_ATTEMPTS:
            delay = max(1.0, float(exc.retry_after) if exc.retry_after is not None else 15.0 * 2 ** (update.attempts - 1))
            TelegramUpdate.objects.filter(pk=update.pk, status=UpdateStatus.PROCESSING).update(
                status=UpdateStatus.RECEIVED, next_attempt_at=now + timedelta(seconds=delay), claimed_at=None, error=str(exc)[:2000]
            )
            logger.warning("telegram update %s: retry in %.0fs after %s", update.update_id, delay, exc)
            _schedule_process(update.pk, delay)
            return "retry"
        return _fail(update, exc)
    except Exception as exc:  # a handler bug must not be retried forever nor lost
        return _fail(update, exc)
    TelegramUpdate.objects.filter(pk=update.pk, status=UpdateStatus.PROCESSING).update(
        status=UpdateStatus.PROCESSED, processed_at=timezone.now(), handler=result.handler, outcome=result.outcome, error=""
    )
    return result.outcome or "processed"


def _fail(update: TelegramUpdate, exc: BaseException) -> str:
    from incidents.errors import error_log_record

    TelegramUpdate.objects.filter(pk=update.pk, status=UpdateStatus.PROCESSING).update(
        status=UpdateStatus.FAILED, processed_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
    )
    error_log_record(
        where="telegram.update_process", exc=exc,
        context={"update_id": update.update_id, "kind": update.kind, "chat_id": update.chat_id, "attempts": update.attempts},
    )
    return "failed"


def telegram_updates_sweep() -> list[int]:
    """Beat job: revive updates whose worker died (processing past the lease: back to received,
    or failed after MAX_ATTEMPTS) and enqueue every due received update. Returns the pks
    enqueued. Safe to run anywhere, any number of times (processing is claimed)."""
    now = timezone.now()
    stale = TelegramUpdate.objects.filter(status=UpdateStatus.PROCESSING, claimed_at__lt=now - PROCESSING_LEASE)
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=UpdateStatus.FAILED, processed_at=now, error="worker lost while processing; attempts exhausted"
    )
    stale.filter(attempts__lt=MAX_ATTEMPTS).update(
        status=UpdateStatus.RECEIVED, next_attempt_at=now, claimed_at=None, error="worker lost while processing; retrying"
    )
    pks = list(
        TelegramUpdate.objects.filter(status=UpdateStatus.RECEIVED, next_attempt_at__lte=now, received_at__lte=now - SWEEP_GRACE)
        .order_by("update_id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in pks:
        _schedule_process(pk, 0)
    return pks
