"""ask --tenant S [--kb-version N] [--json] "message" ["message" ...] → the reply decision
for a burst of messages, without sending anything.

Without --kb-version it answers from the version the tenant serves, else its newest draft (so a
draft can be tried before promotion), and says plainly which version answered and what the live
bot serves: when that is nothing, customers get a hand-over (`no_knowledge`) until a version is
promoted.

Contract: docs/CONTRACTS.md "Command line".
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.answering.brain import decide_reply
from knowledge.selectors import kb_version_default, kb_version_get, kb_version_serving
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

        release = release_for_tenant(tenant)
        decision = decide_reply(tenant, None, options["messages"], kb_version=version, release=release)
        serving = kb_version_serving(tenant, channel=release.channel)
        answered = f"KB v{version.number} ({version.status})" if version is not None else "no KB version (the tenant has none)"
        if serving is None:
            live = (f"no KB version on the {release.channel} channel: customers get a hand-over (no_knowledge) "
                    f"until a version is promoted (kb_promote)")
        else:
            live = f"KB v{serving.number} ({serving.status}) on the {release.channel} channel"
        if options["json"]:
            body = {**decision.as_dict(), "answered_from": answered, "live_bot_serves": live,
                    "live_kb_version": serving.number if serving is not None else None}
            self.stdout.write(json.dumps(body, ensure_ascii=False, indent=1))
            return
        w = self.stdout.write
        w(f"decision:   {decision.action}" + (f" ({decision.reason})" if decision.reason else ""))
        w(f"answered from:   {answered}   release: {decision.release}")
        w(f"live bot serves: {live}")
        if version is not None and serving is not None and serving.pk != version.pk:
            w(f"note: customers are answered from KB v{serving.number}, not from this one")
        w(f"confidence: {decision.confidence}")
        w(f"sources:    {', '.join(decision.sources) or '-'}")
        w("gate:")
        for rule in decision.gate:
            w(f"  {'ok  ' if rule['passed'] else 'FAIL'} {rule['rule']}" + (f": {rule['detail']}" if rule.get("detail") else ""))
        w("timings:    " + ", ".join(f"{k} {v}" for k, v in decision.timings.items()))
        if decision.text:
            w("text:\n" + decision.text)
