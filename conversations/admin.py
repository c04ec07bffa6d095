"""Admin for the reply pipeline: thin, tenant-scoped, actions call services.

Phone numbers are shown masked; the full number appears only on a conversation's page, and
only to superusers and admins of its tenant.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from conversations import selectors
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationNote,
    DeadLetter,
    Escalation,
    InboundMessage,
    MessageTrace,
    OutboundMessage,
    SandboxMessage,
    Turn,
)
from conversations.services import (
    conversation_close,
    conversation_return_to_bot,
    conversation_take_over,
    dead_letter_resolve,
    outbound_retry,
)
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedAdmin
from tenants.choices import MembershipRole
from tenants.scoping import tenant_ids_for


def _can_see_phone(request: HttpRequest, tenant_id: int) -> bool:
    ids = tenant_ids_for(request.user, (MembershipRole.ADMIN,))
    return ids is None or tenant_id in ids


def _conversation_link(conversation_id: int | None, label: Any = None) -> str:
    if conversation_id is None:
        return "-"
    url = reverse("admin:conversations_conversation_change", args=[conversation_id])
    return format_html('<a href="{}">{}</a>', url, label or f"#{conversation_id}")


def _run_for_each(modeladmin: admin.ModelAdmin, request: HttpRequest, objects: Any, service: Any, done: str) -> None:
    actor = Actor.from_user(request.user)
    count = 0
    for obj in objects:
        try:
            service(actor=actor, **obj)
            count += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}.", messages.SUCCESS)


class _ConversationActions:
    """Take over / return to bot / close, for conversations or for the rows that point at one."""

    def _conversations(self, queryset: QuerySet) -> list[Conversation]:
        if queryset.model is Conversation:
            return list(queryset.select_related("tenant"))
        return list(Conversation.objects.filter(pk__in=queryset.values("conversation_id")).select_related("tenant"))

    @admin.action(description="Take over (bot goes silent)", permissions=["change"])
    def take_over(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_for_each(self, request, [{"conversation": c} for c in self._conversations(queryset)], conversation_take_over, "Taken over")

    @admin.action(description="Return to bot", permissions=["change"])
    def return_to_bot(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_for_each(self, request, [{"conversation": c} for c in self._conversations(queryset)], conversation_return_to_bot,
                      "Returned to bot")

    @admin.action(description="Close conversation", permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_for_each(self, request, [{"conversation": c} for c in self._conversations(queryset)], conversation_close, "Closed")


@admin.register(Conversation)
class ConversationAdmin(_ConversationActions, TenantScopedAdmin):
    change_form_template = "admin/conversations/conversation/change_form.html"
    allow_add = False
    list_display = ["id", "tenant", "customer_phone_masked", "customer_name", "state", "last_inbound_at", "reply_due_at"]
    list_filter = ["state", "tenant"]
    search_fields = ["customer_name", "customer_phone_masked"]
    list_select_related = ["tenant"]
    actions = ["take_over", "return_to_bot", "close"]
    date_hierarchy = "last_inbound_at"

    def get_fields(self, request: HttpRequest, obj: Conversation | None = None) -> list[str]:
        phone = "phone" if obj is not None and _can_see_phone(request, obj.tenant_id) else "customer_phone_masked"
        return ["tenant", phone, "customer_name", "state", "created_at", "last_inbound_at", "reply_due_at", "dispatched_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Conversation | None = None) -> list[str]:
        return self.get_fields(request, obj)

    @admin.display(description="phone")
    def phone(self, obj: Conversation) -> str:
        return obj.customer_phone

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["timeline"] = selectors.conversation_timeline(obj)
            extra_context["show_phone"] = _can_see_phone(request, obj.tenant_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Conversation, form: Any, change: bool) -> None:
        """All fields are read-only: state changes go through the actions (services, audited)."""


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["received_at", "tenant", "conversation_link", "message_type", "short_text", "turn_id", "provider_message_id"]
    list_filter = ["message_type", "tenant"]
    search_fields = ["provider_message_id", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "received_at"
    exclude = ["payload"]
    readonly_fields = ["payload_pretty"]

    @admin.display(description="conversation")
    def conversation_link(self, obj: InboundMessage) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description="text")
    def short_text(self, obj: InboundMessage) -> str:
        return obj.text[:80]

    @admin.display(description="payload (phone masked)")
    def payload_pretty(self, obj: InboundMessage) -> str:
        import json

        return format_html("<pre>{}</pre>", json.dumps(obj.payload, ensure_ascii=False, indent=2))


@admin.register(DeadLetter)
class DeadLetterAdmin(TenantScopedAdmin):
    allow_add = False
    list_display = ["received_at", "tenant", "status", "short_error", "webhook_id", "correlation_id"]
    list_filter = ["status", "tenant"]
    search_fields = ["error", "webhook_id", "correlation_id"]
    list_select_related = ["tenant"]
    actions = ["resolve"]
    date_hierarchy = "received_at"

    def get_readonly_fields(self, request: HttpRequest, obj: DeadLetter | None = None) -> list[str]:
        return [f.name for f in DeadLetter._meta.fields]

    def save_model(self, request: HttpRequest, obj: DeadLetter, form: Any, change: bool) -> None:
        """Read-only; use the "Mark resolved" action."""

    @admin.display(description="error")
    def short_error(self, obj: DeadLetter) -> str:
        return obj.error[:120]

    @admin.action(description="Mark resolved", permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_for_each(self, request, [{"dead_letter": d} for d in queryset], dead_letter_resolve, "Resolved")


@admin.register(Turn)
class TurnAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "created_at", "tenant", "conversation_link", "status", "decision", "reason", "message_count", "runs",
                    "kb_version", "release"]
    list_filter = ["status", "decision", "reason", "tenant"]
    search_fields = ["correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"

    @admin.display(description="conversation")
    def conversation_link(self, obj: Turn) -> str:
        return _conversation_link(obj.conversation_id)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(TenantScopedAdmin):
    allow_add = False
    list_display = ["id", "created_at", "tenant", "conversation_link", "kind", "status", "attempts", "last_status_code", "sent_at",
                    "send_ms", "short_error"]
    list_filter = ["status", "kind", "tenant"]
    search_fields = ["idempotency_key", "provider_message_id", "correlation_id"]
    list_select_related = ["tenant"]
    actions = ["retry"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: OutboundMessage | None = None) -> list[str]:
        return [f.name for f in OutboundMessage._meta.fields]

    def save_model(self, request: HttpRequest, obj: OutboundMessage, form: Any, change: bool) -> None:
        """Read-only; use the "Retry delivery" action."""

    @admin.display(description="conversation")
    def conversation_link(self, obj: OutboundMessage) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description="last error")
    def short_error(self, obj: OutboundMessage) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry delivery (same idempotency key)", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_for_each(self, request, [{"outbound": o} for o in queryset.select_related("tenant")], outbound_retry, "Queued again")


def _missing_text(detail: dict[str, Any] | None) -> str:
    """What the knowledge lacked for an `unsupported_qualifier` hand-over (decision detail
    "missing"), in one line an operator can act on."""
    missing = (detail or {}).get("missing") or {}
    if not missing:
        return "-"
    parts = [f"«{missing.get('question', '')}»", f"nearest item: {missing.get('nearest_item') or 'none'}"]
    if missing.get("words"):
        parts.append(f"words it lacks: {', '.join(missing['words'])}")
    if missing.get("aspects"):
        parts.append(f"aspect it does not state: {', '.join(missing['aspects'])}")
    return "; ".join(parts)


@admin.register(MessageTrace)
class MessageTraceAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "conversation_link", "decision", "reason", "confidence", "wait_ms", "decide_ms", "send_ms",
                    "total_ms", "send_status", "kb_version", "release"]
    list_filter = ["decision", "reason", "send_status", "release", "kb_version", "tenant"]
    search_fields = ["correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: MessageTrace | None = None) -> list[str]:
        return [f.name for f in MessageTrace._meta.fields] + ["missing", "error_logs"]

    @admin.display(description="what the knowledge lacked")
    def missing(self, obj: MessageTrace) -> str:
        return _missing_text(obj.detail)

    @admin.display(description="conversation")
    def conversation_link(self, obj: MessageTrace) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description="error logs of this turn")
    def error_logs(self, obj: MessageTrace) -> str:
        rows = list(selectors.trace_error_logs(obj)[:20])
        if not rows:
            return "-"
        return format_html_join(
            mark_safe("<br>"), '<a href="{}">{}</a>', ((reverse("admin:incidents_errorlog_change", args=[e.pk]), str(e)) for e in rows)
        )


@admin.register(Escalation)
class EscalationAdmin(_ConversationActions, TenantScopedAdmin):
    allow_add = False
    list_display = ["id", "created_at", "tenant", "conversation_link", "reason", "status", "taken_by", "notified_at", "notify_attempts",
                    "reminders_sent", "holding_followup_at"]
    list_filter = ["status", "reason", "tenant"]
    list_select_related = ["tenant"]
    actions = ["take_over", "return_to_bot", "close"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Escalation | None = None) -> list[str]:
        return [f.name for f in Escalation._meta.fields] + ["missing"]

    @admin.display(description="what the knowledge lacked")
    def missing(self, obj: Escalation) -> str:
        return _missing_text(obj.detail)

    def save_model(self, request: HttpRequest, obj: Escalation, form: Any, change: bool) -> None:
        """Read-only; state changes go through the actions."""

    @admin.display(description="conversation")
    def conversation_link(self, obj: Escalation) -> str:
        return _conversation_link(obj.conversation_id)


@admin.register(ConversationEvent)
class ConversationEventAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "conversation_id", "from_state", "to_state", "source", "actor_label", "note"]
    list_filter = ["source", "to_state", "tenant"]
    list_select_related = ["tenant"]


@admin.register(ConversationNote)
class ConversationNoteAdmin(ReadOnlyTenantScopedAdmin):
    """Managers' internal notes (Telegram `note: …`); never sent to the customer."""

    list_display = ["created_at", "tenant", "conversation_link", "actor_label", "source", "short_text"]
    list_filter = ["source", "tenant"]
    search_fields = ["text", "actor_label"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"

    @admin.display(description="conversation")
    def conversation_link(self, obj: ConversationNote) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description="note")
    def short_text(self, obj: ConversationNote) -> str:
        return obj.text[:100]


@admin.register(SandboxMessage)
class SandboxMessageAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "to_masked", "short_text", "repeats", "idempotency_key"]
    list_filter = ["tenant"]
    search_fields = ["idempotency_key", "text"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"

    @admin.display(description="text")
    def short_text(self, obj: SandboxMessage) -> str:
        return obj.text[:100]
