"""imperium.core.rediscache: Django's Redis cache with its redis-py client kept, not built per call.

Against the Redis of REDIS_URL (real), like test_redisline. Guards the cost fix measured in
docs/BENCHMARKS.md: a `redis.Redis` built per cache call cost more CPU than the command.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from imperium.core.rediscache import KeptClientRedisCache


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set: the embedded run has no Redis (CI sets it)")
    return url


@pytest.fixture
def backend(redis_url):
    return KeptClientRedisCache(redis_url, {"KEY_PREFIX": f"test-rediscache-{uuid.uuid4().hex}"})


def test_it_behaves_as_djangos_redis_cache(backend):
    assert backend.get("missing", "default") == "default"
    backend.set("a", {"latency": 1.5}, timeout=30)
    assert backend.get("a") == {"latency": 1.5}
    assert backend.add("a", 2, timeout=30) is False and backend.add("b", 2, timeout=30) is True
    assert backend.incr("b") == 3
    assert backend.delete("a") is True and backend.delete("a") is False
    backend.set_many({"c": 1, "d": 2}, timeout=30)
    assert backend.get_many(["c", "d", "e"]) == {"c": 1, "d": 2}
    backend.delete_many(["b", "c", "d"])
    assert backend.get("b") is None and backend.get("c") is None


def test_one_client_per_pool_whatever_the_number_of_calls(backend, monkeypatch):
    built = []
    original = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        built.append(kwargs.get("connection_pool"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting_init)
    for n in range(20):
        backend.set(f"k{n}", n, timeout=30)
        backend.get(f"k{n}")
    backend.delete_many([f"k{n}" for n in range(20)])
    assert len(built) == 1  # Django's own client builds 41 here


def test_the_sentinel_backend_keeps_its_client_too():
    from imperium.core.rediscache import KeptClientRedisCacheClient
    from imperium.core.redissentinel import _cache_client_class

    assert issubclass(_cache_client_class(), KeptClientRedisCacheClient)
