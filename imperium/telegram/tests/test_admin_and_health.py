"""Admin pages (scoping), /admin/health and the startup check for Telegram."""

from __future__ import annotations

import pytest
from django.core.checks import Error, Warning
from django.urls import reverse

from imperium.core.models import AuditLog
from imperium.telegram.checks import telegram_configured
from imperium.telegram.models import TelegramAllowedUser, TelegramDeadLetter, TelegramUpdate
from incidents.models import Alert

pytestmark = pytest.mark.django_db
TOKEN = {"HTTP_AUTHORIZATION": "Bearer test-admin-token"}


def test_operators_see_only_their_tenants_alerts(login, operator_a, superuser, tenant_a, tenant_b):
    Alert.objects.create(tenant=tenant_a, title="alpha-alert", chat_id="1")
    Alert.objects.create(tenant=tenant_b, title="bravo-alert", chat_id="1")
    Alert.objects.create(tenant=None, title="system-alert", chat_id="1")
    url = reverse("admin:incidents_alert_changelist")
    response = login(operator_a).get(url)
    assert response.status_code == 200
    assert {a.title for a in response.context["cl"].queryset} == {"alpha-alert"}
    assert {a.title for a in login(superuser).get(url).context["cl"].queryset} == {"alpha-alert", "bravo-alert", "system-alert"}
    other = Alert.objects.get(title="bravo-alert")
    assert login(operator_a).get(reverse("admin:incidents_alert_change", args=[other.pk])).status_code == 302


def test_telegram_pages_are_for_superusers_only(login, operator_a, superuser):
    TelegramUpdate.objects.create(update_id=1, kind="message", payload={"update_id": 1})
    TelegramDeadLetter.objects.create(reason="not JSON", body="{")
    TelegramAllowedUser.objects.create(telegram_user_id=5, role="ceo")
    for name in ("telegramupdate", "telegramdeadletter", "telegramalloweduser", "telegramcallbackpress"):
        url = reverse(f"admin:telegram_{name}_changelist")
        assert login(operator_a).get(url).status_code == 403, name
        assert login(superuser).get(url).status_code == 200, name


def test_allow_list_changes_in_admin_are_audited(login, superuser):
    http = login(superuser)
    response = http.post(reverse("admin:telegram_telegramalloweduser_add"),
                         {"telegram_user_id": 777, "label": "Новый оператор", "role": "operator", "is_active": "on"})
    assert response.status_code == 302
    entry = TelegramAllowedUser.objects.get(telegram_user_id=777)
    added = AuditLog.objects.get(action="telegram.allowlist_added")
    assert added.actor_label == "root" and added.payload["role"] == "operator"
    http.post(reverse("admin:telegram_telegramalloweduser_change", args=[entry.pk]),
              {"telegram_user_id": 777, "label": "Новый оператор", "role": "ceo"})
    changed = AuditLog.objects.get(action="telegram.allowlist_changed")
    assert set(changed.payload["changed"]) == {"role", "is_active"} and changed.payload["is_active"] is False


def test_admin_health_says_telegram_is_not_configured(client, settings):
    settings.ALERT_BOT_TOKEN = ""
    response = client.get("/admin/health", **TOKEN)
    assert response.status_code == 200
    telegram = response.json()["checks"]["telegram"]
    assert telegram["ok"] is True and telegram["configured"] is False and "not configured" in telegram["detail"]


def test_admin_health_reaches_getme(client, telegram_bot):
    response = client.get("/admin/health", **TOKEN)
    assert response.status_code == 200
    telegram = response.json()["checks"]["telegram"]
    assert telegram["ok"] and telegram["configured"] and "@imperium_test_bot" in telegram["detail"]
    assert telegram_bot.calls_to("getMe")


def test_admin_health_fails_on_a_refused_token_or_a_missing_chat(client, telegram_bot, settings):
    telegram_bot.fail_next(401, method="getMe")
    response = client.get("/admin/health", **TOKEN)
    assert response.status_code == 503 and response.json()["failing"] == ["telegram"]
    settings.ALERT_CHAT_ID = ""
    response = client.get("/admin/health", **TOKEN)
    assert response.status_code == 503 and "ALERT_CHAT_ID" in response.json()["checks"]["telegram"]["detail"]


def test_startup_check_warns_when_not_configured_and_errs_on_a_refused_token(settings, telegram_bot):
    assert telegram_configured() == []
    settings.ALERT_BOT_TOKEN = ""
    [warning] = telegram_configured()
    assert isinstance(warning, Warning) and warning.id == "telegram.W001" and "ALERT_BOT_TOKEN" in warning.msg
    settings.ALERT_BOT_TOKEN = "1:bad"
    telegram_bot.fail_next(401, method="getMe")
    [error] = telegram_configured()
    assert isinstance(error, Error) and error.id == "telegram.E001"
    telegram_bot.fail_next(502, method="getMe")
    [warning] = telegram_configured()
    assert isinstance(warning, Warning) and warning.id == "telegram.W003"
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert [m.id for m in telegram_configured()] == ["telegram.W002"]
