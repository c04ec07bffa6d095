"""The alert outbox against the fake Bot API: delivery, 429/5xx/403, dedup, rate limit, never raising."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from incidents import alerts
from incidents.alerts import alert_raise, alert_send, alerts_sweep_due, telegram_message_enqueue, tenant_notify
from incidents.choices import AlertStatus
from incidents.models import Alert, ErrorLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(telegram_bot, celery_eager, django_capture_on_commit_callbacks):
    """Run a block with on-commit enqueues and eager tasks, as a worker would."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


def test_it_sends_an_alert_with_a_russian_template_and_an_ack_button(outbox, telegram_bot, tenant_a):
    alert = outbox(alert_raise, title="ChatFlow не отвечает <502>", text="3 отправки подряд & ни одной доставки",
                   severity="critical", tenant=tenant_a, key="chatflow.down")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SENT and alert.attempts == 1 and alert.sent_message_id
    [params] = telegram_bot.sent_messages("-1001000000001")
    assert params["text"].startswith("🔴 Критично: ChatFlow не отвечает <502>")
    assert "Клиент: Alpha Salon (alpha)" in params["text"] and "3 отправки подряд & ни одной доставки" in params["text"]
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "👀 Принял", "callback_data": f"alert.ack:{alert.pk}"}]]}


def test_it_sends_into_the_alert_topic_when_one_is_set(outbox, telegram_bot, settings):
    settings.ALERT_TOPIC_ID = 77
    outbox(alert_raise, title="t", severity="info")
    [params] = telegram_bot.sent_messages()
    assert params["message_thread_id"] == "77" and "reply_markup" not in params  # info alerts need no acknowledgement


def test_it_honours_retry_after_and_sends_exactly_once(outbox, telegram_bot, time_machine):
    time_machine.move_to(timezone.now())
    telegram_bot.fail_next(429, retry_after=20)
    alert = outbox(alert_raise, title="Qdrant недоступен", key="qdrant.down")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PENDING and alert.last_error_status == 429 and alert.attempts == 1
    assert (alert.next_attempt_at - timezone.now()).total_seconds() == pytest.approx(20, abs=1)

    time_machine.shift(10)  # still inside retry_after: nothing goes out
    assert outbox(alerts_sweep_due) == []
    assert outbox(alert_send, alert_id=alert.pk).status == "not_due"

    time_machine.shift(11)
    assert outbox(alerts_sweep_due) == [alert.pk]
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SENT and alert.attempts == 2
    assert len(telegram_bot.calls_to("sendMessage")) == 2 and len(telegram_bot.sent_messages()) == 1
    assert outbox(alerts_sweep_due) == [] and len(telegram_bot.sent_messages()) == 1


def test_a_429_holds_back_every_message_to_that_chat(outbox, telegram_bot, time_machine):
    time_machine.move_to(timezone.now())
    first = Alert.objects.create(chat_id="-1001000000001", title="first")
    waiting = Alert.objects.create(chat_id="-1001000000001", title="queued behind it")
    telegram_bot.fail_next(429, retry_after=30)
    assert outbox(alert_send, alert_id=first.pk).status == "retry"
    waiting.refresh_from_db()
    assert (waiting.next_attempt_at - timezone.now()).total_seconds() >= 29
    assert outbox(alert_send, alert_id=waiting.pk).status == "not_due"


def test_it_backs_off_on_server_errors_and_records_the_final_failure(outbox, telegram_bot, time_machine, tenant_a):
    time_machine.move_to(timezone.now())
    telegram_bot.fail_next(502, count=100)
    alert = outbox(alert_raise, title="t", tenant=tenant_a, key="k")
    for _ in range(20):
        alert.refresh_from_db()
        if alert.status != AlertStatus.PENDING:
            break
        time_machine.shift(31 * 60)
        outbox(alerts_sweep_due)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.FAILED and alert.attempts == alert.max_attempts == 8 and alert.failed_at
    assert len(telegram_bot.calls_to("sendMessage")) == 8
    log = ErrorLog.objects.get(where="alerts.send")
    assert log.tenant_id == tenant_a.pk and log.context["alert_id"] == alert.pk


