"""How managers hear about conversations: one pluggable interface.

The implementation is chosen by the `CONVERSATION_NOTIFIER` setting (a dotted path to a class
with no constructor arguments). The default is the Telegram notifier
(`imperium.telegram.notifier.TelegramNotifier`: the tenant's managers' chat, docs/TELEGRAM.md);
`LoggingNotifier` only logs (escalations and messages are visible in admin anyway).

Notifier methods are called from Celery tasks after the rows are committed — never on the
webhook request path — and may be called again for the same object when an earlier call failed
(at-least-once): implementations should tolerate a repeat. Raising marks the call failed;
the sweeper retries it later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from conversations.models import Escalation, InboundMessage

logger = logging.getLogger(__name__)


class ConversationNotifier(Protocol):
    def escalation_opened(self, escalation: Escalation) -> None:
        """A conversation was handed to a human (reason in `escalation.reason`). Tell the tenant's managers."""

    def customer_message_while_human(self, inbound_message: InboundMessage) -> None:
        """A customer wrote while a manager holds the conversation (the bot stays silent)."""

    def bot_answered(self, turn: Any) -> None:
        """The bot answered in a conversation managers dealt with before: show them the answer (with
        «❌ Бот ответил неверно»). Optional: notifiers without it skip."""

    def knowledge_suggestion(self, suggestion: Any) -> None:
        """A hand-over proposed a knowledge change (`knowledge.KnowledgeSuggestion`): show the
        managers the card to accept, correct or reject it. Optional: notifiers without it skip."""

    def escalation_reminder(self, escalation: Escalation, *, number: int, waited_minutes: int) -> None:
        """Nobody has taken the escalation within the tenant's SLA: remind the managers (the
        `number`-th reminder; `services.reminders` decides when and how many)."""


class LoggingNotifier:
    """Default: a log line per event. Open escalations are listed in admin."""

    def escalation_opened(self, escalation: Escalation) -> None:
        logger.warning(
            "escalation %s opened for conversation %s (%s): %s",
            escalation.pk, escalation.conversation_id, escalation.conversation.customer_phone_masked, escalation.reason,
        )

    def customer_message_while_human(self, inbound_message: InboundMessage) -> None:
        logger.info(
            "message %s in conversation %s held by a manager", inbound_message.pk, inbound_message.conversation_id
        )

    def escalation_reminder(self, escalation: Escalation, *, number: int, waited_minutes: int) -> None:
        logger.warning(
            "escalation %s (conversation %s) still not taken after %s min (reminder %s)",
            escalation.pk, escalation.conversation_id, waited_minutes, number,
        )

    def knowledge_suggestion(self, suggestion: Any) -> None:
        logger.info("knowledge suggestion %s proposed for tenant %s", suggestion.pk, suggestion.tenant_id)


@dataclass(frozen=True)
class NoticeDelivery:
    """Whether the managers really got the news of an escalation (not only that it was handed on)."""

    delivered: bool
    pending: bool = False
    channel: str = ""
    at: datetime | None = None
    error: str = ""


def escalation_deliveries(escalations: Iterable[Escalation]) -> dict[int, NoticeDelivery]:
    """{escalation id: NoticeDelivery}. A notifier that delivers through an outbox of its own
    (Telegram) answers from that outbox (`escalation_deliveries` on the notifier); one that only
    logs never delivered anything to a person; any other counts as delivered once it took the call."""
    escalations = list(escalations)
    notifier = get_notifier()
    own = getattr(notifier, "escalation_deliveries", None)
    if own is not None:
        return own(escalations)
    result = {}
    for escalation in escalations:
        if isinstance(notifier, LoggingNotifier):
            result[escalation.pk] = NoticeDelivery(delivered=False, error="only logged: no notifier sends to the managers")
        elif escalation.notified_at is not None:
            result[escalation.pk] = NoticeDelivery(delivered=True, at=escalation.notified_at)
        else:
            result[escalation.pk] = NoticeDelivery(delivered=False, pending=not escalation.last_notify_error,
                                                   error=escalation.last_notify_error)
    return result


def get_notifier() -> ConversationNotifier:
    return import_string(settings.CONVERSATION_NOTIFIER)()
