"""release_status [--tenant S] [--json] → what each channel serves, who is on it, what waits for verification."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.models import VerificationRequest, VerificationStatus
from releases.choices import Channel
from releases.operations import RELEASE_ACTIONS
from releases.selectors import canary_analysis_latest, pointers_current, release_for_channel, release_for_tenant, tenants_on_channel
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Show the stable and canary pointers, tenants per channel and pending release verifications (read-only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default=None, help="Also show what this tenant is served now")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        pointers = pointers_current()
        body: dict[str, Any] = {"channels": {}}
        for channel in (Channel.STABLE, Channel.CANARY):
            resolved = release_for_channel(channel)
            pointer = pointers.get(channel)
            body["channels"][channel] = {
                "pointer": pointer.release.version if pointer is not None and pointer.release_id else None,
                "serves": resolved.version,
                "image_tag": resolved.image_tag,
                "revision": pointer.revision if pointer is not None else 0,
                "tenants": list(tenants_on_channel(channel).values_list("slug", flat=True)),
            }
        body["pending_verifications"] = [
            {"id": r.pk, "action": r.action, "summary": r.summary, "expires_at": r.expires_at.isoformat()}
            for r in VerificationRequest.objects.filter(status=VerificationStatus.PENDING, action__in=RELEASE_ACTIONS)
        ]
        latest = canary_analysis_latest()
        body["canary_analysis"] = None if latest is None else {
            "id": latest.pk, "result": latest.result, "release": latest.release_version, "stable": latest.stable_version,
            "at": latest.created_at.isoformat(), "action": latest.action, "reasons": [r.get("text", "") for r in latest.reasons],
        }
        if options["tenant"]:
            client = client_get_by_slug(options["tenant"])
            if client is None:
                raise CommandError(f"Unknown tenant '{options['tenant']}'.")
            resolved = release_for_tenant(client)
            body["tenant"] = {"slug": client.slug, "channel": resolved.channel, "serving_channel": resolved.serving_channel,
                              "release": resolved.version, "image_tag": resolved.image_tag}
        if options["json"]:
            self.stdout.write(json.dumps(body, ensure_ascii=False))
            return
        for channel, info in body["channels"].items():
            self.stdout.write(f"{channel:7} serves {info['serves']} (image {info['image_tag'] or '-'}, revision {info['revision']}); "
                              f"tenants: {', '.join(info['tenants']) or 'none'}")
        for request in body["pending_verifications"]:
            self.stdout.write(f"pending verification #{request['id']}: {request['summary']} (expires {request['expires_at']})")
        analysis = body["canary_analysis"]
        if analysis is not None:
            self.stdout.write(f"latest canary analysis #{analysis['id']} ({analysis['at'][:16]}): {analysis['result']} — "
                              f"canary {analysis['release']} vs stable {analysis['stable']}"
                              + (f"; action {analysis['action']}" if analysis["action"] else "")
                              + (f"; {'; '.join(analysis['reasons'])}" if analysis["reasons"] else ""))
        if "tenant" in body:
            t = body["tenant"]
            self.stdout.write(f"tenant {t['slug']}: channel {t['channel']}, served release {t['release']} "
                              f"by the {t['serving_channel']} pointer")
