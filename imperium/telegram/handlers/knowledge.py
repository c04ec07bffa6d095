"""Knowledge suggestions in the managers' chat: the card and its buttons.

The card (`suggestion_card_send`, called by the notifier when a hand-over proposed something) goes
to the tenant's topic through the Telegram outbox, keyed `kb-suggestion:<id>`, with
«📚 В базу знаний» (`kbs.accept:<id>`), «✏️ Изменить» (`kbs.edit:<id>`) and «🚫 Не надо»
(`kbs.reject:<id>`). «✏️ Изменить» asks for the corrected answer: the manager's reply (reply-to)
to the card is accepted as the answer text. Presses count from the tenant's chat (its members are
its managers) or from allow-listed users; each is idempotent by callback query id (the callback
handler) and by the suggestion's status (a second accept changes nothing).

Accepting writes into the tenant's open draft (`knowledge.suggestions.kb_suggestion_accept`) and,
after commit, queues `releases.learned_promotion` (kb_eval, then the CEO's verification or an
automatic promotion, `releases.learned.kb_learned_promotion_request`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from imperium.core.actors import Actor
from imperium.core.botapi.callback_data import callback_data_build
from imperium.core.botapi.client import TelegramError, get_client
from imperium.core.botapi.keyboards import InlineButton, inline_keyboard
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record
from imperium.telegram import texts
from imperium.telegram.callbacks import ButtonPress, CallbackAction, CallbackAnswer, register_callback_action
from imperium.telegram.choices import UpdateKind
from imperium.telegram.messaging import reply_to
from imperium.telegram.router import UpdateHandler, register_handler
from imperium.telegram.updates import IncomingUpdate
from incidents.models import Alert
from knowledge.models import KnowledgeSuggestion
from knowledge.suggestions import kb_suggestion_accept, kb_suggestion_reject

logger = logging.getLogger(__name__)

ACCEPT_ACTION = "kbs.accept"
EDIT_ACTION = "kbs.edit"
REJECT_ACTION = "kbs.reject"
CARD_KEY = "kb-suggestion:{id}"


def suggestion_keyboard(suggestion: KnowledgeSuggestion) -> dict[str, Any]:
    return inline_keyboard([[
        InlineButton(texts.BUTTON_KB_ACCEPT, callback_data_build(ACCEPT_ACTION, suggestion.pk)),
        InlineButton(texts.BUTTON_KB_EDIT, callback_data_build(EDIT_ACTION, suggestion.pk)),
        InlineButton(texts.BUTTON_KB_REJECT, callback_data_build(REJECT_ACTION, suggestion.pk)),
    ]])


def suggestion_card_text(suggestion: KnowledgeSuggestion) -> str:
    return texts.render("knowledge/suggestion", s=suggestion, tenant=suggestion.tenant,
                        reason=texts.ESCALATION_REASONS.get(suggestion.reason, suggestion.reason))


def suggestion_card_send(suggestion: KnowledgeSuggestion) -> Alert | None:
    """Queue the suggestion's card for the tenant's managers (once per suggestion: the key folds repeats)."""
    from incidents.alerts import tenant_notify

    return tenant_notify(tenant=suggestion.tenant, text=suggestion_card_text(suggestion), reply_markup=suggestion_keyboard(suggestion),
                         key=CARD_KEY.format(id=suggestion.pk), title="knowledge suggestion")


def card_suggestion(*, chat_id: int, message_id: int) -> KnowledgeSuggestion | None:
    """The suggestion whose card is this Telegram message."""
    alert = (Alert.objects.filter(chat_id=str(chat_id), sent_message_id=message_id, dedup_key__startswith="kb-suggestion:")
             .only("dedup_key").first())
    if alert is None:
        return None
    ref = alert.dedup_key.split(":", 1)[1]
    return KnowledgeSuggestion.objects.select_related("tenant__settings").filter(pk=int(ref)).first() if ref.isdigit() else None


def _suggestion(press: ButtonPress) -> KnowledgeSuggestion | None:
    if len(press.args) != 1 or not press.args[0].isdigit():
        return None
    return KnowledgeSuggestion.objects.select_related("tenant__settings").filter(pk=int(press.args[0])).first()


def _tenant_chat(suggestion: KnowledgeSuggestion, chat_id: int | None) -> bool:
    tenant_chat = getattr(getattr(suggestion.tenant, "settings", None), "telegram_chat_id", None)
    return tenant_chat is not None and chat_id is not None and int(tenant_chat) == int(chat_id)


def _card_decided(press_chat: int | None, message_id: int | None, suggestion: KnowledgeSuggestion, line: str) -> None:
    """Edit the card to say who decided, without buttons. Cosmetic: a failure is logged."""
    if press_chat is None or message_id is None:
        return
    try:
        get_client().edit_message_text(chat_id=press_chat, message_id=message_id, text=f"{suggestion_card_text(suggestion)}\n\n{line}",
                                       reply_markup=None)
    except TelegramError as exc:
        logger.warning("could not update suggestion card %s: %s", message_id, exc)


def _after_accept(suggestion: KnowledgeSuggestion) -> None:
    tenant_id = suggestion.tenant_id

    def queue() -> None:
        from releases.tasks import learned_promotion

        try:
            learned_promotion.delay(tenant_id)
        except Exception:  # broker down: the next accepted suggestion (or /kb promote) asks again
            logger.exception("could not queue the learned promotion of tenant %s", tenant_id)

    transaction.on_commit(queue)


class _SuggestionButton(CallbackAction):
    requires_allowlist = False  # the tenant's chat is the check; allow-listed users may decide too

    def authorize(self, press: ButtonPress) -> bool:
        suggestion = _suggestion(press)
        if suggestion is None:
            return True  # answered as a stale button
        return _tenant_chat(suggestion, press.chat_id) or press.allowed_user is not None


@register_callback_action
class AcceptSuggestionButton(_SuggestionButton):
    action = ACCEPT_ACTION

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        suggestion = _suggestion(press)
        if suggestion is None:
            return CallbackAnswer(texts.KB_SUGGESTION_NOT_FOUND)
        try:
            suggestion, changed = kb_suggestion_accept(actor=press.actor, suggestion_id=suggestion.pk)
        except ApplicationError as exc:
            return CallbackAnswer(texts.MANAGER_REPLY_REFUSED.format(message=exc.message)[:200], show_alert=True)
        if not changed:
            return CallbackAnswer(texts.KB_SUGGESTION_ALREADY.format(status=suggestion.get_status_display()))
        _after_accept(suggestion)
        _card_decided(press.chat_id, press.message_id, suggestion,
                      texts.KB_SUGGESTION_ACCEPTED_LINE.format(who=press.user.label, version=suggestion.version.number))
        return CallbackAnswer(texts.KB_SUGGESTION_ACCEPTED)


@register_callback_action
class RejectSuggestionButton(_SuggestionButton):
    action = REJECT_ACTION

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        suggestion = _suggestion(press)
        if suggestion is None:
            return CallbackAnswer(texts.KB_SUGGESTION_NOT_FOUND)
        suggestion, changed = kb_suggestion_reject(actor=press.actor, suggestion_id=suggestion.pk)
        if not changed:
            return CallbackAnswer(texts.KB_SUGGESTION_ALREADY.format(status=suggestion.get_status_display()))
        _card_decided(press.chat_id, press.message_id, suggestion, texts.KB_SUGGESTION_REJECTED_LINE.format(who=press.user.label))
        return CallbackAnswer(texts.KB_SUGGESTION_REJECTED)


@register_callback_action
class EditSuggestionButton(_SuggestionButton):
    action = EDIT_ACTION

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        suggestion = _suggestion(press)
        if suggestion is None:
            return CallbackAnswer(texts.KB_SUGGESTION_NOT_FOUND)
        if suggestion.status != "pending":
            return CallbackAnswer(texts.KB_SUGGESTION_ALREADY.format(status=suggestion.get_status_display()))
        if press.chat_id is not None and press.message_id is not None:
            try:
                get_client().send_message(chat_id=press.chat_id, text=texts.KB_SUGGESTION_EDIT_PROMPT,
                                          thread_id=press.update.thread_id, reply_to_message_id=press.message_id)
            except TelegramError as exc:
                logger.warning("could not ask for the corrected text of suggestion %s: %s", suggestion.pk, exc)
        return CallbackAnswer(texts.KB_SUGGESTION_EDIT_HINT)


@register_handler
class SuggestionEditHandler(UpdateHandler):
    """A manager's reply (reply-to) to a suggestion card: the corrected answer, accepted at once."""

    name = "knowledge_suggestion_edit"
    priority = 25  # before the conversation replies (30): a card is not a conversation

    def matches(self, update: IncomingUpdate) -> bool:
        if update.kind != UpdateKind.MESSAGE or update.chat_id is None or update.reply_to_message_id is None:
            return False
        if update.sender is None or update.sender.is_bot or update.command is not None:
            return False
        return card_suggestion(chat_id=update.chat_id, message_id=update.reply_to_message_id) is not None

    def process(self, update: IncomingUpdate) -> str:
        assert update.chat_id is not None and update.reply_to_message_id is not None and update.sender is not None
        suggestion = card_suggestion(chat_id=update.chat_id, message_id=update.reply_to_message_id)
        assert suggestion is not None
        actor = Actor.telegram(update.sender.id, update.sender.label)
        from imperium.telegram.allowlist import allowed_user_get

        if not _tenant_chat(suggestion, update.chat_id) and allowed_user_get(update.sender.id) is None:
            audit_record(actor=actor, action="telegram.callback_refused", tenant=suggestion.tenant_id, obj=suggestion,
                         payload={"chat_id": update.chat_id, "reason": "suggestion edit outside the tenant's chat"})
            return "refused: not the tenant's chat"
        text = (update.text or "").strip()
        if not text:
            return "ignored: no text"
        try:
            suggestion, changed = kb_suggestion_accept(actor=actor, suggestion_id=suggestion.pk, answer=text)
        except ApplicationError as exc:
            reply_to(update, texts.MANAGER_REPLY_REFUSED.format(message=exc.message))
            return f"refused: {exc.message}"
        if not changed:
            reply_to(update, texts.KB_SUGGESTION_ALREADY.format(status=suggestion.get_status_display()))
            return f"suggestion {suggestion.pk} already {suggestion.status}"
        _after_accept(suggestion)
        _card_decided(update.chat_id, update.reply_to_message_id, suggestion,
                      texts.KB_SUGGESTION_EDITED_LINE.format(who=update.sender.label, version=suggestion.version.number))
        reply_to(update, texts.KB_SUGGESTION_ACCEPTED)
        return f"suggestion {suggestion.pk} accepted with a corrected answer into v{suggestion.version.number}"
