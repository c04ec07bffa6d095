"""CEO commands through the whole webhook path, answered via the fake Bot API."""

from __future__ import annotations

import pytest

from imperium.core.models import AuditLog
from imperium.telegram.models import TelegramAllowedUser, TelegramUpdate
from imperium.telegram.testing.updates import CEO, MANAGER, STRANGER, TENANT_GROUP, message_update
from imperium.telegram.tests.conftest import replies
from incidents.errors import error_log_record

pytestmark = pytest.mark.django_db


def last_reply(api, chat_id):
    texts = replies(api, chat_id)
    assert texts, f"no reply in chat {chat_id}"
    return texts[-1]


def test_it_refuses_an_unauthorised_deploy_and_audits_it(deliver, telegram_bot, tenant_a):
    response = deliver(message_update("/deploy canary alpha", user=STRANGER))
    assert response.status_code == 200
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "stable"
    text = last_reply(telegram_bot, STRANGER["id"])
    assert "нет доступа" in text and str(STRANGER["id"]) in text
    entry = AuditLog.objects.get(action="telegram.command_refused")
    assert entry.actor_kind == "telegram" and entry.actor_id == str(STRANGER["id"]) and entry.actor_label == "Stranger"
    assert entry.payload["command"] == "deploy" and entry.payload["args"] == ["canary", "alpha"]
    assert not AuditLog.objects.filter(action="tenant.release_channel_changed").exists()


def test_it_refuses_a_deactivated_entry(deliver, telegram_bot, ceo_allowed, tenant_a):
    TelegramAllowedUser.objects.filter(pk=ceo_allowed.pk).update(is_active=False)
    deliver(message_update("/rollback alpha"))
    assert "нет доступа" in last_reply(telegram_bot, CEO["id"])
    assert AuditLog.objects.filter(action="telegram.command_refused", actor_id=str(CEO["id"])).exists()


def test_it_lists_commands_on_help(deliver, telegram_bot, ceo_allowed):
    deliver(message_update("/help"))
    text = last_reply(telegram_bot, CEO["id"])
    for usage in ("/status <клиент>", "/incident <номер>", "/deploy canary <клиент>", "/deploy stable <клиент>",
                  "/rollback <клиент>", "/kb promote <клиент> <версия>"):
        assert usage in text
    reply = telegram_bot.sent_messages(CEO["id"])[-1]
    assert reply["reply_parameters"]["message_id"] == TelegramUpdate.objects.get().payload["message"]["message_id"]


def test_it_shows_operators_only_their_commands(deliver, telegram_bot, operator_allowed):
    deliver(message_update("/help", user=MANAGER))
    text = last_reply(telegram_bot, MANAGER["id"])
    assert "/status" in text and "/rollback" in text and "/deploy" not in text and "/kb" not in text


def test_it_answers_an_unknown_command_with_help(deliver, telegram_bot, ceo_allowed):
    deliver(message_update("/launch rockets"))
    text = last_reply(telegram_bot, CEO["id"])
    assert "/launch мне неизвестна" in text and "/status <клиент>" in text


def test_it_names_an_unknown_tenant(deliver, telegram_bot, ceo_allowed, tenant_a, tenant_b):
    deliver(message_update("/status gamma"))
    text = last_reply(telegram_bot, CEO["id"])
    assert "Клиент «gamma» не найден" in text and "alpha, bravo" in text
    deliver(message_update("/deploy canary gamma"))
    assert "«gamma» не найден" in last_reply(telegram_bot, CEO["id"])


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("/status", "/status <клиент>"),
        ("/status alpha bravo", "/status <клиент>"),
        ("/deploy", "/deploy canary <клиент>"),
        ("/deploy beta alpha", "/deploy canary <клиент>"),
        ("/rollback", "/rollback <клиент>"),
        ("/incident abc", "/incident <номер>"),
        ("/kb promote alpha", "/kb promote <клиент> <версия>"),
        ("/kb demote alpha 3", "/kb promote <клиент> <версия>"),
        ("/kb promote alpha three", "должна быть числом"),
    ],
)
def test_it_answers_bad_arguments_with_usage(deliver, telegram_bot, ceo_allowed, tenant_a, text, usage):
    deliver(message_update(text))
    reply = last_reply(telegram_bot, CEO["id"])
    assert usage in reply and "Как пользоваться" in reply
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "stable"


