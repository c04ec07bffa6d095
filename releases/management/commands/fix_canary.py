"""fix_canary --proposal ID [--version V] [--image-tag T] → draft release from a CI-passed fix, on canary (low risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand
from releases.models import FixProposal
from releases.selectors import next_fix_version


class Command(OperationCommand):
    help = "Turn a CI-passed fix proposal into a draft release (from the stable bundle) and point the canary at it."
    name = "fix_canary"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--proposal", type=int, required=True)
        parser.add_argument("--version", default=None, help="Release version (default: next patch of stable, -fix.<id>)")
        parser.add_argument("--image-tag", default="", help="Image tag built from the fix (run it as CANARY_TAG)")

    def handle(self, *args: Any, **options: Any) -> None:
        proposal = FixProposal.objects.filter(pk=options["proposal"]).first()
        if proposal is None:
            raise CommandError(f"Unknown fix proposal #{options['proposal']}.")
        version = options["version"] or (None if proposal.release_id else next_fix_version(proposal))
        self.run_operation(options, lambda: operations.canary_fix(
            actor=self.actor(), proposal=proposal.pk, version=version, image_tag=options["image_tag"], source=EventSource.CLI))
