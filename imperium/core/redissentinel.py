"""Redis behind Sentinel: `redis+sentinel://` URLs for REDIS_URL (cache, webhook dedup, health).

    redis+sentinel://[:password@]host1:26379,host2:26379/<master name>[/<db>]

The sentinels are asked for the current master of `<master name>`; the password (if any) is the
data nodes' password. redis-py's Sentinel-aware client finds the new master after a failover.
The Celery broker uses Celery's own Sentinel transport instead
(`CELERY_BROKER_URL=sentinel://host1:26379;sentinel://host2:26379` with
`CELERY_BROKER_MASTER_NAME`), and task publishing then goes through kombu's producer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SCHEMES = ("redis+sentinel", "rediss+sentinel")


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    password: str | None
    ssl: bool


def is_sentinel_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in SCHEMES


def parse_sentinel_url(url: str) -> SentinelTarget:
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(f"not a Sentinel URL: {parts.scheme}://")
    netloc = parts.netloc
    password = None
    if "@" in netloc:
        auth, netloc = netloc.rsplit("@", 1)
        password = unquote(auth.split(":", 1)[1] if ":" in auth else auth) or None
    sentinels = []
    for item in netloc.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host:
            host, port = port, "26379"
        sentinels.append((host.strip("[]"), int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a Sentinel URL needs the master name: redis+sentinel://host:26379/<master name>[/<db>]")
    db = int(path[1]) if len(path) > 1 else 0
    return SentinelTarget(tuple(sentinels), path[0], db, password, parts.scheme.lower().startswith("rediss"))


def sentinel_master(url: str, *, timeout: float | None = None, **kwargs: Any) -> redis.Redis:
    """A redis-py client of the current master (follows failovers)."""
    target = parse_sentinel_url(url)
    sentinel = Sentinel(list(target.sentinels), socket_timeout=timeout, socket_connect_timeout=timeout)
    return sentinel.master_for(target.service, db=target.db, password=target.password, ssl=target.ssl,
                               socket_timeout=timeout, socket_connect_timeout=timeout, **kwargs)


def redis_client(url: str, *, timeout: float | None = None) -> redis.Redis:
    """A redis-py client for a plain or a Sentinel URL."""
    if is_sentinel_url(url):
        return sentinel_master(url, timeout=timeout)
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def _cache_client_class() -> type:
    from imperium.core.rediscache import KeptClientRedisCacheClient

    class SentinelCacheClient(KeptClientRedisCacheClient):  # one kept client per pool (imperium.core.rediscache)
        def _get_connection_pool(self, write: bool) -> Any:
            index = self._get_connection_pool_index(write)
            if index not in self._pools:
                self._pools[index] = sentinel_master(self._servers[index]).connection_pool
            return self._pools[index]

    return SentinelCacheClient


def _cache_class() -> type:
    from django.core.cache.backends.redis import RedisCache

    class SentinelRedisCache(RedisCache):
        def __init__(self, server: str, params: dict[str, Any]) -> None:
            super().__init__(server, params)
            self._class = _cache_client_class()

    return SentinelRedisCache


def __getattr__(name: str) -> Any:  # the cache backend is built lazily (Django's cache module imports settings)
    if name == "SentinelRedisCache":
        return _cache_class()
    raise AttributeError(name)
