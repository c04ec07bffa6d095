"""Bare WSGI reference for the webhook benchmark: only the unavoidable work.

Verifies the Standard Webhooks signature (HMAC-SHA256, constant-time), parses the JSON body and
runs one `INSERT … ON CONFLICT DO NOTHING` (autocommit) — no framework, no Redis, no queue.
The Imperium webhook is measured against it in the same run (bench/run_webhook.sh):

    BENCH_SECRET=whsec_... DATABASE_URL=postgres://... gunicorn bench.bare_wsgi:application
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

import psycopg

_KEY = base64.b64decode(os.environ["BENCH_SECRET"].removeprefix("whsec_") + "==")
_conn: psycopg.Connection | None = None


def _db() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _conn


def _answer(start_response, status: str, body: bytes):  # type: ignore[no-untyped-def]
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):  # type: ignore[no-untyped-def]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > 65536:
        return _answer(start_response, "413 Payload Too Large", b'{"error":"too large"}')
    body = environ["wsgi.input"].read(length)
    msg_id = environ.get("HTTP_WEBHOOK_ID", "")
    timestamp = environ.get("HTTP_WEBHOOK_TIMESTAMP", "")
    signatures = environ.get("HTTP_WEBHOOK_SIGNATURE", "")
    try:
        fresh = abs(time.time() - int(timestamp)) <= 300
    except ValueError:
        fresh = False
    expected = hmac.new(_KEY, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    valid = False
    for entry in signatures.split(" "):
        version, _, encoded = entry.partition(",")
        if version == "v1":
            try:
                valid |= hmac.compare_digest(expected, base64.b64decode(encoded))
            except ValueError:
                pass
    if not (fresh and valid):
        return _answer(start_response, "401 Unauthorized", b'{"error":"bad signature"}')
    data = json.loads(body)
    slug = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
    row = _db().execute(
        "INSERT INTO bench_bare_inbound (tenant_slug, message_id, body) VALUES (%s, %s, %s) "
        "ON CONFLICT (tenant_slug, message_id) DO NOTHING RETURNING id",
        [slug, data["message_id"], body.decode()],
    ).fetchone()
    return _answer(start_response, "200 OK", b'{"status":"accepted"}' if row else b'{"status":"duplicate"}')
