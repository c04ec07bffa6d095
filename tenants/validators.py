from __future__ import annotations

import re
import zoneinfo

from django.core.exceptions import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def validate_tenant_slug(value: str) -> None:
    if not SLUG_RE.match(value or ""):
        raise ValidationError(
            "Slug must be 1–50 lowercase latin letters, digits or hyphens, not starting or ending with a hyphen.",
            code="invalid_slug",
        )


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {value!r} (use an IANA name such as Asia/Almaty).", code="invalid_tz") from None


def validate_telegram_chat_id(value: int) -> None:
    # Private chats are positive user ids; groups are negative; supergroups/forums are -100….
    if value == 0 or abs(value) > 10**15:
        raise ValidationError("Telegram chat id must be a non-zero numeric id such as -1001234567890.", code="invalid_chat")


def validate_webhook_secret(value: str) -> None:
    import base64
    import binascii

    if not value.startswith("whsec_"):
        raise ValidationError("Webhook secrets use the Standard Webhooks form 'whsec_<base64>'.", code="invalid_secret")
    try:
        raw = base64.b64decode(value[len("whsec_"):], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("Webhook secret is not valid base64 after 'whsec_'.", code="invalid_secret") from None
    if len(raw) < 24:
        raise ValidationError("Webhook secret must hold at least 24 random bytes.", code="invalid_secret")
