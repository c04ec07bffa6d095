"""Standard Webhooks signatures (standardwebhooks.com), as ChatFlow signs the inbound webhook.

Signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`; the signature header holds one
or more space-separated `v1,<base64 HMAC-SHA256>` entries (several during secret rotation). The
secret is `whsec_<base64 key>`. The test suite checks this module against the `standardwebhooks`
package in both directions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from enum import StrEnum

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureProblem(StrEnum):
    MISSING_HEADERS = "missing signature headers"
    BAD_TIMESTAMP = "malformed timestamp"
    STALE_TIMESTAMP = "timestamp outside the 5-minute window"
    NO_MATCH = "no matching signature"


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key inside a `whsec_…` secret. Raises ValueError for an unusable secret."""
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(raw + "==")
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not base64") from None
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def signature_for(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """The `webhook-signature` header value for one secret."""
    digest = signature_for(secret_key_bytes(secret), msg_id, str(timestamp), body)
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    """Headers for a signed delivery (used by `webhook_send`, the benchmarks and demos)."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(
    keys: tuple[bytes, ...] | list[bytes],
    *,
    msg_id: str | None,
    timestamp: str | None,
    signature_header: str | None,
    body: bytes,
    now: float | None = None,
) -> SignatureProblem | None:
    """None when one of `keys` signed this delivery within the tolerance window; else the problem.

    Comparison is constant-time per candidate; every key and every v1 signature is tried.
    """
    if not (msg_id and timestamp and signature_header):
        return SignatureProblem.MISSING_HEADERS
    try:
        sent_at = int(timestamp)
    except ValueError:
        return SignatureProblem.BAD_TIMESTAMP
    current = time.time() if now is None else now
    if abs(current - sent_at) > TOLERANCE_SECONDS:
        return SignatureProblem.STALE_TIMESTAMP
    candidates = []
    for entry in signature_header.split(" "):
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        return SignatureProblem.NO_MATCH
    matched = False
    for key in keys:
        expected = signature_for(key, msg_id, timestamp, body)
        for candidate in candidates:
            # No early exit: the time taken does not tell which key or entry matched.
            matched |= hmac.compare_digest(expected, candidate)
    return None if matched else SignatureProblem.NO_MATCH
