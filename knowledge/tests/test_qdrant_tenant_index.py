"""A collection Imperium creates on a Qdrant server: the tenant as a tenant index (is_tenant),
shards and replicas from settings, and searches filtered by that index stay per tenant."""

from __future__ import annotations

from types import SimpleNamespace

from knowledge.clients.qdrant import TENANT_KEY, QdrantStore
from knowledge.testing.fake_qdrant import FakeQdrant

SPARSE = SimpleNamespace(indices=[1, 7], values=[0.5, 0.5])


def _point(item_id: str) -> dict:
    return {"item_id": item_id, "dense": [0.1, 0.2, 0.3, 0.4], "sparse": SPARSE, "tags": []}


def test_a_new_collection_gets_a_tenant_index_shards_and_replicas(settings):
    settings.QDRANT_SHARDS, settings.QDRANT_REPLICAS = 3, 2
    with FakeQdrant() as fake:
        store = QdrantStore(url=fake.url, api_key="k", collection="kb")
        store.ensure_collection(4)
        store.replace_version(tenant_id=7, version_id=1, content_hash="h7", points=[_point("a"), _point("b")])
        store.replace_version(tenant_id=8, version_id=1, content_hash="h8", points=[_point("a")])
        collection = fake.collections["kb"]
        assert collection["config"]["shard_number"] == 3 and collection["config"]["replication_factor"] == 2
        assert collection["indexes"][TENANT_KEY] == {"type": "keyword", "is_tenant": True}
        assert {p["payload"][TENANT_KEY] for p in collection["points"].values()} == {"7", "8"}
        assert store.count(7, 1) == 2 and store.count(8, 1) == 1

        # Another process finds the index on the existing collection and filters by it too.
        other = QdrantStore(url=fake.url, api_key="k", collection="kb")
        other.ensure_collection(4)
        assert other.tenant_index is True
        condition_keys = [c.key for c in other.scope_filter(7, 1).must]
        assert condition_keys[0] == TENANT_KEY and other.count(7, 1) == 2


def test_a_collection_made_before_the_tenant_index_keeps_the_integer_filter():
    with FakeQdrant() as fake:
        fake.collections["old"] = {"config": {"vectors": {"dense": {"size": 4, "distance": "Cosine"}}}, "points": {}, "indexes": {}}
        store = QdrantStore(url=fake.url, api_key="k", collection="old")
        store.ensure_collection(4)
        assert store.tenant_index is False
        assert [c.key for c in store.scope_filter(7, 1).must] == ["tenant", "version"]
