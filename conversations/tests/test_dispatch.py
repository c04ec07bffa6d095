"""Publishing pipeline tasks, and the WSGI fast path of the webhook."""

from __future__ import annotations

import base64
import io
import json
import threading
import uuid

import pytest
from django.conf import settings
from kombu import Connection

from conversations import dispatch
from conversations.conftest import message_body
from conversations.fastpath import with_webhook_fast_path
from conversations.models import InboundMessage
from conversations.signing import signed_headers
from conversations.testing.live import LiveWorker
from imperium.celery import app
from imperium.core.celery_lpush import celery_lpush, kombu_redis_envelope


def _message(eta=None):
    return app.amqp.as_task_v2(str(uuid.uuid4()), "conversations.turn_run", args=[42], kwargs={}, eta=eta)


def test_the_redis_envelope_is_what_kombu_itself_would_store():
    message = _message()
    ours = kombu_redis_envelope("stable", "conversations.turn_run", message)
    with Connection("memory://") as conn:
        producer = app.amqp.Producer(conn, auto_declare=True)
        app.amqp.send_task_message(producer, "conversations.turn_run", _message_copy(message), queue="stable", retry=False)
        theirs = conn.default_channel._get("stable")
    for envelope in (ours, theirs):
        envelope["properties"].pop("delivery_tag")
        envelope["properties"].pop("reply_to", None)
    assert set(ours) == set(theirs)
    assert ours["properties"] == theirs["properties"]
    assert ours["headers"] == theirs["headers"]
    assert ours["content-type"] == theirs["content-type"] and ours["content-encoding"] == theirs["content-encoding"]
    assert json.loads(base64.b64decode(ours["body"])) == json.loads(base64.b64decode(theirs["body"]))
    assert ours["headers"]["correlation_id"]  # our before_task_publish handler ran


def _message_copy(message):
    return type(message)(dict(message.headers), dict(message.properties), message.body, message.sent_event)


@pytest.mark.live
def test_a_real_worker_consumes_what_the_configured_broker_path_publishes(tmp_path):
    """With REDIS_URL set this is the direct LPUSH path; otherwise kombu's filesystem transport."""
    queue = f"live-{uuid.uuid4().hex[:8]}"
    if settings.REDIS_URL:
        worker = LiveWorker(tmp_path, queues=queue, CELERY_BROKER_URL=settings.REDIS_URL).start()
        publish = lambda: celery_lpush(settings.REDIS_URL, queue, "conversations.outbox_sweep",  # noqa: E731
                                                 app.amqp.as_task_v2(str(uuid.uuid4()), "conversations.outbox_sweep", args=[],
                                                                     kwargs={}))
    else:
        worker = LiveWorker(tmp_path, queues=queue).start()
        publish = lambda: worker.send("conversations.outbox_sweep", [], queue=queue)  # noqa: E731
    try:
        publish()
        assert worker.wait_for_output("conversations.outbox_sweep", timeout=30), worker.log()
        assert worker.wait_for_output("succeeded", timeout=30), worker.log()
    finally:
        worker.stop()


def test_a_broken_broker_connection_is_retried_once_on_a_fresh_producer(monkeypatch):
    """The kombu path (non-Redis brokers): a failed publish drops the producer and retries."""
    sent = []
    calls = []

    def flaky(producer, name, message, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise ConnectionError("broker went away")
        sent.append((name, kwargs["queue"]))

    monkeypatch.setattr(app.amqp, "send_task_message", flaky)
    monkeypatch.setattr(app.conf, "broker_url", "filesystem://")
    monkeypatch.setattr(dispatch, "_producer", lambda app_: object())
    _REAL_PUBLISH("conversations.turn_run", [1], queue="stable")
    assert sent == [("conversations.turn_run", "stable")]


# The real _publish, captured at import: the autouse `queued` fixture replaces it in tests.
_REAL_PUBLISH = dispatch._publish


def test_a_publish_that_fails_is_left_to_the_sweeper(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(dispatch, "_publish", broken)
    dispatch.dispatch_escalation_notify(escalation_id=1)  # must not raise into the caller
    assert "outbox sweeper will retry" in caplog.text


# --- WSGI fast path ---------------------------------------------------------------------------


class _Django:
    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"django"]


def _call(app_, method, path, body=b"", headers=None):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer = {}

    def start_response(status, response_headers):
        answer["status"], answer["headers"] = status, dict(response_headers)

    answer["body"] = b"".join(app_(environ, start_response))
    return answer


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_accepts_a_signed_message_without_django(tenant_a):
    django_app = _Django()
    wsgi = with_webhook_fast_path(django_app)
    body = json.dumps(message_body(message_id="wamid.fast")).encode()
    headers = {**signed_headers(tenant_a.settings.webhook_secret, body), "X-Correlation-ID": "trace-from-chatflow-1"}

    answer = _call(wsgi, "POST", f"/webhook/{tenant_a.slug}", body, headers)

    assert answer["status"] == "200 OK" and json.loads(answer["body"]) == {"status": "accepted"}
    assert answer["headers"]["X-Correlation-ID"] == "trace-from-chatflow-1"
    assert django_app.calls == 0
    assert InboundMessage.objects.get().correlation_id == "trace-from-chatflow-1"
    assert json.loads(_call(wsgi, "POST", f"/webhook/{tenant_a.slug}", body, headers)["body"]) == {"status": "duplicate"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "path"), [("GET", "/webhook/alpha"), ("POST", "/webhook/"), ("POST", "/webhooks/alpha"),
                                              ("POST", "/admin/outbox/process"), ("POST", "/webhook/a/b")])
