"""Qdrant client seam: the one place that talks to a Qdrant server (or qdrant-client's
in-process local mode, which speaks the same client API).

One collection (QDRANT_COLLECTION, default `truffles_knowledge`) holds every tenant's points
with named vectors `dense` (cosine) and `sparse` (IDF modifier) and the payload
tenant / version / item_id / content_hash / tags. Every query is filtered by tenant and
version: there is no method here that searches without them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from imperium.core.exceptions import IntegrationError

DENSE, SPARSE = "dense", "sparse"
_NAMESPACE = uuid.UUID("6f1a3e52-9f0c-4a7e-9a57-3c0e1d2b8a11")


def point_id(tenant_id: int, version_id: int, external_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}:{version_id}:{external_id}"))


def _wrap(exc: Exception, action: str) -> IntegrationError:
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return IntegrationError(
            f"Qdrant refused the API key ({status}) while trying to {action}: check QDRANT_API_KEY "
            "against the server's QDRANT__SERVICE__API_KEY (server QDRANT_URL).",
            permanent=True,
            status=status,
        )
    if isinstance(exc, IntegrationError):
        return exc
    permanent = status is not None and 400 <= status < 500 and status != 429
    return IntegrationError(f"Qdrant failed to {action} (QDRANT_URL): {type(exc).__name__}: {exc}"[:500],
                            permanent=permanent, status=status)


# Keyword copy of the tenant id, indexed as Qdrant's tenant index (`is_tenant`: integer indexes
# cannot be one); the integer `tenant` stays for collections made before it.
TENANT_KEY = "tenant_key"


class QdrantStore:
    def __init__(self, *, url: str = "", api_key: str = "", collection: str = "truffles_knowledge", timeout: float = 5.0,
                 location: str = "") -> None:
        from qdrant_client import QdrantClient

        self.collection = collection
        self.url = url
        if location:
            self.client = QdrantClient(location=location)
        else:
            self.client = QdrantClient(url=url, api_key=api_key or None, timeout=max(1, int(timeout)), check_compatibility=False)
        self._ready_dim: int | None = None
        # The collection has the keyword tenant index (`tenant_key`, is_tenant): filters use it.
        self.tenant_index = False

    def close(self) -> None:
        self.client.close()

    def ping(self) -> str:
        try:
            names = {c.name for c in self.client.get_collections().collections}
        except Exception as exc:
            raise _wrap(exc, "list collections") from None
        return f"collection {self.collection} {'present' if self.collection in names else 'missing (created on first index)'}"

    def ensure_collection(self, dim: int) -> None:
        if self._ready_dim == dim:
            return
        from qdrant_client import models

        try:
            if self.client.collection_exists(self.collection):
                info = self.client.get_collection(self.collection)
                self.tenant_index = TENANT_KEY in (getattr(info, "payload_schema", None) or {})
                vectors = info.config.params.vectors
                size = vectors[DENSE].size if isinstance(vectors, dict) and DENSE in vectors else None
                if size != dim:
                    raise IntegrationError(
                        f"Qdrant collection {self.collection} has dense size {size}, the embeddings backend makes {dim}: "
                        "use another QDRANT_COLLECTION or recreate it, then run kb_reindex.",
                        permanent=True,
                    )
            else:
                from django.conf import settings

                self.client.create_collection(
                    self.collection,
                    vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                    sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                    shard_number=settings.QDRANT_SHARDS, replication_factor=settings.QDRANT_REPLICAS,
                )
                if self.url:  # payload indexes only exist on a server (local mode scans anyway)
                    # The tenant as a tenant index: Qdrant keeps each tenant's points together and
                    # builds per-tenant search structures, so one tenant's query never walks the others'.
                    self.client.create_payload_index(
                        self.collection, TENANT_KEY, field_schema=models.KeywordIndexParams(type="keyword", is_tenant=True))
                    for key, schema in (("tenant", models.PayloadSchemaType.INTEGER),
                                        ("version", models.PayloadSchemaType.INTEGER)):
                        self.client.create_payload_index(self.collection, key, field_schema=schema)
                    self.tenant_index = True
        except IntegrationError:
            raise
        except Exception as exc:
            raise _wrap(exc, f"prepare collection {self.collection}") from None
        self._ready_dim = dim

    def scope_filter(self, tenant_id: int, version_id: int, content_hash: str | None = None) -> Any:
        from qdrant_client import models

        must = [models.FieldCondition(key=TENANT_KEY, match=models.MatchValue(value=str(int(tenant_id))))] if self.tenant_index else []
        must += [
            models.FieldCondition(key="tenant", match=models.MatchValue(value=int(tenant_id))),
            models.FieldCondition(key="version", match=models.MatchValue(value=int(version_id))),
        ]
        if content_hash:
            must.append(models.FieldCondition(key="content_hash", match=models.MatchValue(value=content_hash)))
        return models.Filter(must=must)

    def count(self, tenant_id: int, version_id: int, content_hash: str | None = None) -> int:
        try:
            return self.client.count(self.collection, count_filter=self.scope_filter(tenant_id, version_id, content_hash), exact=True).count
        except Exception as exc:
            raise _wrap(exc, "count points") from None

    def replace_version(self, *, tenant_id: int, version_id: int, content_hash: str, points: Sequence[dict[str, Any]]) -> None:
        """Delete the version's points, then upsert the new ones (ids are deterministic, so a
        repeated or concurrent rebuild converges on the same points)."""
        from qdrant_client import models

        try:
            self.client.delete(self.collection, points_selector=models.FilterSelector(filter=self.scope_filter(tenant_id, version_id)))
            batch = []
            for point in points:
                sparse = point["sparse"]
                dense = [float(v) for v in point["dense"]]  # a float32 row of the hashing embedder, or a list
                batch.append(
                    models.PointStruct(
                        id=point_id(tenant_id, version_id, point["item_id"]),
                        vector={DENSE: dense, SPARSE: models.SparseVector(indices=sparse.indices, values=sparse.values)},
                        payload={"tenant": int(tenant_id), TENANT_KEY: str(int(tenant_id)), "version": int(version_id),
                                 "item_id": point["item_id"],
                                 "content_hash": content_hash, "tags": list(point.get("tags", []))},
                    )
                )
                if len(batch) >= 256:
                    self.client.upsert(self.collection, points=batch)
                    batch = []
            if batch:
                self.client.upsert(self.collection, points=batch)
        except Exception as exc:
            raise _wrap(exc, "index points") from None

    def delete_version(self, *, tenant_id: int, version_id: int) -> None:
        from qdrant_client import models

        try:
            self.client.delete(self.collection, points_selector=models.FilterSelector(filter=self.scope_filter(tenant_id, version_id)))
        except Exception as exc:
            raise _wrap(exc, "delete points") from None

    def search(self, *, tenant_id: int, version_id: int, content_hash: str, dense: list[float], sparse: Any,
               limit: int) -> list[tuple[str, float]]:
        """Hybrid query: dense and sparse prefetch fused with RRF, filtered by tenant and version."""
        from qdrant_client import models

        flt = self.scope_filter(tenant_id, version_id, content_hash)
        prefetch = [models.Prefetch(query=dense, using=DENSE, limit=limit, filter=flt)]
        if sparse.indices:
            prefetch.append(
                models.Prefetch(query=models.SparseVector(indices=sparse.indices, values=sparse.values), using=SPARSE,
                                limit=limit, filter=flt)
            )
        try:
            result = self.client.query_points(
                self.collection, prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.RRF), query_filter=flt,
                limit=limit, with_payload=["item_id", "tenant", "version"],
            )
        except Exception as exc:
            raise _wrap(exc, "search") from None
        hits = []
        for point in result.points:
            payload = point.payload or {}
            # Belt and braces: the filter already guarantees this; a wrong row must never leak.
            if payload.get("tenant") == int(tenant_id) and payload.get("version") == int(version_id):
                hits.append((payload["item_id"], float(point.score)))
        return hits
