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


def mask_phones_in_text(text: str) -> str:
    from imperium.core.crypto import mask_phone

    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"[\s\-()]", "", m.group(0))), text)
