"""Incidents in Telegram: `/incident <id>` (the RCA summary) and the «Принял» button under
incident alerts (`incident.ack:<id>`). `/status <tenant>` lists open incidents through its own
built-in section (imperium.telegram.status)."""

from __future__ import annotations

import logging

from django.utils import timezone

from imperium.core.botapi.client import TelegramError, get_client
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import policy_execute
from imperium.telegram import texts as telegram_texts
from imperium.telegram.callbacks import ButtonPress, CallbackAction, CallbackAnswer, register_callback_action
from imperium.telegram.commands import CommandContext, register_command_backend
from incidents import texts
from incidents.choices import EventSource, IncidentStatus
from incidents.rca import rca_bundle, rca_summary_text
from incidents.selectors import incident_get
from incidents.services import INCIDENT_ACK_ACTION

logger = logging.getLogger(__name__)


def incident_show_backend(ctx: CommandContext, incident_id: int) -> str:
    """`/incident <id>`: allow-listed users see every incident (the CEO chat is company-wide)."""
    incident = incident_get(incident_id=incident_id)
    if incident is None:
        return texts.INCIDENT_NOT_FOUND
    return rca_summary_text(rca_bundle(incident))


register_command_backend("incident.show", incident_show_backend)


@register_callback_action
class IncidentAcknowledgeAction(CallbackAction):
    """Allow-listed users take an incident; the alert shows who, its button goes."""

    action = INCIDENT_ACK_ACTION

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        if len(press.args) != 1 or not press.args[0].isdigit():
            return CallbackAnswer(telegram_texts.CALLBACK_STALE)
        incident_id = int(press.args[0])
        try:
            outcome = policy_execute("incident.acknowledge", press.actor, {"incident_id": incident_id, "source": EventSource.TELEGRAM},
                                     reason="Telegram button")
        except ApplicationError:
            return CallbackAnswer(texts.INCIDENT_NOT_FOUND)
        result = outcome.result or {}
        if not result.get("changed"):
            if result.get("status") == IncidentStatus.RESOLVED:
                return CallbackAnswer(texts.INCIDENT_ALREADY_RESOLVED.format(id=incident_id))
            return CallbackAnswer(texts.INCIDENT_ALREADY_ACKNOWLEDGED.format(id=incident_id, who=result.get("acknowledged_by", "")))
        if press.chat_id is not None and press.message_id is not None:
            marked = telegram_texts.render("alert_acknowledged", who=press.user.label, at=timezone.localtime())
            try:
                get_client().edit_message_text(chat_id=press.chat_id, message_id=press.message_id,
                                               text=f"{press.message_text}\n\n{marked}".strip())
            except TelegramError as exc:  # the acknowledgement is stored; the button left behind is cosmetic
                logger.warning("could not mark incident %s message as acknowledged: %s", incident_id, exc)
        return CallbackAnswer(texts.INCIDENT_ACKNOWLEDGED.format(id=incident_id))
