"""Access to operator endpoints: a staff session or the admin API token (ADMIN_API_TOKEN).

DRF views for operators use `OPERATOR_API` (authentication + permission classes):

    @api_view(["POST"])
    @authentication_classes(OPERATOR_AUTHENTICATION)
    @permission_classes(OPERATOR_PERMISSIONS)
    def outbox_process(request): ...

A token caller sends no cookies, so CSRF cannot apply to it; a session caller must pass CSRF.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission

from imperium.core.actors import Actor

ADMIN_TOKEN_AUTH = "admin-token"


def admin_token_valid(request: HttpRequest) -> bool:
    expected = settings.ADMIN_API_TOKEN
    if not expected:
        return False
    header = request.headers.get("Authorization", "")
    supplied = header[7:] if header.startswith("Bearer ") else request.headers.get("X-Admin-Token", "")
    return bool(supplied) and hmac.compare_digest(supplied.encode(), expected.encode())


class AdminTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, str] | None:
        if admin_token_valid(request._request if hasattr(request, "_request") else request):
            return AnonymousUser(), ADMIN_TOKEN_AUTH
        return None

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="imperium"'


class IsStaffOrAdminToken(BasePermission):
    message = "Staff session or admin token required."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.auth == ADMIN_TOKEN_AUTH:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


COMPANY_PERMISSION = "imperium.company_operations"


def user_has_company_role(user: Any) -> bool:
    """The company role: a superuser, or a staff user granted `imperium.company_operations`.
    Staff with tenant memberships only (operators) do not have it."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return False
    return bool(user.is_superuser or user.has_perm(COMPANY_PERMISSION))


class IsCompanyOperatorOrAdminToken(BasePermission):
    """Company-wide actions: the admin token (a company credential) or the company role."""

    message = "A company role (superuser or the company_operations permission) or the admin token is required."

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.auth == ADMIN_TOKEN_AUTH or user_has_company_role(request.user)


class AdminTokenScheme(OpenApiAuthenticationExtension):
    target_class = "imperium.core.auth.AdminTokenAuthentication"
    name = "adminToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "ADMIN_API_TOKEN"}


OPERATOR_AUTHENTICATION = [AdminTokenAuthentication, SessionAuthentication]
OPERATOR_PERMISSIONS = [IsStaffOrAdminToken]
COMPANY_PERMISSIONS = [IsCompanyOperatorOrAdminToken]


def request_actor(request: Any) -> Actor:
    """The actor behind an operator request: the staff user, or the admin-token caller."""
    if getattr(request, "auth", None) == ADMIN_TOKEN_AUTH:
        return Actor.api()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor.from_user(user)
    return Actor.api()
