from __future__ import annotations

import pytest
from django.core.checks import run_checks

from imperium.core.checks import services_checks_requested
from imperium.core.exceptions import IntegrationError
from knowledge.clients.qdrant import QdrantStore
from knowledge.health import check_embeddings, check_llm, check_qdrant
from knowledge.tests.fakes import FakeServer

UNAUTHORIZED = (401, {"status": {"error": "Must provide an API key or an Authorization bearer token"}, "time": 0.0})


def services_check_messages():
    """What `manage.py check --tag services` reports (the services checks probe only when asked)."""
    with services_checks_requested():
        return run_checks(tags=["services"])


def test_a_wrong_qdrant_key_is_a_loud_error_naming_the_variables(settings):
    with FakeServer(lambda *a: UNAUTHORIZED) as server:
        settings.QDRANT_URL, settings.QDRANT_API_KEY = server.url, "wrong"
        result = check_qdrant()
        assert not result.ok and "QDRANT_API_KEY" in result.detail and "QDRANT_URL" in result.detail
        errors = [e.msg for e in services_check_messages()]
        assert any("QDRANT_URL" in msg and "QDRANT_API_KEY" in msg for msg in errors)
        with pytest.raises(IntegrationError, match="QDRANT_API_KEY") as exc:
            QdrantStore(url=server.url, api_key="wrong").search(tenant_id=1, version_id=1, content_hash="h", dense=[0.1],
                                                                 sparse=type("S", (), {"indices": [], "values": []})(), limit=3)
        assert exc.value.permanent
    assert server.requests[0]["headers"]["api-key"] == "wrong"


def test_a_missing_qdrant_key_is_refused_at_start(settings):
    with FakeServer(lambda *a: (200, {"result": {"collections": []}, "status": "ok", "time": 0.0})) as server:
        settings.QDRANT_URL, settings.QDRANT_API_KEY = server.url, ""
        assert "QDRANT_API_KEY is empty" in check_qdrant().detail
        assert any("QDRANT_API_KEY" in e.msg for e in services_check_messages())
        settings.QDRANT_API_KEY = "right"
        result = check_qdrant()
    assert result.ok and "truffles_knowledge missing" in result.detail


def test_admin_health_shows_the_knowledge_dependencies(settings, client):
    with FakeServer(lambda *a: UNAUTHORIZED) as server:
        settings.QDRANT_URL, settings.QDRANT_API_KEY = server.url, "wrong"
        response = client.get("/admin/health", HTTP_AUTHORIZATION="Bearer test-admin-token")
    assert response.status_code == 503
    body = response.json()
    assert "qdrant" in body["failing"] and "QDRANT_API_KEY" in body["checks"]["qdrant"]["detail"]
    assert body["checks"]["embeddings"]["configured"] is False and body["checks"]["llm"]["configured"] is False


def test_embeddings_and_llm_checks_when_configured(settings):
    with FakeServer(lambda m, p, b, h: (200, {"data": [{"index": 0, "embedding": [0.0] * 1024}]} if m == "POST"
                                        else {"data": [{"id": "m"}]})) as server:
        settings.EMBEDDINGS_BACKEND, settings.EMBEDDINGS_URL = "http", server.url
        settings.LLM_BACKEND, settings.LLM_BASE_URL, settings.LLM_MODEL = "openai", server.url, "m"
        assert check_embeddings().ok and check_llm().ok
    with FakeServer(lambda *a: (401, {"error": "bad key"})) as server:
        settings.LLM_BASE_URL = server.url
        settings.EMBEDDINGS_URL = server.url
        assert "LLM_API_KEY" in check_llm().detail
        assert not check_embeddings().ok
        messages = [e.msg for e in services_check_messages()]
    assert any("EMBEDDINGS_URL" in m for m in messages) and any("LLM_BASE_URL" in m for m in messages)
