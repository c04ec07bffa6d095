"""A fake Qdrant server: the REST endpoints `knowledge.clients.qdrant.QdrantStore` uses, held in
memory, so tests run the real qdrant-client over HTTP (timeouts, API key, error shapes).

Supported: list/exists/get/create/delete collection, payload index, upsert, delete by filter or
ids, exact count with a filter, and hybrid `points/query` (dense cosine and sparse dot product
prefetches fused with RRF). Filters: `must` of `match.value` conditions (what the store sends).
The API key, when set, must arrive in the `api-key` header (401 otherwise, like the server).

    with FakeQdrant(api_key="k") as qdrant:
        settings.QDRANT_URL, settings.QDRANT_API_KEY = qdrant.url, "k"
        ...
        qdrant.drop_collection("truffles_knowledge")   # fault: the collection vanished
        qdrant.fail_next(503)                          # fault: the next request answers 503
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlparse

from imperium.core.testing.local_http import LocalHTTPServer, QuietHandler, send_json

_OK = "ok"


def _envelope(result: Any) -> dict[str, Any]:
    return {"result": result, "status": _OK, "time": 0.0001}


def _update() -> dict[str, Any]:
    return _envelope({"operation_id": 0, "status": "completed"})


def _matches(payload: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    if not flt:
        return True
    for condition in flt.get("must") or []:
        match = condition.get("match") or {}
        if "value" in match and payload.get(condition.get("key")) != match["value"]:
            return False
    for condition in flt.get("must_not") or []:
        match = condition.get("match") or {}
        if "value" in match and payload.get(condition.get("key")) == match["value"]:
            return False
    return True


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def _sparse_dot(query: dict[str, Any], vector: dict[str, Any] | None) -> float:
    if not vector:
        return 0.0
    weights = dict(zip(vector.get("indices", []), vector.get("values", []), strict=False))
    return sum(weights.get(i, 0.0) * v for i, v in zip(query.get("indices", []), query.get("values", []), strict=False))


class FakeQdrant(LocalHTTPServer):
    thread_name = "fake-qdrant"

    def __init__(self, *, api_key: str = "", host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key = api_key
        self.collections: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._faults: list[int] = []
        self._lock = threading.Lock()
        self.bind(self._handler(), host, port)

    # --- faults and inspection ------------------------------------------------------------
    def drop_collection(self, name: str) -> None:
        with self._lock:
            self.collections.pop(name, None)

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([status] * times)

    def count(self, name: str, **payload: Any) -> int:
        with self._lock:
            points = self.collections.get(name, {}).get("points", {})
            return sum(1 for p in points.values() if all(p["payload"].get(k) == v for k, v in payload.items()))

    # --- protocol -------------------------------------------------------------------------
    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = [p for p in urlparse(path).path.split("/") if p]
        if parts == ["collections"] and method == "GET":
            return 200, _envelope({"collections": [{"name": n} for n in sorted(self.collections)]})
        if len(parts) < 2 or parts[0] != "collections":
            return 404, {"status": {"error": f"Not found: {path}"}, "time": 0.0}
        name, rest = parts[1], parts[2:]
        collection = self.collections.get(name)
        if rest == ["exists"]:
            return 200, _envelope({"exists": collection is not None})
        if not rest and method == "PUT":
            if collection is not None:
                return 400, {"status": {"error": f"Wrong input: Collection `{name}` already exists!"}, "time": 0.0}
            self.collections[name] = {"config": body, "points": {}, "indexes": {}}
            return 200, _envelope(True)
        if not rest and method == "DELETE":
            return 200, _envelope(self.collections.pop(name, None) is not None)
        if collection is None:
            return 404, {"status": {"error": f"Not found: Collection `{name}` doesn't exist!"}, "time": 0.0}
        if not rest and method == "GET":
            return 200, _envelope(self._info(collection))
        if rest == ["index"]:
            collection.setdefault("indexes", {})[body.get("field_name")] = body.get("field_schema")
            return 200, _update()
        points: dict[str, Any] = collection["points"]
        if rest == ["points"] and method == "PUT":
            for point in body.get("points", []):
                points[str(point["id"])] = {"id": point["id"], "vector": point.get("vector") or {}, "payload": point.get("payload") or {}}
            return 200, _update()
        if rest == ["points", "delete"]:
            if "filter" in body:
                for key in [k for k, p in points.items() if _matches(p["payload"], body["filter"])]:
                    del points[key]
            for point_id in body.get("points", []):
                points.pop(str(point_id), None)
            return 200, _update()
        if rest == ["points", "count"]:
            return 200, _envelope({"count": sum(1 for p in points.values() if _matches(p["payload"], body.get("filter")))})
        if rest == ["points", "query"]:
            return 200, _envelope({"points": self._query(points, body)})
        return 404, {"status": {"error": f"Not found: {method} {path}"}, "time": 0.0}

    @staticmethod
    def _info(collection: dict[str, Any]) -> dict[str, Any]:
        config = collection["config"]
        return {
            "status": "green", "optimizer_status": "ok", "segments_count": 1, "points_count": len(collection["points"]),
            "indexed_vectors_count": 0,
            "payload_schema": {key: {"data_type": schema if isinstance(schema, str) else schema.get("type", "keyword"), "points": 0}
                               for key, schema in collection.get("indexes", {}).items()},
            "config": {
                "params": {"vectors": config.get("vectors", {}), "sparse_vectors": config.get("sparse_vectors", {}),
                           "shard_number": 1, "replication_factor": 1, "write_consistency_factor": 1, "on_disk_payload": True},
                "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
                "optimizer_config": {"default_segment_number": 0, "flush_interval_sec": 5},
                "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
            },
        }

    @staticmethod
    def _query(points: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
        limit = int(body.get("limit") or 10)
        candidates = [p for p in points.values() if _matches(p["payload"], body.get("filter"))]
        rankings = []
        for prefetch in body.get("prefetch") or []:
            pool = [p for p in candidates if _matches(p["payload"], prefetch.get("filter"))]
            query, using = prefetch.get("query"), prefetch.get("using")
            if isinstance(query, dict):
                scored = [(p, _sparse_dot(query, p["vector"].get(using))) for p in pool]
            else:
                scored = [(p, _cosine(query or [], p["vector"].get(using) or [])) for p in pool]
            scored = [pair for pair in scored if pair[1] > 0]
            scored.sort(key=lambda pair: -pair[1])
            rankings.append([p for p, _ in scored[: int(prefetch.get("limit") or limit)]])
        fused: dict[str, list[Any]] = {}
        for ranking in rankings:
            for rank, point in enumerate(ranking):
                entry = fused.setdefault(str(point["id"]), [point, 0.0])
                entry[1] += 1.0 / (60 + rank + 1)
        ordered = sorted(fused.values(), key=lambda pair: -pair[1])[:limit]
        return [{"id": p["id"], "version": 0, "score": score, "payload": p["payload"]} for p, score in ordered]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(QuietHandler):
            def handle_method(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                with outer._lock:
                    outer.requests.append((method, self.path))
                    if outer.api_key and self.headers.get("api-key") != outer.api_key:
                        status, payload = 401, {"status": {"error": "Must provide an API key or an Authorization bearer token"},
                                                "time": 0.0}
                    elif outer._faults:
                        status = outer._faults.pop(0)
                        payload = {"status": {"error": f"Service unavailable (fault {status})"}, "time": 0.0}
                    else:
                        status, payload = outer._route(method, self.path, body if isinstance(body, dict) else {})
                send_json(self, status, payload)

        return Handler
