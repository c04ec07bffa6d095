"""Thin Celery wrappers over Telegram control-plane services (routes in imperium/celery_routes.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="telegram.update_process")
def telegram_update_process_task(update_pk: int) -> str:
    from imperium.telegram.services import telegram_update_process

    return telegram_update_process(update_pk=update_pk)


@shared_task(name="telegram.updates_sweep")
def telegram_updates_sweep_task() -> int:
    from imperium.telegram.services import telegram_updates_sweep

    return len(telegram_updates_sweep())


@shared_task(name="telegram.notices_flush")
def telegram_notices_flush_task(conversation_id: int) -> int:
    from imperium.telegram.notices import notices_flush

    return notices_flush(conversation_id=conversation_id)


@shared_task(name="telegram.notices_sweep")
def telegram_notices_sweep_task() -> int:
    from imperium.telegram.notices import notices_sweep

    return len(notices_sweep())


@shared_task(name="telegram.digest_due")
def telegram_digest_due_task() -> int:
    """Beat job: the daily digests whose local time has come (imperium.telegram.digest)."""
    from imperium.telegram.digest import digests_due

    return len(digests_due())
