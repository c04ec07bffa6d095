"""Health checks of the knowledge dependencies (shown by /admin/health, run at startup)."""

from __future__ import annotations

from django.conf import settings

from imperium.core.health import HealthResult, _timed


def check_qdrant() -> HealthResult:
    if not settings.QDRANT_URL:
        return HealthResult(name="qdrant", ok=True, configured=False,
                            detail=f"embedded index ({settings.KNOWLEDGE_INDEX}, rebuilt from the database per process)")

    def probe() -> str:
        from knowledge.clients.qdrant import QdrantStore

        if not settings.QDRANT_API_KEY:
            raise RuntimeError("QDRANT_URL is set but QDRANT_API_KEY is empty; set the server's API key.")
        store = QdrantStore(url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY, collection=settings.QDRANT_COLLECTION,
                            timeout=settings.HEALTH_CHECK_TIMEOUT)
        try:
            return store.ping()
        finally:
            store.close()

    return _timed("qdrant", probe)


def check_embeddings() -> HealthResult:
    if settings.EMBEDDINGS_BACKEND != "http":
        return HealthResult(name="embeddings", ok=True, configured=False, detail="hashing (offline)")

    def probe() -> str:
        from knowledge.clients.embeddings import EmbeddingsClient

        client = EmbeddingsClient(settings.EMBEDDINGS_URL, model=settings.EMBEDDINGS_MODEL, dim=settings.EMBEDDINGS_DIM,
                                  timeout=settings.HEALTH_CHECK_TIMEOUT, retries=0, api_key=settings.EMBEDDINGS_API_KEY)
        client.embed(["health"])
        return f"{settings.EMBEDDINGS_MODEL} dim {settings.EMBEDDINGS_DIM}"

    return _timed("embeddings", probe)


def check_llm() -> HealthResult:
    if settings.LLM_BACKEND != "openai":
        return HealthResult(name="llm", ok=True, configured=False, detail="extractive (offline)")

    def probe() -> str:
        import requests

        headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}"} if settings.LLM_API_KEY else {}
        response = requests.get(f"{settings.LLM_BASE_URL}/models", headers=headers, timeout=settings.HEALTH_CHECK_TIMEOUT)
        if response.status_code in (401, 403):
            raise RuntimeError(f"LLM refused LLM_API_KEY ({response.status_code})")
        if response.status_code >= 500:
            raise RuntimeError(f"LLM at LLM_BASE_URL answered {response.status_code}")
        return f"model {settings.LLM_MODEL}"

    return _timed("llm", probe)
