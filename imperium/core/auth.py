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


class AdminTokenScheme(OpenApiAuthenticationExtension):
    target_class = "imperium.core.auth.AdminTokenAuthentication"
    name = "adminToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "ADMIN_API_TOKEN"}


OPERATOR_AUTHENTICATION = [AdminTokenAuthentication, SessionAuthentication]
OPERATOR_PERMISSIONS = [IsStaffOrAdminToken]


def request_actor(request: Any) -> Actor:
    """The actor behind an operator request: the staff user, or the admin-token caller."""
    if getattr(request, "auth", None) == ADMIN_TOKEN_AUTH:
        return Actor.api()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor.from_user(user)
    return Actor.api()