def test_it_moves_a_tenant_to_canary_and_back(deliver, telegram_bot, ceo_allowed, tenant_a, canary_release):
    deliver(message_update("/deploy canary alpha"))
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "canary"
    assert "stable → canary, релиз 1.1.0" in last_reply(telegram_bot, CEO["id"])
    entry = AuditLog.objects.get(action="tenant.release_channel_changed")
    assert AuditLog.objects.filter(action="policy.executed", payload__action="tenant.deploy_canary").exists()
    assert entry.actor_kind == "telegram" and entry.actor_id == str(CEO["id"]) and entry.tenant_id == tenant_a.pk

    deliver(message_update("/deploy canary alpha"))
    assert "уже на канале canary" in last_reply(telegram_bot, CEO["id"])

    deliver(message_update("/rollback ALPHA"))
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "stable"
    assert "canary → stable" in last_reply(telegram_bot, CEO["id"])
    assert AuditLog.objects.filter(action="tenant.release_channel_changed").count() == 2


def test_it_lets_operators_roll_back_but_not_deploy(deliver, telegram_bot, operator_allowed, tenant_a):
    tenant_a.settings.release_channel = "canary"
    tenant_a.settings.save()
    deliver(message_update("/deploy canary alpha", user=MANAGER))
    assert "только CEO" in last_reply(telegram_bot, MANAGER["id"])
    assert AuditLog.objects.get(action="telegram.command_refused").payload["reason"] == "role"
    deliver(message_update("/rollback alpha", user=MANAGER))
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "stable"


@pytest.mark.parametrize(
    ("text", "backend"),
    # Every command has its backend now (incidents registers `incident.show`); an installation
    # without one must still answer plainly, so the backend is taken away here.
    [("/incident 12", "incident.show")],
)
def test_it_says_plainly_when_a_command_has_no_backing_service(deliver, telegram_bot, ceo_allowed, tenant_a, text, backend,
                                                               monkeypatch):
    from imperium.telegram import commands

    monkeypatch.delitem(commands._BACKENDS, backend)
    deliver(message_update(text))
    reply = last_reply(telegram_bot, CEO["id"])
    assert "не настроено" in reply and backend in reply and "Ничего не изменено" in reply


def test_it_turns_deploy_stable_into_a_verification_request(deliver, telegram_bot, ceo_allowed, tenant_a, canary_release):
    from imperium.core.models import VerificationRequest

    deliver(message_update("/deploy stable alpha"))
    request = VerificationRequest.objects.get(action="release.promote_stable")
    assert request.status == "pending" and request.params["version"] == "1.1.0"
    reply = last_reply(telegram_bot, CEO["id"])
    assert f"Запрос #{request.pk}" in reply and "подтвердит" in reply


def test_it_refuses_deploy_stable_without_a_canary_release(deliver, telegram_bot, ceo_allowed, tenant_a):
    from imperium.core.models import VerificationRequest

    deliver(message_update("/deploy stable alpha"))
    reply = last_reply(telegram_bot, CEO["id"])
    # The service's refusal reaches the CEO in Russian (locale/ru), not in the admin's English.
    assert "Не выполнено: Нет канареечного релиза для продвижения" in reply and "No canary" not in reply
    assert not VerificationRequest.objects.exists()


def test_a_registered_backend_takes_over_the_command(deliver, telegram_bot, ceo_allowed, tenant_a, monkeypatch):
    from imperium.telegram import commands

    calls = []
    monkeypatch.setitem(commands._BACKENDS, "incident.show", lambda ctx, incident_id: calls.append(incident_id) or "ok")
    deliver(message_update("/incident #7"))
    assert calls == [7] and last_reply(telegram_bot, CEO["id"]) == "ok"


