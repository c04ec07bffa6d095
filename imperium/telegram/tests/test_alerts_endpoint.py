"""POST /alerts/test: sends now and reports what Telegram said."""

from __future__ import annotations

import pytest

from imperium.core.models import AuditLog
from incidents.choices import AlertStatus
from incidents.models import Alert

pytestmark = pytest.mark.django_db
TOKEN = {"HTTP_AUTHORIZATION": "Bearer test-admin-token"}


def test_it_sends_a_test_alert_and_returns_the_message_id(client, telegram_bot):
    response = client.post("/alerts/test", {"text": "проверка связи"}, content_type="application/json", **TOKEN)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "sent" and body["message_id"] == Alert.objects.get().sent_message_id
    [params] = telegram_bot.sent_messages("-1001000000001")
    assert params["text"].startswith("✅ Тестовое оповещение Imperium") and "проверка связи" in params["text"]
    entry = AuditLog.objects.get(action="alert.test")
    assert entry.actor_kind == "api" and entry.payload["status"] == "sent"


def test_it_tests_a_tenant_chat_for_a_staff_operator_of_that_tenant(login, operator_a, tenant_a, tenant_b, telegram_bot):
    for tenant in (tenant_a, tenant_b):
        tenant.settings.telegram_chat_id = -1001234567890
        tenant.settings.telegram_topic_id = 42
        tenant.settings.save()
    http = login(operator_a)
    response = http.post("/alerts/test", {"tenant": "alpha"}, content_type="application/json")
    assert response.status_code == 200
    [params] = telegram_bot.sent_messages("-1001234567890")
    assert params["message_thread_id"] == "42" and "Alpha Salon" in params["text"]
    assert http.post("/alerts/test", {"tenant": "bravo"}, content_type="application/json").status_code == 404
    assert AuditLog.objects.get(action="alert.test").actor_label == "op-a"


def test_it_reports_a_tenant_without_a_chat(client, telegram_bot, tenant_a):
    response = client.post("/alerts/test", {"tenant": "alpha"}, content_type="application/json", **TOKEN)
    assert response.status_code == 400 and "no Telegram chat" in response.json()["error"]
    assert client.post("/alerts/test", {"tenant": "nope"}, content_type="application/json", **TOKEN).status_code == 404


@pytest.mark.parametrize(("status", "retry_after"), [(403, None), (429, 9), (502, None)])
def test_it_answers_502_with_telegrams_error_and_does_not_retry_later(client, telegram_bot, status, retry_after):
    telegram_bot.fail_next(status, retry_after=retry_after)
    response = client.post("/alerts/test", **TOKEN)
    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "failed" and body["telegram_status"] == status and str(status) in body["error"]
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.FAILED and alert.attempts == 1


def test_it_answers_503_when_telegram_is_not_configured(client, settings, fake_bot_api):
    settings.TELEGRAM_API_URL = fake_bot_api.url
    settings.ALERT_BOT_TOKEN = ""
    response = client.post("/alerts/test", **TOKEN)
    assert response.status_code == 503
    assert response.json()["status"] == "not_configured" and "ALERT_BOT_TOKEN" in response.json()["error"]
    assert fake_bot_api.calls == []


def test_it_answers_503_when_the_chat_is_at_its_rate_limit(client, settings, telegram_bot):
    settings.TELEGRAM_CHAT_MESSAGES_PER_MINUTE = 1
    assert client.post("/alerts/test", **TOKEN).status_code == 200
    response = client.post("/alerts/test", **TOKEN)
    assert response.status_code == 503 and response.json()["status"] == "rate_limited" and int(response["Retry-After"]) > 0
    assert len(telegram_bot.sent_messages()) == 1


def test_it_is_closed_to_anonymous_and_non_staff_callers(client, telegram_bot, operator_a):
    assert client.post("/alerts/test").status_code == 401
    assert client.post("/alerts/test", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    operator_a.is_staff = False
    operator_a.save()
    client.force_login(operator_a)
    assert client.post("/alerts/test").status_code == 403
    assert telegram_bot.calls == []
