"""Encryption at rest for secrets stored in the database (Fernet, key rotation via MultiFernet)."""

from __future__ import annotations

import base64
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


def mask_phone(phone: str | None) -> str:
    """'+77011234567' -> '+7701•••4567': enough to recognise, not enough to dial."""
    if not phone:
        return ""
    if len(phone) <= 6:
        return "•" * len(phone)
    return phone[:5] + "•••" + phone[-4:]


def generate_webhook_secret() -> str:
    """A Standard Webhooks signing secret: 'whsec_' + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
