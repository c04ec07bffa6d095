"""Least privilege: an operator of one tenant against every company-wide endpoint and every admin filter."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations.customers import customer_key
from conversations.models import Conversation
from imperium.core.models import AuditLog
from incidents.models import Alert

pytestmark = pytest.mark.django_db

COMPANY_ENDPOINTS = [("/admin/outbox/process", {}), ("/reminders/process", {}), ("/alerts/test", {}),
                     ("/alerts/test", {"tenant": {}}), ("/alerts/test", {"text": "x"})]


@pytest.mark.parametrize(("path", "body"), COMPANY_ENDPOINTS)
def test_an_operator_cannot_run_company_wide_actions(login, operator_a, tenant_b, path, body, settings):
    settings.ALERT_BOT_TOKEN, settings.ALERT_CHAT_ID = "123:abc", "-100"
    response = login(operator_a).post(path, body, content_type="application/json")
    assert response.status_code in (400, 403), response.content
    assert not Alert.objects.exists()  # nothing was queued for the CEO chat
    assert not AuditLog.objects.filter(action__in=["outbox.process", "reminders.process"]).exists()


@pytest.mark.parametrize("path", ["/admin/outbox/process", "/reminders/process"])
def test_a_superuser_or_a_company_permission_runs_them(login, superuser, operator_a, path):
    assert login(superuser).post(path, {}, content_type="application/json").status_code == 200
    operator_a.user_permissions.add(Permission.objects.get(codename="company_operations"))
    operator_a = type(operator_a).objects.get(pk=operator_a.pk)  # a fresh permission cache
    assert login(operator_a).post(path, {}, content_type="application/json").status_code == 200


def test_an_operator_may_test_only_their_own_tenants_chat(login, operator_a, tenant_a, tenant_b):
    client = login(operator_a)
    assert client.post("/alerts/test", {"tenant": "bravo"}, content_type="application/json").status_code == 404
    response = client.post("/alerts/test", {"tenant": "alpha"}, content_type="application/json")
    assert response.status_code != 403  # allowed (the answer depends on the tenant's Telegram setup)


def _registered_admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_no_change_list_filter_names_another_tenant(login, operator_a, tenant_a, tenant_b):
    """The "By tenant" filter (and any filter over a tenant-owned relation) lists only the operator's tenants."""
    from tenants.tests.factories import ClientFactory, MembershipFactory

    tenant_c = ClientFactory(slug="charlie", name="Charlie Nails")
    MembershipFactory(client=tenant_c, user=operator_a, role="operator")  # two tenants: the filter is shown
    client = login(operator_a)
    checked = 0
    for model, _model_admin in _registered_admins():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        if response.status_code != 200 or response.context is None or "cl" not in response.context:
            continue  # not visible to the operator, or a custom page without filters
        html = response.content.decode()
        for spec in response.context["cl"].filter_specs:
            for choice in spec.choices(response.context["cl"]):
                assert "bravo" not in str(choice.get("display", "")).lower(), (model, choice)
                assert f"__exact={tenant_b.pk}&" not in choice.get("query_string", "") + "&", (model, choice)
        if any(getattr(spec, "field", None) is not None and spec.field.name == "tenant"
               for spec in response.context["cl"].filter_specs):
            checked += 1
            assert f"tenant__id__exact={tenant_a.pk}" in html and f"tenant__id__exact={tenant_c.pk}" in html, model
        assert "Bravo Barbers" not in html, model
    assert checked >= 10  # the change lists with a "By tenant" filter were really looked at


def test_the_superuser_still_filters_by_every_tenant(login, superuser, tenant_a, tenant_b):
    html = login(superuser).get(reverse("admin:conversations_conversation_changelist")).content.decode()
    assert f"tenant__id__exact={tenant_a.pk}" in html and f"tenant__id__exact={tenant_b.pk}" in html


def test_a_phone_search_is_hashed_before_it_reaches_the_url(login, operator_a, tenant_a, tenant_b):
    from django.utils import timezone

    now = timezone.now()
    mine = Conversation.objects.create(tenant=tenant_a, customer_key=customer_key("+77011234567"), customer_phone="+77011234567",
                                       customer_phone_masked="+7701•••4567", created_at=now, updated_at=now)
    Conversation.objects.create(tenant=tenant_b, customer_key=customer_key("+77011234567"), customer_phone="+77011234567",
                                customer_phone_masked="+7701•••4567", created_at=now, updated_at=now)
    client = login(operator_a)
    url = reverse("admin:conversations_conversation_changelist")

    response = client.get(url, {"q": "+7 701 123-45-67"})

    assert response.status_code == 302
    assert "7011234567" not in response["Location"]
    assert "ck%3A" in response["Location"] or "ck:" in response["Location"]
    listed = client.get(response["Location"])
    assert [c.pk for c in listed.context["cl"].queryset] == [mine.pk]
    assert "7011234567" not in listed.content.decode()


def test_the_access_log_masks_phone_numbers():
    from imperium.core.accesslog import mask_phones_in_url

    assert "77011234567" not in mask_phones_in_url("GET /admin/x/?q=%2B77011234567 HTTP/1.1")
    assert "7011234567" not in mask_phones_in_url("GET /admin/x/?q=%2B7+701+123-45-67 HTTP/1.1")
    assert mask_phones_in_url("GET /x?ts=1796522779&page=2 HTTP/1.1") == "GET /x?ts=1796522779&page=2 HTTP/1.1"
