"""The container files, read as an operator would (no Docker on the test machine): every role
execs its server, the compose file guards its secrets, and the entrypoint's health check
answers per role."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def test_the_image_runs_the_entrypoint_in_exec_form_with_the_runtime_lock():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in dockerfile and 'CMD ["web"]' in dockerfile
    assert 'HEALTHCHECK' in dockerfile and '"/app/docker/entrypoint.sh", "healthcheck"' in dockerfile
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "sh -c" not in dockerfile
    script = ENTRYPOINT.read_text()
    for command in ("exec gunicorn", "exec celery -A imperium worker", "exec celery -A imperium beat",
                    "exec python manage.py migrate"):
        assert command in script


def test_compose_guards_secrets_and_keeps_the_canary_off_the_build():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "QDRANT_API_KEY"):
        assert f"${{{name}:?" in text
    services = yaml.safe_load(text)["services"]
    assert "build" not in services["worker-canary"] and "CANARY_TAG" in services["worker-canary"]["image"]
    assert [name for name, service in services.items() if "build" in service] == ["migrate"]
    assert "healthcheck" in services["qdrant"]
    env = services["web"]["environment"]
    assert env["REDIS_URL"].rsplit("/", 1)[1] != env["CELERY_BROKER_URL"].rsplit("/", 1)[1]
    commands = {name: services[name]["command"] for name in ("web", "worker", "worker-canary", "beat", "migrate")}
    assert commands == {"web": ["web"], "worker": ["worker"], "worker-canary": ["worker-canary"], "beat": ["beat"],
                        "migrate": ["migrate"]}


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_beat_health_check_follows_the_schedule_heartbeat(tmp_path):
    role_file, heartbeat = tmp_path / "role", tmp_path / "beat.heartbeat"
    role_file.write_text("beat\n")
    env = {"PATH": os.environ["PATH"], "IMPERIUM_ROLE_FILE": str(role_file), "BEAT_HEARTBEAT_FILE": str(heartbeat),
           "BEAT_HEARTBEAT_MAX_AGE": "60"}

    def check() -> int:
        return subprocess.run(["sh", str(ENTRYPOINT), "healthcheck"], env=env, capture_output=True, timeout=30).returncode

    assert check() == 1  # no heartbeat yet
    heartbeat.touch()
    assert check() == 0
    stale = time.time() - 300
    os.utime(heartbeat, (stale, stale))
    assert check() == 1
    role_file.write_text("migrate\n")
    assert check() == 0


def test_the_heartbeat_scheduler_touches_the_file_on_every_tick(settings, tmp_path, monkeypatch):
    from django_celery_beat.schedulers import DatabaseScheduler

    from imperium.beat import HeartbeatScheduler

    settings.BEAT_HEARTBEAT_FILE = tmp_path / "sub" / "beat.heartbeat"
    monkeypatch.setattr(DatabaseScheduler, "tick", lambda self, *a, **k: 5.0)
    assert HeartbeatScheduler.tick(object.__new__(HeartbeatScheduler)) == 5.0
    assert settings.BEAT_HEARTBEAT_FILE.exists()


def test_gunicorn_access_lines_are_json_with_the_correlation_id(capsys):
    import json
    import logging
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from imperium.gunicorn_logging import JsonLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLogger(cfg)
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(handler.format(record))
    handler.setFormatter(logger.access_log.handlers[0].formatter)
    logger.access_log.addHandler(handler)
    response = SimpleNamespace(status="200 OK", status_code=200, sent=27,
                               headers=[("Content-Type", "application/json"), ("X-Correlation-ID", "abc123")])
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhook/alpha", "REMOTE_ADDR": "10.0.0.5", "HTTP_USER_AGENT": 'Chat"Flow'}
    logger.access(response, SimpleNamespace(), environ, timedelta(milliseconds=4.5))
    line = json.loads(records[-1])
    assert line["correlation_id"] == "abc123" and line["status"] == 200 and line["path"] == "/webhook/alpha"
    assert line["duration_ms"] == 4.5 and line["user_agent"] == 'Chat"Flow' and line["logger"] == "gunicorn.access"