def test_the_fast_path_leaves_other_requests_to_django(method, path):
    django_app = _Django()
    assert _call(with_webhook_fast_path(django_app), method, path)["body"] == b"django"
    assert django_app.calls == 1


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_answers_the_contract_errors(tenant_a):
    wsgi = with_webhook_fast_path(_Django())
    signed = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}
    assert _call(wsgi, "POST", "/webhook/nobody", b"{}")["status"].startswith("401")  # unsigned: refused first
    assert _call(wsgi, "POST", "/webhook/nobody", b"{}", signed)["status"].startswith("404")
    assert _call(wsgi, "POST", f"/webhook/{tenant_a.slug}", b"{}")["status"].startswith("401")
    assert _call(wsgi, "POST", "/webhook", b"not json", signed)["status"].startswith("400")
    big = b"x" * (64 * 1024 + 1)
    assert _call(wsgi, "POST", f"/webhook/{tenant_a.slug}", big)["status"].startswith("413")


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_error_is_a_logged_500(tenant_a, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("conversations.webhook.webhook_receive", explode)
    answer = _call(with_webhook_fast_path(_Django()), "POST", f"/webhook/{tenant_a.slug}", b"{}")
    assert answer["status"].startswith("500") and answer["headers"]["X-Correlation-ID"]
    assert "database on fire" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_lost_since_the_last_request_is_replaced_without_a_500(tenant_a):
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("terminating a server connection needs Postgres (CI runs it)")
    wsgi = with_webhook_fast_path(_Django())

    def post(message_id):
        body = json.dumps(message_body(message_id=message_id)).encode()
        return _call(wsgi, "POST", f"/webhook/{tenant_a.slug}", body, signed_headers(tenant_a.settings.webhook_secret, body))

    assert post("wamid.before")["status"] == "200 OK"
    lost = connection.connection.info.backend_pid
    admin = connections.create_connection("default")
    with admin.cursor() as cursor:  # what a database restart or failover does to the web worker's connection
        cursor.execute("SELECT pg_terminate_backend(%s)", [lost])
    admin.close()

    answer = post("wamid.after")

    assert answer["status"] == "200 OK" and json.loads(answer["body"]) == {"status": "accepted"}
    assert InboundMessage.objects.filter(provider_message_id="wamid.after").count() == 1
    assert connection.connection.info.backend_pid != lost


@pytest.mark.django_db(transaction=True)
def test_a_database_error_on_a_working_connection_is_not_retried(tenant_a, monkeypatch):
    from django.db import OperationalError, connection

    calls = []

    def timeout(**kwargs):
        calls.append(kwargs)
        raise OperationalError("canceling statement due to statement timeout")

    connection.ensure_connection()
    monkeypatch.setattr("conversations.webhook.webhook_receive", timeout)
    answer = _call(with_webhook_fast_path(_Django()), "POST", f"/webhook/{tenant_a.slug}", b"{}")

    assert answer["status"].startswith("500") and len(calls) == 1


def test_the_fast_path_can_be_switched_off(settings):
    settings.WEBHOOK_FAST_PATH = False
    django_app = _Django()
    assert with_webhook_fast_path(django_app) is django_app


def test_the_project_wsgi_application_has_the_fast_path():
    from imperium.wsgi import application

    assert hasattr(application, "django_app")


def test_publishing_is_thread_local(monkeypatch):
    """Producers are not thread-safe: each thread gets its own."""
    acquired = []
    monkeypatch.setattr(app.producer_pool, "acquire", lambda block=True: acquired.append(threading.get_ident()) or object())
    dispatch._local.__dict__.clear()
    dispatch._producer(app)
    thread = threading.Thread(target=dispatch._producer, args=(app,))
    thread.start()
    thread.join()
    dispatch._producer(app)
    assert len(acquired) == 2 and acquired[0] != acquired[1]
    dispatch._local.__dict__.clear()
