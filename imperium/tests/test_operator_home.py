"""The admin's home: the operators' dashboard (scoped to their tenants), the index grouped by
task with infrastructure hidden from operators, Russian by default with English available, and
times in the salon's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from conversations.choices import OutboundStatus
from conversations.models import Conversation, Escalation, InboundMessage, OutboundMessage, Turn
from conversations.services import escalation_open
from incidents.models import Incident
from tenants.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 11, 26, 9, 0, tzinfo=UTC)  # 14:00 in Almaty


def _customer(tenant, phone: str, name: str, text: str, at: datetime) -> Conversation:
    conversation = Conversation.objects.create(tenant=tenant, customer_key=f"k{phone}", customer_phone=phone,
                                               customer_phone_masked=phone[:5] + "•••" + phone[-4:], customer_name=name,
                                               created_at=at, updated_at=at, last_inbound_at=at)
    InboundMessage.objects.create(tenant=tenant, conversation=conversation, provider_message_id=f"w{phone}", text=text, received_at=at)
    return conversation


@pytest.fixture
def two_salons(tenant_a, tenant_b):
    waiting_a = _customer(tenant_a, "+77011111111", "Айгерим", "Хочу перенести запись", NOW - timedelta(minutes=40))
    escalation_open(conversation=waiting_a, reason="booking", send_holding=False, now=NOW - timedelta(minutes=40))
    waiting_b = _customer(tenant_b, "+77022222222", "Bravo customer", "Secret of bravo", NOW - timedelta(minutes=5))
    escalation_open(conversation=waiting_b, reason="complaint", send_holding=False, now=NOW - timedelta(minutes=5))
    for tenant, conversation, statuses in ((tenant_a, waiting_a, ["answered", "answered", "answered", "escalated"]),
                                           (tenant_b, waiting_b, ["escalated", "escalated"])):
        for status in statuses:
            Turn.objects.create(tenant=tenant, conversation=conversation, status=status, created_at=NOW - timedelta(minutes=30))
    OutboundMessage.objects.create(tenant=tenant_b, conversation=waiting_b, kind="reply", text="x", idempotency_key="b-failed",
                                   status=OutboundStatus.FAILED, created_at=NOW, updated_at=NOW)
    Incident.objects.create(fingerprint="chatflow.send:bravo", kind="chatflow.send", tenant=tenant_b, title="Bravo gateway down",
                            opened_at=NOW)
    return waiting_a, waiting_b


def _home(client):
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("admin:index"))


def test_an_operator_sees_their_waiting_customer_and_numbers_and_nothing_of_another_tenant(two_salons, login, operator_a):
    response = _home(login(operator_a))
    page = response.content.decode()
    dashboard = response.context["dashboard"]
    assert response.status_code == 200
    assert [w.conversation.pk for w in dashboard["waiting"]] == [two_salons[0].pk]
    waiting = dashboard["waiting"][0]
    assert waiting.last_message == "Хочу перенести запись" and waiting.waiting_minutes == 40 and waiting.over_sla  # SLA 15 min
    assert "Айгерим" in page and "Хочу перенести запись" in page and "40 минут" in page and "никто" in page
    assert dashboard["today"] == {"conversations": 1, "answered": 3, "escalated": 1, "answer_rate": 75, "delivery_failures": 0}
    assert dashboard["incidents"] == []
    assert "<svg" in page and "Запись, перенос или отмена" in page  # the chart of reasons, in Russian
    for secret in ("Bravo customer", "Secret of bravo", "Bravo gateway down", "Жалоба или возврат"):
        assert secret not in page


def test_a_superuser_sees_every_tenant(two_salons, login, superuser):
    dashboard = _home(login(superuser)).context["dashboard"]
    assert len(dashboard["waiting"]) == 2
    assert dashboard["today"]["delivery_failures"] == 1 and dashboard["today"]["escalated"] == 3
    assert [i.title for i in dashboard["incidents"]] == ["Bravo gateway down"]


def test_a_taken_escalation_shows_who_holds_it(two_salons, login, operator_a):
    Escalation.objects.filter(conversation=two_salons[0]).update(status="taken", taken_by="Дина")
    page = _home(login(operator_a)).content.decode()
    assert "Дина" in page


def test_the_index_is_grouped_by_task_and_hides_infrastructure_from_operators(login, operator_a, superuser):
    operator_sections = [app["app_label"] for app in _home(login(operator_a)).context["app_list"]]
    assert operator_sections[0] == "work" and "infrastructure" not in operator_sections and "other" not in operator_sections
    operator_models = {m["object_name"] for app in _home(login(operator_a)).context["app_list"] for m in app["models"]}
    for hidden in ("PeriodicTask", "CIDelivery", "ConversationNotice", "TelegramCallbackPress", "SentinelRun", "User"):
        assert hidden not in operator_models
    assert login(operator_a).get(reverse("admin:telegram_conversationnotice_changelist")).status_code == 403
    superuser_apps = {app["app_label"]: app for app in _home(login(superuser)).context["app_list"]}
    infrastructure = {m["object_name"] for m in superuser_apps["infrastructure"]["models"]}
    assert {"PeriodicTask", "CIDelivery", "ConversationNotice", "TelegramCallbackPress"} <= infrastructure


def test_an_operator_granted_the_view_permission_sees_that_infrastructure_model(login, operator_a):
    operator_a.user_permissions.add(Permission.objects.get(codename="view_conversationnotice"))
    assert login(operator_a).get(reverse("admin:telegram_conversationnotice_changelist")).status_code == 200


def test_the_admin_is_russian_by_default_english_on_request_and_the_cli_stays_english(login, operator_a):
    client = login(operator_a)
    assert "Выйти" in _home(client).content.decode()
    assert translation.get_language() == "en-us"  # the admin request did not leak its language into this thread
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})
    assert response.status_code == 302
    assert "Log out" in _home(client).content.decode()


def test_times_are_shown_in_the_tenants_time_zone(two_salons, login, tenant_a):
    tenant_a.timezone = "Asia/Almaty"
    tenant_a.save()
    admin_a = MembershipFactory(client=tenant_a, role="admin").user
    conversation = two_salons[0]
    page = login(admin_a).get(reverse("admin:conversations_conversation_change", args=[conversation.pk])).content.decode()
    assert "26 ноября, 13:20" in page  # 08:20 UTC is 13:20 in Almaty (UTC+5)
