"""Correlation ids everywhere: unhandled exceptions in requests and tasks become ErrorLogs
with the id the caller sees; logs carry it with the tenant; traces lead to their errors."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client as HttpClient

from imperium.core.correlation import correlation_scope
from imperium.core.logging import ContextFilter, JsonFormatter
from incidents.errors import error_log_record
from incidents.models import ErrorLog

pytestmark = pytest.mark.django_db


def boom(*args, **kwargs):
    raise RuntimeError("injected failure")


def test_an_unhandled_exception_in_a_django_view_is_an_errorlog_with_the_requests_correlation_id(monkeypatch, tenant_a):
    monkeypatch.setattr("conversations.views.webhook_receive", boom)
    client = HttpClient(raise_request_exception=False)

    response = client.post("/webhook/alpha", data=b"{}", content_type="application/json", HTTP_X_CORRELATION_ID="req-boom-0001")

    assert response.status_code == 500 and response["X-Correlation-ID"] == "req-boom-0001"
    entry = ErrorLog.objects.get()
    assert entry.where == "http POST /webhook/alpha" and entry.exception_type == "RuntimeError"
    assert entry.correlation_id == "req-boom-0001" and "injected failure" in entry.traceback
    assert entry.context["path"] == "/webhook/alpha"


def test_an_unhandled_exception_in_an_api_view_is_an_errorlog_too(monkeypatch, client):
    monkeypatch.setattr("imperium.views.run_health_checks", boom)
    client = HttpClient(raise_request_exception=False)
    response = client.get("/admin/health", HTTP_AUTHORIZATION="Bearer test-admin-token")
    assert response.status_code == 500
    entry = ErrorLog.objects.get()
    assert entry.where == "http GET /admin/health" and entry.correlation_id == response["X-Correlation-ID"]


def test_a_404_is_not_an_error(client):
    assert client.get("/incidents/12345/rca", HTTP_AUTHORIZATION="Bearer test-admin-token").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert not ErrorLog.objects.exists()


def test_the_webhook_fast_path_records_its_failures(monkeypatch, tenant_a):
    from conversations.fastpath import with_webhook_fast_path

    monkeypatch.setattr("conversations.webhook.webhook_receive", boom)
    # As Django's test client does: the request signals must not close the test's connection.
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app = with_webhook_fast_path(lambda environ, start_response: [b"django"])
    statuses = []
    try:
            body = app({"REQUEST_METHOD": "POST", "PATH_INFO": "/webhook/alpha", "CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}"),
                    "HTTP_X_CORRELATION_ID": "fast-boom-0001"}, lambda status, headers: statuses.append((status, dict(headers))))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert statuses[0][0].startswith("500") and statuses[0][1]["X-Correlation-ID"] == "fast-boom-0001"
    assert json.loads(b"".join(body)) == {"error": "internal error"}
    entry = ErrorLog.objects.get()
    assert entry.correlation_id == "fast-boom-0001" and entry.exception_type == "RuntimeError"


def test_a_failing_task_is_an_errorlog_with_the_publishers_correlation_id_and_tenant(celery_eager, tenant_a):
    from conversations.tasks import outbound_deliver

    result = outbound_deliver.apply(args=[987654], headers={"correlation_id": "corr-task-12345678", "tenant": "alpha"}, throw=False)

    assert result.state == "FAILURE"
    entry = ErrorLog.objects.get()
    assert entry.where == "task conversations.outbound_deliver" and entry.exception_type == "DoesNotExist"
    assert entry.correlation_id == "corr-task-12345678" and entry.tenant == tenant_a
    assert entry.context["args"] == ["987654"]


def test_a_webhook_request_labels_its_logs_and_queued_tasks_with_the_tenant(tenant_a, monkeypatch, caplog):
    from conversations.services import inbound as inbound_service

    seen = {}

    def accept(**kwargs):
        from imperium.core.correlation import get_correlation_id, get_tenant_label

        seen.update(tenant=get_tenant_label(), correlation_id=get_correlation_id())
        raise RuntimeError("stop here")

    monkeypatch.setattr(inbound_service, "inbound_accept", accept)
    monkeypatch.setattr(inbound_service, "payload_parse", lambda data: data)
    monkeypatch.setattr("conversations.webhook.verify", lambda *a, **k: None)
    client = HttpClient(raise_request_exception=False)
    client.post("/webhook/alpha", data=b'{"x": 1}', content_type="application/json", HTTP_X_CORRELATION_ID="req-label-0001",
                headers={"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"})
    assert seen == {"tenant": "alpha", "correlation_id": "req-label-0001"}
    assert ErrorLog.objects.get().tenant == tenant_a  # resolved from the label


def test_log_lines_are_json_with_correlation_id_and_tenant(tenant_a):
    record = logging.LogRecord("incidents", logging.ERROR, __file__, 1, "%s failed", ("chatflow.send",), None)
    with correlation_scope("corr-json-0001", tenant="alpha"):
        ContextFilter().filter(record)
        entry = error_log_record(where="chatflow.send", message="ChatFlow answered 502")
    line = json.loads(JsonFormatter().format(record))
    assert line["correlation_id"] == "corr-json-0001" and line["tenant"] == "alpha" and line["message"] == "chatflow.send failed"
    assert entry.correlation_id == "corr-json-0001" and entry.tenant_id == tenant_a.pk


def test_a_message_trace_leads_to_the_errors_of_its_turn(login, superuser, tenant_a, fake_chatflow, time_machine):
    from django.utils import timezone

    from conversations.models import MessageTrace
    from conversations.selectors import trace_error_logs
    from incidents.tests.conftest import accept_message, run_due_turn, stable_kb

    time_machine.move_to(timezone.now())
    stable_kb(tenant_a)
    fake_chatflow.fail(503, times=10)
    accepted = accept_message(tenant_a)
    time_machine.shift(20)
    run_due_turn(accepted.conversation_id)

    trace = MessageTrace.objects.get()
    [error] = trace_error_logs(trace)
    assert error.where == "chatflow.send" and trace.send_status == "failed"
    page = login(superuser).get(f"/admin/conversations/messagetrace/{trace.pk}/change/").content.decode()
    assert f"/admin/incidents/errorlog/{error.pk}/change/" in page
    page = login(superuser).get(f"/admin/incidents/errorlog/{error.pk}/change/").content.decode()
    assert f"/admin/conversations/messagetrace/?q={trace.correlation_id}" in page
