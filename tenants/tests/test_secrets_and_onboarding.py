from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from imperium.core.models import AuditLog
from tenants.models import Client, ClientSettings

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _raw_settings_row(pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT webhook_secret, webhook_secret_previous, chatflow_token FROM tenants_clientsettings WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_it_stores_secrets_encrypted(tenant_a):
    row = ClientSettings.objects.get(client=tenant_a)
    assert row.webhook_secret.startswith("whsec_")
    raw_secret, _, raw_token = _raw_settings_row(row.pk)
    assert row.webhook_secret not in raw_secret and raw_secret.startswith("fernet:")
    assert "cf-token-0123456789" not in raw_token and raw_token.startswith("fernet:")


def test_it_never_shows_secrets_whole_in_admin(login, superuser, tenant_a):
    secret = tenant_a.settings.webhook_secret
    page = login(superuser).get(reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])).content.decode()
    assert secret not in page and "cf-token-0123456789" not in page
    assert "••••" + secret[-4:] in page
    listing = login(superuser).get(reverse("admin:tenants_clientsettings_changelist")).content.decode()
    assert secret not in listing


def test_it_rotates_the_secret_keeping_the_previous_one(login, superuser, tenant_a):
    old = tenant_a.settings.webhook_secret
    response = login(superuser).post(
        reverse("admin:tenants_client_changelist"), {"action": "rotate_webhook_secret", "_selected_action": [tenant_a.pk]}
    )
    assert response.status_code == 200
    row = ClientSettings.objects.get(client=tenant_a)
    assert row.webhook_secret != old and row.webhook_secret_previous == old
    assert row.webhook_secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditLog.objects.get(action="tenant.webhook_secret_rotated")
    assert old not in json.dumps(entry.payload) and row.webhook_secret not in json.dumps(entry.payload)
    assert row.webhook_secrets == [row.webhook_secret, old]


def test_onboard_tenant_prints_url_and_secret_once_and_audits():
    out = StringIO()
    call_command("onboard_tenant", "--slug", "lotus", "--name", "Lotus Beauty", "--chatflow-token", "tok-secret-999",
                 "--chatflow-instance", "inst-1", "--telegram-chat", "-1001", "--telegram-topic", "7", stdout=out)
    text = out.getvalue()
    client = Client.objects.get(slug="lotus")
    assert "Webhook URL:    http://127.0.0.1:8000/webhook/lotus" in text
    assert f"Webhook secret: {client.settings.webhook_secret}" in text
    assert client.settings.chatflow_token == "tok-secret-999" and client.settings.telegram_topic_id == 7
    entry = AuditLog.objects.get(action="tenant.onboarded")
    assert entry.tenant == client and "tok-secret-999" not in json.dumps(entry.payload)


def test_onboard_tenant_refuses_a_duplicate_slug(tenant_a):
    with pytest.raises(CommandError, match="already exists"):
        call_command("onboard_tenant", "--slug", "alpha", "--name", "Again", stdout=StringIO())
    assert Client.objects.filter(slug="alpha").count() == 1


def test_onboard_tenant_refuses_a_bad_slug():
    with pytest.raises(CommandError, match="slug"):
        call_command("onboard_tenant", "--slug", "Not OK", "--name", "X", stdout=StringIO())
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DEBUG", "maybe"), ("CHATFLOW_TIMEOUT", "ten"), ("DATABASE_URL", "nosuchdb://x"), ("REDIS_URL", "localhost:6379"),
     ("EMBEDDINGS_BACKEND", "magic"), ("TELEGRAM_ADMIN_IDS", "12,abc")],
)
def test_a_bad_setting_stops_startup_naming_the_variable(variable, value, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), variable: value}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert variable in result.stderr


def test_production_refuses_to_start_without_secrets(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), "DEBUG": "false"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "FIELD_ENCRYPTION_KEY" in result.stderr
