"""onboard_tenant --slug S --name N [--chatflow-token T --chatflow-instance I]
[--telegram-chat C --telegram-topic K] [--kb FILE] → prints the webhook URL and secret (once).

With --kb the file is imported as the tenant's first KB version and made stable through the
policy (`kb.first_stable`, low risk: the tenant has never been live, nothing to shame yet).
The file is parsed first; the tenant and its KB are created together or not at all.

Contract: docs/CONTRACTS.md "Command line".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import policy_execute
from tenants.selectors import client_get_by_slug
from tenants.services import OnboardResult


class Command(BaseCommand):
    help = "Create a tenant with its settings and a new webhook secret; prints the webhook URL and secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="URL-safe tenant id, e.g. lotus-beauty")
        parser.add_argument("--name", required=True, help="Business name")
        parser.add_argument("--chatflow-token", default="", help="ChatFlow API token (stored encrypted)")
        parser.add_argument("--chatflow-instance", default="", help="ChatFlow instance id")
        parser.add_argument("--telegram-chat", type=int, default=None, help="Telegram chat id of the managers' group")
        parser.add_argument("--telegram-topic", type=int, default=None, help="Telegram topic (thread) id in that chat")
        parser.add_argument("--timezone", default="Asia/Almaty", help="IANA time zone of the business")
        parser.add_argument("--locale", default="ru", help="Language of customer- and manager-facing texts")
        parser.add_argument("--kb", default=None, help="Knowledge file (JSONL or Markdown) to serve from the start")
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        kb = self._read_kb(options["kb"]) if options["kb"] else None
        try:
            with transaction.atomic():
                outcome = self._onboard(options)
                extra = self._serve_kb(options["slug"], *kb) if kb else None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        client = client_get_by_slug(options["slug"])
        result = OnboardResult(client=client, webhook_url=outcome.result["webhook_url"], webhook_secret=outcome.result["webhook_secret"])
        self.report(result, options, extra)

    @staticmethod
    def _read_kb(path_name: str) -> tuple[str, str]:
        from knowledge.parsing import parse_kb

        path = Path(path_name)
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            parse_kb(path.name, content)  # refuse a bad file before the tenant exists
        except ApplicationError as exc:
            raise CommandError(f"{path.name}: {exc.message}") from None
        return path.name, content

    @staticmethod
    def _serve_kb(slug: str, file_name: str, content: str) -> dict[str, Any]:
        from knowledge.services import kb_import

        actor = Actor.system("onboard_tenant")
        version = kb_import(actor=actor, tenant=client_get_by_slug(slug), file_name=file_name, content=content, index=False)
        outcome = policy_execute("kb.first_stable", actor, {"tenant": slug, "version": version.number}, tenant=version.tenant)
        if not outcome.executed:
            return {"kb_version": version.number, "kb_items": version.item_count, "kb_status": "waiting for verification"}
        return {"kb_version": version.number, "kb_items": version.item_count, "kb_status": "stable"}

    def _onboard(self, options: dict[str, Any]) -> Any:
        return policy_execute(
            "tenant.onboard",
            Actor.system("onboard_tenant"),
            {
                "slug": options["slug"],
                "name": options["name"],
                "chatflow_token": options["chatflow_token"],
                "chatflow_instance_id": options["chatflow_instance"],
                "telegram_chat_id": options["telegram_chat"],
                "telegram_topic_id": options["telegram_topic"],
                "timezone_name": options["timezone"],
                "locale": options["locale"],
            },
        )

    def report(self, result: Any, options: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        if options["json"]:
            body = {"slug": result.client.slug, "webhook_url": result.webhook_url, "webhook_secret": result.webhook_secret}
            body.update(extra or {})
            self.stdout.write(json.dumps(body, ensure_ascii=False))
            return
        self.stdout.write(self.style.SUCCESS(f"Tenant {result.client.slug} onboarded (status {result.client.status})."))
        self.stdout.write(f"Webhook URL:    {result.webhook_url}")
        self.stdout.write(f"Webhook secret: {result.webhook_secret}")
        for key, value in (extra or {}).items():
            self.stdout.write(f"{key}: {value}")
        self.stdout.write("Give both to ChatFlow now: the secret is stored encrypted and is not shown again.")
