"""A bot answer shown to the managers while the Telegram Bot API is down: the notice is handed to
the Telegram outbox at once (the turn's `answer_notify_due_at` is cleared), and the outbox row
retries at doubling intervals for a bounded number of attempts. Given up, it raises exactly one
alert to the CEO chat; Telegram back before the limit, the notice is sent exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Turn
from imperium.telegram.models import ConversationNotice
from imperium.telegram.testing.updates import TENANT_GROUP
from imperium.telegram.tests.test_learning import T0, customer_writes, press
from imperium.telegram.tests.test_learning import served as served
from imperium.telegram.tests.test_wrong_answer import answered_then_escalated, escalation_card
from incidents.alerts import DEFAULT_MAX_ATTEMPTS, alerts_sweep_due
from incidents.models import Alert

pytestmark = pytest.mark.django_db

PHONE = "+77010000004"


def bot_answer_while_telegram_is_down(webhook, inline, tg, salon, api):
    conversation, _ = answered_then_escalated(webhook, inline, salon, PHONE, T0)
    press(tg, api, escalation_card(api, conversation), f"conversation.return_to_bot:{conversation.pk}")
    api.fail_next(502, count=1000, method="sendMessage")
    assert customer_writes(webhook, inline, salon, "Какой у вас график работы?", phone=PHONE, at=T0 + timedelta(minutes=10)) \
        == "answered"
    turn = Turn.objects.filter(conversation=conversation, status="answered").latest("id")
    notice = ConversationNotice.objects.select_related("alert").get(conversation=conversation, kind="bot_answer")
    return turn, notice.alert


def bot_answers_shown(api):
    return [m for m in api.sent_messages(TENANT_GROUP["id"]) if m["text"].startswith("🤖 Бот ответил")]


def sweep_until(inline, alert, *, until, step=5, start=T0 + timedelta(minutes=10, seconds=3), stop=None, settled_step=60):
    """Run the Telegram outbox sweep every `step` seconds from `start` until `until` (or until
    `stop(attempts seen)`); returns the moments at which the notice's row made an attempt. Once the
    row is sent or given up, the sweeps that remain only watch that it makes no other attempt (a row
    left 'sending' is put back after 5 minutes): every `settled_step` seconds."""
    moments = []
    with time_machine.travel(start, tick=False) as traveller:
        while timezone.now() < until:
            traveller.shift(step)
            before = Alert.objects.get(pk=alert.pk).attempts
            with inline():
                alerts_sweep_due()
            row = Alert.objects.get(pk=alert.pk)
            if row.attempts > before:
                moments.append(timezone.now())
                if stop is not None and stop(len(moments)):
                    break
            if row.status in ("sent", "failed"):
                step = max(step, settled_step)
    return moments


def test_a_bot_answer_notice_telegram_never_takes_is_given_up_with_one_alert(
    pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot
):
    turn, alert = bot_answer_while_telegram_is_down(webhook, inline, tg, salon, telegram_bot)
    assert turn.answer_notify_due_at is None and turn.answer_notify_attempts == 1  # handed to the Telegram outbox
    assert alert.status == "pending" and alert.attempts == 1 and alert.last_error_status == 502

    moments = [alert.created_at, *sweep_until(inline, alert, until=T0 + timedelta(hours=3), step=10)]
    alert.refresh_from_db()
    assert alert.status == "failed" and alert.attempts == DEFAULT_MAX_ATTEMPTS == len(moments)
    # Each wait at least doubles (30 s, 60 s, 2 min, …, capped at 30 min), never a retry storm.
    gaps = [(b - a).total_seconds() for a, b in zip(moments, moments[1:], strict=False)]
    assert all(gap >= min(30 * 2 ** n, 1800) for n, gap in enumerate(gaps)), gaps
    assert bot_answers_shown(telegram_bot) == []
    given_up = Alert.objects.filter(kind="alert", dedup_key=f"telegram.delivery_failed:{TENANT_GROUP['id']}")
    assert given_up.count() == 1 and given_up.get().tenant == salon  # one alert, however many attempts
    assert len(telegram_bot.calls_to("sendMessage")) >= DEFAULT_MAX_ATTEMPTS


def test_a_bot_answer_notice_is_sent_once_when_telegram_comes_back_before_the_limit(
    pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot
):
    turn, alert = bot_answer_while_telegram_is_down(webhook, inline, tg, salon, telegram_bot)
    moments = sweep_until(inline, alert, until=T0 + timedelta(hours=1), stop=lambda n: n >= 2)  # three failed attempts
    alert.refresh_from_db()
    assert alert.status == "pending" and alert.attempts == 3
    telegram_bot.reset()  # Telegram is back
    sweep_until(inline, alert, until=T0 + timedelta(hours=3), start=moments[-1])
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.attempts == 4
    shown = bot_answers_shown(telegram_bot)
    assert len(shown) == 1 and "Мы работаем ежедневно с 10:00 до 21:00" in shown[0]["text"]
    turn.refresh_from_db()
    assert turn.answer_notify_due_at is None
    assert not Alert.objects.filter(kind="alert", dedup_key__startswith="telegram.delivery_failed:").exists()
