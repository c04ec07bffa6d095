"""HTTP client for the embeddings service (bge-m3, dense 1024).

Speaks the OpenAI-compatible embeddings protocol (`POST {EMBEDDINGS_URL}` with
`{"model": ..., "input": [...]}` → `{"data": [{"index": i, "embedding": [...]}]}`), and also
accepts the text-embeddings-inference answer shape (a bare list of vectors or
`{"embeddings": [...]}`), so either server can sit behind EMBEDDINGS_URL.
Batched; timeouts, 5xx and 429 are retried with backoff (urllib3 Retry, honouring Retry-After); anything else raises
`IntegrationError`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import requests

from imperium.core.exceptions import IntegrationError
from imperium.core.httpretry import retrying_session

logger = logging.getLogger(__name__)


class EmbeddingsClient:
    def __init__(
        self,
        url: str,
        *,
        model: str = "bge-m3",
        dim: int = 1024,
        timeout: float = 10.0,
        retries: int = 3,
        batch_size: int = 32,
        api_key: str = "",
        backoff: float = 0.2,
    ) -> None:
        self.url = url
        self.model = model
        self.dim = dim
        self.timeout = timeout
        self.retries = retries
        self.batch_size = batch_size
        self.api_key = api_key
        self.backoff = backoff
        # Retries (timeouts, 429, 5xx; Retry-After honoured up to 30 s) happen in urllib3's Retry.
        self.session = retrying_session(retries=retries, backoff=backoff)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            vectors.extend(self._embed_batch(batch))
        return vectors

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            response = self.session.post(self.url, json={"model": self.model, "input": batch}, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise IntegrationError(f"embeddings service unreachable at EMBEDDINGS_URL: {type(exc).__name__}", permanent=False) from None
        if response.status_code < 300:
            return self._parse(response, len(batch))
        permanent = response.status_code < 500 and response.status_code != 429
        raise IntegrationError(f"embeddings service answered {response.status_code}", permanent=permanent, status=response.status_code)

    def _parse(self, response: requests.Response, expected: int) -> list[list[float]]:
        try:
            body: Any = response.json()
        except ValueError:
            raise IntegrationError("embeddings service returned non-JSON", permanent=False) from None
        if isinstance(body, dict) and "data" in body:
            rows = sorted(body["data"], key=lambda row: row.get("index", 0))
            vectors = [row.get("embedding") for row in rows]
        elif isinstance(body, dict) and "embeddings" in body:
            vectors = body["embeddings"]
        else:
            vectors = body
        if not isinstance(vectors, list) or len(vectors) != expected:
            raise IntegrationError(f"embeddings service returned {type(vectors).__name__} for {expected} inputs", permanent=False)
        for vector in vectors:
            if not isinstance(vector, list) or len(vector) != self.dim:
                size = len(vector) if isinstance(vector, list) else "?"
                raise IntegrationError(
                    f"embeddings service returned a vector of size {size}, expected {self.dim} (EMBEDDINGS_DIM)", permanent=True
                )
        return [[float(x) for x in vector] for vector in vectors]
