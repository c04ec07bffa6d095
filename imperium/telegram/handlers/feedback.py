"""«❌ Бот ответил неверно» under the managers' cards (`conversation.wrong:<turn id>`): the policy's
`conversation.mark_wrong_answer` (low risk) with the pressing manager as actor — a quality incident,
a hand-over, and the KB item paused on its second mark within a week
(`conversations.services.feedback`). Presses count from the tenant's chat only; idempotent by
callback query id and by the mark (one per turn)."""

from __future__ import annotations

import logging

from conversations.models import Turn
from imperium.core.botapi.client import TelegramError, get_client
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import policy_execute
from imperium.telegram import texts
from imperium.telegram.callbacks import ButtonPress, CallbackAction, CallbackAnswer, register_callback_action
from imperium.telegram.choices import NoticeKind
from imperium.telegram.notices import WRONG_ACTION, card_refresh
from imperium.telegram.selectors import notice_for_message

logger = logging.getLogger(__name__)


def _turn(press: ButtonPress) -> Turn | None:
    if len(press.args) != 1 or not press.args[0].isdigit():
        return None
    return Turn.objects.select_related("tenant__settings", "conversation__tenant__settings").filter(pk=int(press.args[0])).first()


@register_callback_action
class WrongAnswerButton(CallbackAction):
    action = WRONG_ACTION
    requires_allowlist = False  # tenant managers: their chat is the check

    def authorize(self, press: ButtonPress) -> bool:
        turn = _turn(press)
        if turn is None:
            return True
        chat = turn.tenant.settings.telegram_chat_id
        return chat is not None and press.chat_id is not None and int(chat) == int(press.chat_id)

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        turn = _turn(press)
        if turn is None:
            return CallbackAnswer(texts.CONVERSATION_NOT_FOUND)
        try:
            outcome = policy_execute("conversation.mark_wrong_answer", press.actor, {"tenant": turn.tenant.slug, "turn_id": turn.pk},
                                     tenant=turn.tenant, reason="Telegram button")
        except ApplicationError as exc:
            return CallbackAnswer(texts.MANAGER_REPLY_REFUSED.format(message=exc.message)[:200], show_alert=True)
        result = outcome.result or {}
        if not result.get("created"):
            return CallbackAnswer(texts.WRONG_ANSWER_ALREADY)
        conversation = turn.conversation
        conversation.refresh_from_db(fields=["state"])
        if press.chat_id is not None and press.message_id is not None:
            line = texts.WRONG_ANSWER_LINE.format(who=press.user.label)
            notice = notice_for_message(chat_id=press.chat_id, message_id=press.message_id)
            if notice is not None and notice.kind == NoticeKind.BOT_ANSWER:
                try:  # the answer's own message: the line, no button left
                    get_client().edit_message_text(chat_id=press.chat_id, message_id=press.message_id,
                                                   text=f"{notice.text or press.message_text}\n\n{line}", reply_markup=None)
                except TelegramError as exc:
                    logger.warning("could not update bot answer %s: %s", press.message_id, exc)
            else:
                card_refresh(conversation=conversation, chat_id=press.chat_id, message_id=press.message_id, status_line=line,
                             fallback_text=press.message_text)
        if result.get("paused_items"):
            return CallbackAnswer(texts.WRONG_ANSWER_PAUSED.format(items=", ".join(result["paused_items"]))[:200], show_alert=True)
        return CallbackAnswer(texts.WRONG_ANSWER_RECORDED)
