"""onboard_tenant --slug S --name N [--chatflow-token T --chatflow-instance I]
[--telegram-chat C --telegram-topic K] → prints the webhook URL and secret (once)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.actors import Actor
from imperium.exceptions import ApplicationError
from imperium.policy import policy_execute
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
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = policy_execute(
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
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        client = client_get_by_slug(options["slug"])
        result = OnboardResult(client=client, webhook_url=outcome.result["webhook_url"], webhook_secret=outcome.result["webhook_secret"])
        self.report(result, options)

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
