"""What the write-risk policy runs for conversation actions (all low risk: IMPERIUM_DECISIONS.yaml).

Entry points (Telegram buttons, admin) call
`policy_execute("conversation.take_over", actor, {"tenant": slug, "conversation_id": id}, tenant=client)`;
the policy runs the executor in a transaction and audits `policy.executed`, the service audits
the state change itself. Every executor is idempotent like its service and answers what it did.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from conversations.models import Conversation
from conversations.selectors import conversation_latest_escalation
from conversations.services import conversation_close, conversation_return_to_bot, conversation_take_over, manager_reply_send
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import register_action
from tenants.models import Client
from tenants.selectors import client_or_every


def _conversation(tenant: str, conversation_id: int) -> Conversation:
    client = Client.objects.filter(slug=tenant).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": tenant}, status=404)
    conversation = Conversation.objects.for_tenant(client).select_related("tenant__settings").filter(pk=int(conversation_id)).first()
    if conversation is None:
        raise ApplicationError(_("%(tenant)s has no conversation %(id)s.") % {"tenant": client.slug, "id": conversation_id}, status=404)
    return conversation


def _result(conversation: Conversation, before: str) -> dict[str, Any]:
    escalation = conversation_latest_escalation(conversation)
    return {
        "conversation_id": conversation.pk, "from_state": before, "state": conversation.state, "changed": before != conversation.state,
        "escalation_status": escalation.status if escalation else None,
    }


def _moved(service: Any, actor: Actor, tenant: str, conversation_id: int) -> dict[str, Any]:
    """Run a state-changing hand-over service on the conversation and report the change."""
    conversation = _conversation(tenant, conversation_id)
    before = conversation.state
    return _result(service(actor=actor, conversation=conversation), before)


@register_action("conversation.take_over", summary="Take over conversation {conversation_id} of {tenant}")
def take_over(*, actor: Actor, tenant: str, conversation_id: int) -> dict[str, Any]:
    return _moved(conversation_take_over, actor, tenant, conversation_id)


@register_action("conversation.return_to_bot", summary="Return conversation {conversation_id} of {tenant} to the bot")
def return_to_bot(*, actor: Actor, tenant: str, conversation_id: int) -> dict[str, Any]:
    return _moved(conversation_return_to_bot, actor, tenant, conversation_id)


@register_action("conversation.close", summary="Close conversation {conversation_id} of {tenant}")
def close(*, actor: Actor, tenant: str, conversation_id: int) -> dict[str, Any]:
    return _moved(conversation_close, actor, tenant, conversation_id)


@register_action("conversation.manager_reply", summary="Send a manager's reply in conversation {conversation_id} of {tenant}")
def manager_reply(*, actor: Actor, tenant: str, conversation_id: int, text: str, idempotency_key: str) -> dict[str, Any]:
    outbound = manager_reply_send(actor=actor, conversation=_conversation(tenant, conversation_id), text=text,
                                  idempotency_key=idempotency_key)
    return {"outbound_id": outbound.pk, "status": outbound.status}


# --- the fixer's remediations (incidents.fixer runs them by name; low risk) --------------------
@register_action("fixer.requeue_turns", summary="Re-enqueue the stuck turns of {tenant}")
def fixer_requeue_turns(*, actor: Actor, tenant: str) -> dict[str, Any]:
    from conversations.services.recovery import turns_requeue_stuck

    return {"tenant": tenant, **turns_requeue_stuck(tenant=client_or_every(tenant)).as_dict()}


@register_action("fixer.resend_failed_deliveries", summary="Resend the failed deliveries of {tenant} (same idempotency keys)")
def fixer_resend_failed_deliveries(*, actor: Actor, tenant: str) -> dict[str, Any]:
    from conversations.services.recovery import deliveries_resend_failed

    client = client_or_every(tenant)
    if client is None:
        raise ApplicationError(_("fixer.resend_failed_deliveries needs one tenant."))
    return {"tenant": tenant, **deliveries_resend_failed(actor=actor, tenant=client).as_dict()}
