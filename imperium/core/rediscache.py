"""Django's Redis cache backend with one redis-py client per connection pool, kept.

`django.core.cache.backends.redis.RedisCacheClient.get_client` builds a new `redis.Redis` for
every cache call. With redis-py 5+ that constructor fills a case-insensitive table of ~250
response callbacks, which cost more CPU than the command itself (measured: ~105 µs of a ~255 µs
`cache.get`). Hot paths call the cache several times per turn (the gateway circuit, the queue
latency), so the client is built once per pool and reused. A `redis.Redis` over a pool is
thread-safe and keeps no state between commands; the pool still reconnects after a fork as
before. `imperium.core.redissentinel.SentinelRedisCache` builds on the same client class.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        kept = self._clients.get(id(pool))
        if kept is None or kept.connection_pool is not pool:
            kept = self._clients[id(pool)] = self._client(connection_pool=pool)
        return kept


class KeptClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `KeptClientRedisCacheClient`."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
