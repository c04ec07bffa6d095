"""Admin: an operator sees and edits only their tenant's CRM rows; saving a connection checks it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.models import CrmConnection, CrmService
from crm.tests.conftest import connected

pytestmark = pytest.mark.django_db


def test_an_operator_sees_only_own_tenants_crm_rows(login, operator_a, tenant_a, tenant_b, fake_crm):
    connected(fake_crm, tenant_a)
    connected(fake_crm, tenant_b)
    client = login(operator_a)
    for name in ("crm_crmconnection", "crm_crmservice"):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200
        assert {row.tenant_id for row in response.context["cl"].queryset} == {tenant_a.pk}, name
    other = CrmConnection.objects.get(tenant=tenant_b)
    assert client.get(reverse("admin:crm_crmconnection_change", args=[other.pk])).status_code in (302, 403, 404)


def test_the_tenant_page_shows_the_connection_with_masked_tokens(login, superuser, tenant_a, fake_crm):
    connected(fake_crm, tenant_a)
    page = login(superuser).get(reverse("admin:tenants_client_change", args=[tenant_a.pk])).content.decode()
    assert "Подключение CRM, услуги и сообщения о визитах" in page
    assert fake_crm.partner_token not in page and fake_crm.user_token not in page


def test_connecting_in_admin_checks_the_credentials(login, superuser, tenant_a, fake_crm):
    client = login(superuser)
    url = reverse("admin:crm_crmconnection_add")
    form = {"tenant": tenant_a.pk, "kind": "altegio", "company_id": fake_crm.company_id, "base_url": f"{fake_crm.url}/api/v1",
            "partner_token": fake_crm.partner_token, "user_token": "wrong", "quiet_hours_start": "21:00", "quiet_hours_end": "09:00",
            "remind_day_before": "on", "remind_two_hours": "on", "thank_you": "on", "rebook_nudge": "on"}
    response = client.post(url, form)
    assert response.status_code == 200 and "CRM отклонила эти ключи доступа (401)" in response.content.decode()
    assert not CrmConnection.objects.exists()
    response = client.post(url, {**form, "user_token": fake_crm.user_token, "thank_you": ""})
    assert response.status_code == 302
    connection = CrmConnection.objects.get(tenant=tenant_a)
    assert connection.status == "active" and connection.thank_you is False
    assert CrmService.objects.filter(tenant=tenant_a).count() == 6


def test_the_crm_pages_speak_the_operators_language(login, superuser, tenant_a, fake_crm):
    """Admin pages are Russian (ADMIN_LANGUAGE): labels, help texts and statuses of the CRM pages, not field names."""
    connected(fake_crm, tenant_a)
    client = login(superuser)
    connection = CrmConnection.objects.get(tenant=tenant_a)
    page = client.get(reverse("admin:crm_crmconnection_change", args=[connection.pk])).content.decode()
    for label in ("ID компании в CRM", "Напоминание клиенту за день до визита.", "Тихие часы с", "Токен партнёра",
                  "Хранится в зашифрованном виде. Оставьте пустым, чтобы не менять текущий."):
        assert label in page, label
    for english in ("Company id", "Remind day before", "Quiet hours start", "Stored encrypted"):
        assert english not in page, english
    services = client.get(reverse("admin:crm_crmservice_changelist")).content.decode()
    assert "Как называют клиенты" in services and "Повторить через, дней" in services and "Keywords" not in services
    records = client.get(reverse("admin:crm_bookingsession_changelist")).content.decode()
    assert "Собирает данные" in records and "Collecting details" not in records
