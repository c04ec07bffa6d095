"""Admin for the reply pipeline: thin, tenant-scoped, actions call services.

Phone numbers are shown masked; the full number appears only on a conversation's page, and
only to superusers and admins of its tenant.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from conversations import selectors
from conversations.admin_chat import conversation_chat, notice_warning
from conversations.admin_readable import detail_text, raw_json, trace_summary
from conversations.choices import ConversationState, EscalationStatus
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
    WrongAnswerMark,
)
from conversations.services import (
    conversation_close,
    conversation_return_to_bot,
    conversation_take_over,
    dead_letter_resolve,
    manager_reply_send,
    outbound_retry,
)
from conversations.services.handover import manager_idempotency_key
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import policy_execute
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


_MOVES = {
    # url name part: (policy action, message when it changed something, message when it did not)
    "take": ("conversation.take_over", _("You took the conversation: the bot is silent until you return it."),
             _("The conversation is already held by a manager.")),
    "return": ("conversation.return_to_bot", _("The conversation is back with the bot."), _("The bot already answers here.")),
    "close": ("conversation.close", _("The conversation is closed."), _("The conversation is already closed.")),
}


def _already(conversation: Conversation, move: str) -> bool:
    """Is the conversation already where this button would put it? (the Telegram buttons' `already`)"""
    open_ = selectors.conversation_has_escalations(conversation, EscalationStatus.OPEN)
    if move == "take":
        return conversation.state == ConversationState.HUMAN and not open_
    target = ConversationState.BOT if move == "return" else ConversationState.CLOSED
    return conversation.state == target and not selectors.conversation_has_escalations(
        conversation, EscalationStatus.OPEN, EscalationStatus.TAKEN)


@admin.register(Conversation)
class ConversationAdmin(_ConversationActions, TenantScopedAdmin):
    """The conversation page is a chat (admin_chat): bubbles, a reply box that sends through the
    same exactly-once path as a manager's Telegram reply (`manager_reply_send`, keyed by a token
    rendered into the form, so a double submit sends once), and Take / Return to bot / Close
    through the write-risk policy exactly like the Telegram buttons (same services, same audit)."""

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

    @admin.display(description=_("phone"))
    def phone(self, obj: Conversation) -> str:
        return obj.customer_phone

    def get_urls(self) -> list[Any]:
        urls = [
            path("<path:object_id>/reply/", self.admin_site.admin_view(self.reply_view), name="conversations_conversation_reply"),
            path("<path:object_id>/wrong/<int:turn_id>/", self.admin_site.admin_view(self.wrong_view),
                 name="conversations_conversation_wrong"),
        ] + [
            path(f"<path:object_id>/{move}/", self.admin_site.admin_view(partial(self.move_view, move=move)),
                 name=f"conversations_conversation_{move}")
            for move in _MOVES
        ]
        return urls + super().get_urls()

    def _acting_on(self, request: HttpRequest, object_id: str) -> Conversation:
        if request.method != "POST":
            raise PermissionDenied
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def _back(self, obj: Conversation) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:conversations_conversation_change", args=[obj.pk]))

    def reply_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        conversation = self._acting_on(request, object_id)
        key = request.POST.get("reply_key", "")
        if not key:
            self.message_user(request, _("The form is outdated: reload the page and send again."), messages.ERROR)
            return self._back(conversation)
        sent_before = OutboundMessage.objects.for_tenant(conversation.tenant_id).filter(
            idempotency_key=manager_idempotency_key(conversation.tenant_id, f"admin:{key}")).exists()
        try:
            outbound = manager_reply_send(actor=Actor.from_user(request.user), conversation=conversation,
                                          text=request.POST.get("text", ""), idempotency_key=f"admin:{key}")
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(conversation)
        if sent_before:
            self.message_user(request, _("This reply was already sent (message #%(id)s); it was not sent again.") % {"id": outbound.pk},
                              messages.WARNING)
        else:
            self.message_user(request, _("Sent to the customer on WhatsApp. The bot is silent until you return the conversation."),
                              messages.SUCCESS)
        return self._back(conversation)

    def wrong_view(self, request: HttpRequest, object_id: str, turn_id: int) -> HttpResponse:
        """«❌ Бот ответил неверно» on a bot bubble: the policy action the Telegram button runs
        (services.feedback.turn_mark_wrong: incident with the trace, hand-over, pause on the second mark)."""
        conversation = self._acting_on(request, object_id)
        turn = Turn.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation, pk=turn_id).first()
        if turn is None:
            raise Http404
        try:
            outcome = policy_execute("conversation.mark_wrong_answer", Actor.from_user(request.user),
                                     {"tenant": conversation.tenant.slug, "turn_id": turn.pk},
                                     tenant=conversation.tenant, reason="admin conversation page")
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(conversation)
        result = outcome.result or {}
        if not outcome.executed:
            self.message_user(request, outcome.error or _("The action is waiting for verification."), messages.WARNING)
        elif not result.get("created"):
            self.message_user(request, _("This answer was already marked wrong."), messages.INFO)
        else:
            self.message_user(request, _("Marked as a wrong answer: incident #%(id)s opened, the conversation is handed to a manager.")
                              % {"id": result.get("incident_id")}, messages.SUCCESS)
            if result.get("paused_items"):
                self.message_user(request, _("Paused after a second mark within a week: %(items)s. The bot hands these questions to a "
                                             "manager until an operator edits or un-pauses the item.")
                                  % {"items": ", ".join(result["paused_items"])}, messages.WARNING)
        return self._back(conversation)

    def move_view(self, request: HttpRequest, object_id: str, move: str) -> HttpResponse:
        conversation = self._acting_on(request, object_id)
        action, done, already = _MOVES[move]
        if _already(conversation, move):
            # The Telegram buttons' rule: a press that would change nothing runs nothing (no policy, no audit).
            self.message_user(request, already, messages.INFO)
            return self._back(conversation)
        escalation_before = selectors.conversation_latest_escalation(conversation)
        try:
            outcome = policy_execute(action, Actor.from_user(request.user),
                                     {"tenant": conversation.tenant.slug, "conversation_id": conversation.pk},
                                     tenant=conversation.tenant, reason="admin conversation page")
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(conversation)
        result = outcome.result or {}
        escalation_changed = escalation_before is not None and escalation_before.status != result.get("escalation_status")
        if result.get("changed") or escalation_changed:
            self.message_user(request, done, messages.SUCCESS)
        else:
            self.message_user(request, already, messages.INFO)
        return self._back(conversation)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context.update(
                chat=conversation_chat(obj),
                notice_warning=notice_warning(obj),
                show_phone=_can_see_phone(request, obj.tenant_id),
                can_act=self.has_change_permission(request, obj),
                reply_key=uuid.uuid4().hex,
                state_label=obj.get_state_display(),
                # Every field is read-only: the page has no Save buttons, only the chat's own.
                show_save=False, show_save_and_continue=False, show_save_and_add_another=False, show_delete=False, show_close=False,
                subtitle=f"{obj.tenant.name} · {obj.customer_phone_masked}",
                title=_("Conversation with %(who)s") % {"who": obj.customer_name or obj.customer_phone_masked},
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Conversation, form: Any, change: bool) -> None:
        """All fields are read-only: state changes go through the buttons (services, audited)."""


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


