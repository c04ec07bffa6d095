"""Admin for the Telegram control plane.

Updates, dead letters, presses and the allow-list belong to no tenant (updates come from the CEO
chat and every tenant's group; the allow-list grants company-wide commands), so tenant scoping
cannot apply: they are visible to superusers only. Conversation topics and manager notices are
tenant rows: read-only and tenant-scoped like the pipeline's records.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from imperium.core.actors import Actor
from imperium.telegram.allowlist import allowed_user_delete, allowed_user_save
from imperium.telegram.models import (
    ConversationNotice,
    ConversationTopic,
    TelegramAllowedUser,
    TelegramCallbackPress,
    TelegramDeadLetter,
    TelegramUpdate,
)
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin


class SuperuserOnlyAdmin(admin.ModelAdmin):
    read_only = False

    def _superuser(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.read_only and self._superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.read_only and self._superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.read_only and self._superuser(request)


@admin.register(TelegramAllowedUser)
class TelegramAllowedUserAdmin(SuperuserOnlyAdmin):
    list_display = ["telegram_user_id", "label", "role", "is_active", "updated_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["telegram_user_id", "label"]
    fields = ["telegram_user_id", "label", "role", "is_active"]

    def save_model(self, request: HttpRequest, obj: TelegramAllowedUser, form: Any, change: bool) -> None:
        allowed_user_save(actor=Actor.from_user(request.user), entry=obj, created=not change,
                          changed=list(getattr(form, "changed_data", [])))

    def delete_model(self, request: HttpRequest, obj: TelegramAllowedUser) -> None:
        allowed_user_delete(actor=Actor.from_user(request.user), entry=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            allowed_user_delete(actor=Actor.from_user(request.user), entry=obj)


@admin.register(TelegramUpdate)
class TelegramUpdateAdmin(SuperuserOnlyAdmin):
    read_only = True
    list_display = ["update_id", "kind", "status", "received_at", "attempts", "chat_id", "from_user_id", "handler", "outcome"]
    list_filter = ["status", "kind", "handler"]
    search_fields = ["=update_id", "=chat_id", "=from_user_id", "outcome", "error", "correlation_id"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in TelegramUpdate._meta.fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TelegramDeadLetter)
class TelegramDeadLetterAdmin(SuperuserOnlyAdmin):
    read_only = True
    list_display = ["created_at", "source", "reason", "correlation_id"]
    list_filter = ["source"]
    search_fields = ["reason", "body", "correlation_id"]
    readonly_fields = [f.name for f in TelegramDeadLetter._meta.fields]


@admin.register(TelegramCallbackPress)
class TelegramCallbackPressAdmin(SuperuserOnlyAdmin):
    read_only = True
    list_display = ["created_at", "data", "from_label", "chat_id", "status", "answer_text"]
    list_filter = ["status", "action"]
    search_fields = ["data", "from_label", "=callback_query_id"]
    readonly_fields = [f.name for f in TelegramCallbackPress._meta.fields]


def _conversation_link(conversation_id: int) -> str:
    url = reverse("admin:conversations_conversation_change", args=[conversation_id])
    return format_html('<a href="{}">#{}</a>', url, conversation_id)


@admin.register(ConversationTopic)
class ConversationTopicAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "tenant", "conversation_link", "chat_id", "thread_id", "name", "status", "attempts", "last_error"]
    list_filter = ["status", "tenant"]
    search_fields = ["=chat_id", "=thread_id", "name"]
    list_select_related = ["tenant"]

    @admin.display(description="conversation")
    def conversation_link(self, obj: ConversationTopic) -> str:
        return _conversation_link(obj.conversation_id)


@admin.register(ConversationNotice)
class ConversationNoticeAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "created_at", "tenant", "conversation_link", "kind", "status", "chat_id", "topic_id", "alert_status",
                    "attempts", "last_error"]
    list_filter = ["kind", "status", "tenant"]
    search_fields = ["key", "=chat_id"]
    list_select_related = ["tenant", "alert"]
    date_hierarchy = "created_at"

    @admin.display(description="conversation")
    def conversation_link(self, obj: ConversationNotice) -> str:
        return _conversation_link(obj.conversation_id)

    @admin.display(description="delivery")
    def alert_status(self, obj: ConversationNotice) -> str:
        if obj.alert is None:
            return "-"
        url = reverse("admin:incidents_alert_change", args=[obj.alert_id])
        return format_html('<a href="{}">{}</a>', url, obj.alert.status)
