"""A new tenant's way to its first answered customer, read from the database (a selector).

The tenant page shows these steps after onboarding and ticks each one off by itself:
1. the webhook is set in ChatFlow — shown by the first signed message that arrived;
2. the managers' Telegram chat is connected — the tenant's settings name a chat;
3. the knowledge is uploaded — the tenant has a knowledge version (and which one it serves);
4. a test message was answered — a reply reached ChatFlow.
It lives with conversations because it reads the layers below (tenants, knowledge) and its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from conversations.choices import OutboundStatus
from conversations.models import InboundMessage, OutboundMessage
from knowledge.models import KnowledgeVersion
from knowledge.selectors import kb_version_stable
from tenants.models import Client, ClientSettings
from tenants.services import webhook_url_for


@dataclass(frozen=True)
class SetupStep:
    key: str
    title: str
    done: bool
    hint: str = ""  # what to do (or what was seen), in operator words
    value: str = ""  # something to copy, e.g. the webhook URL


def tenant_setup_steps(client: Client) -> list[SetupStep]:
    """The four setup steps of `client`, each done or not (three cheap EXISTS queries and two reads)."""
    settings = ClientSettings.objects.filter(client=client).first()
    has_inbound = InboundMessage.objects.for_tenant(client).exists()
    stable = kb_version_stable(client)
    has_version = stable is not None or KnowledgeVersion.objects.for_tenant(client).exists()
    answered = OutboundMessage.objects.for_tenant(client).filter(status=OutboundStatus.SENT).exists()
    chat = settings.telegram_chat_id if settings else None
    return [
        SetupStep("webhook", str(_("Set the webhook in ChatFlow")), has_inbound,
                  str(_("Messages arrive from ChatFlow.")) if has_inbound else
                  str(_("In ChatFlow, set this webhook URL and the secret shown when the tenant was created.")),
                  webhook_url_for(client)),
        SetupStep("telegram", str(_("Connect the managers' Telegram chat")), chat is not None,
                  str(_("Escalations go to chat %(chat)s.") % {"chat": chat}) if chat is not None else
                  str(_("Add the bot to the managers' group and enter the chat id in the settings below."))),
        SetupStep("knowledge", str(_("Upload the knowledge")), has_version,
                  (str(_("Customers are answered from version %(number)s.") % {"number": stable.number}) if stable else
                   str(_("A draft exists: ask for its promotion so customers are answered from it.")))
                  if has_version else str(_("Upload the price list and answers as a JSONL or Markdown file."))),
        SetupStep("test_message", str(_("Send a test message")), answered,
                  str(_("A reply reached WhatsApp.")) if answered else
                  str(_("Write to the salon's WhatsApp number and check that the bot answers."))),
    ]
