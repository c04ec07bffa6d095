"""`manage.py check`, with the `services` checks probing their services when asked for by tag.

`check --tag services [--database default]` is the loud startup check of the web role (Docker
entrypoint, `make run`); a plain `check` or `check --deploy` looks at the configuration only, and
no other command probes outside services before running (imperium.core.checks).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.check import Command as DjangoCheckCommand

from imperium.core.checks import SERVICES_TAG, services_checks_requested


class Command(DjangoCheckCommand):
    def handle(self, *app_labels: Any, **options: Any) -> Any:
        if SERVICES_TAG in (options.get("tags") or []):
            with services_checks_requested():
                return super().handle(*app_labels, **options)
        return super().handle(*app_labels, **options)
