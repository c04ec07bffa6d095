"""A Redis or broker that accepts connections and never answers: bounded waits everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from imperium.core.redisline import RedisLine
from imperium.core.testing.silent_tcp import SilentServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent():
    with SilentServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_redis_lines():
    RedisLine._lines.clear()
    yield
    RedisLine._lines.clear()


def test_admin_health_answers_503_within_the_deadline_when_redis_and_the_broker_hang(client, superuser, settings, silent):
    settings.REDIS_URL = silent.url
    settings.CELERY_BROKER_URL = silent.url
    settings.HEALTH_CHECK_TIMEOUT = 30  # the probes' own timeouts would not save us: the deadline must
    settings.HEALTH_CHECK_DEADLINE = 1.0
    settings.HEALTH_CHECKS = ["imperium.core.health.check_database", "imperium.core.health.check_redis"]
    client.force_login(superuser)

    started = time.monotonic()
    response = client.get("/admin/health")
    waited = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert "no answer within 1 s" in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert waited < 10  # bounded by the deadline, not by the 30 s probe timeout
    assert silent.accepted >= 1  # the probe really connected and was left hanging


def test_the_startup_check_reports_a_hung_broker_within_the_deadline(settings, silent):
    from imperium.core.checks import configured_services_reachable

    settings.REDIS_URL = silent.url
    settings.CELERY_BROKER_URL = silent.url
    settings.HEALTH_CHECK_TIMEOUT = 30
    settings.HEALTH_CHECK_DEADLINE = 1.0

    errors = configured_services_reachable()

    assert {e.id for e in errors} == {"imperium.E_REDIS", "imperium.E_BROKER"}


def _wait_for_health(port: int, seconds: float) -> int | None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                return response.status
        except OSError:
            time.sleep(0.2)  # polling a starting server's socket, not waiting for work
    return None


@pytest.mark.live
def test_gunicorn_starts_and_serves_health_while_redis_and_the_broker_hang(silent, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "REDIS_URL": silent.url, "CELERY_BROKER_URL": silent.url, "HEALTH_CHECK_TIMEOUT": "30",
           "HEALTH_CHECK_DEADLINE": "1", "WEB_CONCURRENCY": "1", "DJANGO_SETTINGS_MODULE": "imperium.settings"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                               "imperium.wsgi:application"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        status = _wait_for_health(port, 40)
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode(errors="replace")
    assert status == 200, output[-3000:]
    assert "STARTUP CHECK FAILED" in output and "no answer within 1 s" in output
