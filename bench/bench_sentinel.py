"""Benchmark of one sentinel run: wall time and database queries with N active tenants, each
with an hour of traffic (conversations, answered turns, sent replies).

    .venv/bin/python bench/bench_sentinel.py [--tenants 50] [--messages 20] [--runs 10] [--json]

Database: BENCH_DATABASE_URL (a database the benchmark may fill; it is migrated and its bench
tenants replaced) or, by default, a throw-away SQLite file under a temporary VAR_DIR. Checks
that need outside servers (web /health, Telegram, Qdrant) are left out; ChatFlow is judged by
delivery outcomes (no status probe), as in a default installation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECKS = [
    "incidents.checks.system.DatabaseCheck",
    "incidents.checks.system.BrokerCheck",
    "conversations.sentinel_checks.ChatFlowCheck",
    "conversations.sentinel_checks.SilentFailureCheck",
    "conversations.sentinel_checks.OutboxBacklogCheck",
    "conversations.sentinel_checks.DeliveryFailureRateCheck",
    "incidents.checks.system.ErrorSpikeCheck",
    "incidents.checks.system.SentinelHeartbeatCheck",
]


def _setup() -> None:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="imperium-bench-")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")
    os.environ.setdefault("LOG_LEVEL", "error")
    os.environ.setdefault("CHATFLOW_BASE_URL", "http://127.0.0.1:9")
    # A fixed key, so a second run can delete the first run's (encrypted) bench rows.
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", "YmVuY2gtc2VudGluZWwta2V5LTMyLWJ5dGVzLWxvbmc=")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed(tenants: int, messages: int) -> None:
    """Bench tenants `bench-s-<n>` with an hour of answered traffic each."""
    from datetime import timedelta

    from django.utils import timezone

    from conversations.models import Conversation, InboundMessage, OutboundMessage, Turn
    from tenants.models import Client, ClientSettings

    old = Client.objects.filter(slug__startswith="bench-s-")
    for model in (OutboundMessage, InboundMessage, Turn):  # PROTECTed references first
        model.objects.filter(tenant__in=old).delete()
    old.delete()
    now = timezone.now()
    for n in range(tenants):
        client = Client.objects.create(slug=f"bench-s-{n}", name=f"Bench {n}", status="active")
        ClientSettings.objects.create(client=client, webhook_secret="whsec_YmVuY2g=", chatflow_token="t", chatflow_instance_id=f"i{n}")
        for m in range(messages):
            at = now - timedelta(minutes=60 - m * 2)
            conversation = Conversation.objects.create(tenant=client, customer_key=f"k{n}-{m}", customer_phone="+77010000000",
                                                       customer_phone_masked="+7701•••0000", created_at=at, updated_at=at)
            turn = Turn.objects.create(tenant=client, conversation=conversation, status="answered", decision="answer", created_at=at,
                                       finished_at=at, message_count=1)
            InboundMessage.objects.create(tenant=client, conversation=conversation, provider_message_id=f"b{n}-{m}", text="?",
                                          received_at=at, turn=turn)
            OutboundMessage.objects.create(tenant=client, conversation=conversation, turn=turn, kind="reply", text="!",
                                           idempotency_key=f"bench-{n}-{m}", status="sent", created_at=at, updated_at=at, sent_at=at)


def run(*, tenants: int, messages: int, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from incidents.sentinel import sentinel_run

    seed(tenants, messages)
    timings, queries = [], []
    for _ in range(runs):
        connection.queries_log.clear()  # the capture counts a bounded log: start it empty
        with override_settings(SENTINEL_CHECKS=CHECKS), CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            report = sentinel_run(trigger="command")
            timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
    return {
        "database": connection.vendor, "tenants": tenants, "observations": len(report.observations), "failing": len(report.failing),
        "first_run_ms": round(timings[0], 1), "median_ms": round(statistics.median(timings[1:] or timings), 1),
        "max_ms": round(max(timings), 1), "queries_first_run": queries[0], "queries_median": int(statistics.median(queries[1:] or queries)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    _setup()
    result = run(tenants=args.tenants, messages=args.messages, runs=args.runs)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
