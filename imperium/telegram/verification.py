"""The write-risk policy in Telegram: who may verify, where requests are announced, the buttons.

- Verifier check: an active allow-list entry whose role is one of the policy's
  `verifier_roles` (CEO) may approve or reject (`imperium.core.policy.is_verifier`).
- Notifier: every pending `VerificationRequest` is announced in the alert chat (through the
  alert outbox, so a Telegram outage delays the announcement but never loses it) with the
  buttons «Подтвердить» (`verify.approve:<id>`) and «Отклонить» (`verify.reject:<id>`).
- A press calls `verification_approve` / `verification_reject` with the Telegram user as actor:
  the policy executes an approved action exactly once, refuses and audits non-verifiers; the
  message is then edited to say who decided and how, and loses its buttons.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.core.botapi.callback_data import callback_data_build
from imperium.core.botapi.client import TelegramError, get_client
from imperium.core.botapi.keyboards import InlineButton, inline_keyboard
from imperium.core.choices import ActorKind
from imperium.core.exceptions import ApplicationError
from imperium.core.models import VerificationRequest
from imperium.core.policy import (
    SELF_APPROVAL,
    register_verification_notifier,
    register_verifier_check,
    verification_approve,
    verification_reject,
)
from imperium.core.policy import verifier_roles as policy_verifier_roles
from imperium.telegram import texts
from imperium.telegram.callbacks import ButtonPress, CallbackAction, CallbackAnswer, register_callback_action
from imperium.telegram.models import TelegramAllowedUser
from incidents.alerts import telegram_message_enqueue

logger = logging.getLogger(__name__)

APPROVE_ACTION = "verify.approve"
REJECT_ACTION = "verify.reject"


def telegram_actor_is_verifier(actor: Actor) -> bool:
    if actor.kind != ActorKind.TELEGRAM or not actor.id.lstrip("-").isdigit():
        return False
    return TelegramAllowedUser.objects.filter(
        telegram_user_id=int(actor.id), is_active=True, role__in=policy_verifier_roles()
    ).exists()


def announce_verification_request(request: VerificationRequest) -> None:
    """Queue the announcement with approve/reject buttons in the alert chat; remember the
    outbox row on the request (`notifications`), where the sent message id will appear."""
    keyboard = inline_keyboard([[
        InlineButton(texts.VERIFY_APPROVE_BUTTON, callback_data_build(APPROVE_ACTION, request.pk)),
        InlineButton(texts.VERIFY_REJECT_BUTTON, callback_data_build(REJECT_ACTION, request.pk)),
    ]])
    alert = telegram_message_enqueue(
        chat_id=str(settings.ALERT_CHAT_ID or ""), topic_id=settings.ALERT_TOPIC_ID,
        text=texts.render("verification_request", request=request, expires=timezone.localtime(request.expires_at)),
        tenant=request.tenant_id, key=f"verification:{request.pk}", reply_markup=keyboard, severity="warning",
        title=f"verification #{request.pk}",
    )
    if alert is not None:
        VerificationRequest.objects.filter(pk=request.pk).update(
            notifications=[*request.notifications, {"channel": "telegram", "alert_id": alert.pk}]
        )


class _VerificationDecision(CallbackAction):
    """Allow-listed users may press; the policy itself decides whether they may verify."""

    def _request_id(self, press: ButtonPress) -> int | None:
        return int(press.args[0]) if len(press.args) == 1 and press.args[0].isdigit() else None

    def _decide(self, press: ButtonPress, request_id: int) -> tuple[VerificationRequest, str]:
        raise NotImplementedError

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        request_id = self._request_id(press)
        if request_id is None or not VerificationRequest.objects.filter(pk=request_id).exists():
            return CallbackAnswer(texts.CALLBACK_STALE)
        try:
            request, answer = self._decide(press, request_id)
        except ApplicationError as exc:
            if exc.extra.get("code") == SELF_APPROVAL:
                text = texts.VERIFY_SELF_APPROVAL
            elif exc.status == 403:
                text = texts.VERIFY_NOT_VERIFIER
            else:
                text = texts.VERIFY_REFUSED.format(message=exc.message)
            return CallbackAnswer(text, show_alert=True)
        self._mark_message(press, request)
        return CallbackAnswer(answer, show_alert=request.status == "failed")

    def _mark_message(self, press: ButtonPress, request: VerificationRequest) -> None:
        if press.chat_id is None or press.message_id is None:
            return
        decided = texts.render("verification_decided", request=request, at=timezone.localtime(request.decided_at or timezone.now()))
        if decided in press.message_text:
            return
        try:
            get_client().edit_message_text(chat_id=press.chat_id, message_id=press.message_id,
                                           text=f"{press.message_text}\n\n{decided}".strip())
        except TelegramError as exc:  # the decision is stored; the message is only its mirror
            logger.warning("could not mark verification #%s message: %s", request.pk, exc)


@register_callback_action
class ApproveVerification(_VerificationDecision):
    action = APPROVE_ACTION

    def _decide(self, press: ButtonPress, request_id: int) -> tuple[VerificationRequest, str]:
        outcome = verification_approve(request_id=request_id, actor=press.actor)
        request = outcome.request or VerificationRequest.objects.get(pk=request_id)
        if outcome.extra.get("already"):
            return request, texts.VERIFY_ALREADY.format(status=request.get_status_display())
        if outcome.status == "executed":
            return request, texts.VERIFY_APPROVED
        return request, texts.VERIFY_FAILED.format(error=outcome.error[:150])


@register_callback_action
class RejectVerification(_VerificationDecision):
    action = REJECT_ACTION

    def _decide(self, press: ButtonPress, request_id: int) -> tuple[VerificationRequest, str]:
        before = VerificationRequest.objects.get(pk=request_id).status
        request = verification_reject(request_id=request_id, actor=press.actor)
        if before != "pending":
            return request, texts.VERIFY_ALREADY.format(status=request.get_status_display())
        return request, texts.VERIFY_REJECTED


register_verifier_check(telegram_actor_is_verifier)
register_verification_notifier(announce_verification_request)
