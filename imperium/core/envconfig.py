"""Strict environment reading for settings.

django-environ parses most values, but it silently turns an unparseable boolean into False and
raises bare ValueErrors elsewhere. Every read here names the variable on failure, so a typo in
the environment stops startup with a message an operator can act on.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


class StrictEnv:
    """Typed, validating accessors over os.environ (after an optional .env file)."""

    def __init__(self) -> None:
        self._env = environ.Env()

    def read_env_file(self, path: Path) -> None:
        if path.is_file():
            environ.Env.read_env(str(path), overwrite=False)

    @staticmethod
    def raw(name: str) -> str | None:
        value = os.environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value if value != "" else None

    def str(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no).")

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
        return number

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [part.strip() for part in value.split(",") if part.strip()]

    def int_list(self, name: str) -> list[int]:
        items = self.list(name)
        try:
            return [int(item) for item in items]
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a comma-separated list of integers, got {self.raw(name)!r}.") from None

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default).lower()
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}.")
        return value

    def url(self, name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
        value = self.str(name, default)
        if not value:
            return ""
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(f"{name}={value!r} must be a URL starting with {' or '.join(s + '://' for s in schemes)}.")
        return value.rstrip("/")

    def database(self, name: str, default: str) -> dict[str, Any]:
        value = self.str(name, default)
        try:
            config = environ.Env.db_url_config(value)
        except Exception as exc:  # environ raises several types for a bad URL
            raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
        if not str(config.get("ENGINE", "")).startswith("django.db.backends."):
            raise ImproperlyConfigured(f"{name} has an unsupported scheme: {value.split(':', 1)[0]!r}.")
        return config


def local_secret(var_dir: Path, filename: str, generate: callable) -> str:  # type: ignore[valid-type]
    """Read a secret generated once into var/ for local use, creating it on first call.

    Only used when DEBUG is on; production must provide secrets through the environment.
    """
    path = var_dir / filename
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    value = generate()
    var_dir.mkdir(parents=True, exist_ok=True)
    # Write-then-rename keeps two processes starting at once from reading a half-written file.
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(value)
    os.chmod(tmp, 0o600)
    if path.is_file() and path.read_text().strip():
        tmp.unlink()
        return path.read_text().strip()
    os.replace(tmp, path)
    return value


def generate_django_secret() -> str:
    return secrets.token_urlsafe(50)

LOCAL_BASE_URL_FILE = "public_base_url"


def local_base_url(var_dir: Path) -> str | None:
    """The address `make run` last started the web process at (written by `bootstrap_local`),
    so commands run from another shell (webhook_send, onboard_tenant) reach the same port."""
    path = var_dir / LOCAL_BASE_URL_FILE
    if not path.is_file():
        return None
    return path.read_text().strip() or None


def local_base_url_write(var_dir: Path, url: str) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = var_dir / f"{LOCAL_BASE_URL_FILE}.tmp{os.getpid()}"
    tmp.write_text(url.rstrip("/") + "\n")
    os.replace(tmp, var_dir / LOCAL_BASE_URL_FILE)
