"""One Redis connection per process and thread, for single commands on a hot path.

redis-py's client sends every command through its connection pool (a lock, a fork check, a poll
for unread data on the socket), a retry wrapper and event dispatch: about 45 µs of CPU per
command here, as much as the command's own round trip. The webhook sends two commands per
request (the dedup `SET NX` and the turn task's `LPUSH`), so it talks to a redis-py `Connection`
directly instead: one per thread (the dev server is threaded) and per process (a forked worker
never shares its parent's socket).

A connection that breaks is dropped; a command that failed on the connection is retried once on
a new one, as redis-py's default retry does (a duplicate `LPUSH` of a turn task is harmless: the
turn is idempotent). Anything else is raised: callers treat Redis as fallible (the dedup falls back
to the database, a failed publish is queued again by the outbox sweeper).

    line = RedisLine.for_url("redis://127.0.0.1:6379/0", timeout=0.25)
    line.set("key", b"1", nx=True, ex=60)   # True, or None when the key existed
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis


class RedisLine:
    _lines: dict[tuple[str, float], RedisLine] = {}
    _lines_lock = threading.Lock()

    def __init__(self, url: str, *, timeout: float) -> None:
        pool = redis.ConnectionPool.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._connection_class = pool.connection_class
        self._connection_kwargs = pool.connection_kwargs
        self._local = threading.local()
        # After a failure every command fails at once until then (monotonic seconds): a Redis that
        # hangs costs one timeout per REDIS_RETRY_AFTER_SECONDS, not one per request.
        self._down_until = 0.0

    @classmethod
    def for_url(cls, url: str, *, timeout: float) -> RedisLine:
        """The line for `url`; a `redis+sentinel://` URL gets redis-py's Sentinel-aware client
        instead of a kept connection (imperium.core.redissentinel)."""
        key = (url, timeout)
        line = cls._lines.get(key)
        if line is None:
            from imperium.core.redissentinel import is_sentinel_url

            line_class = SentinelLine if is_sentinel_url(url) else cls
            with cls._lines_lock:
                line = cls._lines.setdefault(key, line_class(url, timeout=timeout))
        return line

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            # After a fork the parent's connection object is left alone: its socket is the parent's.
            connection = self._local.connection = self._connection_class(**self._connection_kwargs)
            self._local.pid = os.getpid()
        return connection

    def execute(self, *args: Any) -> Any:
        """Send one command and return its reply (redis-py's parsing of it)."""
        if self._down_until and time.monotonic() < self._down_until:
            raise redis.ConnectionError("Redis failed moments ago; not tried again yet")
        try:
            return self._execute(*args)
        except (redis.ConnectionError, redis.TimeoutError):
            from django.conf import settings

            self._down_until = time.monotonic() + getattr(settings, "REDIS_RETRY_AFTER_SECONDS", 5.0)
            raise

    def _execute(self, *args: Any) -> Any:
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.send_command(*args)
                return connection.read_response()
            except redis.ConnectionError:
                connection.disconnect()
                if attempt == 2:
                    raise
            except BaseException:
                connection.disconnect()  # a timeout or a half-read reply: the stream is out of step
                raise
        raise AssertionError("unreachable")

    def set(self, key: str, value: bytes, *, nx: bool = False, ex: int | None = None) -> bool | None:
        """redis-py's `set` for the options used here: True when stored, None when NX found the key."""
        args: list[Any] = ["SET", key, value]
        if nx:
            args.append("NX")
        if ex is not None:
            args += ["EX", ex]
        return True if self.execute(*args) is not None else None

    def lpush(self, key: str, *values: Any) -> int:
        return int(self.execute("LPUSH", key, *values))

    def rpush(self, key: str, *values: Any) -> int:
        return int(self.execute("RPUSH", key, *values))


class SentinelLine(RedisLine):
    """The same commands through redis-py's client of the master Sentinel names (it follows a
    failover); slower than a kept connection, which a plain URL keeps using."""

    def __init__(self, url: str, *, timeout: float) -> None:
        from imperium.core.redissentinel import sentinel_master

        self._client = sentinel_master(url, timeout=timeout)

    def execute(self, *args: Any) -> Any:
        return self._client.execute_command(*args)