def _mark_wrong(modeladmin: admin.ModelAdmin, request: HttpRequest, turns: Any) -> None:
    """«❌ Бот ответил неверно» from admin: the same policy action as the Telegram button."""
    from imperium.core.policy import policy_execute

    actor = Actor.from_user(request.user)
    for turn in turns:
        try:
            outcome = policy_execute("conversation.mark_wrong_answer", actor, {"tenant": turn.tenant.slug, "turn_id": turn.pk},
                                     tenant=turn.tenant, reason="admin")
        except ApplicationError as exc:
            modeladmin.message_user(request, f"turn {turn.pk}: {exc.message}", messages.ERROR)
            continue
        result = outcome.result or {}
        paused = f"; paused: {', '.join(result['paused_items'])}" if result.get("paused_items") else ""
        done = f"marked wrong, incident #{result.get('incident_id')}" if result.get("created") else "already marked"
        modeladmin.message_user(request, f"turn {turn.pk}: {done}{paused}.")


@admin.register(Turn)
class TurnAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "created_at", "tenant", "conversation_link", "status", "decision", "reason", "message_count", "runs",
                    "kb_version", "release"]
    actions = ["mark_wrong_answer"]

    @admin.action(description="❌ Бот ответил неверно (quality incident, hand-over, pause on the 2nd mark)")
    def mark_wrong_answer(self, request: HttpRequest, queryset: QuerySet) -> None:
        _mark_wrong(self, request, queryset.editable_by(request.user).select_related("tenant"))
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


# What a question asks and the answering item must state (knowledge.lexicon.ASPECT_CUES), as an operator reads it.
ASPECT_LABELS = {
    "price": _("a price"), "hours": _("opening hours"), "duration": _("how long it takes"), "days": _("which days"),
    "address": _("an address"), "age": _("an age"), "phone": _("a phone number"), "person": _("who does it (a person)"),
    "place": _("where it takes place"), "lead": _("how far ahead to order or book"),
    "signup": _("how to book (a channel to book through)"),
}


