"""The inbound webhook's logic, shared by the Django view and the WSGI fast path.

`webhook_receive` does everything the contract asks (docs/CONTRACTS.md "Inbound webhook") on a raw body
and the WSGI/META headers, and returns the status and JSON body to answer.

The webhook answers in milliseconds, so it must not read the tenant and decrypt its secrets on
every request: they are cached per process for WEBHOOK_TENANT_CACHE_SECONDS. A signature that
fails against the cached secrets is checked once more against freshly read ones, so a rotated
secret works at once; disabling a tenant takes effect within the cache lifetime.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from conversations.signing import SignatureProblem, secret_key_bytes, verify
from imperium.core.correlation import set_tenant_label
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


ACCEPTED_BODY = b'{"status":"accepted"}'
DUPLICATE_BODY = b'{"status":"duplicate"}'
TOO_LARGE = f"body over {MAX_BODY_BYTES // 1024} KiB"


def _error(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": message}).encode()


def declared_length(meta: Mapping[str, Any]) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def webhook_receive(*, client_slug: str | None, meta: Mapping[str, Any], body: bytes, correlation_id: str) -> tuple[int, bytes]:
    """Check, parse and store one webhook delivery. `client_slug` is None for POST /webhook (then
    it comes from the body). Returns (HTTP status, JSON body)."""
    from conversations.services.inbound import MalformedPayload, dead_letter_record, inbound_accept, payload_parse

    if len(body) > MAX_BODY_BYTES:
        return _error(413, TOO_LARGE)
    data: Any = None
    if client_slug is None:
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "body must be JSON with client_slug")
        client_slug = data.get("client_slug") if isinstance(data, dict) else None
        if not slug_valid(client_slug):
            return _error(400, "client_slug is required")
    tenant = webhook_tenant(client_slug)
    if tenant is None or not tenant.accepts_traffic:
        return _error(404, "unknown tenant")
    # Log lines, ErrorLogs and the queued turn task carry the tenant from here on.
    set_tenant_label(client_slug)

    msg_id = meta.get("HTTP_WEBHOOK_ID")
    timestamp = meta.get("HTTP_WEBHOOK_TIMESTAMP")
    signature = meta.get("HTTP_WEBHOOK_SIGNATURE")
    problem = verify(tenant.keys, msg_id=msg_id, timestamp=timestamp, signature_header=signature, body=body)
    if problem is SignatureProblem.NO_MATCH:
        # The secret may have been rotated since this process cached it.
        tenant = webhook_tenant(client_slug, fresh=True)
        if tenant is None or not tenant.accepts_traffic:
            return _error(404, "unknown tenant")
        problem = verify(tenant.keys, msg_id=msg_id, timestamp=timestamp, signature_header=signature, body=body)
    if problem is not None:
        logger.info("webhook for %s refused: %s", client_slug, problem.value)
        return _error(401, problem.value)

    try:
        if data is None:
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise MalformedPayload(f"body is not JSON: {getattr(exc, 'msg', exc)}") from None
        message = payload_parse(data)
    except MalformedPayload as exc:
        headers = {name: str(meta.get(key, "")) for name, key in (
            ("content-type", "CONTENT_TYPE"), ("user-agent", "HTTP_USER_AGENT"),
            ("webhook-id", "HTTP_WEBHOOK_ID"), ("webhook-timestamp", "HTTP_WEBHOOK_TIMESTAMP"),
        )}
        letter = dead_letter_record(tenant=tenant.client, body=body, error=str(exc), webhook_id=msg_id or "",
                                    correlation_id=correlation_id, headers=headers)
        logger.warning("webhook for %s: malformed body kept as dead letter %s: %s", client_slug, letter.pk, exc)
        return _error(400, str(exc))

    result = inbound_accept(tenant=tenant.client, message=message, webhook_id=msg_id or "", correlation_id=correlation_id)
    return 200, ACCEPTED_BODY if result.status == "accepted" else DUPLICATE_BODY
