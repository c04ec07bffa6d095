"""imperium.core.redisline: the webhook's kept Redis connection, against a real Redis (CI sets
REDIS_URL) and against a port where nothing listens."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import redis

from imperium.core import redisline
from imperium.core.redisline import RedisLine


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set: the embedded run has no Redis (CI sets it)")
    return url


@pytest.fixture
def line(redis_url):
    return RedisLine(redis_url, timeout=1)


@pytest.fixture
def admin(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _key() -> str:
    return f"test:redisline:{uuid.uuid4().hex}"


def test_set_nx_stores_once_with_its_ttl(line, admin):
    key = _key()
    assert line.set(key, b"1", nx=True, ex=60) is True
    assert line.set(key, b"2", nx=True, ex=60) is None
    assert admin.get(key) == b"1"
    assert 0 < admin.ttl(key) <= 60


def test_lpush_returns_the_list_length(line, admin):
    key = _key()
    assert line.lpush(key, "a") == 1
    assert line.lpush(key, "b") == 2
    assert admin.lrange(key, 0, -1) == [b"b", b"a"]


def test_one_connection_is_kept_between_commands(line):
    first = line.execute("CLIENT", "ID")
    assert line.execute("CLIENT", "ID") == first


def test_a_connection_the_server_dropped_is_replaced_without_failing_the_command(line, admin):
    killed = line.execute("CLIENT", "ID")
    assert admin.execute_command("CLIENT", "KILL", "ID", killed) == 1

    key = _key()
    assert line.set(key, b"1", nx=True) is True  # retried once on a new connection
    assert admin.get(key) == b"1"
    assert line.execute("CLIENT", "ID") != killed


def test_threads_do_not_share_a_connection(line):
    ids = []
    threads = [threading.Thread(target=lambda: ids.append(line.execute("CLIENT", "ID"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 2 and line.execute("CLIENT", "ID") not in ids


def test_a_forked_process_opens_its_own_connection_and_leaves_the_parents_alone(line, admin, monkeypatch):
    parent = line.execute("CLIENT", "ID")
    # In a real fork the parent process keeps its connection object; here the test holds it, or the
    # garbage collector could close the socket in this one process once the "child" replaces it.
    parents_connection = line._local.connection  # noqa: F841
    monkeypatch.setattr(redisline.os, "getpid", lambda: -1)  # what the child of a fork sees

    child = line.execute("CLIENT", "ID")
    assert child != parent
    listed = admin.execute_command("CLIENT", "LIST")
    listed = listed.decode() if isinstance(listed, bytes) else str(listed)
    assert f"id={parent} " in listed  # not shut down from the "child"


def test_lines_are_shared_per_url_and_timeout(redis_url):
    assert RedisLine.for_url(redis_url, timeout=0.5) is RedisLine.for_url(redis_url, timeout=0.5)
    assert RedisLine.for_url(redis_url, timeout=0.5) is not RedisLine.for_url(redis_url, timeout=2)


def test_nothing_listening_raises_a_connection_error_after_one_retry(monkeypatch):
    dead = RedisLine("redis://127.0.0.1:1/0", timeout=0.2)
    attempts = []
    original = dead._connection
    monkeypatch.setattr(dead, "_connection", lambda: attempts.append(1) or original())

    with pytest.raises(redis.ConnectionError):
        dead.set(_key(), b"1", nx=True)
    assert len(attempts) == 2
