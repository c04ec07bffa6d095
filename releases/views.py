"""HTTP entry points of the releases app: the CI webhook that moves fix proposals."""

from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, parser_classes, permission_classes
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from releases.ci import DELIVERY_HEADERS, EVENT_HEADER, SIGNATURE_HEADER, CIPayloadError, parse_ci_payload, signature_valid
from releases.fix_services import fix_proposal_ci_update

logger = logging.getLogger(__name__)

_simple_body = inline_serializer(
    "CIStatusSimple",
    {
        "branch": serializers.CharField(required=False, help_text="Branch of the fix proposal (branch or sha required)"),
        "sha": serializers.CharField(required=False, help_text="Commit sha (7–40 hex)"),
        "status": serializers.ChoiceField(choices=["running", "passed", "failed"]),
        "url": serializers.URLField(required=False, help_text="Link to the CI run"),
        "updated_at": serializers.DateTimeField(required=False, help_text="CI's time of this status (orders out-of-order deliveries)"),
        "delivery_id": serializers.CharField(required=False, help_text="Idempotency key when no delivery header is sent"),
    },
)
_result = inline_serializer(
    "CIWebhookResult",
    {
        "status": serializers.ChoiceField(choices=["applied", "unchanged", "ignored", "no_match", "duplicate", "pong"]),
        "proposal": serializers.IntegerField(allow_null=True),
        "proposal_status": serializers.CharField(allow_null=True),
        "note": serializers.CharField(),
    },
)
_error = inline_serializer("CIWebhookError", {"error": serializers.CharField()})


def _delivery_id(request: Request, payload: dict) -> str:
    for header in DELIVERY_HEADERS:
        value = request.headers.get(header, "").strip()
        if value:
            return value[:100]
    supplied = payload.get("delivery_id")
    if isinstance(supplied, str) and supplied.strip():
        return supplied.strip()[:100]
    # No id supplied: the same body is the same delivery.
    return "body:" + hashlib.sha256(request.body).hexdigest()


@extend_schema(
    summary="CI status of a fix proposal (GitHub check_suite / workflow_run webhook, or the simple shape)",
    description=(
        "Signed with HMAC-SHA256 of the raw body under CI_WEBHOOK_SECRET, sent as `X-Hub-Signature-256: sha256=<hex>` "
        "(GitHub's format). Matches the fix proposal by commit sha, else by branch. Redeliveries (same `X-GitHub-Delivery`) "
        "change nothing. The request schema shows the simple shape; GitHub bodies are accepted as GitHub sends them."
    ),
    request=_simple_body,
    parameters=[
        OpenApiParameter(SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="sha256=<hex>"),
        OpenApiParameter(EVENT_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                         description="check_suite, workflow_run, ping; absent or ci_status for the simple shape"),
        OpenApiParameter("X-GitHub-Delivery", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Delivery id (idempotency key)"),
    ],
    responses={
        200: _result,
        400: OpenApiResponse(_error, description="signed, but not a CI status we understand"),
        401: OpenApiResponse(_error, description="missing or bad signature; nothing changed"),
        503: OpenApiResponse(_error, description="CI_WEBHOOK_SECRET is not configured"),
    },
    tags=["releases"],
    auth=[],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([JSONParser])
def ci_webhook(request: Request) -> Response:
    secret = settings.CI_WEBHOOK_SECRET
    if not secret:
        return Response({"error": "The CI webhook is not configured (CI_WEBHOOK_SECRET)."}, status=503)
    body = request.body
    if not signature_valid(body, request.headers.get(SIGNATURE_HEADER), secret):
        logger.warning("ci webhook: bad or missing signature", extra={"has_signature": bool(request.headers.get(SIGNATURE_HEADER))})
        return Response({"error": "Bad or missing signature."}, status=401)
    event = request.headers.get(EVENT_HEADER, "")
    if event.strip().lower() == "ping":
        return Response({"status": "pong", "proposal": None, "proposal_status": None, "note": ""})
    try:
        payload = json.loads(body.decode("utf-8"))
        ci = parse_ci_payload(event, payload, workflow_name=settings.CI_WORKFLOW_NAME)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Response({"error": "The body is not JSON."}, status=400)
    except CIPayloadError as exc:
        return Response({"error": f"Malformed CI status: {exc}."}, status=400)
    result = fix_proposal_ci_update(delivery_id=_delivery_id(request, payload), ci=ci)
    return Response({"status": result.outcome, "proposal": result.proposal_id, "proposal_status": result.proposal_status,
                     "note": result.note})
