"""A circuit breaker per tenant for the ChatFlow gateway, shared by every worker through the cache.

Closed (no key): deliveries go. When a delivery run ends in a transient failure (5xx, 429, a
timeout, no connection), the circuit opens until that delivery's next retry time: the tenant's
other deliveries are deferred to then instead of each spending its own timeouts on a dead gateway.
At that time one delivery — whoever wins `cache.add` of the probe key — is sent as the probe; a
success closes the circuit and releases every deferred delivery of the tenant at once (the sweeper
queues them within OUTBOX_SWEEP_SECONDS); a failure opens it again, later (the retry schedule).

The cache is only an optimisation: a cache that fails or forgets means the circuit is closed, and
every delivery is still retried from the database outbox.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


def _key(tenant_id: int) -> str:
    return f"{settings.CHATFLOW_CIRCUIT_KEY_PREFIX}:{tenant_id}"


def _probe_seconds() -> int:
    # Long enough for the probe's own run (all its attempts and waits), so a second probe does not start.
    return int(settings.CHATFLOW_TIMEOUT * (1 + settings.CHATFLOW_MAX_RETRIES) + settings.CHATFLOW_RETRY_MAX_DELAY + 10)


def circuit_hold(*, tenant_id: int, now: datetime | None = None) -> datetime | None:
    """None when a delivery of this tenant may be sent now; else the time to defer it to."""
    if not settings.CHATFLOW_CIRCUIT_BREAKER:
        return None
    now = now or timezone.now()
    try:
        until = cache.get(_key(tenant_id))
        if until is None:
            return None
        if now.timestamp() < until:
            # Spread the deferred deliveries a little after the probe.
            return datetime.fromtimestamp(until, tz=UTC) + timedelta(seconds=random.uniform(1, 3))
        if cache.add(_key(tenant_id) + ":probe", 1, timeout=_probe_seconds()):
            logger.info("tenant %s: ChatFlow circuit half-open; this delivery is the probe", tenant_id)
            return None
    except Exception:  # the cache is down: behave as closed
        return None
    return now + timedelta(seconds=settings.DELIVERY_RETRY_BASE_SECONDS)


def circuit_open(*, tenant_id: int, until: datetime) -> None:
    try:
        cache.set(_key(tenant_id), until.timestamp(), timeout=settings.DELIVERY_RETRY_WINDOW_SECONDS + 60)
        cache.delete(_key(tenant_id) + ":probe")
    except Exception:
        logger.warning("tenant %s: could not open the ChatFlow circuit (cache unavailable)", tenant_id)


def circuit_close(*, tenant_id: int) -> bool:
    """Close the tenant's circuit after a successful send; True when it was open (the caller then
    releases the deferred deliveries)."""
    if not settings.CHATFLOW_CIRCUIT_BREAKER:
        return False
    try:
        if cache.get(_key(tenant_id)) is None:
            return False
        cache.delete_many([_key(tenant_id), _key(tenant_id) + ":probe"])
    except Exception:
        return False
    logger.warning("tenant %s: ChatFlow answers again; circuit closed, deferred deliveries released", tenant_id)
    return True
