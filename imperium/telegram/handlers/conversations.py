"""The manager hand-over in tenant chats: card buttons and managers' messages.

Buttons (callback data `conversation.take_over:<id>`, `conversation.return_to_bot:<id>`,
`conversation.close:<id>`) run the conversation services through the write-risk policy (low risk:
executed and audited at once), with the pressing Telegram user as the actor. Only a press from
the conversation's tenant chat counts — the chat's members are its managers; a press relayed from
any other chat is refused (and audited by the callback handler). A press is idempotent twice
over: by callback query id (the callback handler) and by state (a second «Взять» finds the
conversation taken and changes nothing).

Messages: a reply (reply-to) to a card or forwarded message, or any message in a conversation's
topic, goes to the customer through `manager_reply_send` (the normal outbound path), keyed by
chat and message id so a redelivered update never sends twice; the manager takes the
conversation over. `note: …` stays internal (`conversation_note_add`). Edited messages and media
are not sent; the manager is told so.
"""

from __future__ import annotations

import logging
import re

from conversations.choices import ConversationState, EscalationStatus
from conversations.models import Conversation, Escalation
from conversations.services import conversation_note_add, manager_reply_send
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import policy_execute
from imperium.core.services import audit_record
from imperium.telegram import texts
from imperium.telegram.callbacks import ButtonPress, CallbackAction, CallbackAnswer, register_callback_action
from imperium.telegram.choices import UpdateKind
from imperium.telegram.messaging import reply_to
from imperium.telegram.notices import CLOSE_ACTION, RETURN_ACTION, TAKE_ACTION, card_refresh, escalation_card_message_id, status_line
from imperium.telegram.router import UpdateHandler, register_handler
from imperium.telegram.selectors import message_conversation
from imperium.telegram.updates import IncomingUpdate

logger = logging.getLogger(__name__)

NOTE_PREFIX = re.compile(r"^\s*(?:note|заметка)\s*:\s*", re.IGNORECASE)
_MEDIA_FIELDS = ("photo", "document", "voice", "audio", "video", "video_note", "sticker", "animation", "contact", "location")
_GROUP_TYPES = ("group", "supergroup")


def _conversation_from_args(press: ButtonPress) -> Conversation | None:
    if len(press.args) != 1 or not press.args[0].isdigit():
        return None
    return Conversation.objects.select_related("tenant__settings").filter(pk=int(press.args[0])).first()


def _from_tenant_chat(conversation: Conversation, chat_id: int | None) -> bool:
    tenant_chat = conversation.tenant.settings.telegram_chat_id
    return tenant_chat is not None and chat_id is not None and int(tenant_chat) == int(chat_id)


def _escalations(conversation: Conversation, *statuses: str) -> bool:
    return Escalation.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation, status__in=statuses).exists()


class _ConversationButton(CallbackAction):
    requires_allowlist = False  # tenant managers are not on the CEO allow-list: their chat is the check
    policy_action = ""
    status_kind = ""
    done_text = ""

    def authorize(self, press: ButtonPress) -> bool:
        conversation = _conversation_from_args(press)
        if conversation is None:
            return True  # nothing to protect: answered as a stale button
        return _from_tenant_chat(conversation, press.chat_id)

    def already(self, conversation: Conversation) -> str:
        """The answer when the conversation is already where this button would put it, else ""."""
        raise NotImplementedError

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        conversation = _conversation_from_args(press)
        if conversation is None:
            return CallbackAnswer(texts.CONVERSATION_NOT_FOUND)
        done_before = self.already(conversation)
        if done_before:
            return CallbackAnswer(done_before)
        try:
            policy_execute(self.policy_action, press.actor, {"tenant": conversation.tenant.slug, "conversation_id": conversation.pk},
                           tenant=conversation.tenant, reason="Telegram button")
        except ApplicationError as exc:
            return CallbackAnswer(texts.MANAGER_REPLY_REFUSED.format(message=exc.message)[:200], show_alert=True)
        conversation.refresh_from_db(fields=["state"])
        if press.chat_id is not None and press.message_id is not None:
            card_refresh(conversation=conversation, chat_id=press.chat_id, message_id=press.message_id,
                         status_line=status_line(self.status_kind, who=press.user.label, conversation=conversation),
                         fallback_text=press.message_text)
        return CallbackAnswer(self.done_text)


@register_callback_action
class TakeOverButton(_ConversationButton):
    action = TAKE_ACTION
    policy_action = "conversation.take_over"
    status_kind = "taken"
    done_text = texts.CONVERSATION_TAKEN

    def already(self, conversation: Conversation) -> str:
        if conversation.state != ConversationState.HUMAN or _escalations(conversation, EscalationStatus.OPEN):
            return ""
        taken = (Escalation.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation)
                 .exclude(taken_by="").order_by("-id").values_list("taken_by", flat=True).first())
        return texts.CONVERSATION_ALREADY_TAKEN.format(who=f" ({taken})" if taken else "")


