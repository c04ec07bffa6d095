"""`python manage.py fixer --once`: one fixer pass now (remediations for open incidents and the
sentinel watchdog), printed as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the fixer once: known remediations for open incidents (through the write-risk policy)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Accepted for symmetry with `sentinel --once`; one pass either way.")

    def handle(self, *args: Any, **options: Any) -> None:
        from incidents.fixer import fixer_run

        self.stdout.write(json.dumps(fixer_run().as_dict(), indent=2))
