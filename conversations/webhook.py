"""Webhook helpers: the per-process tenant cache and request checks.

The webhook answers in milliseconds, so it must not read the tenant and decrypt its secrets on
every request: they are cached per process for WEBHOOK_TENANT_CACHE_SECONDS. A signature that
fails against the cached secrets is checked once more against freshly read ones, so a rotated
secret works at once; disabling a tenant takes effect within the cache lifetime.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings

from conversations.signing import secret_key_bytes
from tenants.models import Client
from tenants.selectors import client_get_by_slug

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class WebhookTenant:
    client: Client
    keys: tuple[bytes, ...]

    @property
    def accepts_traffic(self) -> bool:
        return self.client.accepts_traffic


_cache: dict[str, tuple[float, WebhookTenant | None]] = {}


def slug_valid(value: object) -> bool:
    return isinstance(value, str) and bool(_SLUG.match(value))


def webhook_tenant(slug: str, *, fresh: bool = False) -> WebhookTenant | None:
    """The tenant for `slug` with its decoded signing keys (current, previous), or None."""
    now = time.monotonic()
    if not fresh:
        entry = _cache.get(slug)
        if entry is not None and entry[0] > now:
            return entry[1]
    client = client_get_by_slug(slug)
    value = None
    if client is not None and hasattr(client, "settings"):
        keys = []
        for secret in client.settings.webhook_secrets:
            try:
                keys.append(secret_key_bytes(secret))
            except ValueError:
                logger.error("tenant %s has an unusable webhook secret", slug)
        value = WebhookTenant(client=client, keys=tuple(keys))
    if len(_cache) >= _MAX_CACHED:
        _cache.clear()  # bounded: random slugs from the internet must not grow memory
    _cache[slug] = (now + settings.WEBHOOK_TENANT_CACHE_SECONDS, value)
    return value


def webhook_tenant_cache_clear() -> None:
    _cache.clear()