@register_callback_action
class ReturnToBotButton(_ConversationButton):
    action = RETURN_ACTION
    policy_action = "conversation.return_to_bot"
    status_kind = "returned"
    done_text = texts.CONVERSATION_RETURNED

    def already(self, conversation: Conversation) -> str:
        if conversation.state == ConversationState.BOT and not _escalations(conversation, EscalationStatus.OPEN, EscalationStatus.TAKEN):
            return texts.CONVERSATION_ALREADY_BOT
        return ""


@register_callback_action
class CloseButton(_ConversationButton):
    action = CLOSE_ACTION
    policy_action = "conversation.close"
    status_kind = "closed"
    done_text = texts.CONVERSATION_CLOSED

    def already(self, conversation: Conversation) -> str:
        if conversation.state == ConversationState.CLOSED and not _escalations(
            conversation, EscalationStatus.OPEN, EscalationStatus.TAKEN
        ):
            return texts.CONVERSATION_ALREADY_CLOSED
        return ""


@register_handler
class ManagerMessageHandler(UpdateHandler):
    """A manager's message about a conversation in the tenant's chat (see the module docstring)."""

    name = "manager_message"
    priority = 30  # after button presses (10) and commands (20): "/status" in a topic is a command

    def matches(self, update: IncomingUpdate) -> bool:
        if update.kind not in (UpdateKind.MESSAGE, UpdateKind.EDITED_MESSAGE) or update.chat_type not in _GROUP_TYPES:
            return False
        if update.chat_id is None or update.sender is None or update.sender.is_bot or update.command is not None:
            return False
        return self._conversation(update) is not None

    @staticmethod
    def _conversation(update: IncomingUpdate) -> Conversation | None:
        assert update.chat_id is not None
        return message_conversation(chat_id=update.chat_id, reply_to_message_id=update.reply_to_message_id, thread_id=update.thread_id)

    def process(self, update: IncomingUpdate) -> str:
        conversation = self._conversation(update)
        sender = update.sender
        assert conversation is not None and sender is not None and update.chat_id is not None and update.message_id is not None
        actor = Actor.telegram(sender.id, sender.label)
        if not _from_tenant_chat(conversation, update.chat_id):
            # The card or topic lives in a chat the tenant no longer uses: its members are not its managers now.
            audit_record(actor=actor, action="telegram.manager_message_refused", tenant=conversation.tenant_id, obj=conversation,
                         payload={"chat_id": update.chat_id, "message_id": update.message_id, "reason": "not the tenant's chat"})
            return f"refused: chat {update.chat_id} is not the managers' chat of {conversation.tenant.slug}"
        if update.kind == UpdateKind.EDITED_MESSAGE:
            logger.info("conversation %s: edited manager message %s in chat %s not re-sent", conversation.pk, update.message_id,
                        update.chat_id)
            reply_to(update, texts.MANAGER_EDIT_NOT_SENT)
            return f"edited message ignored: not re-sent to the customer (conversation {conversation.pk})"
        message = update.message or {}
        if any(field in message for field in _MEDIA_FIELDS):
            reply_to(update, texts.MANAGER_MEDIA_NOT_SENT)
            return f"media not sent (conversation {conversation.pk})"
        text = (message.get("text") or "").strip()
        if not text:
            return "ignored: no text (service message)"
        key = f"tg{update.chat_id}:{update.message_id}"
        note = NOTE_PREFIX.match(text)
        if note:
            body = text[note.end():].strip()
            if not body:
                reply_to(update, texts.MANAGER_NOTE_EMPTY)
                return "empty note ignored"
            saved, created = conversation_note_add(actor=actor, conversation=conversation, text=body, idempotency_key=key)
            return f"note {saved.pk} recorded{'' if created else ' (already)'}: not sent to the customer"
        before = conversation.state
        was_waiting = _escalations(conversation, EscalationStatus.OPEN)
        try:
            outbound = manager_reply_send(actor=actor, conversation=conversation, text=text, idempotency_key=key)
        except ApplicationError as exc:
            reply_to(update, texts.MANAGER_REPLY_REFUSED.format(message=exc.message))
            return f"refused: {exc.message}"
        if before != ConversationState.HUMAN or was_waiting:
            conversation.refresh_from_db(fields=["state"])
            card = escalation_card_message_id(conversation, chat_id=update.chat_id)
            if card is not None:
                card_refresh(conversation=conversation, chat_id=update.chat_id, message_id=card,
                             status_line=status_line("taken", who=sender.label, conversation=conversation, by_reply=True))
        return f"sent to the customer as outbound {outbound.pk} (conversation {conversation.pk})"