def test_it_reports_status_of_a_tenant(deliver, telegram_bot, ceo_allowed, tenant_a, tenant_b):
    error_log_record(where="chatflow.send", message="gateway 502", tenant=tenant_a)
    error_log_record(where="chatflow.send", message="other tenant", tenant=tenant_b)
    deliver(message_update("/status alpha"))
    text = last_reply(telegram_bot, CEO["id"])
    assert "Alpha Salon (alpha)" in text and "Канал релиза: stable" in text
    assert "Зависимости: все в порядке" in text and "telegram" in text
    assert "Ошибки за 24 ч: 1 у клиента" in text and "gateway 502" in text and "other tenant" not in text
    assert "Оповещения за 24 ч: 0" in text


def test_a_status_section_that_breaks_does_not_hide_the_report(deliver, telegram_bot, ceo_allowed, tenant_a, monkeypatch):
    from imperium.telegram import status

    def broken(tenant):
        raise RuntimeError("stats unavailable")

    monkeypatch.setitem(status.STATUS_SECTIONS, "traffic", status.StatusSection("traffic", 30, broken))
    deliver(message_update("/status alpha"))
    text = last_reply(telegram_bot, CEO["id"])
    assert "Раздел «traffic» недоступен" in text and "Alpha Salon" in text and "Ошибки за 24 ч" in text


def test_it_seeds_ceo_entries_from_settings_before_the_first_command(deliver, telegram_bot, settings, tenant_a, canary_release):
    settings.TELEGRAM_ADMIN_IDS = [CEO["id"]]
    deliver(message_update("/deploy canary alpha"))
    entry = TelegramAllowedUser.objects.get(telegram_user_id=CEO["id"])
    assert entry.role == "ceo" and entry.is_active
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "canary"
    assert AuditLog.objects.filter(action="telegram.allowlist_seeded").count() == 1
    deliver(message_update("/help"))
    assert TelegramAllowedUser.objects.count() == 1 and AuditLog.objects.filter(action="telegram.allowlist_seeded").count() == 1


def test_seeding_keeps_what_an_operator_changed_in_admin(settings, db):
    from imperium.telegram.allowlist import allowlist_seed_from_settings

    settings.TELEGRAM_ADMIN_IDS = [CEO["id"], 42]
    TelegramAllowedUser.objects.create(telegram_user_id=42, role="operator", is_active=False, label="ex-CEO")
    assert allowlist_seed_from_settings() == 1
    kept = TelegramAllowedUser.objects.get(telegram_user_id=42)
    assert kept.role == "operator" and kept.is_active is False


def test_seeding_survives_a_database_that_is_not_ready(settings, monkeypatch, db):
    from django.db import OperationalError

    from imperium.telegram import allowlist

    settings.TELEGRAM_ADMIN_IDS = [1]

    def not_ready(*args, **kwargs):
        raise OperationalError("no such table: telegram_telegramalloweduser")

    monkeypatch.setattr(allowlist.TelegramAllowedUser.objects, "filter", not_ready)
    assert allowlist.allowlist_seed_from_settings() == 0


def test_it_answers_in_the_topic_the_command_came_from(deliver, telegram_bot, ceo_allowed, tenant_a):
    update = message_update("/status alpha", chat=TENANT_GROUP)
    update["message"].update({"message_thread_id": 42, "is_topic_message": True})
    deliver(update)
    reply = telegram_bot.sent_messages(TENANT_GROUP["id"])[-1]
    assert reply["message_thread_id"] == "42" and "Alpha Salon" in reply["text"]


def test_it_ignores_commands_addressed_to_another_bot(deliver, telegram_bot, ceo_allowed, tenant_a, canary_release):
    deliver(message_update("/deploy@other_bot canary alpha", chat=TENANT_GROUP))
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "stable" and telegram_bot.sent_messages() == []
    deliver(message_update("/deploy@imperium_test_bot canary alpha", chat=TENANT_GROUP))
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.release_channel == "canary"
