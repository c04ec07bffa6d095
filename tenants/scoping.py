"""Tenant scoping: the one place that decides which tenants' rows a user may see or edit.

Every tenant-owned model declares `tenant_scope_path` (the ORM path from the model to
`tenants.Client`, e.g. "tenant", "client", "version__tenant"; "pk" for Client itself) and
uses `TenantScopedQuerySet`. Selectors and admin querysets call `visible_to(user)` or
`for_tenant(tenant)`; nothing reads tenant-owned rows any other way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models

from tenants.choices import MembershipRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

EDIT_ROLES = (MembershipRole.OPERATOR, MembershipRole.ADMIN)
ALL_ROLES = tuple(MembershipRole.values)


def scope_path(model: type[models.Model]) -> str:
    path = getattr(model, "tenant_scope_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} is not tenant-scoped: it declares no tenant_scope_path.")
    return path


def tenant_ids_for(user: AbstractBaseUser | AnonymousUser | None, roles: Iterable[str] = ALL_ROLES) -> frozenset[int] | None:
    """Tenant ids the user holds one of `roles` in; None means every tenant (superuser).

    Cached on the user object for the life of the request.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    roles = tuple(sorted(roles))
    cache: dict[tuple[str, ...], frozenset[int]] = user.__dict__.setdefault("_tenant_ids_cache", {})
    if roles not in cache:
        from tenants.models import TenantMembership

        cache[roles] = frozenset(
            TenantMembership.objects.filter(user=user, role__in=roles).values_list("client_id", flat=True)
        )
    return cache[roles]


def tenant_id_of(obj: models.Model) -> int | None:
    """Follow the model's scope path to the id of the tenant that owns `obj`."""
    path = scope_path(type(obj))
    if path == "pk":
        return obj.pk
    current: Any = obj
    parts = path.split("__")
    for part in parts[:-1]:
        current = getattr(current, part, None)
        if current is None:
            return None
    return getattr(current, f"{parts[-1]}_id", None)


def scope_queryset(queryset: models.QuerySet, user: Any, roles: Iterable[str] = ALL_ROLES) -> models.QuerySet:
    ids = tenant_ids_for(user, roles)
    if ids is None:
        return queryset
    if not ids:
        return queryset.none()
    return queryset.filter(**{f"{scope_path(queryset.model)}__in": ids})


def user_can_access(user: Any, obj: models.Model, roles: Iterable[str] = ALL_ROLES) -> bool:
    ids = tenant_ids_for(user, roles)
    if ids is None:
        return True
    return tenant_id_of(obj) in ids


class TenantScopedQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Any) -> TenantScopedQuerySet:
        tenant_id = getattr(tenant, "pk", tenant)
        return self.filter(**{scope_path(self.model): tenant_id})

    def visible_to(self, user: Any, roles: Iterable[str] = ALL_ROLES) -> TenantScopedQuerySet:
        return scope_queryset(self, user, roles)

    def editable_by(self, user: Any) -> TenantScopedQuerySet:
        return scope_queryset(self, user, EDIT_ROLES)
