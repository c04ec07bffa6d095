"""Startup checks (tag `services`): a configured knowledge dependency that fails is a loud
error naming its variables. Qdrant is checked by imperium.core.checks through QDRANT_URL; this
adds the key requirement and the embeddings / LLM services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error

from imperium.core.checks import service_check


@service_check
def knowledge_services_reachable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from knowledge.health import check_embeddings, check_llm

    errors = []
    if settings.QDRANT_URL and not settings.QDRANT_API_KEY:
        errors.append(Error("QDRANT_URL is set but QDRANT_API_KEY is empty: set the Qdrant server's API key.", id="knowledge.E_QDRANT_KEY"))
    for result, variables in ((check_embeddings(), "EMBEDDINGS_BACKEND=http, EMBEDDINGS_URL"),
                              (check_llm(), "LLM_BACKEND=openai, LLM_BASE_URL, LLM_API_KEY")):
        if result.configured and not result.ok:
            errors.append(Error(f"{result.name} is configured ({variables}) but failing: {result.detail}",
                                id=f"knowledge.E_{result.name.upper()}"))
    return errors
