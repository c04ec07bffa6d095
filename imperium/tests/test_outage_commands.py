"""Diagnostics never refuse: with Redis (or Qdrant) down, management commands run and report the
outage; only `check --tag services` and gunicorn's start probe the services and complain."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from conversations.testing.live import ROOT, process_env


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=process_env(tmp_path, **env),
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_sentinel_once_reports_redis_failing_without_a_traceback(tmp_path):
    result = _manage(tmp_path, "sentinel", "--once", REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
                     HEALTH_CHECK_TIMEOUT="0.5")
    assert result.returncode == 1, result.stderr
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert any(line.split()[1] == "redis" for line in failing), result.stdout
    assert any(line.startswith("ok") and line.split()[1] == "database" for line in result.stdout.splitlines())
    assert "Traceback" not in result.stderr + result.stdout
    assert "SystemCheckError" not in result.stderr


@pytest.mark.django_db(transaction=True)
def test_migrate_runs_while_redis_and_qdrant_are_down(tmp_path):
    result = _manage(tmp_path, "migrate", "--noinput", REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
                     QDRANT_URL=f"http://127.0.0.1:{_closed_port()}", QDRANT_API_KEY="k")
    assert result.returncode == 0, result.stderr
    assert "No migrations to apply" in result.stdout


def test_only_the_services_tag_probes_the_services(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    call_command("check")  # configuration only: no error for the outage
    with pytest.raises(SystemCheckError, match="redis is configured"):
        call_command("check", tags=["services"])


def test_commands_run_their_own_checks_without_probing_services(settings, capsys):
    """Every command's implicit system checks (skip_checks=False is what manage.py does) pass
    during the outage: the kb_* and telegram_* commands get to report it themselves."""
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.QDRANT_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.QDRANT_API_KEY = "k"
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    from django.core.management.base import BaseCommand

    BaseCommand().check()  # the checks every command runs before handle(): no SystemCheckError


@pytest.mark.django_db(transaction=True)
def test_kb_import_reports_qdrant_down_without_a_traceback(tmp_path):
    """The command runs (no start-up refusal) and reports what it cannot reach: a CommandError
    naming the failure, exit 1. The draft stays (Postgres is the truth) with a failed sync log, so
    `kb_reindex` can index it once Qdrant is back."""
    import json

    from knowledge.models import KnowledgeSyncLog, KnowledgeVersion
    from tenants.tests.factories import ClientFactory

    tenant = ClientFactory()
    kb = tmp_path / "kb.jsonl"
    kb.write_text(json.dumps({"id": "hours", "question": "Какой у вас график?", "answer": "Ежедневно с 10:00 до 21:00."},
                             ensure_ascii=False) + "\n", encoding="utf-8")
    result = _manage(tmp_path, "kb_import", "--tenant", tenant.slug, str(kb), REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
                     QDRANT_URL=f"http://127.0.0.1:{_closed_port()}", QDRANT_API_KEY="k", HEALTH_CHECK_TIMEOUT="0.5")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "CommandError" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "SystemCheckError" not in result.stderr
    version = KnowledgeVersion.objects.get(tenant=tenant)
    assert version.status == "draft"
    assert list(KnowledgeSyncLog.objects.filter(version=version).values_list("status", flat=True)) == ["failed"]


@pytest.mark.django_db(transaction=True)
def test_telegram_set_webhook_reports_the_bot_api_unreachable(tmp_path):
    result = _manage(tmp_path, "telegram_set_webhook", REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
                     TELEGRAM_API_URL=f"http://127.0.0.1:{_closed_port()}", ALERT_BOT_TOKEN="123:abc",
                     TELEGRAM_WEBHOOK_SECRET="s3cret-s3cret", PUBLIC_BASE_URL="https://imperium.example.com", TELEGRAM_TIMEOUT="1")
    assert result.returncode != 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout and "SystemCheckError" not in result.stderr, result.stderr
