"""Point Telegram at this installation: setWebhook(PUBLIC_BASE_URL + /telegram-webhook, secret)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.botapi.client import TelegramError, get_client
from imperium.core.crypto import mask

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class Command(BaseCommand):
    help = "Register PUBLIC_BASE_URL/telegram-webhook with Telegram (secret: TELEGRAM_WEBHOOK_SECRET), or --delete it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="remove the webhook (to switch to telegram_poll)")
        parser.add_argument("--drop-pending-updates", action="store_true", help="forget updates Telegram is holding")

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        if not client.configured:
            raise CommandError("ALERT_BOT_TOKEN is empty: create a bot with @BotFather and set it first.")
        drop = True if options["drop_pending_updates"] else None
        try:
            if options["delete"]:
                client.delete_webhook(drop_pending_updates=drop)
                self.stdout.write(self.style.SUCCESS("Webhook deleted; use `manage.py telegram_poll` to receive updates."))
                return
            secret = settings.TELEGRAM_WEBHOOK_SECRET
            if not secret:
                raise CommandError(
                    "TELEGRAM_WEBHOOK_SECRET is empty: /telegram-webhook would refuse every update. Set it (1-256 characters "
                    "A-Z, a-z, 0-9, _ and -), e.g. python -c \"import secrets; print(secrets.token_urlsafe(32))\"."
                )
            url = f"{settings.PUBLIC_BASE_URL}/telegram-webhook"
            if not url.startswith("https://"):
                self.stderr.write(self.style.WARNING(f"{url} is not HTTPS: the real Telegram only delivers to HTTPS URLs."))
            client.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop)
        except TelegramError as exc:
            raise CommandError(f"Telegram refused: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"Webhook set: {url} (secret {mask(secret)})"))
