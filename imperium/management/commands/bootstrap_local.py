"""Prepare a local installation for `make run`: an admin user and a demo tenant.

Idempotent: the admin password is generated once into var/ and printed on every start;
the demo tenant is created once, and its webhook secret is printed only then.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from imperium.core.actors import Actor
from imperium.core.envconfig import local_base_url_write, local_secret
from tenants.models import Client
from tenants.services import client_onboard

DEMO_SLUG = "demo-salon"


class Command(BaseCommand):
    help = "Create the local admin user and the demo tenant (idempotent); print where to go."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--public-base-url", default="",
                            help="Where the web process will be reached (default http://127.0.0.1:PORT); remembered in "
                                 "var/ so commands run from another shell (webhook_send, onboard_tenant) use it")
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        password = local_secret(settings.VAR_DIR, "local_admin_password", lambda: secrets.token_urlsafe(12))
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=options["username"], defaults={"is_staff": True, "is_superuser": True, "email": "admin@localhost"}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()

        demo = Client.objects.filter(slug=DEMO_SLUG).first()
        secret_line = ""
        if demo is None:
            result = client_onboard(actor=Actor.system("bootstrap_local"), slug=DEMO_SLUG, name="Demo Salon")
            demo = result.client
            secret_line = f"  demo webhook secret: {result.webhook_secret}  (shown once; rotate it in admin)"
            self._seed_demo(demo)

        crm_line = self._connect_demo_crm(demo)
        base = (options["public_base_url"] or f"http://127.0.0.1:{options['port']}").rstrip("/")
        local_base_url_write(settings.VAR_DIR, base)
        lines = [
            "",
            "Imperium is starting:",
            f"  web:          {base}/",
            f"  admin:        {base}/admin/   user {user.username}  password {password}",
            f"  health:       {base}/health   {base}/admin/health",
            f"  API schema:   {base}/api/schema/   docs: {base}/api/docs/",
            f"  demo webhook: {base}/webhook/{demo.slug}",
        ]
        if secret_line:
            lines.append(secret_line)
        if crm_line:
            lines.append(crm_line)
        lines.append("Ctrl-C stops web, worker and beat.\n")
        self.stdout.write("\n".join(lines))

    def _connect_demo_crm(self, demo: Client) -> str:
        """The demo tenant books into the fake CRM that `make run` starts (Procfile.local, FAKE_CRM_PORT).
        Connected once, without the usual read call: the fake starts after this command."""
        import os

        from crm.selectors import crm_connection_of
        from crm.services import crm_connect
        from crm.testing.fake_crm import DEMO_SERVICES, FakeCrm

        port = int(os.environ.get("FAKE_CRM_PORT") or 9200)
        url = f"http://127.0.0.1:{port}/api/v1"
        if crm_connection_of(demo) is None:
            defaults = FakeCrm.__init__.__kwdefaults__
            crm_connect(actor=Actor.system("bootstrap_local"), tenant=demo, kind="altegio", company_id=defaults["company_id"],
                        partner_token=defaults["partner_token"], user_token=defaults["user_token"], base_url=url,
                        checked_services=DEMO_SERVICES)
            from crm.models import CrmService

            CrmService.objects.filter(tenant=demo, crm_id=101).update(keywords="маникюр, гель-лак, покрытие")
            CrmService.objects.filter(tenant=demo, crm_id=104).update(keywords="стрижка, подстричься")
        return f"  demo CRM:     fake Altegio at {url} (book: webhook_send --tenant {demo.slug} \"Запишите на маникюр завтра в 15:00\")"

    def _seed_demo(self, demo: Client) -> None:
        """The demo tenant serves the bundled Lotus Beauty knowledge (public eval set) as its
        first stable version, so `make run` answers real questions."""
        from knowledge.services import kb_import, kb_version_make_first_stable

        path = settings.BASE_DIR / "knowledge" / "fixtures" / "eval" / "lotus-beauty" / "kb.jsonl"
        actor = Actor.system("bootstrap_local")
        version = kb_import(actor=actor, tenant=demo, file_name=path.name, content=path.read_text(encoding="utf-8"), index=False)
        kb_version_make_first_stable(actor=actor, version=version)
