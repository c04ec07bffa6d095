"""ask --tenant S [--kb-version N] [--json] "message" ["message" ...] → the reply decision
for a burst of messages, without sending anything."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.answering.brain import decide_reply
from knowledge.selectors import kb_version_default, kb_version_get
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Show how the bot would answer a burst of customer messages (nothing is sent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--kb-version", type=int, default=None)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("messages", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        if options["kb_version"] is not None:
            version = kb_version_get(tenant, options["kb_version"])
            if version is None:
                raise CommandError(f"{tenant.slug} has no KB v{options['kb_version']}.")
        else:
            version = kb_version_default(tenant)
        from releases.selectors import release_for_tenant  # entry point: may read the release

        decision = decide_reply(tenant, None, options["messages"], kb_version=version, release=release_for_tenant(tenant))
        if options["json"]:
            self.stdout.write(json.dumps(decision.as_dict(), ensure_ascii=False, indent=1))
            return
        w = self.stdout.write
        w(f"decision:   {decision.action}" + (f" ({decision.reason})" if decision.reason else ""))
        w(f"kb version: {decision.kb_version}   release: {decision.release}")
        w(f"confidence: {decision.confidence}")
        w(f"sources:    {', '.join(decision.sources) or '-'}")
        w("gate:")
        for rule in decision.gate:
            w(f"  {'ok  ' if rule['passed'] else 'FAIL'} {rule['rule']}" + (f": {rule['detail']}" if rule.get("detail") else ""))
        w("timings:    " + ", ".join(f"{k} {v}" for k, v in decision.timings.items()))
        if decision.text:
            w("text:\n" + decision.text)
