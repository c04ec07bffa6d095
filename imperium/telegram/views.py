"""HTTP entry points: the Telegram webhook and the test alert (contract: docs/CONTRACTS.md "Telegram", "Other HTTP")."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from imperium.core.api_schema import NOT_AUTHENTICATED, UNSUPPORTED_MEDIA_TYPE, error
from imperium.core.auth import ADMIN_TOKEN_AUTH, OPERATOR_AUTHENTICATION, OPERATOR_PERMISSIONS, request_actor, user_has_company_role
from imperium.core.counters import count_and_log
from imperium.core.exceptions import ApplicationError
from imperium.telegram.services import telegram_update_store_body
from incidents.alerts import alert_send_test
from tenants.models import Client

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret_valid(request: HttpRequest) -> bool:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    supplied = request.headers.get(SECRET_HEADER, "")
    # No secret configured means nobody can prove they are Telegram: refuse everything.
    return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())


@extend_schema(
    summary="Telegram Bot API updates (header X-Telegram-Bot-Api-Secret-Token)",
    request={"application/json": {
        "type": "object", "description": "A Telegram Update object (message, edited_message, callback_query, …)",
        "properties": {"update_id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}},
        "required": ["update_id"],
    }},
    responses={
        200: OpenApiResponse(inline_serializer("TelegramUpdateStored", {
            "status": serializers.ChoiceField(choices=["accepted", "duplicate"])}),
            description="stored (accepted) or already stored (duplicate)"),
        400: OpenApiResponse(inline_serializer("TelegramUpdateDeadLetter", {
            "status": serializers.ChoiceField(choices=["dead_letter"]), "error": serializers.CharField()}),
            description="not a Telegram Update (not JSON, not an object, no update_id…): kept as a dead letter"),
        403: error("missing or wrong secret token; nothing stored"),
    },
    tags=["telegram"],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def telegram_webhook(request: Request) -> JsonResponse:
    """Verify, store (dedup by update_id), answer 200 at once; a task handles the update."""
    if not webhook_secret_valid(request._request):
        count_and_log(logger, "telegram_webhook.refused", "telegram webhook: refused a request without the right secret token")
        return JsonResponse({"error": "forbidden"}, status=403)
    result = telegram_update_store_body(body=request._request.body, source="webhook")
    if result.status == "dead_letter":
        # Telegram itself never sends these; whoever holds the secret learns what was wrong.
        return JsonResponse({"status": result.status, "error": result.dead_letter.reason}, status=400)
    return JsonResponse({"status": result.status})


_alert_test_request = inline_serializer(
    "AlertTestRequest", {"text": serializers.CharField(required=False), "tenant": serializers.CharField(required=False)}
)
_alert_test_response = inline_serializer(
    "AlertTestResponse",
    {
        "status": serializers.CharField(),
        "alert_id": serializers.IntegerField(allow_null=True),
        "message_id": serializers.IntegerField(allow_null=True),
        "chat_id": serializers.CharField(),
        "error": serializers.CharField(),
        "telegram_status": serializers.IntegerField(allow_null=True),
        "retry_after": serializers.FloatField(allow_null=True),
    },
)


@extend_schema(
    summary="Send a test alert now and report what Telegram said (company role or admin token; a tenant's operator for its chat)",
    request=_alert_test_request,
    responses={
        200: _alert_test_response,
        400: error("the tenant has no Telegram chat, `tenant`/`text` is not a string, or the body is not valid JSON"),
        401: NOT_AUTHENTICATED,
        403: error("not active staff; the company chat needs a company role; a tenant's chat needs the operator role in it; "
                   "or a session caller failed the CSRF check"),
        404: error("unknown tenant"),
        415: UNSUPPORTED_MEDIA_TYPE,
        502: OpenApiResponse(_alert_test_response, description="Telegram refused or failed (error, telegram_status, retry_after)"),
        503: OpenApiResponse(_alert_test_response, description="Telegram is not configured, or the chat's rate limit is reached "
                                                               "(`Retry-After` header then)"),
    },
    tags=["telegram"],
)
@api_view(["POST"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(OPERATOR_PERMISSIONS)
def alerts_test(request: Request) -> JsonResponse:
    """Sends synchronously (one attempt, no later retry): to ALERT_CHAT_ID, or with
    `{"tenant": "<slug>"}` to that tenant's chat/topic. The company chat needs the company role or
    the admin token; a tenant's chat also an operator (operator/admin membership) of that tenant."""
    data = request.data if isinstance(request.data, dict) else {}
    slug, text = data.get("tenant", ""), data.get("text", "")
    slug, text = "" if slug is None else slug, "" if text is None else text
    if not isinstance(slug, str) or not isinstance(text, str):
        return JsonResponse({"error": "tenant and text must be strings"}, status=400)
    slug = slug.strip()
    tenant = None
    company = request.auth == ADMIN_TOKEN_AUTH or user_has_company_role(request.user)
    if slug:
        tenant = Client.objects.filter(slug=slug).first()
        if tenant is not None and not company:
            tenant = Client.objects.editable_by(request.user).filter(pk=tenant.pk).first()
        if tenant is None:
            return JsonResponse({"error": f"Unknown tenant {slug!r}."}, status=404)
    elif not company:
        # The company alert chat is the CEO's: a tenant's operator may only test their tenant's chat.
        return JsonResponse({"error": "The company alert chat needs a company role; pass your tenant's slug."}, status=403)
    try:
        outcome = alert_send_test(actor=request_actor(request), text=text, tenant=tenant)
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    body = {
        "status": outcome.status,
        "alert_id": outcome.alert.pk if outcome.alert else None,
        "message_id": outcome.message_id,
        "chat_id": outcome.alert.chat_id if outcome.alert else "",
        "error": outcome.error,
        "telegram_status": outcome.telegram_status,
        "retry_after": outcome.retry_after,
    }
    if outcome.status == "sent":
        return JsonResponse(body, status=200)
    if outcome.status in ("not_configured", "rate_limited"):
        response = JsonResponse(body, status=503)
        if outcome.retry_after:
            response["Retry-After"] = str(int(outcome.retry_after + 0.999))
        return response
    return JsonResponse(body, status=502)
