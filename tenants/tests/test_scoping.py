"""Tenant scoping in admin and selectors, with the three personas."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imperium.core.actors import Actor
from imperium.core.models import AuditLog
from imperium.core.services import audit_record
from incidents.errors import error_log_record
from incidents.models import ErrorLog
from tenants.models import Client, ClientSettings
from tenants.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def settings_form_data(client, url: str) -> dict:
    """The change form's current values, ready to post back."""
    form = client.get(url).context["adminform"].form
    return {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}


def test_it_lists_only_own_tenants_in_admin(login, superuser, operator_a, operator_b, tenant_a, tenant_b):
    url = reverse("admin:tenants_client_changelist")
    assert {c.slug for c in login(superuser).get(url).context["cl"].queryset} == {"alpha", "bravo"}
    assert {c.slug for c in login(operator_a).get(url).context["cl"].queryset} == {"alpha"}
    assert {c.slug for c in login(operator_b).get(url).context["cl"].queryset} == {"bravo"}


def test_it_hides_other_tenants_rows_in_every_scoped_admin(login, operator_a, tenant_a, tenant_b):
    error_log_record(where="test", message="a-failure", tenant=tenant_a)
    error_log_record(where="test", message="b-failure", tenant=tenant_b)
    audit_record(actor=Actor.system(), action="test.a", tenant=tenant_a)
    audit_record(actor=Actor.system(), action="test.b", tenant=tenant_b)
    client = login(operator_a)
    for name, field, mine, theirs in [
        ("incidents_errorlog", "message", "a-failure", "b-failure"),
        ("imperium_auditlog", "action", "test.a", "test.b"),
        ("tenants_clientsettings", "client_id", tenant_a.pk, tenant_b.pk),
    ]:
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
        values = {getattr(row, field) for row in response.context["cl"].queryset}
        assert mine in values and theirs not in values, name


def test_it_refuses_operator_a_the_change_page_of_tenant_b(login, operator_a, tenant_b):
    client = login(operator_a)
    response = client.get(reverse("admin:tenants_client_change", args=[tenant_b.pk]))
    # Django admin answers a redirect to the index for an object outside the queryset.
    assert response.status_code == 302
    response = client.get(reverse("admin:tenants_clientsettings_change", args=[tenant_b.settings.pk]))
    assert response.status_code == 302
    response = client.get(reverse("admin:tenants_client_history", args=[tenant_b.pk]))
    assert response.status_code == 403


def test_it_lets_operator_edit_own_tenant_and_records_history_and_audit(login, operator_a, tenant_a):
    client = login(operator_a)
    url = reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])
    data = settings_form_data(client, url)
    data.update({"escalation_sla_minutes": 30, "telegram_chat_id": "-1001234567890", "new_chatflow_token": ""})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    settings_row = ClientSettings.objects.get(pk=tenant_a.settings.pk)
    assert settings_row.escalation_sla_minutes == 30
    assert settings_row.telegram_chat_id == -1001234567890
    entry = AuditLog.objects.get(action="tenant.settings_changed")
    assert entry.actor_label == "op-a" and entry.tenant_id == tenant_a.pk
    assert entry.payload["escalation_sla_minutes"] == {"from": 15, "to": 30}
    last = settings_row.history.first()
    assert last.history_user == operator_a and last.escalation_sla_minutes == 30
    history_page = client.get(reverse("admin:tenants_clientsettings_history", args=[tenant_a.settings.pk]))
    assert history_page.status_code == 200


def test_it_rejects_bad_values_in_the_settings_form(login, operator_a, tenant_a):
    client = login(operator_a)
    url = reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])
    data = settings_form_data(client, url)
    data.update({"telegram_chat_id": "not-a-chat", "release_channel": "beta"})
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "telegram_chat_id" in errors and "release_channel" in errors
    assert not AuditLog.objects.filter(action="tenant.settings_changed").exists()


def test_it_refuses_a_viewer_the_right_to_edit(login, tenant_a):
    viewer = MembershipFactory(client=tenant_a, role="viewer").user
    client = login(viewer)
    assert client.get(reverse("admin:tenants_client_changelist")).status_code == 200
    url = reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_it_lets_only_superusers_add_tenants(login, superuser, operator_a):
    assert login(operator_a).get(reverse("admin:tenants_client_add")).status_code == 403
    response = login(superuser).post(
        reverse("admin:tenants_client_add"), {"slug": "charlie", "name": "Charlie", "timezone": "Asia/Almaty", "locale": "ru"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    client = Client.objects.get(slug="charlie")
    assert client.settings.webhook_secret in body  # shown once, on this page only
    assert AuditLog.objects.filter(action="tenant.onboarded", tenant=client).exists()


def test_it_rejects_an_invalid_slug_in_admin(login, superuser):
    response = login(superuser).post(
        reverse("admin:tenants_client_add"), {"slug": "Bad Slug!", "name": "X", "timezone": "Mars/Base", "locale": "ru"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "slug" in errors and "timezone" in errors
    assert not Client.objects.filter(name="X").exists()


def test_selectors_scope_rows(operator_a, operator_b, superuser, tenant_a, tenant_b):
    assert list(Client.objects.visible_to(operator_a)) == [tenant_a]
    assert list(Client.objects.visible_to(operator_b)) == [tenant_b]
    assert set(Client.objects.visible_to(superuser)) == {tenant_a, tenant_b}
    error_log_record(where="x", message="m", tenant=tenant_b)
    assert not ErrorLog.objects.visible_to(operator_a).exists()
    assert ErrorLog.objects.for_tenant(tenant_b).count() == 1


def test_it_lets_a_tenant_admin_manage_only_own_memberships(login, tenant_a, tenant_b, operator_b):
    admin_a = MembershipFactory(client=tenant_a, role="admin").user
    newcomer = MembershipFactory(client=tenant_b, role="viewer").user
    client = login(admin_a)
    response = client.post(reverse("admin:tenants_tenantmembership_add"), {"user": newcomer.pk, "client": tenant_a.pk, "role": "viewer"})
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="tenant.membership_added", tenant=tenant_a).exists()
    response = client.post(reverse("admin:tenants_tenantmembership_add"), {"user": newcomer.pk, "client": tenant_b.pk, "role": "admin"})
    assert response.status_code == 200 and "client" in response.context["adminform"].form.errors
    # A plain operator may not grant access at all.
    assert login(operator_b).get(reverse("admin:tenants_tenantmembership_add")).status_code == 403