def _missing_text(detail: dict[str, Any] | None) -> str:
    """What the knowledge lacked for an `unsupported_qualifier` hand-over (decision detail
    "missing"), in one line an operator can act on."""
    missing = (detail or {}).get("missing") or {}
    if not missing:
        return "-"
    parts = [f"«{missing.get('question', '')}»", _("nearest item: %(item)s") % {"item": missing.get("nearest_item") or _("none")}]
    if missing.get("words"):
        parts.append(_("words it lacks: %(words)s") % {"words": ", ".join(missing["words"])})
    if missing.get("aspects"):
        aspects = ", ".join(str(ASPECT_LABELS.get(a, a)) for a in missing["aspects"])
        parts.append(_("aspect it does not state: %(aspects)s") % {"aspects": aspects})
    return "; ".join(parts)


@admin.register(MessageTrace)
class MessageTraceAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "conversation_link", "decision", "reason", "confidence", "wait_ms", "decide_ms", "send_ms",
                    "total_ms", "send_status", "kb_version", "release"]
    actions = ["mark_wrong_answer"]

    @admin.action(description="❌ Бот ответил неверно (quality incident, hand-over, pause on the 2nd mark)")
    def mark_wrong_answer(self, request: HttpRequest, queryset: QuerySet) -> None:
        turn_ids = list(queryset.editable_by(request.user).values_list("turn_id", flat=True))
        _mark_wrong(self, request, Turn.objects.filter(pk__in=turn_ids).select_related("tenant"))
    list_filter = ["decision", "reason", "send_status", "release", "kb_version", "tenant"]
    search_fields = ["correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: MessageTrace | None = None) -> list[str]:
        return [f.name for f in MessageTrace._meta.fields] + ["missing", "error_logs", "readable", "readable_detail", "conversation_link"]

    @admin.display(description=_("what the knowledge lacked"))
    def missing(self, obj: MessageTrace) -> str:
        return _missing_text(obj.detail)

    def get_fieldsets(self, request: HttpRequest, obj: MessageTrace | None = None) -> list[Any]:
        return [
            (None, {"fields": ["conversation_link", "created_at", "readable", "missing", "readable_detail", "error_logs"]}),
            (_("Technical data"), {"classes": ["collapse"], "fields": [f.name for f in MessageTrace._meta.fields]}),
        ]

    @admin.display(description=_("conversation"))
    def conversation_link(self, obj: MessageTrace) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description=_("what the bot decided"))
    def readable(self, obj: MessageTrace) -> str:
        return trace_summary(obj)

    @admin.display(description=_("details"))
    def readable_detail(self, obj: MessageTrace) -> str:
        return format_html("{}{}", detail_text(obj.detail), raw_json({"scores": obj.scores, "gate": obj.gate, "detail": obj.detail}))

    @admin.display(description=_("error logs of this turn"))
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
        return [f.name for f in Escalation._meta.fields] + ["missing", "readable_detail", "conversation_link", "managers_notice"]

    def get_fieldsets(self, request: HttpRequest, obj: Escalation | None = None) -> list[Any]:
        return [
            (None, {"fields": ["conversation_link", "reason", "status", "created_at", "taken_by", "managers_notice", "missing",
                               "readable_detail"]}),
            (_("Technical data"), {"classes": ["collapse"], "fields": [f.name for f in Escalation._meta.fields]}),
        ]

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("what the knowledge lacked"))
    def missing(self, obj: Escalation) -> str:
        return _missing_text(obj.detail)

    def save_model(self, request: HttpRequest, obj: Escalation, form: Any, change: bool) -> None:
        """Read-only; state changes go through the actions."""

    @admin.display(description=_("conversation"))
    def conversation_link(self, obj: Escalation) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description=_("managers' notice"))
    def managers_notice(self, obj: Escalation) -> str:
        from conversations.admin_chat import notice_line

        return notice_line(obj)

    @admin.display(description=_("details"))
    def readable_detail(self, obj: Escalation) -> str:
        return format_html("{}{}", detail_text(obj.detail), raw_json(obj.detail))


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


@admin.register(WrongAnswerMark)
class WrongAnswerMarkAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "conversation_link", "turn_id", "sources", "kb_version", "actor_label", "source",
                    "incident_id", "paused_items"]
    list_filter = ["tenant", "source"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"

    @admin.display(description="conversation")
    def conversation_link(self, obj: WrongAnswerMark) -> str:
        return _conversation_link(obj.conversation_id)
