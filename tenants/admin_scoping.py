"""The one admin mixin that scopes every ModelAdmin to the operator's tenants.

Permissions come from tenant memberships, not Django model permissions: a superuser sees and
edits everything; a staff user with a membership sees their tenants' rows (any role) and
edits them with role operator or admin. Users without a membership see nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from tenants.scoping import ALL_ROLES, EDIT_ROLES, scope_queryset, tenant_ids_for, user_can_access


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A "By tenant" (or by any tenant-owned relation) filter listing only what the user may see:
    Django's default lists every row of the related table, i.e. every tenant's slug and id."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[Any, str]]:
        related = field.related_model
        if getattr(related, "tenant_scope_path", None) is None:
            return super().field_choices(field, request, model_admin)
        queryset = scope_queryset(related._default_manager.all(), request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


def scoped_list_filter(model: type[models.Model], entries: Any) -> list[Any]:
    """`entries` with every plain relation filter ("tenant", "conversation__tenant"…) replaced by
    (name, ScopedRelatedFieldListFilter)."""
    from django.contrib.admin.utils import get_fields_from_path

    scoped: list[Any] = []
    for entry in entries:
        if isinstance(entry, str):
            try:
                field = get_fields_from_path(model, entry)[-1]
            except Exception:  # not a plain field path (a callable or a custom filter): leave it
                field = None
            if field is not None and getattr(field, "is_relation", False) and getattr(field, "related_model", None) is not None:
                scoped.append((entry, ScopedRelatedFieldListFilter))
                continue
        scoped.append(entry)
    return scoped


class TenantScopedAdminMixin:
    # Append-only models (audit, traces, logs) set these to False.
    allow_add = True
    allow_change = True
    allow_delete = False
    # Creating a row that is not owned by an existing tenant (e.g. a new Client) is superuser-only.
    add_requires_superuser = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_queryset(super().get_queryset(request), request.user)  # type: ignore[misc]

    def get_search_results(self, request: HttpRequest, queryset: models.QuerySet, search_term: str) -> tuple[models.QuerySet, bool]:
        # `ck:<customer key>`: a phone search, hashed before it reached the URL
        # (conversations.middleware.PhoneSearchMiddleware).
        if search_term.startswith("ck:"):
            key = search_term[3:]
            names = {f.name for f in self.model._meta.get_fields()}  # type: ignore[attr-defined]
            if "customer_key" in names:
                return queryset.filter(customer_key=key), False
            if "conversation" in names:
                return queryset.filter(conversation__customer_key=key), False
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return scoped_list_filter(self.model, super().get_list_filter(request))  # type: ignore[misc]

    # --- permissions ----------------------------------------------------------------------
    def _staff(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def _has_role(self, request: HttpRequest, obj: Any, roles: tuple[str, ...]) -> bool:
        if not self._staff(request):
            return False
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(tenant_ids_for(request.user, roles))
        return user_can_access(request.user, obj, roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, None, ALL_ROLES)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._has_role(request, obj, ALL_ROLES)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_change and self._has_role(request, obj, EDIT_ROLES)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.allow_add:
            return False
        if self.add_requires_superuser:
            return self._staff(request) and request.user.is_superuser
        return self._has_role(request, None, EDIT_ROLES)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and self._has_role(request, obj, EDIT_ROLES)

    # --- form choices ---------------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if getattr(related, "tenant_scope_path", None) is not None and "queryset" not in kwargs:
            kwargs["queryset"] = scope_queryset(related._default_manager.all(), request.user, EDIT_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class TenantScopedAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyTenantScopedAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """For append-only records: viewable by the tenant's members, never edited in admin."""

    allow_add = False
    allow_change = False
    allow_delete = False
