"""Connecting a tenant: the command checks the credentials with one read call."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from crm.models import CrmConnection, CrmService
from crm.testing.fake_crm import FakeCrm
from imperium.core.models import AuditLog
from tenants.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    with FakeCrm(partner_token="partner-abcdef123456", user_token="user-987654321") as server:
        yield server


def connect(fake, tenant, **overrides):
    out = io.StringIO()
    args = {"--tenant": tenant.slug, "--kind": "altegio", "--company-id": str(fake.company_id), "--partner-token": fake.partner_token,
            "--user-token": fake.user_token, "--base-url": f"{fake.url}/api/v1", **overrides}
    call_command("crm_connect", *[x for pair in args.items() for x in pair], stdout=out)
    return out.getvalue()


def test_it_connects_prints_the_services_and_seeds_the_service_map(fake):
    tenant = ClientFactory()
    out = connect(fake, tenant)
    assert "Services found: 6" in out and "101  Маникюр с покрытием" in out
    crm = CrmConnection.objects.get(tenant=tenant)
    assert crm.status == "active" and crm.partner_token == fake.partner_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT partner_token, user_token FROM crm_crmconnection WHERE id = %s", [crm.pk])
        raw = cursor.fetchone()
    assert all(value.startswith("fernet:") and "abcdef" not in value for value in raw)  # encrypted at rest
    assert CrmService.objects.filter(tenant=tenant).count() == 6
    audit = AuditLog.objects.get(action="crm.connect")
    assert "abcdef123456" not in str(audit.payload) and audit.payload["services"] == 6
    assert fake.calls() == [("GET", "book_services")]  # one read call


def test_a_wrong_token_is_a_clear_error_and_stores_nothing(fake):
    tenant = ClientFactory()
    with pytest.raises(CommandError, match="refused these credentials"):
        connect(fake, tenant, **{"--user-token": "wrong"})
    assert not CrmConnection.objects.exists() and not CrmService.objects.exists()


def test_an_unreachable_crm_is_a_clear_error(fake):
    with pytest.raises(CommandError, match="Could not read services"):
        connect(fake, ClientFactory(), **{"--base-url": "http://127.0.0.1:9/api/v1"})


def test_an_unknown_tenant_or_kind_is_refused(fake):
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("crm_connect", "--tenant", "nope", "--kind", "altegio", "--company-id", "1", "--partner-token", "p",
                     "--user-token", "u")
    with pytest.raises(CommandError):
        call_command("crm_connect", "--tenant", "nope", "--kind", "bitrix", "--company-id", "1", "--partner-token", "p",
                     "--user-token", "u")


def test_reconnecting_keeps_the_operators_keywords(fake):
    tenant = ClientFactory()
    connect(fake, tenant)
    CrmService.objects.filter(tenant=tenant, crm_id=101).update(keywords="маникюр, гель-лак")
    connect(fake, tenant)
    assert CrmService.objects.get(tenant=tenant, crm_id=101).keywords == "маникюр, гель-лак"


def test_disconnect_turns_it_off(fake):
    tenant = ClientFactory()
    connect(fake, tenant)
    out = io.StringIO()
    call_command("crm_disconnect", "--tenant", tenant.slug, stdout=out)
    assert "Disconnected" in out.getvalue()
    assert CrmConnection.objects.get(tenant=tenant).status == "disabled"
    out = io.StringIO()
    call_command("crm_disconnect", "--tenant", tenant.slug, stdout=out)
    assert "had no active CRM connection" in out.getvalue()


def test_make_run_connects_the_demo_tenant_to_the_fake_crm(monkeypatch, settings, tmp_path):
    from crm.selectors import crm_connection_of
    from crm.services import crm_client_for
    from tenants.models import Client

    settings.VAR_DIR = tmp_path
    with FakeCrm() as fake:
        monkeypatch.setenv("FAKE_CRM_PORT", str(fake.server.server_address[1]))
        out = io.StringIO()
        call_command("bootstrap_local", stdout=out)
        call_command("bootstrap_local", stdout=io.StringIO())  # idempotent
        demo = Client.objects.get(slug="demo-salon")
        crm = crm_connection_of(demo)
        assert crm.status == "active" and crm.base_url == f"{fake.url}/api/v1"
        assert len(crm_client_for(crm).services()) == 6  # the stored tokens are the fake's
    assert "demo CRM:" in out.getvalue() and CrmConnection.objects.count() == 1
    assert "маникюр" in CrmService.objects.get(tenant=demo, crm_id=101).keywords
