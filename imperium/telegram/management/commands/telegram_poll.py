"""Long polling for local development (no public URL): getUpdates → the same store-and-process
path as the webhook. Telegram refuses getUpdates while a webhook is set (use --delete-webhook)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.botapi.client import TelegramError, get_client
from imperium.telegram.management.commands.telegram_set_webhook import ALLOWED_UPDATES
from imperium.telegram.services import telegram_update_process, telegram_update_store


class Command(BaseCommand):
    help = "Receive Telegram updates by long polling (local development) and store/process them like the webhook does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one getUpdates call, then exit")
        parser.add_argument("--timeout", type=int, default=25, help="long-poll seconds per call (default 25)")
        parser.add_argument("--inline", action="store_true", help="process updates here instead of in a Celery worker")
        parser.add_argument("--delete-webhook", action="store_true", help="delete a webhook first (Telegram answers 409 otherwise)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._poll(options)
        except KeyboardInterrupt:
            self.stdout.write("stopped")

    def _poll(self, options: dict[str, Any]) -> None:
        client = get_client()
        if not client.configured:
            raise CommandError("ALERT_BOT_TOKEN is empty: nothing to poll.")
        if options["delete_webhook"]:
            client.delete_webhook()
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates = client.get_updates(offset=offset, long_poll_seconds=options["timeout"], allowed_updates=ALLOWED_UPDATES)
            except TelegramError as exc:
                if exc.permanent or options["once"]:
                    raise CommandError(f"getUpdates failed: {exc}") from None
                wait = exc.retry_after or backoff
                self.stderr.write(f"getUpdates failed ({exc}); retrying in {wait:.0f}s")
                time.sleep(wait)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            for payload in updates:
                result = telegram_update_store(payload=payload, source="polling", enqueue=not options["inline"])
                if isinstance(payload, dict) and isinstance(payload.get("update_id"), int):
                    # Confirm everything seen so far, dead letters included: Telegram must not resend them.
                    offset = max(offset or 0, payload["update_id"] + 1)
                if options["inline"] and result.update is not None:
                    outcome = telegram_update_process(update_pk=result.update.pk)
                    self.stdout.write(f"update {result.update.update_id}: {outcome}")
                else:
                    self.stdout.write(f"update {payload.get('update_id') if isinstance(payload, dict) else '?'}: {result.status}")
            if options["once"]:
                if offset is not None:
                    # Confirm the batch so the next run does not get it again.
                    client.get_updates(offset=offset, long_poll_seconds=1, limit=1, allowed_updates=ALLOWED_UPDATES)
                return