def test_it_fails_at_once_when_telegram_refuses_the_chat(outbox, telegram_bot):
    telegram_bot.fail_next(403)
    alert = outbox(alert_raise, title="t")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.FAILED and alert.last_error_status == 403 and "kicked" in alert.last_error
    assert ErrorLog.objects.filter(where="alerts.send").count() == 1


def test_a_failed_tenant_message_becomes_an_alert_in_the_ceo_chat(outbox, telegram_bot, tenant_a):
    tenant_a.settings.telegram_chat_id = -1001234567890
    tenant_a.settings.telegram_topic_id = 42
    tenant_a.settings.save()
    telegram_bot.fail_next(400, method="sendMessage", description="Bad Request: message thread not found")
    note = outbox(tenant_notify, tenant=tenant_a, text="Эскалация: клиент ждёт ответа")
    note.refresh_from_db()
    assert note.status == AlertStatus.FAILED and note.chat_id == "-1001234567890" and note.topic_id == 42
    [ceo_alert] = telegram_bot.sent_messages("-1001000000001")
    assert "не доставлено в Telegram-чат клиента" in ceo_alert["text"] and "thread not found" in ceo_alert["text"]


def test_it_sends_to_the_tenant_topic_with_buttons(outbox, telegram_bot, tenant_a):
    tenant_a.settings.telegram_chat_id = -1001234567890
    tenant_a.settings.telegram_topic_id = 42
    tenant_a.settings.save()
    keyboard = {"inline_keyboard": [[{"text": "Взять", "callback_data": "conv.take:1"}]]}
    note = outbox(tenant_notify, tenant=tenant_a, text="Эскалация", reply_markup=keyboard, key="esc:1")
    note.refresh_from_db()
    assert note.status == AlertStatus.SENT and note.kind == "notification"
    [params] = telegram_bot.sent_messages("-1001234567890")
    assert params == {"chat_id": "-1001234567890", "text": "Эскалация", "reply_markup": keyboard, "message_thread_id": "42"}
    assert telegram_bot.message(-1001234567890, note.sent_message_id)["text"] == "Эскалация"


def test_a_tenant_without_a_chat_is_not_silent(outbox, telegram_bot, tenant_a):
    note = outbox(tenant_notify, tenant=tenant_a, text="Эскалация", reply_markup={"inline_keyboard": []})
    note.refresh_from_db()
    assert note.chat_id == "-1001000000001" and note.status == AlertStatus.SENT
    [params] = telegram_bot.sent_messages()
    assert "не настроен Telegram-чат" in params["text"] and "Эскалация" in params["text"] and "reply_markup" not in params


def test_it_folds_repeats_of_one_key(outbox, telegram_bot, time_machine):
    time_machine.move_to(timezone.now())
    first = outbox(alert_raise, title="Sentinel: тишина", key="sentinel.silence")
    again = outbox(alert_raise, title="Sentinel: тишина", key="sentinel.silence")
    assert again.pk == first.pk and Alert.objects.count() == 1
    assert Alert.objects.get().repeats == 1 and len(telegram_bot.sent_messages()) == 1
    time_machine.shift(16 * 60)
    later = outbox(alert_raise, title="Sentinel: тишина", key="sentinel.silence")
    assert later.pk != first.pk and len(telegram_bot.sent_messages()) == 2
    outbox(alert_raise, title="no key")
    outbox(alert_raise, title="no key")
    assert len(telegram_bot.sent_messages()) == 4


def test_repeats_while_waiting_are_counted_in_the_message(outbox, telegram_bot, time_machine):
    time_machine.move_to(timezone.now())
    telegram_bot.fail_next(503)
    alert = outbox(alert_raise, title="Redis недоступен", key="redis.down")
    outbox(alert_raise, title="Redis недоступен", key="redis.down")
    outbox(alert_raise, title="Redis недоступен", key="redis.down")
    time_machine.shift(40)
    outbox(alerts_sweep_due)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SENT
    assert "Повторялось ещё 2 раз(а)" in telegram_bot.sent_messages()[-1]["text"]


