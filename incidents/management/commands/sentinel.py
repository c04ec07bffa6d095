"""`python manage.py sentinel --once`: run every check once, record it, print the results.

Exit code 1 when any check fails (handy in cron or CI smoke checks). Without --once it keeps
running every SENTINEL_INTERVAL_SECONDS (a sentinel container without celery beat).

Contract: docs/CONTRACTS.md "Command line".
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.choices import SentinelTrigger


class Command(BaseCommand):
    help = "Run the sentinel's checks (every check once with --once) and print the results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One run, then exit (1 when something fails).")
        parser.add_argument("--dry-run", action="store_true", help="Only look: record nothing, open or resolve no incident.")
        parser.add_argument("--check", action="append", dest="checks", metavar="NAME",
                            help="Run only this check (repeatable), e.g. --check qdrant --check chatflow.")
        parser.add_argument("--json", action="store_true", help="Print the run as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        from incidents.checks import checks_configured
        from incidents.sentinel import sentinel_run

        names = options["checks"]
        if names:
            known = {c.name for c in checks_configured()}
            unknown = sorted(set(names) - known)
            if unknown:
                raise CommandError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        while True:
            report = sentinel_run(trigger=SentinelTrigger.COMMAND, record=not options["dry_run"], names=names)
            self._print(report, as_json=options["json"])
            if options["once"]:
                if report.failing:
                    raise SystemExit(1)
                return
            time.sleep(settings.SENTINEL_INTERVAL_SECONDS)

    def _print(self, report: Any, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        width = max((len(o.fingerprint) for o in report.observations), default=10)
        for o in report.observations:
            state = {"ok": self.style.SUCCESS("ok  "), "FAIL": self.style.ERROR("FAIL"), "skip": self.style.WARNING("skip")}[o.state]
            latency = f"{o.latency_ms:8.1f} ms" if o.latency_ms is not None else " " * 11
            self.stdout.write(f"{state} {o.fingerprint:<{width}} {latency}  {o.detail}")
        for change in report.changes:
            incident = change.incident
            self.stdout.write(f"incident #{incident.pk if incident else '-'} {change.change}: {change.observation.fingerprint}")
        summary = f"{len(report.failing)} failing of {len(report.observations)} in {report.duration_ms:.0f} ms"
        if not report.recorded:
            summary += " (not recorded)"
        self.stdout.write(self.style.ERROR(summary) if report.failing else self.style.SUCCESS(summary))
