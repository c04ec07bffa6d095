"""canary_analysis [--json] → run canary analysis once now (what the beat job does) and print the verdict."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from releases.analysis import canary_analysis_run
from releases.selectors import canary_analysis_summary


class Command(BaseCommand):
    help = ("Compare the canary release's turns on canary tenants with the stable release's on stable tenants now; "
            "a failed canary is rolled back (low risk, audited). Prints the verdict.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the analysis as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        analysis = canary_analysis_run()
        if analysis is None:
            self.stdout.write(json.dumps(None) if options["json"] else "nothing on canary: no canary release or no canary tenant")
            return
        summary = canary_analysis_summary(analysis)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))
            return
        style = {"failed": self.style.ERROR, "inconclusive": self.style.WARNING}.get(analysis.result, self.style.SUCCESS)
        self.stdout.write(style(f"canary analysis #{analysis.pk}: {analysis.result} — canary {analysis.release_version} "
                                f"vs stable {analysis.stable_version} over {analysis.window_start:%H:%M}–{analysis.window_end:%H:%M} UTC"))
        for row in summary["metrics"]:
            self.stdout.write(f"  {row['name']:22} canary {row['canary']!s:>8}   stable {row['stable']!s:>8}")
        for reason in analysis.reasons:
            self.stdout.write(f"  - {reason['text']}")
        if analysis.action:
            self.stdout.write(f"  action: {analysis.action} {json.dumps(analysis.action_detail, default=str)}")
