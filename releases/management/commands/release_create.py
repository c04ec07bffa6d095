"""release_create --version V [--image-tag T] [--copy-from V] [--bundle FILE.json] [--notes N] → a draft release."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = ("Create a draft release. --bundle is a JSON file of overrides by section "
            '({"answering": {"rules": [...], "thresholds": {...}, "templates": {...}}, "eval": {...}, "flags": {...}}); '
            "see docs/RELEASES.md.")
    name = "release_create"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--version", required=True, help="Semantic version, e.g. 1.5.0 or 1.5.0-rc1")
        parser.add_argument("--image-tag", default="", help="Docker image tag the bundle is meant for (CANARY_TAG)")
        parser.add_argument("--copy-from", default=None, help="Start from this release's overrides (e.g. the stable one)")
        parser.add_argument("--bundle", default=None, help="JSON file with section overrides")
        parser.add_argument("--notes", default="", help="What changed and why")

    def handle(self, *args: Any, **options: Any) -> None:
        overrides: dict[str, Any] = {}
        if options["bundle"]:
            try:
                overrides = json.loads(Path(options["bundle"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read bundle {options['bundle']}: {exc}") from None
            if not isinstance(overrides, dict):
                raise CommandError("The bundle file must hold a JSON object of sections.")
        self.run_operation(options, lambda: operations.create_draft(
            actor=self.actor(), version=options["version"], image_tag=options["image_tag"], overrides=overrides,
            copy_from=options["copy_from"], notes=options["notes"], source=EventSource.CLI,
        ))
