"""Sentinel checks of the knowledge index (listed in settings.SENTINEL_CHECKS): the Qdrant
collection exists, and for every active tenant the points of the KB version it serves match the
items in Postgres (the truth the index is rebuilt from). Its remediation, `fixer.reindex_tenant`,
is in `knowledge/policy_actions.py`."""

from __future__ import annotations

from django.conf import settings

from imperium.core.sentinel import Check, CheckContext, Observation, timed
from knowledge.index import index_mode
from knowledge.selectors import kb_version_serving
from tenants.selectors import clients_active

COLLECTION = "qdrant.collection"
POINTS = "qdrant.points"


class QdrantCheck(Check):
    """Emits `qdrant` (server unreachable), `qdrant.collection` (collection missing) and, when
    the collection is there, `qdrant.points` per active tenant. The embedded index is rebuilt
    from the database in every process, so there is nothing to watch without QDRANT_URL."""

    name = "qdrant"
    produces = (COLLECTION, POINTS)
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        if index_mode() != "qdrant-server":
            return [self.skip(f"embedded index ({index_mode()}): rebuilt from the database in each process")]
        from knowledge.clients.qdrant import QdrantStore

        collection = settings.QDRANT_COLLECTION
        store = QdrantStore(url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY, collection=collection,
                            timeout=settings.HEALTH_CHECK_TIMEOUT)
        try:
            try:
                exists, ms = timed(lambda: store.client.collection_exists(collection))
            except Exception as exc:  # the client raises its own types; the detail says which
                status = getattr(exc, "status_code", None)
                hint = " (check QDRANT_API_KEY)" if status in (401, 403) else ""
                return [self.observe(False, f"Qdrant at QDRANT_URL unreachable{hint}: {type(exc).__name__}: {exc}"[:500])]
            if not exists:
                return [self.observe(False, f"collection {collection} is missing: every tenant's index is gone", check=COLLECTION,
                                     latency_ms=ms, data={"collection": collection})]
            observations = [self.observe(True, f"collection {collection} present", check=COLLECTION, latency_ms=ms)]
            wanted = ctx.wants_target_of(POINTS)
            if ctx.only is not None and wanted is None:
                return observations
            tenants = clients_active()
            if wanted:
                tenants = tenants.filter(slug=wanted)
            for tenant in tenants:
                observations.append(self._tenant(store, tenant))
            return observations
        finally:
            store.close()

    def _tenant(self, store, tenant) -> Observation:  # type: ignore[no-untyped-def]
        channel = getattr(getattr(tenant, "settings", None), "release_channel", "stable") or "stable"
        version = kb_version_serving(tenant, channel=channel)
        fields = {"check": POINTS, "target": tenant.slug, "tenant_id": tenant.pk}
        if version is None:
            return self.skip("serves no KB version yet", **fields)
        try:
            points, ms = timed(lambda: store.count(tenant.pk, version.pk, version.content_hash))
        except Exception as exc:
            return self.observe(False, f"counting points failed: {exc}"[:500], **fields)
        ok = points == version.item_count
        detail = f"KB v{version.number} ({channel}): {points} points in Qdrant, {version.item_count} items in Postgres"
        return self.observe(ok, detail, latency_ms=ms, data={"version": version.number, "points": points,
                                                              "items": version.item_count}, **fields)
