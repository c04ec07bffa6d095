"""Startup checks for Telegram (tag `services`, like the other outside services)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from imperium.core.checks import service_check


@service_check
def telegram_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Unconfigured: a warning (alerts only reach the logs). Configured: getMe must answer;
    a refused token (401/404) is an error, an unreachable Telegram a warning (it may be a
    passing outage, and alerts queue until it is back)."""
    from imperium.core.botapi.client import TelegramClient, TelegramError

    messages: list[CheckMessage] = []
    if not settings.ALERT_BOT_TOKEN or not settings.ALERT_CHAT_ID:
        missing = [name for name in ("ALERT_BOT_TOKEN", "ALERT_CHAT_ID") if not getattr(settings, name)]
        messages.append(Warning(
            f"Telegram alerts are not configured ({', '.join(missing)} empty): alerts are only logged and stored in admin.",
            hint="Create a bot with @BotFather and set ALERT_BOT_TOKEN and ALERT_CHAT_ID (see docs/TELEGRAM.md).",
            id="telegram.W001",
        ))
    if settings.ALERT_BOT_TOKEN and not settings.TELEGRAM_WEBHOOK_SECRET:
        messages.append(Warning(
            "TELEGRAM_WEBHOOK_SECRET is empty: POST /telegram-webhook refuses every update (use telegram_poll locally).",
            id="telegram.W002",
        ))
    if settings.ALERT_BOT_TOKEN:
        try:
            TelegramClient(timeout=settings.HEALTH_CHECK_TIMEOUT).get_me()
        except TelegramError as exc:
            if exc.permanent:
                messages.append(Error(f"Telegram refused ALERT_BOT_TOKEN: {exc}", id="telegram.E001"))
            else:
                messages.append(Warning(f"Telegram is unreachable (alerts will queue): {exc}", id="telegram.W003"))
    return messages
