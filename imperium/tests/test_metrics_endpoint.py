"""GET /metrics: Prometheus text, guarded by METRICS_TOKEN; Celery task and sentinel metrics."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families


def _samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


@pytest.mark.django_db
def test_with_a_token_metrics_needs_the_bearer(client, settings):
    settings.METRICS_TOKEN = "m3trics-t0ken"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic m3trics-t0ken").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer m3trics-t0ken")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert "# TYPE imperium_webhook_accept_seconds histogram" in text
    assert "imperium_outbox_backlog" in text


@pytest.mark.django_db
def test_without_a_token_metrics_is_open(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_celery_tasks_are_counted_by_state(client, celery_eager):
    from celery import shared_task

    @shared_task(name="imperium.tests.metrics_probe")
    def probe(fail: bool) -> str:
        if fail:
            raise ValueError("boom")
        return "ok"

    from imperium.celery import app

    try:
        before = _samples(client.get("/metrics"))
        probe.delay(False)
        app.conf.task_eager_propagates = False  # as in a worker: the failure is recorded, not raised (celery_eager restores it)
        assert probe.delay(True).state == "FAILURE"
        after = _samples(client.get("/metrics"))
    finally:
        app.tasks.unregister("imperium.tests.metrics_probe")
    for state in ("succeeded", "failed"):
        key = ("imperium_celery_tasks_total", (("state", state), ("task", "imperium.tests.metrics_probe")))
        assert after.get(key, 0) - before.get(key, 0) == 1, state


@pytest.mark.django_db
def test_sentinel_check_states_of_the_latest_run(client, settings):
    from incidents.choices import SentinelTrigger
    from incidents.sentinel import sentinel_run

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    sentinel_run(trigger=SentinelTrigger.COMMAND, record=True, names=["database", "redis"])
    samples = _samples(client.get("/metrics"))
    assert samples[("imperium_sentinel_checks", (("check", "database"), ("state", "ok")))] == 1
    assert samples[("imperium_sentinel_checks", (("check", "redis"), ("state", "fail")))] == 1
    assert samples[("imperium_sentinel_last_run_age_seconds", ())] >= 0
    assert samples[("imperium_collector_sentinel_up", ())] == 1


def test_the_grafana_dashboard_queries_only_metrics_we_export():
    """docs/grafana-dashboard.json stays in step with imperium.core.metrics and the collectors."""
    import json
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exported = {"imperium_webhook_requests_total", "imperium_webhook_accept_seconds_bucket", "imperium_turns_total",
                "imperium_turn_seconds_bucket", "imperium_deliveries_total", "imperium_delivery_attempts_sum",
                "imperium_delivery_attempts_count", "imperium_escalations_total", "imperium_celery_tasks_total",
                "imperium_outbox_backlog", "imperium_outbox_oldest_due_seconds", "imperium_sentinel_checks",
                "imperium_sentinel_last_run_age_seconds", "imperium_collector_outbox_up", "imperium_collector_sentinel_up"}
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"imperium_[a-z_]+", target["expr"])}
    assert used and used <= exported, used - exported


def test_multiprocess_files_are_named_by_host_and_pid():
    """Containers sharing the metrics folder each have a PID namespace of their own (gunicorn's
    worker 7 and a Celery child 7): the files carry the hostname too, so they never collide."""
    import os

    from imperium.core import metrics
    from imperium.core.metricsproc import HOST, process_identifier

    assert process_identifier() == f"{HOST}-{os.getpid()}" and HOST
    metrics.DELIVERIES.labels(outcome="test-naming").inc()
    files = set(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    assert f"counter_{process_identifier()}.db" in files, files
    assert f"counter_{os.getpid()}.db" not in files


def test_gunicorn_drops_the_live_gauges_of_an_exited_worker_by_its_identifier(tmp_path, monkeypatch):
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    from imperium.core.metricsproc import process_identifier

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    mine, other = tmp_path / f"gauge_livesum_{process_identifier(4242)}.db", tmp_path / "gauge_livesum_other-host-4242.db"
    mine.write_bytes(b""), other.write_bytes(b"")
    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    warnings = []
    config["child_exit"](SimpleNamespace(log=SimpleNamespace(warning=lambda *a: warnings.append(a))), SimpleNamespace(pid=4242))
    assert not mine.exists() and other.exists() and not warnings
