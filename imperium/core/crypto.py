"""Encryption at rest for secrets stored in the database (Fernet, key rotation via MultiFernet)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return _current().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY does not contain the key it was encrypted with."
        ) from None


def mask(value: str | None, *, visible: int = 4) -> str:
    """Show only the last characters of a secret: '••••abcd'. Short values are fully hidden."""
    if not value:
        return ""
    if len(value) <= visible * 2:
        return "••••"
    return "••••" + value[-visible:]


def phone_tag(phone: str) -> str:
    """Four hex characters of a keyed hash of the number: two phones that mask alike
    ('+77011110001', '+77012220001') still look different, and the tag tells nothing of the hidden digits."""
    # Keyed BLAKE2s: a MAC in one call (hmac.new costs as much as parsing the webhook body).
    return hashlib.blake2s(phone.encode(), key=_phone_tag_key(settings.SECRET_KEY), digest_size=2).hexdigest()


@lru_cache(maxsize=2)
def _phone_tag_key(secret_key: str) -> bytes:
    # As Django's salted_hmac derives its key, computed once instead of on every call (the webhook masks every phone).
    return hashlib.sha256(("imperium.phone-tag" + secret_key).encode()).digest()


def mask_phone(phone: str | None) -> str:
    """'+77011234567' -> '+7701•••4567·3fa2': enough to recognise (and to tell two customers
    apart), not enough to dial."""
    if not phone:
        return ""
    if len(phone) <= 6:
        return "•" * len(phone)
    return phone[:5] + "•••" + phone[-4:] + "·" + phone_tag(phone)


def generate_webhook_secret() -> str:
    """A Standard Webhooks signing secret: 'whsec_' + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
