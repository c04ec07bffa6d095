"""Dependency checks shown by /admin/health and run at startup (system check `services`).

Each check returns a `HealthResult`; `configured=False` means the dependency is optional and
not set up (embedded default), which is healthy. A configured dependency that fails is never
reported as healthy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string


@dataclass
class HealthResult:
    name: str
    ok: bool
    latency_ms: float | None = None
    configured: bool = True
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed(name: str, probe: Callable[[], str | None]) -> HealthResult:
    started = time.perf_counter()
    try:
        detail = probe() or "ok"
    except Exception as exc:  # a health check reports every failure, whatever its type
        return HealthResult(name=name, ok=False, latency_ms=_ms(started), detail=f"{type(exc).__name__}: {exc}"[:500])
    return HealthResult(name=name, ok=True, latency_ms=_ms(started), detail=detail)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def in_caller_thread(check: Callable[[], HealthResult]) -> Callable[[], HealthResult]:
    """Mark a check that reads the database: it runs in the calling thread, on the request's own
    connection (and transaction), bounded by the database's own timeouts."""
    check.in_caller_thread = True  # type: ignore[attr-defined]
    return check


def _importable(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError:
        return None


@in_caller_thread
def check_database() -> HealthResult:
    def probe() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor

    return _timed("database", probe)


def _redis_ping(url: str) -> str:
    from imperium.core.redissentinel import redis_client

    client = redis_client(url, timeout=settings.HEALTH_CHECK_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def check_redis() -> HealthResult:
    if not settings.REDIS_URL:
        return HealthResult(name="redis", ok=True, configured=False, detail="not configured (dedup by database only)")
    return _timed("redis", lambda: _redis_ping(settings.REDIS_URL))


def check_broker() -> HealthResult:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        def probe_fs() -> str:
            folder = settings.BROKER_DIR / "queue"
            probe_file = folder / ".health"
            probe_file.write_text("ok")
            probe_file.unlink()
            return f"filesystem broker at {folder}"

        return _timed("broker", probe_fs)

    if url.startswith(("redis://", "rediss://")):
        # A real round trip: kombu's Redis transport connects lazily and would call a silent server healthy.
        return _timed("broker", lambda: _redis_ping(url) and "redis")

    def probe() -> str:
        from celery import current_app  # the project's app (`imperium/__init__.py`); the base does not import the wiring

        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)
        return url.split("://", 1)[0]

    return _timed("broker", probe)


def check_qdrant() -> HealthResult:
    if not settings.QDRANT_URL:
        return HealthResult(name="qdrant", ok=True, configured=False, detail="embedded (in-process index rebuilt from the database)")

    def probe() -> str:
        from qdrant_client import QdrantClient

        client = QdrantClient(
            url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY or None, timeout=int(max(1, settings.HEALTH_CHECK_TIMEOUT)),
            check_compatibility=False,
        )
        try:
            try:
                names = {c.name for c in client.get_collections().collections}
            except Exception as exc:
                status = getattr(exc, "status_code", None)
                if status in (401, 403):
                    raise RuntimeError(
                        f"Qdrant refused the API key ({status}): check QDRANT_API_KEY against the server's "
                        "QDRANT__SERVICE__API_KEY."
                    ) from None
                raise
        finally:
            client.close()
        collection = settings.QDRANT_COLLECTION
        return f"collection {collection} {'present' if collection in names else 'missing'}"

    return _timed("qdrant", probe)


def _run_one(path: str, *, own_thread: bool) -> HealthResult:
    try:
        return import_string(path)()
    except Exception as exc:  # a broken check must not hide the others
        return HealthResult(name=path.rsplit(".", 1)[-1], ok=False, detail=f"check crashed: {exc}")
    finally:
        if own_thread:
            connection.close()  # this thread's own database connection, if the check opened one


def run_checks_with_deadline(paths: list[str], deadline: float | None = None) -> list[HealthResult]:
    """Run the checks named by `paths` in parallel threads and wait at most `deadline` seconds
    (HEALTH_CHECK_DEADLINE) for all of them. A check still running then — a dependency that
    accepted the connection and never answered — is reported failed; its daemon thread is left to
    its own socket timeout and never blocks the caller."""
    deadline = settings.HEALTH_CHECK_DEADLINE if deadline is None else deadline
    results: dict[str, HealthResult] = {}
    threads = []
    in_caller = [path for path in paths if getattr(_importable(path), "in_caller_thread", False)]
    for path in paths:
        if path in in_caller:
            continue

        def target(path: str = path) -> None:
            results[path] = _run_one(path, own_thread=True)

        thread = threading.Thread(target=target, name=f"health:{path.rsplit('.', 1)[-1]}", daemon=True)
        thread.start()
        threads.append(thread)
    ends_at = time.monotonic() + deadline
    for path in in_caller:
        results[path] = _run_one(path, own_thread=False)
    for thread in threads:
        thread.join(max(0.0, ends_at - time.monotonic()))
    return [
        results.get(path) or HealthResult(name=path.rsplit(".", 1)[-1].removeprefix("check_"), ok=False,
                                          latency_ms=round(deadline * 1000, 2), detail=f"no answer within {deadline:g} s")
        for path in paths
    ]


def run_health_checks() -> list[HealthResult]:
    return run_checks_with_deadline(list(settings.HEALTH_CHECKS))
