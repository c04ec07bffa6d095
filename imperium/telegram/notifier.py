"""The pipeline's notifier for Telegram (CONVERSATION_NOTIFIER, the default): escalation cards,
customer messages while a manager holds the conversation, SLA reminders — in the tenant's
managers' chat. Every method only writes a `ConversationNotice` (idempotent by its key) and
returns; delivery happens in tasks (`imperium.telegram.notices`)."""

from __future__ import annotations

from typing import Any

from conversations.notifier import NoticeDelivery
from imperium.telegram.choices import NoticeKind
from imperium.telegram.notices import notice_write
from imperium.telegram.selectors import escalation_notices
from incidents.choices import AlertStatus


class TelegramNotifier:
    def escalation_opened(self, escalation: Any) -> None:
        notice_write(conversation=escalation.conversation, kind=NoticeKind.ESCALATION, key=f"esc:{escalation.pk}",
                     escalation=escalation, with_buttons=True)

    def customer_message_while_human(self, inbound_message: Any) -> None:
        notice_write(conversation=inbound_message.conversation, kind=NoticeKind.CUSTOMER_MESSAGE, key=f"msg:{inbound_message.pk}",
                     inbound_message=inbound_message)

    def escalation_reminder(self, escalation: Any, *, number: int, waited_minutes: int) -> None:
        notice_write(conversation=escalation.conversation, kind=NoticeKind.REMINDER, key=f"rem:{escalation.pk}:{number}",
                     escalation=escalation, with_buttons=True, context={"number": number, "waited_minutes": waited_minutes})

    def knowledge_suggestion(self, suggestion: Any) -> None:
        from imperium.telegram.handlers.knowledge import suggestion_card_send

        suggestion_card_send(suggestion)

    def bot_answered(self, turn: Any) -> None:
        notice_write(conversation=turn.conversation, kind=NoticeKind.BOT_ANSWER, key=f"ans:{turn.pk}", with_buttons=True,
                     context={"turn": turn.pk})

    def escalation_deliveries(self, escalations: list[Any]) -> dict[int, NoticeDelivery]:
        """Delivered only when the escalation card's Telegram message was sent; otherwise why not."""
        notices = escalation_notices(escalations=escalations)
        result = {}
        for escalation in escalations:
            notice = notices.get(escalation.pk)
            alert = notice.alert if notice is not None else None
            if alert is not None and alert.status == AlertStatus.SENT:
                result[escalation.pk] = NoticeDelivery(delivered=True, channel="Telegram", at=alert.sent_at)
            elif alert is not None and alert.status == AlertStatus.FAILED:
                result[escalation.pk] = NoticeDelivery(delivered=False, channel="Telegram", error=alert.last_error or "failed")
            elif alert is not None:
                result[escalation.pk] = NoticeDelivery(delivered=False, pending=True, channel="Telegram", error=alert.last_error)
            elif notice is not None:
                result[escalation.pk] = NoticeDelivery(delivered=False, pending=True, channel="Telegram", error=notice.last_error)
            else:
                result[escalation.pk] = NoticeDelivery(delivered=False, pending=not escalation.last_notify_error, channel="Telegram",
                                                       error=escalation.last_notify_error)
        return result
