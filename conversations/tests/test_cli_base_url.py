"""The command line follows the address the server runs at (PUBLIC_BASE_URL, which `make run
PORT=…` sets and remembers for other shells), never a hard-coded port 8000."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings as django_settings
from django.core.management import call_command
from standardwebhooks import Webhook

from imperium.core.testing.local_http import LocalHTTPServer, QuietHandler, send_json
from tenants.models import Client


class FakeImperium(LocalHTTPServer):
    """Stands in for a running web process on some port: records the webhook posts it gets."""

    thread_name = "fake-imperium"

    def __init__(self) -> None:
        self.requests: list[dict] = []
        fake = self

        class Handler(QuietHandler):
            def handle_method(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                send_json(self, 200, {"status": "accepted"})

        self.bind(Handler)


def test_onboard_tenant_prints_and_webhook_send_posts_to_the_public_base_url(db, settings):
    with FakeImperium() as server:
        settings.PUBLIC_BASE_URL = server.url  # e.g. http://127.0.0.1:<PORT>, as `make run PORT=…` sets it
        out = io.StringIO()
        call_command("onboard_tenant", "--slug", "lotus", "--name", "Lotus Beauty", stdout=out)
        assert f"Webhook URL:    {server.url}/webhook/lotus" in out.getvalue() and ":8000" not in out.getvalue()

        call_command("webhook_send", "--tenant", "lotus", "Здравствуйте!", stdout=io.StringIO())
        [posted] = server.requests
        assert posted["path"] == "/webhook/lotus"
        secret = Client.objects.get(slug="lotus").settings.webhook_secret
        payload = Webhook(secret).verify(posted["body"], {k.lower(): v for k, v in posted["headers"].items()})
        assert payload["text"] == "Здравствуйте!"


def test_make_run_remembers_its_address_for_commands_in_another_shell(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("bootstrap_local", "--port", "8123", "--public-base-url", "http://127.0.0.1:8123", stdout=io.StringIO())
    assert (tmp_path / "public_base_url").read_text().strip() == "http://127.0.0.1:8123"

    # A new process without PUBLIC_BASE_URL in its environment (another terminal) reads it back.
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="imperium.settings", DEBUG="true")
    code = "import django; django.setup(); from django.conf import settings; print(settings.PUBLIC_BASE_URL)"
    base_dir = Path(django_settings.BASE_DIR)
    shown = subprocess.run([sys.executable, "-c", code], env=env, cwd=base_dir, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8123", shown.stderr
    # The environment still wins.
    env["PUBLIC_BASE_URL"] = "https://imperium.example.com"
    shown = subprocess.run([sys.executable, "-c", code], env=env, cwd=base_dir, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip().splitlines()[-1] == "https://imperium.example.com", shown.stderr
    assert shown.returncode == 0
