from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from conversations.models import (
    Conversation,
    ConversationEvent,
    DeadLetter,
    Escalation,
    InboundMessage,
    MessageTrace,
    OutboundMessage,
    SandboxMessage,
    Turn,
)
from conversations.services import turn_run_due
from conversations.tests.helpers import conversation_of
from imperium.core.models import AuditLog
from tenants.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
MODELS = [Conversation, InboundMessage, DeadLetter, Turn, OutboundMessage, MessageTrace, Escalation, ConversationEvent, SandboxMessage]


@pytest.fixture
def history(webhook, tenant_a, tenant_b, inline):
    """Each tenant: one escalated conversation (trace, holding reply, sandbox send) and a dead letter."""
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Вопрос от клиента A", **{"from": "+77011111111"})
        webhook.post(tenant_b, text="Вопрос от клиента B", **{"from": "+77022222222"})
        webhook.post(tenant_a, raw=b"garbage A")
        webhook.post(tenant_b, raw=b"garbage B")
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a, "+77011111111").pk)
            turn_run_due(conversation_id=conversation_of(tenant_b, "+77022222222").pk)
    for model in MODELS:
        assert model.objects.filter(tenant=tenant_a).exists() and model.objects.filter(tenant=tenant_b).exists(), model


def _changelist(model):
    return reverse(f"admin:conversations_{model._meta.model_name}_changelist")


def _change(obj):
    return reverse(f"admin:conversations_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_an_operator_sees_only_their_tenants_rows(history, login, operator_a, tenant_a, tenant_b, model):
    client = login(operator_a)
    response = client.get(_changelist(model))
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == set(model.objects.filter(tenant=tenant_a).values_list("pk", flat=True))
    other = model.objects.filter(tenant=tenant_b).first()
    assert client.get(_change(other)).status_code in (302, 404)  # the admin hides it
    assert client.get(_change(model.objects.filter(tenant=tenant_a).first())).status_code == 200


def test_a_user_without_membership_sees_nothing(history, login):
    from tenants.tests.factories import UserFactory

    client = login(UserFactory())
    assert client.get(_changelist(Conversation)).status_code == 403


def test_the_conversation_page_shows_the_timeline_with_the_phone_masked_for_operators(history, login, operator_a, tenant_a):
    conversation = conversation_of(tenant_a, "+77011111111")
    response = login(operator_a).get(_change(conversation))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Вопрос от клиента A" in page  # inbound
    assert "Бот передал диалог менеджеру: Нет знаний для ответа" in page and "Эскалация: Нет знаний для ответа" in page
    assert tenant_a.settings.holding_reply_template in page and "доставлено" in page  # outbound with status
    assert reverse("admin:conversations_messagetrace_change", args=[MessageTrace.objects.get(tenant=tenant_a).pk]) in page
    assert "+77011111111" not in page and "+7701•••1111" in page


def test_tenant_admins_and_superusers_see_the_full_phone(history, login, superuser, tenant_a):
    conversation = conversation_of(tenant_a, "+77011111111")
    assert "+77011111111" in login(superuser).get(_change(conversation)).content.decode()
    tenant_admin = MembershipFactory(client=tenant_a, role="admin").user
    assert "+77011111111" in login(tenant_admin).get(_change(conversation)).content.decode()


def test_the_changelist_never_shows_full_phones(history, login, superuser):
    page = login(superuser).get(_changelist(Conversation)).content.decode()
    assert "+77011111111" not in page and "+7701•••1111" in page


def test_admin_actions_call_the_audited_services(history, login, operator_a, tenant_a):
    conversation = conversation_of(tenant_a, "+77011111111")
    response = login(operator_a).post(_changelist(Conversation), {"action": "return_to_bot", "_selected_action": [conversation.pk]})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.state == "bot"
    entry = AuditLog.objects.get(action="conversation.return_to_bot")
    assert entry.actor_label == "op-a" and entry.tenant_id == tenant_a.pk


def test_a_viewer_cannot_run_actions(history, login, tenant_a):
    viewer = MembershipFactory(client=tenant_a, role="viewer").user
    conversation = conversation_of(tenant_a, "+77011111111")
    login(viewer).post(_changelist(Conversation), {"action": "close", "_selected_action": [conversation.pk]})
    conversation.refresh_from_db()
    assert conversation.state == "human"


def test_failed_deliveries_can_be_retried_from_admin(history, login, operator_a, tenant_a, queued, django_capture_on_commit_callbacks):
    outbound = OutboundMessage.objects.get(tenant=tenant_a)
    OutboundMessage.objects.filter(pk=outbound.pk).update(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        login(operator_a).post(_changelist(OutboundMessage), {"action": "retry", "_selected_action": [outbound.pk]})
    outbound.refresh_from_db()
    assert outbound.status == "pending"
    assert queued[-1].task == "conversations.outbound_deliver" and queued[-1].args == [outbound.pk]
    assert AuditLog.objects.filter(action="conversation.outbound_retry").exists()


def test_dead_letters_can_be_marked_resolved(history, login, operator_a, tenant_a):
    letter = DeadLetter.objects.get(tenant=tenant_a)
    login(operator_a).post(_changelist(DeadLetter), {"action": "resolve", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.status == "resolved" and letter.resolved_by == "op-a"


def test_the_trace_page_links_the_error_logs_of_its_turn(webhook, tenant_a, brain, inline, login, superuser):
    brain(raises=RuntimeError("llm down"))
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
    page = login(superuser).get(_change(MessageTrace.objects.get())).content.decode()
    assert "conversations.decide_reply" in page


def test_list_pages_do_not_query_per_row(history, login, superuser, django_assert_max_num_queries, webhook, tenant_a):
    for n in range(10):
        webhook.post(tenant_a, **{"from": f"+7701555{n:04d}"})
    client = login(superuser)
    for model in MODELS:
        with django_assert_max_num_queries(12):
            assert client.get(_changelist(model)).status_code == 200
