"""The search index behind retrieval, and the embedding backends that feed it.

Two stores, one interface (`ensure` / `search`), both keyed by tenant AND version:
- `QdrantIndex` — a Qdrant server (QDRANT_URL + QDRANT_API_KEY), or qdrant-client's
  in-process local mode (`KNOWLEDGE_INDEX=qdrant-local`). Named vectors dense + sparse (IDF),
  RRF fusion in Qdrant, every query filtered by tenant and version.
- `MemoryIndex` — the embedded default: numpy matrices per (tenant, version, content hash)
  rebuilt from Postgres on first use in each process. qdrant-client's local mode evaluates
  payload filters and sparse vectors point by point in Python (measured ~190 ms for one
  filtered hybrid query over 5,000 points), too slow for the reply budget; the memory index
  computes the same scores (cosine, IDF-weighted sparse dot product, RRF) in ~2 ms.
Postgres stays the truth: either store can be dropped and rebuilt at any time (`kb_reindex`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from django.conf import settings

from knowledge import matching as M
from knowledge.text import SparseVector, dense_char_ngrams, sparse_from_keys

logger = logging.getLogger(__name__)
RRF_K = 60


# --- embedders --------------------------------------------------------------------------------

class Embedder(Protocol):
    name: str
    dim: int

    def embed_items(self, snapshot: M.KBSnapshot) -> list[Any]: ...
    def embed_query(self, tokens: list[M.QToken], text: str) -> list[float]: ...


class HashingEmbedder:
    """Offline: signed hashing of character n-grams (typos and transliteration stay close)."""

    name = "hashing"

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim

    def embed_items(self, snapshot: M.KBSnapshot) -> list[np.ndarray]:
        # One float32 row per item, each converted as it is made: 5,000 items as lists of Python floats held ~80 MB at
        # once while the index was built (the worker's peak memory, docs/BENCHMARKS.md); as rows, 10 MB.
        return [np.asarray(dense_char_ngrams(M.item_dense_words(doc), self.dim), dtype=np.float32) for doc in snapshot.docs]

    def embed_query(self, tokens: list[M.QToken], text: str) -> list[float]:
        return dense_char_ngrams(M.dense_words(tokens), self.dim)


class HttpEmbedder:
    """bge-m3 over HTTP (see `knowledge.clients.embeddings`)."""

    name = "http"

    def __init__(self, client: Any) -> None:
        self.client = client
        self.dim = client.dim

    def embed_items(self, snapshot: M.KBSnapshot) -> list[list[float]]:
        return self.client.embed([f"{doc.question}\n{' '.join(doc.alt_questions)}\n{doc.answer}" for doc in snapshot.docs])

    def embed_query(self, tokens: list[M.QToken], text: str) -> list[float]:
        return self.client.embed([text])[0]


def embedder_from_settings() -> Embedder:
    if settings.EMBEDDINGS_BACKEND == "http":
        from knowledge.clients.embeddings import EmbeddingsClient

        return HttpEmbedder(
            EmbeddingsClient(settings.EMBEDDINGS_URL, model=settings.EMBEDDINGS_MODEL, dim=settings.EMBEDDINGS_DIM,
                             timeout=settings.EMBEDDINGS_TIMEOUT, retries=settings.EMBEDDINGS_RETRIES,
                             batch_size=settings.EMBEDDINGS_BATCH_SIZE, api_key=settings.EMBEDDINGS_API_KEY)
        )
    return HashingEmbedder(settings.KNOWLEDGE_HASHING_DIM)


# --- index keys and points --------------------------------------------------------------------

@dataclass(frozen=True)
class IndexKey:
    tenant_id: int
    version_id: int
    content_hash: str


def item_points(snapshot: M.KBSnapshot, embedder: Embedder) -> list[dict[str, Any]]:
    dense = embedder.embed_items(snapshot)
    points = []
    for doc, vector in zip(snapshot.docs, dense, strict=True):
        feats = snapshot.features[doc.external_id]
        points.append({"item_id": doc.external_id, "dense": vector, "sparse": sparse_from_keys(M.item_weighted_keys(feats)),
                       "tags": list(doc.tags)})
    return points


def rrf(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking):
            scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


# --- stores -----------------------------------------------------------------------------------

class _MemoryEntry:
    def __init__(self, key: IndexKey, points: list[dict[str, Any]]) -> None:
        self.key = key
        self.ids = [p["item_id"] for p in points]
        self.payload = [{"tenant": key.tenant_id, "version": key.version_id, "item_id": p["item_id"]} for p in points]
        matrix = np.asarray([p["dense"] for p in points], dtype=np.float32) if points else np.zeros((0, 1), np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True) if len(points) else None
        self.dense = matrix / np.where(norms == 0, 1, norms) if norms is not None else matrix
        self.postings: dict[int, list[tuple[int, float]]] = {}
        for row, point in enumerate(points):
            sparse: SparseVector = point["sparse"]
            for index, value in zip(sparse.indices, sparse.values, strict=True):
                self.postings.setdefault(index, []).append((row, value))
        n = max(1, len(points))
        # Qdrant's IDF modifier: ln(1 + (N - n + 0.5) / (n + 0.5)).
        self.idf = {index: math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5)) for index, rows in self.postings.items()}


class MemoryIndex:
    """In-process index per (tenant, version, content hash); LRU-bounded."""

    name = "memory"

    def __init__(self, max_entries: int = 32) -> None:
        self._entries: OrderedDict[tuple[IndexKey, str], _MemoryEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def has(self, key: IndexKey, embedder: Embedder) -> bool:
        return (key, embedder.name) in self._entries

    def ensure(self, key: IndexKey, snapshot: M.KBSnapshot, embedder: Embedder, *, force: bool = False) -> bool:
        entry_key = (key, embedder.name)
        with self._lock:
            if not force and entry_key in self._entries:
                self._entries.move_to_end(entry_key)
                return False
        entry = _MemoryEntry(key, item_points(snapshot, embedder))
        with self._lock:
            # A version has one live content hash: older hashes of it are dead weight.
            for stale in [k for k in self._entries if k[0].version_id == key.version_id and k[0] != key]:
                del self._entries[stale]
            self._entries[entry_key] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return True

    def drop(self, *, tenant_id: int, version_id: int) -> None:
        with self._lock:
            for stale in [k for k in self._entries if k[0].tenant_id == tenant_id and k[0].version_id == version_id]:
                del self._entries[stale]

    def search(self, key: IndexKey, embedder: Embedder, *, dense: list[float], sparse: SparseVector, limit: int) -> list[tuple[str, float]]:
        entry = self._entries.get((key, embedder.name))
        # The entry is looked up by tenant AND version; a key mismatch can only mean a bug.
        if entry is None or entry.key.tenant_id != key.tenant_id or entry.key.version_id != key.version_id:
            return []
        if not entry.ids:
            return []
        rankings = []
        query = np.asarray(dense, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        if norm > 0:
            scores = entry.dense @ (query / norm)
            top = np.argsort(-scores, kind="stable")[:limit]
            rankings.append([entry.ids[i] for i in top if scores[i] > 0])
        sparse_scores: dict[int, float] = {}
        for index, value in zip(sparse.indices, sparse.values, strict=True):
            idf = entry.idf.get(index)
            if idf is None:
                continue
            for row, item_value in entry.postings[index]:
                sparse_scores[row] = sparse_scores.get(row, 0.0) + idf * value * item_value
        if sparse_scores:
            ordered = sorted(sparse_scores.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
            rankings.append([entry.ids[row] for row, _ in ordered])
        return rrf(rankings)[:limit]


class QdrantIndex:
    name = "qdrant"

    def __init__(self, store: Any) -> None:
        self.store = store
        self._synced: set[tuple[IndexKey, str]] = set()
        self._lock = threading.Lock()

    def has(self, key: IndexKey, embedder: Embedder) -> bool:
        return (key, embedder.name) in self._synced

    def ensure(self, key: IndexKey, snapshot: M.KBSnapshot, embedder: Embedder, *, force: bool = False) -> bool:
        entry_key = (key, embedder.name)
        if not force and entry_key in self._synced:
            return False
        self.store.ensure_collection(embedder.dim)
        if not force and self.store.count(key.tenant_id, key.version_id, key.content_hash) == len(snapshot.docs) and snapshot.docs:
            with self._lock:
                self._synced.add(entry_key)
            return False
        self.store.replace_version(tenant_id=key.tenant_id, version_id=key.version_id, content_hash=key.content_hash,
                                   points=item_points(snapshot, embedder))
        with self._lock:
            self._synced = {k for k in self._synced if k[0].version_id != key.version_id}
            self._synced.add(entry_key)
        return True

    def drop(self, *, tenant_id: int, version_id: int) -> None:
        self.store.delete_version(tenant_id=tenant_id, version_id=version_id)
        with self._lock:
            self._synced = {k for k in self._synced if k[0].version_id != version_id}

    def search(self, key: IndexKey, embedder: Embedder, *, dense: list[float], sparse: SparseVector, limit: int) -> list[tuple[str, float]]:
        return self.store.search(tenant_id=key.tenant_id, version_id=key.version_id, content_hash=key.content_hash,
                                 dense=dense, sparse=sparse, limit=limit)


_index: Any = None
_index_lock = threading.Lock()


def index_mode() -> str:
    if settings.QDRANT_URL:
        return "qdrant-server"
    return settings.KNOWLEDGE_INDEX


def get_index() -> MemoryIndex | QdrantIndex:
    """The process-wide index chosen by settings (built once per process)."""
    global _index
    with _index_lock:
        if _index is None:
            _index = build_index()
        return _index


def build_index() -> MemoryIndex | QdrantIndex:
    from knowledge.clients.qdrant import QdrantStore

    mode = index_mode()
    if mode == "qdrant-server":
        return QdrantIndex(QdrantStore(url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY,
                                       collection=settings.QDRANT_COLLECTION, timeout=settings.QDRANT_TIMEOUT))
    if mode == "qdrant-local":
        return QdrantIndex(QdrantStore(location=":memory:", collection=settings.QDRANT_COLLECTION))
    return MemoryIndex()


def reset_index(index: Any = None) -> None:
    """Tests and reconfiguration: replace (or forget) the process-wide index."""
    global _index
    with _index_lock:
        _index = index
