"""Customer phone numbers: normalised, looked up by a keyed hash, stored only encrypted or masked."""

from __future__ import annotations

import re

from django.utils.crypto import salted_hmac

_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_SEPARATORS = re.compile(r"[\s()\-.]")
# Phone-looking runs inside free text (dead letters): masked before storing.
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s\-()]{8,18}\d")


def phone_normalize(raw: object) -> str | None:
    """'+7 701 123-45-67' -> '+77011234567'; None when it does not look like a phone number."""
    if not isinstance(raw, str):
        return None
    value = _SEPARATORS.sub("", raw.strip())
    return value if _PHONE.match(value) else None


def customer_key(phone: str) -> str:
    """Stable lookup key for a phone (HMAC with the Django secret): the database never needs the
    number in clear text to find the conversation."""
    return salted_hmac("imperium.conversations.customer", phone, algorithm="sha256").hexdigest()


def _looks_like_a_timestamp(run: str) -> bool:
    # Unix seconds (10 digits) and milliseconds (13 digits) of 2001–2286 start with 1; phones written
    # without '+' that long and starting with 1 are rare enough to leave readable.
    return not run.startswith("+") and run.isdigit() and len(run) in (10, 13) and run[0] == "1"


def mask_phones_in_text(text: str) -> str:
    """Phone-looking runs in free text (dead letters, gateway errors) masked; timestamps kept readable."""
    from imperium.core.crypto import mask_phone

    def mask(match: re.Match[str]) -> str:
        run = re.sub(r"[\s\-()]", "", match.group(0))
        return match.group(0) if _looks_like_a_timestamp(run) else mask_phone(run)

    return _PHONE_IN_TEXT.sub(mask, text)
