"""Redis behind Sentinel: the webhook's Redis line, the health check and the cache accept
`redis+sentinel://`; task publishing falls back to kombu for broker options the one-LPUSH
publish cannot honour."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from types import SimpleNamespace

import pytest
import redis

from imperium.core.celery_lpush import lpush_compatible
from imperium.core.redisline import RedisLine, SentinelLine
from imperium.core.redissentinel import parse_sentinel_url


def test_sentinel_urls_are_parsed():
    target = parse_sentinel_url("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380/imperium/3")
    assert target.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380))
    assert (target.service, target.db, target.password, target.ssl) == ("imperium", 3, "s3cret", False)
    with pytest.raises(ValueError, match="master name"):
        parse_sentinel_url("redis+sentinel://10.0.0.1:26379")


@pytest.mark.parametrize(("conf", "expected"), [
    ({"broker_url": "redis://127.0.0.1:6379/1", "broker_transport_options": {"visibility_timeout": 3600}}, True),
    ({"broker_url": "redis://127.0.0.1:6379/1", "broker_transport_options": {"global_keyprefix": "imp:"}}, False),
    ({"broker_url": "redis://127.0.0.1:6379/1", "broker_transport_options": {"priority_steps": [0, 5, 9]}}, False),
    ({"broker_url": "redis://a:6379/1;redis://b:6379/1", "broker_transport_options": {}}, False),
    ({"broker_url": "sentinel://127.0.0.1:26379", "broker_transport_options": {"master_name": "m"}}, False),
    ({"broker_url": "redis://127.0.0.1:6379/1", "broker_transport_options": {}, "broker_use_ssl": {"ssl_cert_reqs": "required"}}, False),
])
def test_publishing_uses_one_lpush_only_where_it_writes_what_kombu_would(conf, expected):
    app = SimpleNamespace(conf=SimpleNamespace(**{"broker_use_ssl": None, **conf}))
    assert lpush_compatible(app) is expected


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sentinel(tmp_path):
    """A real Redis Sentinel watching the test Redis as master `imperium`."""
    redis_url = os.environ.get("REDIS_URL")
    binary = shutil.which("redis-server") or shutil.which("redis-sentinel")
    if not redis_url or binary is None:
        pytest.skip("needs REDIS_URL and the redis-server binary (Sentinel mode)")
    master = redis.Redis.from_url(redis_url)
    host, port = master.connection_pool.connection_kwargs["host"], master.connection_pool.connection_kwargs["port"]
    db = master.connection_pool.connection_kwargs.get("db", 0)
    sentinel_port = _free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                      f"sentinel monitor imperium {host} {port} 1\nsentinel down-after-milliseconds imperium 60000\n")
    process = subprocess.Popen([binary, str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probe = redis.Redis(host="127.0.0.1", port=sentinel_port, socket_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                if probe.sentinel_get_master_addr_by_name("imperium"):
                    break
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("sentinel did not start")
            time.sleep(0.05)
        yield SimpleNamespace(url=f"redis+sentinel://127.0.0.1:{sentinel_port}/imperium/{db}", master=master)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.live
def test_the_webhook_redis_line_and_health_work_through_sentinel(sentinel, settings, client):
    key = f"imperium:test:{uuid.uuid4().hex}"
    line = RedisLine.for_url(sentinel.url, timeout=1)
    assert isinstance(line, SentinelLine)
    assert line.set(key, b"1", nx=True, ex=60) is True
    assert line.set(key, b"1", nx=True, ex=60) is None  # the dedup sees the key
    assert sentinel.master.get(key) == b"1"  # written on the master Sentinel named
    sentinel.master.delete(key)

    from imperium.core.health import check_redis

    settings.REDIS_URL = sentinel.url
    result = check_redis()
    assert result.ok, result.detail


@pytest.mark.live
def test_the_cache_works_through_sentinel(sentinel):
    from django.utils.module_loading import import_string

    backend = import_string("imperium.core.redissentinel.SentinelRedisCache")(sentinel.url, {})
    key = f"test-{uuid.uuid4().hex}"
    backend.set(key, {"a": 1}, 30)
    assert backend.get(key) == {"a": 1}
    backend.delete(key)
