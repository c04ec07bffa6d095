"""Redis with real processes (issue 16.6 and 16.7): a Celery worker started while its broker and
cache are down keeps retrying and runs a turn once Redis is back; and the whole reply path —
gunicorn's webhook dedup, the cache, task publishing and the worker's broker — works through a real
Redis Sentinel (`redis+sentinel://` for REDIS_URL, `sentinel://` for CELERY_BROKER_URL).

Each test runs its own redis-server (and sentinel) on free ports of the loopback, never the shared
Redis, and stops them at the end.
"""

from __future__ import annotations

import json
import shutil
import threading

import pytest
import redis
import requests

from conversations.models import InboundMessage, SandboxMessage, Turn
from conversations.services import inbound_accept, payload_parse
from conversations.signing import signed_headers
from conversations.testing.live import LiveRedis, LiveWeb, LiveWorker, _Process
from tenants.tests.factories import ClientFactory

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary"),
]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    pause = threading.Event()
    for _ in range(int(timeout / interval) + 1):
        if predicate():
            return True
        pause.wait(interval)
    return predicate()


def _publish_turn(broker_url: str, conversation_id: int, **transport_options: object) -> None:
    """Queue a turn on `broker_url` as the web process would (kombu producer, the stable queue)."""
    from kombu import Connection

    from imperium.celery import app

    with Connection(broker_url, transport_options=transport_options or None) as conn:
        producer = app.amqp.Producer(conn, auto_declare=True)
        app.send_task("conversations.turn_run", args=[conversation_id], queue="stable", producer=producer)


def test_a_worker_started_during_a_redis_outage_recovers_and_runs_the_queued_turn(tmp_path):
    tenant = ClientFactory(settings__coalesce_window_seconds=0)
    message = payload_parse({"message_id": "wamid.outage", "from": "+77011234567", "type": "text", "text": "Вы работаете?"})
    accepted = inbound_accept(tenant=tenant, message=message)

    server = LiveRedis(tmp_path / "redis")  # its port is reserved, nothing listens yet: the outage
    worker = LiveWorker(tmp_path, CELERY_BROKER_URL=f"{server.url}/1", REDIS_URL=f"{server.url}/0", CHATFLOW_BASE_URL="")
    _Process.start(worker)  # not LiveWorker.start: it would wait for "ready.", which cannot come yet
    try:
        assert worker.wait_for_output("Cannot connect to redis", 60), worker.log()
        assert worker.proc is not None and worker.proc.poll() is None, f"the worker exited during the outage:\n{worker.log()}"
        assert "ready." not in worker.log()

        server.start()  # the outage ends
        assert worker.wait_for_output("ready.", 90), worker.log()
        _publish_turn(f"{server.url}/1", accepted.conversation_id)
        assert wait_until(lambda: Turn.objects.filter(status__in=("escalated", "answered")).exists() and SandboxMessage.objects.exists(),
                          timeout=60), worker.log()
        log = worker.log()  # before the stop (a SIGTERM to the pool may log its own traceback)
    finally:
        worker.stop()
        server.stop()

    assert Turn.objects.count() == 1
    assert SandboxMessage.objects.count() == 1  # answered once (here: the holding reply of the placeholder brain)
    assert "Traceback" not in log and "Connected to redis" in log


def test_webhook_and_worker_run_a_turn_through_redis_sentinel(tmp_path):
    master = LiveRedis(tmp_path / "master").start()
    sentinel = LiveRedis(tmp_path / "sentinel", sentinel_of=master, master_name="imperium").start()
    env = {
        "REDIS_URL": f"redis+sentinel://127.0.0.1:{sentinel.port}/imperium/0",
        "CELERY_BROKER_URL": f"sentinel://127.0.0.1:{sentinel.port}",
        "CELERY_BROKER_MASTER_NAME": "imperium",
        "CHATFLOW_BASE_URL": "",
        "ADMIN_API_TOKEN": "sentinel-admin",
    }
    tenant = ClientFactory(settings__coalesce_window_seconds=0)
    body = json.dumps({"message_id": "wamid.sentinel", "from": "+77017654321", "type": "text", "text": "Здравствуйте"}).encode()
    web = worker = None
    try:
        web = LiveWeb(tmp_path / "web", workers=1, **env).start()
        worker = LiveWorker(tmp_path / "worker", **env).start()

        def deliver() -> requests.Response:
            return requests.post(f"{web.url}/webhook/{tenant.slug}", data=body,
                                 headers=signed_headers(tenant.settings.webhook_secret, body), timeout=30)

        first, again = deliver(), deliver()
        assert (first.status_code, first.json()) == (200, {"status": "accepted"}), first.text
        assert (again.status_code, again.json()) == (200, {"status": "duplicate"}), again.text
        assert wait_until(lambda: Turn.objects.filter(status__in=("escalated", "answered")).exists() and SandboxMessage.objects.exists(),
                          timeout=60), f"{worker.log()}\n{web.log()}"

        # Everything went to the master the sentinel named: the webhook's dedup key, the broker's
        # queue bindings, the worker's cache entries.
        data = redis.Redis(host="127.0.0.1", port=master.port, db=0)
        keys = {key.decode() for key in data.keys("*")}
        assert "_kombu.binding.default" in keys, keys  # the turn queue's binding, declared by the publisher
        assert any(key.startswith("imperium:wh:") and key.endswith(":wamid.sentinel") for key in keys), keys  # dedup
        health = requests.get(f"{web.url}/admin/health", headers={"Authorization": "Bearer sentinel-admin"}, timeout=30)
    finally:
        for process in (worker, web, sentinel, master):
            if process is not None:
                process.stop()

    assert InboundMessage.objects.count() == 1
    assert SandboxMessage.objects.count() == 1
    checks = health.json()["checks"]
    assert checks["redis"]["ok"] and checks["broker"]["ok"], checks

