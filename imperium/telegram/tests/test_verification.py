"""High-risk actions from Telegram: /kb promote → verification request → CEO button → executed once."""

from __future__ import annotations

import pytest

from imperium.core import policy
from imperium.core.actors import Actor
from imperium.core.models import AuditLog, VerificationRequest
from imperium.telegram import texts
from imperium.telegram.testing.updates import CEO, MANAGER, STRANGER, callback_query_update, message_update
from imperium.telegram.tests.conftest import replies
from imperium.telegram.verification import telegram_actor_is_verifier
from incidents.models import Alert

pytestmark = pytest.mark.django_db
ALERT_CHAT = "-1001000000001"
# A second CEO entry: the one who asks for a high-risk action cannot approve it (four eyes).
CO_CEO = {"id": 3333333, "is_bot": False, "first_name": "Дана", "username": "dana_coceo", "language_code": "ru"}


@pytest.fixture
def co_ceo_allowed(db):
    from imperium.telegram.models import TelegramAllowedUser

    return TelegramAllowedUser.objects.create(telegram_user_id=CO_CEO["id"], role="ceo", label="CEO Дана")


@pytest.fixture
def kb_promote_executor():
    """A stand-in for the knowledge app's `kb.promote` executor, recording its runs; the real one
    (knowledge/policy_actions.py) is discovered first and put back afterwards."""
    runs = []
    policy._discover()
    real = policy._ACTIONS.get("kb.promote")

    @policy.register_action("kb.promote", summary="Promote KB v{version} of {tenant}")
    def promote(*, actor, tenant, version):
        runs.append({"tenant": tenant, "version": version, "actor": actor.label})
        return {"stable_version": version}

    yield runs
    if real is not None:
        policy._ACTIONS["kb.promote"] = real
    else:
        policy._ACTIONS.pop("kb.promote", None)


def announcement(api):
    [params] = [p for p in api.sent_messages(ALERT_CHAT) if "Нужно подтверждение" in p["text"]]
    return params


def press_button(deliver, api, params, index, user=CEO):
    message = api.message(ALERT_CHAT, Alert.objects.get(dedup_key__startswith="verification:").sent_message_id)
    data = params["reply_markup"]["inline_keyboard"][0][index]["callback_data"]
    update = callback_query_update(data, message=message, user=user)
    deliver(update)
    return api.answered_callbacks[update["callback_query"]["id"]]["text"]


def test_kb_promote_waits_for_the_ceo_and_runs_once_on_approval(deliver, telegram_bot, ceo_allowed, co_ceo_allowed, tenant_a,
                                                               kb_promote_executor):
    deliver(message_update("/kb promote alpha 3"))
    request = VerificationRequest.objects.get()
    assert request.status == "pending" and request.params == {"tenant": "alpha", "version": 3}
    assert request.requested_by_kind == "telegram" and request.requested_by_id == str(CEO["id"])
    assert kb_promote_executor == []
    assert f"Запрос #{request.pk} создан" in replies(telegram_bot, CEO["id"])[-1]

    params = announcement(telegram_bot)
    assert "Promote KB v3 of alpha" in params["text"]
    assert [b["callback_data"] for b in params["reply_markup"]["inline_keyboard"][0]] == [
        f"verify.approve:{request.pk}", f"verify.reject:{request.pk}"]
    request.refresh_from_db()
    assert request.notifications == [{"channel": "telegram", "alert_id": Alert.objects.get(dedup_key=f"verification:{request.pk}").pk}]

    # The requester's own tap is refused (four eyes); the other CEO's runs the action.
    assert press_button(deliver, telegram_bot, params, 0) == texts.VERIFY_SELF_APPROVAL
    assert kb_promote_executor == [] and AuditLog.objects.filter(action="policy.self_approval_refused").count() == 1
    assert press_button(deliver, telegram_bot, params, 0, user=CO_CEO) == "Подтверждено и выполнено."
    assert kb_promote_executor == [{"tenant": "alpha", "version": 3, "actor": "@dana_coceo"}]
    request.refresh_from_db()
    assert request.status == "executed" and request.decided_by_kind == "telegram"
    edited = telegram_bot.message(ALERT_CHAT, Alert.objects.get(dedup_key=f"verification:{request.pk}").sent_message_id)
    assert "✅ Подтверждено и выполнено — @dana_coceo" in edited["text"] and "reply_markup" not in edited

    assert press_button(deliver, telegram_bot, params, 0, user=CO_CEO).startswith("Уже решено")  # a second tap
    assert len(kb_promote_executor) == 1
    assert AuditLog.objects.filter(action="policy.approved").count() == 1


def test_a_rejected_request_never_runs(deliver, telegram_bot, ceo_allowed, tenant_a, kb_promote_executor):
    deliver(message_update("/kb promote alpha 4"))
    params = announcement(telegram_bot)
    assert press_button(deliver, telegram_bot, params, 1) == "Отклонено."
    assert press_button(deliver, telegram_bot, params, 0).startswith("Уже решено")
    assert VerificationRequest.objects.get().status == "rejected" and kb_promote_executor == []


def test_only_a_ceo_may_approve(deliver, telegram_bot, ceo_allowed, operator_allowed, tenant_a, kb_promote_executor):
    deliver(message_update("/kb promote alpha 5"))
    params = announcement(telegram_bot)
    assert press_button(deliver, telegram_bot, params, 0, user=MANAGER) == "Подтверждать и отклонять такие запросы может только CEO."
    assert AuditLog.objects.filter(action="policy.approval_refused", actor_id=str(MANAGER["id"])).exists()
    assert press_button(deliver, telegram_bot, params, 0, user=STRANGER) == "У вас нет прав на это действие."
    assert VerificationRequest.objects.get().status == "pending" and kb_promote_executor == []


def test_a_one_person_company_may_approve_its_own_request_when_the_setting_allows(deliver, telegram_bot, ceo_allowed, tenant_a,
                                                                                 kb_promote_executor, settings):
    settings.VERIFICATION_ALLOW_SELF_APPROVAL = True
    deliver(message_update("/kb promote alpha 6"))
    assert press_button(deliver, telegram_bot, announcement(telegram_bot), 0) == "Подтверждено и выполнено."
    assert kb_promote_executor == [{"tenant": "alpha", "version": 6, "actor": "@aidar_ceo"}]


def test_the_allow_list_ceo_role_is_a_policy_verifier(ceo_allowed, operator_allowed):
    assert telegram_actor_is_verifier(Actor.telegram(CEO["id"], "ceo"))
    assert policy.is_verifier(Actor.telegram(CEO["id"], "ceo"))
    assert not policy.is_verifier(Actor.telegram(MANAGER["id"], "operator"))
    assert not policy.is_verifier(Actor.telegram(STRANGER["id"], "x"))
    ceo_allowed.is_active = False
    ceo_allowed.save()
    assert not policy.is_verifier(Actor.telegram(CEO["id"], "ceo"))
