"""When the database is down the incident machinery cannot write a row — not even an alert in
the outbox. The sentinel then tells the CEO chat directly through the Bot API, once per outage
(a marker file under VAR_DIR remembers it; each machine running the sentinel says it at most
once), and once more when the database answers again. Nothing here touches the database."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from imperium.core.plaintext import render_plain

logger = logging.getLogger(__name__)


def _marker() -> Path:
    return Path(settings.VAR_DIR) / "sentinel-database-down.json"


def _send(text: str) -> bool:
    from imperium.core.botapi.client import TelegramClient, TelegramError

    if not settings.ALERT_BOT_TOKEN or not settings.ALERT_CHAT_ID:
        logger.error("ALERT (Telegram not configured): %s", text)
        return True
    try:
        TelegramClient().send_message(chat_id=settings.ALERT_CHAT_ID, thread_id=settings.ALERT_TOPIC_ID, text=text)
    except TelegramError as exc:
        logger.error("could not send a direct alert to Telegram: %s", exc)
        return False
    return True


def database_down_alert(detail: str) -> bool:
    """Alert once per outage. Returns True when this call sent (or logged) the alert."""
    marker = _marker()
    if marker.exists():
        return False
    since = timezone.now()
    text = render_plain("incidents/incidents/database_down.txt", {"detail": detail, "since": since})
    if not _send(text):
        return False  # no marker: the next run tries again
    marker.write_text(json.dumps({"since": since.isoformat(), "detail": detail}), encoding="utf-8")
    return True


def database_recovered() -> bool:
    """After a run that could write again: say so once if a direct 'down' alert went out."""
    marker = _marker()
    if not marker.exists():
        return False
    try:
        since = json.loads(marker.read_text(encoding="utf-8")).get("since", "")
    except (OSError, ValueError):
        since = ""
    if _send(render_plain("incidents/incidents/database_back.txt", {"since": since})):
        marker.unlink(missing_ok=True)
        return True
    return False
