"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models

from imperium.core import crypto

_PREFIX = "fernet:"


class EncryptedTextField(models.TextField):
    """A text column stored Fernet-encrypted; Python code sees plaintext.

    The raw database row holds 'fernet:<token>', never the secret. It cannot be filtered on
    (every encryption of one value differs), which is what we want for secrets.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        if isinstance(value, str) and value.startswith(_PREFIX):
            return crypto.decrypt(value[len(_PREFIX):])
        return value

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(_PREFIX):
            return crypto.decrypt(value[len(_PREFIX):])
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return _PREFIX + crypto.encrypt(str(value))
