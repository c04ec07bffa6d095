"""The «Принял» button under alerts in the CEO chat (callback data `alert.ack:<alert id>`)."""

from __future__ import annotations

import logging

from django.utils import timezone

from imperium.core.botapi.client import TelegramError, get_client
from imperium.telegram import texts
from imperium.telegram.callbacks import ButtonPress, CallbackAction, CallbackAnswer, register_callback_action
from incidents.alerts import ACK_ACTION, alert_acknowledge
from incidents.models import Alert

logger = logging.getLogger(__name__)


@register_callback_action
class AlertAcknowledgeAction(CallbackAction):
    """Allow-listed users mark an alert as taken; the message shows who, the button goes."""

    action = ACK_ACTION

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        if len(press.args) != 1 or not press.args[0].isdigit():
            return CallbackAnswer(texts.CALLBACK_STALE)
        try:
            alert, changed = alert_acknowledge(alert_id=int(press.args[0]), actor=press.actor)
        except Alert.DoesNotExist:
            return CallbackAnswer(texts.ALERT_NOT_FOUND)
        if not changed:
            return CallbackAnswer(texts.ALERT_ALREADY_ACKNOWLEDGED.format(who=alert.acknowledged_by))
        if press.chat_id is not None and press.message_id is not None:
            marked = texts.render("alert_acknowledged", who=press.user.label, at=timezone.localtime(alert.acknowledged_at))
            try:
                get_client().edit_message_text(
                    chat_id=press.chat_id, message_id=press.message_id, text=f"{press.message_text}\n\n{marked}".strip()
                )
            except TelegramError as exc:
                # The acknowledgement is stored; a message that keeps its button is cosmetic.
                logger.warning("could not mark alert %s message as acknowledged: %s", alert.pk, exc)
        return CallbackAnswer(texts.ALERT_ACKNOWLEDGED)
