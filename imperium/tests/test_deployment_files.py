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


def _stub_bin(tmp_path: Path, *, check_exit: int = 0) -> Path:
    """Stand-ins for the programs the entrypoint starts: each prints its PID and arguments and exits
    (python's `manage.py check` exits with `check_exit`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gunicorn", "celery", "curl"):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} pid=$$ args=$*"\n')
    (bin_dir / "python").write_text(
        '#!/bin/sh\necho "python pid=$$ args=$*"\n'
        f'case "$*" in "manage.py check"*) exit {check_exit};; esac\nexit 0\n')
    (bin_dir / "hostname").write_text("#!/bin/sh\necho box-1\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    return bin_dir


def _entrypoint(tmp_path: Path, *args: str, check_exit: int = 0, **env: str) -> tuple[int, int, list[str]]:
    """Run the entrypoint with stub programs; (exit code, the shell's PID, output lines)."""
    bin_dir = tmp_path / "bin" if (tmp_path / "bin").exists() else _stub_bin(tmp_path, check_exit=check_exit)
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "IMPERIUM_ROLE_FILE": str(tmp_path / "role"),
                   "VAR_DIR": str(tmp_path), **env}
    proc = subprocess.Popen(["sh", str(ENTRYPOINT), *args], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, proc.pid, out.splitlines()


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
@pytest.mark.parametrize(("role", "program", "expected"), [
    ("web", "gunicorn", "imperium.wsgi:application --config gunicorn.conf.py --bind 0.0.0.0:8000 --workers 2"),
    ("worker", "celery", "-A imperium worker --hostname worker@%h --queues default,stable --concurrency 4 --loglevel INFO --workers 2"),
    ("worker-canary", "celery", "-A imperium worker --hostname canary@%h --queues canary --concurrency 2 --loglevel INFO --workers 2"),
    ("beat", "celery", "-A imperium beat --loglevel INFO --workers 2"),
    ("migrate", "python", "manage.py migrate --noinput --workers 2"),
])
def test_each_role_execs_its_process_as_the_entrypoints_own_pid(tmp_path, role, program, expected):
    """`exec`: the server runs in the shell's own process (PID 1 in the container), with the role's
    arguments and the extra ones passed through; the role is remembered for the health check."""
    code, pid, lines = _entrypoint(tmp_path, role, "--workers", "2")
    assert code == 0, lines
    assert lines[-1] == f"{program} pid={pid} args={expected}", lines
    assert (tmp_path / "role").read_text().strip() == role
    if role == "web":  # the service check ran first, in a child process
        assert lines[0].startswith("python pid=") and lines[0].endswith("args=manage.py check --tag services --database default")
        assert lines[0] != f"python pid={pid} args=manage.py check --tag services --database default"
    if role == "beat":
        assert not (tmp_path / "beat.heartbeat").exists()


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_web_does_not_start_gunicorn_when_the_service_check_fails(tmp_path):
    code, _, lines = _entrypoint(tmp_path, "web", check_exit=1)
    assert code == 1
    assert not any(line.startswith("gunicorn") for line in lines), lines


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_default_role_is_web_and_any_other_command_is_execed_as_is(tmp_path):
    code, pid, lines = _entrypoint(tmp_path, PORT="9000")
    assert code == 0 and lines[-1] == f"gunicorn pid={pid} args=imperium.wsgi:application --config gunicorn.conf.py --bind 0.0.0.0:9000"
    code, pid, lines = _entrypoint(tmp_path, "python", "manage.py", "sentinel", "--once")
    assert code == 0 and lines == [f"python pid={pid} args=manage.py sentinel --once"]


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_web_and_worker_health_checks_ask_their_own_process(tmp_path):
    (tmp_path / "role").write_text("web\n")
    code, pid, lines = _entrypoint(tmp_path, "healthcheck", PUBLIC_BASE_URL="https://salon.example.com/base")
    assert code == 0
    assert lines == [f"curl pid={pid} args=-fsS --max-time 5 -o /dev/null -H Host: salon.example.com http://127.0.0.1:8000/health"]
    code, pid, lines = _entrypoint(tmp_path, "healthcheck", HEALTHCHECK_HOST="internal.host", PORT="9000")
    assert lines[-1].endswith("-H Host: internal.host http://127.0.0.1:9000/health")
    for role, node in (("worker", "worker@box-1"), ("worker-canary", "canary@box-1")):
        (tmp_path / "role").write_text(f"{role}\n")
        code, pid, lines = _entrypoint(tmp_path, "healthcheck")
        assert code == 0 and lines == [f"celery pid={pid} args=-A imperium inspect ping --destination {node} --timeout 5"]