def test_it_rate_limits_each_chat(outbox, telegram_bot, settings, time_machine):
    time_machine.move_to(timezone.now())
    settings.TELEGRAM_CHAT_MESSAGES_PER_MINUTE = 3
    made = [outbox(alert_raise, title=f"a{i}") for i in range(5)]
    other_chat = outbox(telegram_message_enqueue, chat_id=555, text="другой чат")
    assert len(telegram_bot.sent_messages("-1001000000001")) == 3
    assert len(telegram_bot.sent_messages(555)) == 1
    statuses = [Alert.objects.get(pk=a.pk).status for a in made]
    assert statuses.count(AlertStatus.SENT) == 3 and statuses.count(AlertStatus.PENDING) == 2
    assert other_chat.pk
    time_machine.shift(61)
    outbox(alerts_sweep_due)
    assert len(telegram_bot.sent_messages("-1001000000001")) == 5


def test_an_alert_never_raises_into_the_caller(outbox, telegram_bot, monkeypatch, caplog):
    telegram_bot.fail_next(502, count=5)
    assert outbox(alert_raise, title="Telegram лежит").status == AlertStatus.PENDING  # queued, caller unaffected

    def broken(**kwargs):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(alerts, "_enqueue", broken)
    assert alert_raise(title="Всё сломалось", text="подробности") is None
    assert "ALERT could not be stored" in caplog.text and "Всё сломалось" in caplog.text
    assert telegram_message_enqueue(chat_id=1, text="x") is None
    assert tenant_notify(tenant=None, text="x") is None


def test_an_alert_inside_a_caller_transaction_keeps_it_usable(outbox, telegram_bot):
    with transaction.atomic():
        first = alert_raise(title="t", key="same")
        second = alert_raise(title="t", key="same")
        assert first.pk == second.pk
        Alert.objects.count()  # the caller's transaction still works


def test_a_broker_that_is_down_does_not_fail_the_caller(telegram_bot, django_capture_on_commit_callbacks, monkeypatch):
    from incidents.tasks import alert_send_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(alert_send_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_raise(title="t")
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.PENDING  # the sweep will send it


def test_without_a_bot_alerts_are_stored_and_logged_but_never_sent(fake_bot_api, settings, celery_eager,
                                                                  django_capture_on_commit_callbacks, caplog):
    settings.TELEGRAM_API_URL = fake_bot_api.url
    settings.ALERT_BOT_TOKEN = ""
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_raise(title="Нет бота", text="подробности")
    assert alert.status == AlertStatus.FAILED and "ALERT_BOT_TOKEN" in alert.last_error
    assert fake_bot_api.calls == [] and "Нет бота" in caplog.text
    assert alerts_sweep_due() == []


def test_the_sweep_resends_an_alert_whose_worker_died_mid_send(outbox, telegram_bot, time_machine):
    time_machine.move_to(timezone.now())
    alert = Alert.objects.create(chat_id="-1001000000001", title="stuck", status=AlertStatus.SENDING,
                                 claimed_at=timezone.now(), attempts=1)
    assert outbox(alerts_sweep_due) == []
    time_machine.shift(6 * 60)
    assert outbox(alerts_sweep_due) == [alert.pk]
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SENT and alert.attempts == 2


def test_two_workers_sending_one_alert_send_it_once(telegram_bot, celery_eager):
    alert = Alert.objects.create(chat_id="-1001000000001", title="once")
    assert alert_send(alert_id=alert.pk).status == "sent"
    assert alert_send(alert_id=alert.pk).status == "skipped"
    assert len(telegram_bot.sent_messages()) == 1


def test_a_sent_message_leads_back_to_its_outbox_row(outbox, telegram_bot, tenant_a):
    from incidents.selectors import alert_for_message

    tenant_a.settings.telegram_chat_id = -1001234567890
    tenant_a.settings.save()
    note = outbox(tenant_notify, tenant=tenant_a, text="Эскалация")
    note.refresh_from_db()
    assert alert_for_message(chat_id=-1001234567890, message_id=note.sent_message_id) == note
    assert alert_for_message(chat_id=-1001234567890, message_id=note.sent_message_id + 1) is None
