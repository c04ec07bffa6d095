"""The Telegram entry of /admin/health and of the startup checks."""

from __future__ import annotations

from django.conf import settings

from imperium.core.botapi.client import TelegramClient
from imperium.core.health import HealthResult, _timed


def check_telegram() -> HealthResult:
    """Not configured (no ALERT_BOT_TOKEN) is healthy but says alerts are only logged;
    configured means getMe must answer (and ALERT_CHAT_ID must be set)."""
    if not settings.ALERT_BOT_TOKEN:
        return HealthResult(
            name="telegram", ok=True, configured=False,
            detail="not configured (ALERT_BOT_TOKEN empty): alerts are only logged and stored",
        )

    def probe() -> str:
        me = TelegramClient(timeout=settings.HEALTH_CHECK_TIMEOUT).get_me()
        if not settings.ALERT_CHAT_ID:
            raise RuntimeError(f"bot @{me.get('username')} reachable, but ALERT_CHAT_ID is empty: alerts have nowhere to go")
        return f"getMe ok: @{me.get('username')}"

    return _timed("telegram", probe)
