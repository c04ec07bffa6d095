"""deploy_stable [--version V] → request promotion of the canary release to stable (high risk: waits for the CEO)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Promote the canary release to stable for every stable tenant. High risk: creates a verification request."
    name = "deploy_stable"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--version", default=None, help="Refuse unless the canary runs exactly this version")
        parser.add_argument("--tenant", default=None, help="Attach the request to this tenant (context only)")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.deploy_stable(
            actor=self.actor(), version=options["version"], tenant=options["tenant"], source=EventSource.CLI,
            reason=options["reason"]))
