"""kb_import --tenant S FILE → a new draft KB version, indexed; prints its number.

Contract: docs/CONTRACTS.md "Command line".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError, IntegrationError
from knowledge.selectors import kb_versions_with_same_content
from knowledge.services import kb_import
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Import a JSONL or Markdown knowledge file as a new draft version of a tenant's KB (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("file", help="JSONL (one item a line) or Markdown (## question headings)")
        parser.add_argument("--format", choices=("jsonl", "markdown"), default=None, help="override detection by extension")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        path = Path(options["file"])
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            version = kb_import(actor=Actor.system("kb_import"), tenant=tenant, file_name=path.name, content=content,
                                kind=options["format"])
        except (ApplicationError, IntegrationError) as exc:
            raise CommandError(exc.message) from None
        same = [v.number for v in kb_versions_with_same_content(version)]
        if same:
            self.stderr.write(self.style.WARNING(
                f"Warning: the items are identical to v{', v'.join(map(str, same))}: nothing changed in this import."))
        if options["json"]:
            self.stdout.write(json.dumps({"tenant": tenant.slug, "version": version.number, "items": version.item_count,
                                          "status": version.status, "content_hash": version.content_hash,
                                          "identical_to": same}))
        else:
            self.stdout.write(str(version.number))
            self.stderr.write(f"{tenant.slug}: draft KB v{version.number} with {version.item_count} items, indexed. "
                              f"Try: manage.py ask --tenant {tenant.slug} --kb-version {version.number} \"...\"")
