from __future__ import annotations

import json

import numpy as np
import pytest

from imperium.core.actors import Actor
from imperium.core.exceptions import IntegrationError
from knowledge import services
from knowledge.clients.embeddings import EmbeddingsClient
from knowledge.clients.qdrant import QdrantStore
from knowledge.index import HashingEmbedder, IndexKey, MemoryIndex, QdrantIndex, reset_index
from knowledge.matching import ItemDoc, KBSnapshot
from knowledge.retrieval import retrieve, snapshot_for
from knowledge.tests.fakes import FakeServer, closed_port_url
from knowledge.text import SparseVector

ACTOR = Actor.system("test")


def _kb(rows):
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)


SALON = _kb([
    {"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр с покрытием — 9 000 ₸."},
    {"id": "hours", "question": "До скольки вы работаете?", "answer": "Ежедневно с 10:00 до 21:00."},
])
BARBER = _kb([
    {"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Мужской маникюр — 4 000 ₸."},
    {"id": "beard", "question": "Сколько стоит оформление бороды?", "answer": "Борода — 3 500 ₸."},
])


@pytest.fixture(params=["memory", "qdrant-local"])
def index_mode(request, settings):
    settings.KNOWLEDGE_INDEX = request.param
    reset_index()
    return request.param


def test_it_never_retrieves_another_tenants_items(index_mode, tenant_a, tenant_b):
    salon = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=SALON)
    barber = services.kb_import(actor=ACTOR, tenant=tenant_b, file_name="b.jsonl", content=BARBER)
    # Both tenants have an item with the same id and nearly the same question.
    for version, expected in ((salon, "9 000"), (barber, "4 000")):
        result = retrieve(version, ["сколько стоит маникюр"])
        assert result.items == ["price-manicure"]
        assert expected in result.answer_texts()["price-manicure"]
    # The barber's beard item is invisible from the salon's version, whatever is asked.
    assert "beard" not in {c.external_id for s in retrieve(salon, ["оформление бороды"]).segments for c in s.candidates}


def test_the_qdrant_store_filters_every_query_by_tenant_and_version(tenant_a, tenant_b):
    store = QdrantStore(location=":memory:", collection="truffles_knowledge")
    index = QdrantIndex(store)
    embedder = HashingEmbedder(64)
    doc = ItemDoc("same", "Сколько стоит маникюр?", "9 000 ₸")
    snapshot = KBSnapshot([doc])
    index.ensure(IndexKey(tenant_a.pk, 1, "h1"), snapshot, embedder)
    index.ensure(IndexKey(tenant_b.pk, 2, "h2"), snapshot, embedder)
    assert store.count(tenant_a.pk, 1) == 1 and store.count(tenant_b.pk, 2) == 1
    from knowledge.text import sparse_from_keys

    dense = embedder.embed_items(snapshot)[0]
    sparse = sparse_from_keys({"маникюр": 1.0})
    assert index.search(IndexKey(tenant_a.pk, 1, "h1"), embedder, dense=dense, sparse=sparse, limit=5) == [
        ("same", pytest.approx(0.5, abs=0.5))
    ]
    # Wrong version for this tenant, or another tenant's version: nothing, even with identical vectors.
    assert index.search(IndexKey(tenant_a.pk, 2, "h2"), embedder, dense=dense, sparse=sparse, limit=5) == []
    assert index.search(IndexKey(tenant_b.pk, 1, "h1"), embedder, dense=dense, sparse=sparse, limit=5) == []
    # The payload carries tenant, version, item id and the content hash.
    point = store.client.scroll("truffles_knowledge", limit=10)[0][0]
    assert {"tenant", "version", "item_id", "content_hash", "tags"} <= set(point.payload)


def test_memory_and_qdrant_local_rank_the_same_items(settings, tenant_a, lotus_kb):
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=lotus_kb, index=False)
    questions = ["skolko stoit manikur s pokrytiem?", "до скольки работает самал в воскресенье", "антицелюлитный масаж цена",
                 "What are your opening hours at the Samal branch?", "Маникюр қанша тұрады?"]
    chosen = {}
    for mode in ("memory", "qdrant-local"):
        settings.KNOWLEDGE_INDEX = mode
        reset_index()
        chosen[mode] = [retrieve(version, [q]).items for q in questions]
    assert chosen["memory"] == chosen["qdrant-local"]
    assert chosen["memory"] == [["price-manicure"], ["hours-samal"], ["price-massage"], ["hours-samal"], ["price-manicure"]]


def test_it_survives_typos_transliteration_and_kazakh(tenant_a, lotus_kb):
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=lotus_kb)
    snapshot = snapshot_for(version)
    tokens = {t.text: t for t in snapshot.analyze("skolko stoit manikur масаж жексенбіде")}
    assert "маникюр" in tokens["маникюр"].keys  # Latin-script Russian read in Cyrillic: "manikur" → «маникюр»
    assert "массаж" in tokens["масаж"].keys
    assert tokens["воскресенье"].known  # Kazakh "жексенбіде" (on Sunday), mapped in normalisation (knowledge.kazakh)
    assert retrieve(version, ["zapisatsya mozhno bez zapisi?"]).segments  # never crashes on odd input


