"""webhook_send --tenant S [--from PHONE] [--type T] [--url URL] "text" ["text" ...]

Signs a message with the tenant's stored webhook secret and posts it to the running server,
exactly as ChatFlow would (handy for demos and smoke checks). Several texts make a burst.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.signing import signed_headers
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Sign and POST a customer message to /webhook/<tenant> of a running Imperium (like ChatFlow does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("texts", nargs="+", help="Message text(s); several are sent one after another (a burst)")
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--from", dest="phone", default="+77010000001", help="Customer phone (default +77010000001)")
        parser.add_argument("--name", default="Demo Customer", help="Customer name")
        parser.add_argument("--type", dest="message_type", default="text", help="Message type (text, image, audio, ...)")
        parser.add_argument("--url", default="", help="Base URL of the server (default PUBLIC_BASE_URL)")
        parser.add_argument("--message-id", default="", help="Provider message id (default: random; repeat one to test dedup)")
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle(self, *args: Any, **options: Any) -> None:
        client = client_get_by_slug(options["tenant"])
        if client is None or not hasattr(client, "settings"):
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        secret = client.settings.webhook_secret
        base = (options["url"] or settings.PUBLIC_BASE_URL).rstrip("/")
        url = f"{base}/webhook/{client.slug}"
        failed = False
        for index, text in enumerate(options["texts"]):
            message_id = options["message_id"] or f"wamid.demo-{uuid.uuid4().hex}"
            if options["message_id"] and len(options["texts"]) > 1:
                message_id = f"{message_id}-{index}"
            payload = {"message_id": message_id, "from": options["phone"], "name": options["name"],
                       "type": options["message_type"], "text": text, "timestamp": int(time.time())}
            body = json.dumps(payload, ensure_ascii=False).encode()
            try:
                response = requests.post(url, data=body, headers=signed_headers(secret, body), timeout=options["timeout"])
            except requests.RequestException as exc:
                raise CommandError(f"POST {url} failed: {exc}") from None
            ok = response.status_code == 200
            failed |= not ok
            line = f"{response.status_code} {response.text.strip()}  ({message_id})"
            self.stdout.write(self.style.SUCCESS(line) if ok else self.style.ERROR(line))
        if failed:
            raise CommandError("The server refused at least one message.")
