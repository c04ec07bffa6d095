"""Real processes for `live` tests and benchmarks: a Celery worker and a gunicorn web server
running this code against the current database.

They run with their own VAR_DIR (so the worker's filesystem broker folder is private to the
test) and the test process's secrets, so they can decrypt what the test wrote.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Self

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """A URL for the database this process is connected to (the test database under pytest)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("live processes need a file database; set DATABASES['default']['TEST']['NAME'] for SQLite")
        return f"sqlite:///{Path(name).resolve()}"
    user = db.get("USER") or ""
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="imperium.settings",
        DATABASE_URL=database_url(),
        VAR_DIR=str(var_dir),
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=",".join(settings.FIELD_ENCRYPTION_KEYS),
        CELERY_BROKER_URL="filesystem://",
        CELERY_BROKER_POLLING_INTERVAL="0.05",
        CHATFLOW_BASE_URL=settings.CHATFLOW_BASE_URL or "",
        LOG_LEVEL="info",
        LOG_FORMAT="text",
        PYTHONUNBUFFERED="1",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(extra)
    if settings.REDIS_URL and env.get("REDIS_URL") == settings.REDIS_URL:
        # Live processes of concurrent tests (pytest-xdist workers) on the shared Redis database, whose tenants
        # have the same ids: the cache (circuit breaker, Telegram back-off and forum flags) and the webhook's
        # dedup keys are kept per test (a test's web and worker processes share them; outside pytest, per
        # var_dir). A test that gives its processes a private Redis shares that one's keys with them as they are.
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0] or str(Path(var_dir).resolve())
        tag = hashlib.sha256(test.encode()).hexdigest()[:16]
        env.setdefault("CACHE_KEY_PREFIX", f"live-{tag}")
        env.setdefault("WEBHOOK_DEDUP_KEY_PREFIX", f"live-wh:{tag}")
    return env


class _Process:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=400)
        self._line = threading.Condition()

    def start(self) -> None:
        # A new session: the process and its children (prefork pool, gunicorn workers) form
        # one group we can signal by its id.
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            self.args, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._line:
                self.output.append(line.rstrip())
                self._line.notify_all()

    def wait_for_output(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._line:
            while not any(needle in line for line in self.output):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc is not None and self.proc.poll() is not None):
                    return False
                self._line.wait(min(remaining, 0.5))
        return True

    def signal_group(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group (no cleanup, like an OOM kill or a pulled plug)."""
        self.signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return "\n".join(self.output)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LiveWorker(_Process):
    """`celery -A imperium worker` on a private filesystem broker under `var_dir`."""

    def __init__(self, var_dir: Path, *, queues: str = "default,stable,canary", concurrency: int = 1, pool: str = "prefork",
                 loglevel: str = "INFO", **env: str) -> None:
        self.var_dir = var_dir
        super().__init__(
            [sys.executable, "-m", "celery", "-A", "imperium", "worker", "--queues", queues, "--concurrency", str(concurrency),
             "--loglevel", loglevel, "--without-heartbeat", "--without-mingle", "--without-gossip", "--pool", pool],
            process_env(var_dir, **env),
        )

    def start(self, timeout: float = 60.0) -> LiveWorker:
        super().start()
        # "ready." is logged at INFO; the startup banner's queue list is printed at any level.
        if not self.wait_for_output("ready." if self.args[self.args.index("--loglevel") + 1].upper() in ("DEBUG", "INFO") else "[queues]",
                                    timeout):
            self.stop()
            raise RuntimeError(f"celery worker did not start:\n{self.log()}")
        return self

    def send(self, task_name: str, args: list[Any], *, queue: str = "stable") -> None:
        """Publish a task to this worker's broker folder (not the test process's broker)."""
        from kombu import Connection

        from imperium.celery import app

        folder = self.var_dir / "broker"
        options = {"data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
                   "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"), "store_processed": False}
        with Connection("filesystem://", transport_options=options) as conn:
            producer = app.amqp.Producer(conn, auto_declare=True)
            app.send_task(task_name, args=args, queue=queue, producer=producer)


class LiveWeb(_Process):
    """gunicorn serving `imperium.wsgi` on a free port."""

    def __init__(self, var_dir: Path, *, workers: int = 3, **env: str) -> None:
        self.port = free_port()
        super().__init__(
            [sys.executable, "-m", "gunicorn", "imperium.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--config", str(ROOT / "gunicorn.conf.py")],
            process_env(var_dir, **env),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveWeb:
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            self.wait_for_output("\x00never", 0.2)  # poll interval without a bare sleep
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log()}")


class LiveRedis(_Process):
    """`redis-server` on a free port of the loopback (no persistence), or, with `sentinel_of`, a
    Redis Sentinel watching that server as master `master_name`. The port is chosen at
    construction, so a client can be pointed at a server that is not started yet (an outage)."""

    def __init__(self, var_dir: Path, *, sentinel_of: LiveRedis | None = None, master_name: str = "imperium") -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("live Redis tests need the redis-server binary")
        self.port = free_port()
        self.sentinel_of, self.master_name = sentinel_of, master_name
        var_dir.mkdir(parents=True, exist_ok=True)
        if sentinel_of is None:
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", str(var_dir)]
        else:
            config = var_dir / f"sentinel-{self.port}.conf"
            config.write_text(f"port {self.port}\nbind 127.0.0.1\ndir {var_dir}\n"
                              f"sentinel monitor {master_name} 127.0.0.1 {sentinel_of.port} 1\n"
                              f"sentinel down-after-milliseconds {master_name} 60000\n")
            args = [binary, str(config), "--sentinel"]
        super().__init__(args, {"PATH": os.environ.get("PATH", "")})

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> LiveRedis:
        import redis

        super().start()
        probe = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc is not None and self.proc.poll() is None:
            try:
                if self.sentinel_of is None:
                    if probe.ping():
                        return self
                elif probe.sentinel_get_master_addr_by_name(self.master_name):
                    return self
            except redis.RedisError:
                pass
            self.wait_for_output("\x00never", 0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start:\n{self.log()}")


def worker_counter(metrics_dir: Path, name: str, **labels: str) -> float:
    """The sum over a worker's processes of a Prometheus counter (multiprocess files under
    `metrics_dir`, the worker's PROMETHEUS_MULTIPROC_DIR) whose labels include `labels`."""
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == f"{name}_total" and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
