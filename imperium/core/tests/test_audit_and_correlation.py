from __future__ import annotations

import json
import logging

import pytest

from imperium.core.actors import Actor
from imperium.core.logging import ContextFilter, JsonFormatter
from imperium.core.models import AuditLog
from imperium.core.services import audit_record

pytestmark = pytest.mark.django_db


def test_audit_record_masks_secret_payload_keys(tenant_a):
    entry = audit_record(
        actor=Actor.telegram(42, "ceo"), action="x.done", tenant=tenant_a, obj=tenant_a,
        payload={"token": "abcdefghijklmnop", "nested": {"api_key": "zzzzzzzzzzzz1234"}, "plain": "keep"},
    )
    stored = AuditLog.objects.get(pk=entry.pk)
    dumped = json.dumps(stored.payload)
    assert "abcdefghijklmnop" not in dumped and "zzzzzzzzzzzz1234" not in dumped
    assert stored.payload["plain"] == "keep" and stored.payload["nested"]["api_key"].endswith("1234")
    assert stored.actor_kind == "telegram" and stored.actor_id == "42" and stored.object_type == "tenants.Client"
    assert stored.correlation_id


def test_it_returns_and_reuses_the_callers_correlation_id(client):
    response = client.get("/health", HTTP_X_CORRELATION_ID="req-123456789")
    assert response["X-Correlation-ID"] == "req-123456789"
    # A value that does not look like an id is replaced, never echoed.
    response = client.get("/health", HTTP_X_CORRELATION_ID="<script>")
    assert response["X-Correlation-ID"] != "<script>" and len(response["X-Correlation-ID"]) == 32


def test_json_log_lines_carry_correlation_id_and_tenant():
    from imperium.core.correlation import correlation_scope

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    with correlation_scope("corr-abcdef12", tenant="alpha"):
        ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["correlation_id"] == "corr-abcdef12" and line["tenant"] == "alpha"
