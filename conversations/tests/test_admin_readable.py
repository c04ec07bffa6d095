"""Traces and escalations read as Russian text for operators, raw JSON only on request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from conversations.models import Escalation, MessageTrace
from conversations.services import turn_run_due
from conversations.tests.helpers import conversation_of

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def escalated(webhook, tenant_a, inline):
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Хочу перенести запись на пятницу", **{"from": "+77011111111"})
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a, "+77011111111").pk)
    return conversation_of(tenant_a, "+77011111111")


def test_the_trace_page_says_what_the_bot_decided_and_lists_the_gate_in_russian(escalated, login, operator_a):
    trace = MessageTrace.objects.get(conversation=escalated)
    page = login(operator_a).get(reverse("admin:conversations_messagetrace_change", args=[trace.pk])).content.decode()
    assert "Бот передал диалог менеджеру" in page
    assert "Проверка качества" in page and ("✅" in page or "❌" in page or "не запускалась" in page)
    assert "Показать как JSON" in page  # the raw data stays one click away
    assert "kb_version_serving" not in page and "decide_reply" not in page


def test_the_escalation_page_explains_the_reason_and_the_managers_notice(escalated, login, operator_a):
    escalation = Escalation.objects.get(conversation=escalated)
    response = login(operator_a).get(reverse("admin:conversations_escalation_change", args=[escalation.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Менеджеры уведомлены" in page  # the test notifier took the call
    assert 'name="_save"' not in page


def test_gate_checklist_marks_the_failing_rule():
    from conversations.admin_readable import gate_checklist

    html = str(gate_checklist([{"rule": "booking", "passed": False, "detail": "matched 'перенести'"},
                               {"rule": "something_new", "passed": True}]))
    assert "❌" in html and "перенести" in html and "something_new" in html and "✅" in html
