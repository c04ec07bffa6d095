"""Database chores of the benchmarks (run with bench/env.sh loaded).

    python bench/bench_db.py ensure            create the bench database if missing, migrate
    python bench/bench_db.py tenant            print the bench tenant's slug and webhook secret (creates it;
                                               BENCH_KB=lotus gives it the Lotus Beauty KB as stable)
    python bench/bench_db.py reset             empty the pipeline tables and the bare reference's table
    python bench/bench_db.py verify-webhook N  check the N accepted messages are stored exactly once
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlparse

SLUG = "bench-salon"
BARE_TABLE = "bench_bare_inbound"


def ensure_database() -> None:
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def django_setup() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import django

    django.setup()


LOTUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "knowledge", "fixtures", "eval", "lotus-beauty")


def _has_stable_kb(client) -> bool:  # type: ignore[no-untyped-def]
    from knowledge.selectors import kb_version_stable

    return kb_version_stable(client) is not None


def _import_lotus_kb(client) -> None:  # type: ignore[no-untyped-def]
    """The public Lotus Beauty KB as the bench tenant's first stable version (like the demo tenant)."""
    from imperium.core.actors import Actor
    from knowledge.services import kb_import, kb_version_make_first_stable

    with open(os.path.join(LOTUS, "kb.jsonl"), encoding="utf-8") as f:
        content = f.read()
    version = kb_import(actor=Actor.system("bench"), tenant=client, file_name="kb.jsonl", content=content, index=False)
    kb_version_make_first_stable(actor=Actor.system("bench"), version=version)


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "ensure":
        ensure_database()
        django_setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY, tenant_slug text NOT NULL, "
                "message_id text NOT NULL, body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), "
                "UNIQUE (tenant_slug, message_id))"
            )
        return
    django_setup()
    from django.db import connection

    from conversations.models import InboundMessage
    from tenants.models import Client

    if command == "tenant":
        from imperium.core.actors import Actor
        from tenants.services import client_onboard

        client = Client.objects.filter(slug=SLUG).select_related("settings").first()
        if client is None:
            client = client_onboard(actor=Actor.system("bench"), slug=SLUG, name="Bench Salon", chatflow_token="bench-token",
                                    chatflow_instance_id="bench-instance").client
        if os.environ.get("BENCH_KB") == "lotus" and not _has_stable_kb(client):
            _import_lotus_kb(client)
        window = int(os.environ.get("BENCH_COALESCE_WINDOW", "3"))
        client.settings.coalesce_window_seconds = window
        client.settings.coalesce_max_seconds = max(window, 12)
        client.settings.save()
        print(json.dumps({"slug": client.slug, "secret": client.settings.webhook_secret}))
    elif command == "reset":
        tables = ["conversations_sandboxmessage", "conversations_messagetrace", "conversations_conversationevent",
                  "conversations_outboundmessage", "conversations_escalation", "conversations_inboundmessage",
                  "conversations_turn", "conversations_conversation", "conversations_deadletter", "incidents_errorlog",
                  "crm_bookingsession", "crm_crmcall", "crm_crmrecord", BARE_TABLE]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    elif command == "verify-webhook":
        accepted = int(argv[1])
        table = argv[2] if len(argv) > 2 else "imperium"  # imperium | bare
        with connection.cursor() as cursor:
            if table == "bare":
                cursor.execute(f"SELECT count(*), count(DISTINCT message_id) FROM {BARE_TABLE}")
            else:
                cursor.execute(
                    f"SELECT count(*), count(DISTINCT provider_message_id) FROM {InboundMessage._meta.db_table} "
                    "WHERE tenant_id = (SELECT id FROM tenants_client WHERE slug = %s)", [SLUG]
                )
            stored, distinct = cursor.fetchone()
        in_flight = int(argv[3]) if len(argv) > 3 else 0
        # wrk stops with up to one request per connection in flight: stored but never answered.
        lost, doubled = max(0, accepted - stored), stored - distinct
        ok = lost == 0 and doubled == 0 and stored - accepted <= in_flight
        print(json.dumps({"accepted_responses": accepted, "stored": stored, "distinct": distinct,
                          "unanswered_at_stop": stored - accepted, "lost": lost, "doubled": doubled, "ok": ok}))
        sys.exit(0 if ok else 1)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:] or ["help"])
