"""Health endpoints, each with its dependency up and down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
TOKEN = {"HTTP_AUTHORIZATION": "Bearer test-admin-token"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_answers_liveness_without_secrets(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["X-Correlation-ID"]


@pytest.mark.django_db
def test_it_reports_the_database_round_trip(client):
    response = client.get("/db-check")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["latency_ms"] >= 0


@pytest.mark.django_db
def test_it_keeps_admin_health_for_staff(client, operator_a):
    assert client.get("/admin/health").status_code == 401
    nonstaff = operator_a
    nonstaff.is_staff = False
    nonstaff.save()
    client.force_login(nonstaff)
    assert client.get("/admin/health").status_code == 403


@pytest.mark.django_db
def test_it_reports_every_dependency_healthy(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/health")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert {"database", "redis", "broker", "qdrant"} <= set(checks)
    assert checks["database"]["ok"] and checks["database"]["latency_ms"] is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setting", "value", "name"),
    [
        ("REDIS_URL", "redis://127.0.0.1:{port}/0", "redis"),
        ("QDRANT_URL", "http://127.0.0.1:{port}", "qdrant"),
        ("CELERY_BROKER_URL", "redis://127.0.0.1:{port}/0", "broker"),
    ],
)
def test_it_answers_503_naming_a_configured_dependency_that_is_down(client, settings, setting, value, name):
    setattr(settings, setting, value.format(port=_closed_port()))
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    if setting == "CELERY_BROKER_URL":
        from imperium.celery import app

        app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get("/admin/health", **TOKEN)
    finally:
        if setting == "CELERY_BROKER_URL":
            from imperium.celery import app

            app.conf.broker_url = "filesystem://"
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == [name]
    assert body["checks"][name]["ok"] is False and body["checks"][name]["configured"] is True


@pytest.mark.django_db
def test_it_reports_a_real_redis_when_configured(client, settings):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL not set: the embedded run has no Redis to check (CI sets it)")
    settings.REDIS_URL = redis_url
    response = client.get("/admin/health", **TOKEN)
    assert response.json()["checks"]["redis"]["ok"] is True


@pytest.mark.live
def test_it_serves_liveness_while_the_database_is_down(tmp_path):
    """A real server process whose database is unreachable: /health 200, /db-check and /admin/health 503."""
    port = _closed_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{_closed_port()}/none",
        "VAR_DIR": str(tmp_path),
        "ADMIN_API_TOKEN": "t0ken-for-this-test",
        "DJANGO_SETTINGS_MODULE": "imperium.settings",
        "LOG_LEVEL": "error",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "imperium.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.get(f"{base}/health", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or the worker still loading the app
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200
        assert requests.get(f"{base}/db-check", timeout=5).status_code == 503
        health = requests.get(f"{base}/admin/health", headers={"Authorization": "Bearer t0ken-for-this-test"}, timeout=10)
        assert health.status_code == 503
        assert "database" in health.json()["failing"]
    finally:
        server.terminate()
        server.wait(timeout=10)