def test_the_index_is_rebuilt_when_a_draft_changes(tenant_a):
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=SALON)
    assert retrieve(version, ["парковка есть?"]).items == []
    services.kb_item_save(actor=ACTOR, version=version, external_id="parking", question="Есть ли парковка?",
                          answer="Бесплатная парковка во дворе.")
    version.refresh_from_db()
    assert retrieve(version, ["парковка есть?"]).items == ["parking"]


def test_memory_index_is_keyed_by_tenant_and_version():
    index = MemoryIndex()
    embedder = HashingEmbedder(64)
    snapshot = KBSnapshot([ItemDoc("a", "Сколько стоит маникюр?", "9 000 ₸")])
    index.ensure(IndexKey(1, 10, "h"), snapshot, embedder)
    dense = embedder.embed_items(snapshot)[0]
    from knowledge.text import SparseVector

    assert index.search(IndexKey(1, 10, "h"), embedder, dense=dense, sparse=SparseVector(), limit=3)[0][0] == "a"
    assert index.search(IndexKey(2, 10, "h"), embedder, dense=dense, sparse=SparseVector(), limit=3) == []


# --- embeddings over HTTP (bge-m3) -------------------------------------------------------------

def test_the_embeddings_client_batches_and_retries_5xx():
    calls = {"n": 0}

    def responder(method, path, body, headers):
        calls["n"] += 1
        if calls["n"] == 1:
            return 503, {"error": "warming up"}
        return 200, {"data": [{"index": i, "embedding": [0.1] * 1024} for i in range(len(body["input"]))]}

    with FakeServer(responder) as server:
        client = EmbeddingsClient(f"{server.url}/v1/embeddings", batch_size=2, backoff=0.001, api_key="k")
        vectors = client.embed(["a", "b", "c"])
    assert len(vectors) == 3 and len(vectors[0]) == 1024
    assert [len(r["json"]["input"]) for r in server.requests] == [2, 2, 1]
    assert server.requests[0]["json"]["model"] == "bge-m3" and server.requests[0]["headers"]["authorization"] == "Bearer k"


def test_the_embeddings_client_fails_loudly_on_4xx_bad_size_and_refused_connections():
    with FakeServer(lambda *a: (401, {"error": "no"})) as server, pytest.raises(IntegrationError) as exc:
        EmbeddingsClient(server.url, backoff=0.001).embed(["a"])
    assert exc.value.permanent and len(server.requests) == 1
    with FakeServer(lambda *a: (200, [[0.1] * 8])) as server, pytest.raises(IntegrationError, match="EMBEDDINGS_DIM"):
        EmbeddingsClient(server.url, backoff=0.001).embed(["a"])
    with pytest.raises(IntegrationError, match="EMBEDDINGS_URL") as exc:
        EmbeddingsClient(closed_port_url(), retries=1, backoff=0.001, timeout=0.5).embed(["a"])
    assert not exc.value.permanent


def test_retrieval_with_the_http_backend(settings, tenant_a):
    settings.EMBEDDINGS_BACKEND = "http"
    settings.EMBEDDINGS_DIM = 4

    def responder(method, path, body, headers):
        # A toy "model": price questions point one way, hours questions another.
        vectors = [[1.0, 0, 0, 0] if "стоит" in t or "цена" in t else [0, 1.0, 0, 0] for t in body["input"]]
        return 200, {"data": [{"index": i, "embedding": v} for i, v in enumerate(vectors)]}

    with FakeServer(responder) as server:
        settings.EMBEDDINGS_URL = server.url
        version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=SALON)
        assert retrieve(version, ["маникюр сколько стоит"]).items == ["price-manicure"]
    assert len(server.requests) >= 2  # the items at index time, then the query


def test_hashing_embedder_gives_float32_rows_the_index_stacks():
    # Rows, not lists of Python floats: a 5,000-item KB's vectors as lists held ~80 MB at once while a worker built its
    # index (the peak memory in docs/BENCHMARKS.md). The memory index stacks the rows into one matrix.
    embedder = HashingEmbedder(64)
    snapshot = KBSnapshot([ItemDoc("a", "Сколько стоит маникюр?", "9 000 ₸"), ItemDoc("b", "Где вы?", "Абая 1")])
    rows = embedder.embed_items(snapshot)
    assert [row.dtype for row in rows] == [np.float32, np.float32] and rows[0].shape == (64,)
    assert abs(float(np.linalg.norm(rows[0])) - 1.0) < 1e-5
    index = MemoryIndex()
    index.ensure(IndexKey(1, 10, "h"), snapshot, embedder)
    assert index.search(IndexKey(1, 10, "h"), embedder, dense=rows[1].tolist(), sparse=SparseVector(), limit=1)[0][0] == "b"
