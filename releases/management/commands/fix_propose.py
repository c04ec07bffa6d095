"""fix_propose --title T --branch B [--pr-url U] [--sha S] [--incident N] [--tenant S] → a fix proposal (low risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Record a code fix proposal; CI statuses arriving at /releases/ci-webhook then move it."
    name = "fix_propose"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--title", required=True)
        parser.add_argument("--branch", required=True)
        parser.add_argument("--pr-url", default="")
        parser.add_argument("--sha", default="", help="Head commit sha")
        parser.add_argument("--incident", type=int, default=None, help="Incident id the fix is for")
        parser.add_argument("--tenant", default=None, help="Tenant whose incident it fixes")
        parser.add_argument("--notes", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.propose_fix(
            actor=self.actor(), title=options["title"], branch=options["branch"], pr_url=options["pr_url"],
            commit_sha=options["sha"], incident=options["incident"], tenant=options["tenant"], notes=options["notes"],
            source=EventSource.CLI))
