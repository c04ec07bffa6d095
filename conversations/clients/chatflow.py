"""ChatFlow (WhatsApp gateway) client: the only code that talks to ChatFlow.

Contract (docs/CONTRACTS.md "Outbound", docs/PIPELINE.md): `POST {CHATFLOW_BASE_URL}/send-text` with
`{"token", "instance_id", "to", "text", "msg_id"}` and header `Idempotency-Key: <msg_id>`.
2xx `{"success": true, "message_id": ...}` is delivered; 5xx, 429 and timeouts raise a
retryable `IntegrationError` (with `retry_after` when the gateway sent one); other answers raise
a permanent one. The retry loop lives in `conversations.services.delivery`, which records every
attempt; `retry_delay` here is the backoff policy.

With CHATFLOW_BASE_URL empty, `chatflow_client()` returns the sandbox, which records sends in
`SandboxMessage` (visible in admin) and, like the real gateway, drops repeats of a key.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from conversations.customers import mask_phones_in_text
from imperium.core.crypto import mask_phone
from imperium.core.exceptions import IntegrationError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status_code: int = 200
    duplicate: bool = False  # the gateway had already seen this idempotency key


class ChatFlowSender(Protocol):
    def send_text(self, *, tenant_id: int, token: str, instance_id: str, to: str, text: str, idempotency_key: str) -> SendResult: ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_delay(retry_number: int, retry_after: float | None = None) -> float:
    """Wait before retry `retry_number` (1, 2, 3 …): exponential with jitter, never shorter than
    the gateway's Retry-After. The caller decides whether a long wait is slept or rescheduled."""
    base = settings.CHATFLOW_RETRY_BACKOFF * (2 ** max(0, retry_number - 1))
    # "Equal jitter": at least half the step, so retries spread out but never collapse to zero.
    delay = base / 2 + random.uniform(0, base / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


class ChatFlowClient:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session: requests.Session | None = None
        self._pid = 0

    @property
    def session(self) -> requests.Session:
        # One keep-alive session per process: Celery's prefork children must not share sockets.
        if self._session is None or self._pid != os.getpid():
            session = requests.Session()
            # Proxy settings (HTTPS_PROXY, NO_PROXY…) are read from the environment once here, not
            # on every request: requests' per-request environment merge (proxies, .netrc, CA
            # bundle variables) cost more CPU than the rest of a send.
            session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
            session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            session.trust_env = False
            self._session, self._pid = session, os.getpid()
        return self._session

    def send_text(self, *, tenant_id: int, token: str, instance_id: str, to: str, text: str, idempotency_key: str) -> SendResult:
        body = {"token": token, "instance_id": instance_id, "to": to, "text": text, "msg_id": idempotency_key}
        try:
            response = self.session.post(
                f"{self.base_url}/send-text", json=body, headers={"Idempotency-Key": idempotency_key}, timeout=self.timeout
            )
        except requests.Timeout as exc:
            error = IntegrationError(f"ChatFlow did not answer within {self.timeout:g}s", permanent=False)
            # A read timeout leaves the outcome unclear (the gateway may have sent it); a connect timeout does not.
            error.unclear = not isinstance(exc, requests.ConnectTimeout)  # type: ignore[attr-defined]
            raise error from None
        except requests.RequestException as exc:
            raise IntegrationError(f"ChatFlow unreachable: {type(exc).__name__}", permanent=False) from None
        status = response.status_code
        snippet = mask_phones_in_text(response.text[:300])
        if status == 429 or status >= 500:
            raise IntegrationError(
                f"ChatFlow answered {status}: {snippet}", permanent=False, status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if not 200 <= status < 300:
            raise IntegrationError(f"ChatFlow refused the message ({status}): {snippet}", permanent=True, status=status)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("success") is not True:
            raise IntegrationError(f"ChatFlow answered {status} without success: {snippet}", permanent=True, status=status)
        return SendResult(
            provider_message_id=str(data.get("message_id") or ""), status_code=status, duplicate=bool(data.get("duplicate"))
        )

    def status(self, *, token: str, instance_id: str, path: str, timeout: float | None = None) -> int:
        """Probe the gateway for one instance: `GET {base}{path}?instance_id=…` with the token as a
        bearer header (never in the URL). Returns the HTTP status when 2xx; raises IntegrationError
        otherwise (CHATFLOW_STATUS_PATH; used by the sentinel and the fixer)."""
        try:
            response = self.session.get(
                f"{self.base_url}/{path.lstrip('/')}", params={"instance_id": instance_id},
                headers={"Authorization": f"Bearer {token}"}, timeout=timeout or self.timeout,
            )
        except requests.Timeout:
            raise IntegrationError(f"ChatFlow status did not answer within {timeout or self.timeout:g}s", permanent=False) from None
        except requests.RequestException as exc:
            raise IntegrationError(f"ChatFlow unreachable: {type(exc).__name__}", permanent=False) from None
        if not 200 <= response.status_code < 300:
            raise IntegrationError(f"ChatFlow status answered {response.status_code}: {mask_phones_in_text(response.text[:200])}",
                                   permanent=response.status_code < 500 and response.status_code != 429,
                                   status=response.status_code)
        return response.status_code


class SandboxChatFlow:
    """Records sends instead of making them (CHATFLOW_BASE_URL empty): the demo runs offline."""

    def send_text(self, *, tenant_id: int, token: str, instance_id: str, to: str, text: str, idempotency_key: str) -> SendResult:
        from conversations.models import SandboxMessage

        try:
            with transaction.atomic():
                row = SandboxMessage.objects.create(
                    tenant_id=tenant_id, idempotency_key=idempotency_key, instance_id=instance_id, to_masked=mask_phone(to), text=text
                )
        except IntegrityError:
            SandboxMessage.objects.filter(idempotency_key=idempotency_key).update(repeats=F("repeats") + 1)
            row = SandboxMessage.objects.get(idempotency_key=idempotency_key)
            logger.info("sandbox dropped a repeat of %s", idempotency_key)
            return SendResult(provider_message_id=f"sandbox-{row.pk}", duplicate=True)
        logger.info("sandbox recorded a send to %s", row.to_masked, extra={"idempotency_key": idempotency_key})
        return SendResult(provider_message_id=f"sandbox-{row.pk}")


_clients: dict[tuple[str, float], ChatFlowClient] = {}


def chatflow_client() -> ChatFlowSender:
    """The configured gateway: the HTTP client for CHATFLOW_BASE_URL, else the sandbox."""
    if not settings.CHATFLOW_BASE_URL:
        return SandboxChatFlow()
    key = (settings.CHATFLOW_BASE_URL, settings.CHATFLOW_TIMEOUT)
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = ChatFlowClient(settings.CHATFLOW_BASE_URL, settings.CHATFLOW_TIMEOUT)
    return client
