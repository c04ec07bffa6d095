"""HTTP entry points of the pipeline: the inbound webhook and POST /admin/outbox/process.

The webhook is a plain Django view on purpose: it is the hottest path in the product and does
only what cannot wait (size, tenant, signature, parse, one short transaction). Its OpenAPI
description comes from `conversations.schema`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request

from conversations import dispatch
from conversations.services.inbound import MalformedPayload, dead_letter_record, inbound_accept, payload_parse
from conversations.services.outbox import outbox_sweep
from conversations.signing import SignatureProblem, verify
from conversations.webhook import MAX_BODY_BYTES, slug_valid, webhook_tenant
from imperium.auth import OPERATOR_AUTHENTICATION, OPERATOR_PERMISSIONS, request_actor
from imperium.services import audit_record

logger = logging.getLogger(__name__)

_ACCEPTED = b'{"status":"accepted"}'
_DUPLICATE = b'{"status":"duplicate"}'


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
def webhook(request: HttpRequest, client_slug: str | None = None) -> HttpResponse:
    """POST /webhook/<client_slug> and POST /webhook (slug in the body). Contract: DESIGN "Inbound webhook"."""
    if request.method != "POST":
        response = _error(405, "method not allowed")
        response["Allow"] = "POST"
        return response
    meta = request.META
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _error(413, f"body over {MAX_BODY_BYTES // 1024} KiB")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"body over {MAX_BODY_BYTES // 1024} KiB")

    data: Any = None
    if client_slug is None:
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "body must be JSON with client_slug")
        client_slug = data.get("client_slug") if isinstance(data, dict) else None
        if not slug_valid(client_slug):
            return _error(400, "client_slug is required")
    tenant = webhook_tenant(client_slug)
    if tenant is None or not tenant.accepts_traffic:
        return _error(404, "unknown tenant")

    msg_id = meta.get("HTTP_WEBHOOK_ID")
    timestamp = meta.get("HTTP_WEBHOOK_TIMESTAMP")
    signature = meta.get("HTTP_WEBHOOK_SIGNATURE")
    problem = verify(tenant.keys, msg_id=msg_id, timestamp=timestamp, signature_header=signature, body=body)
    if problem is SignatureProblem.NO_MATCH:
        # The secret may have been rotated since this process cached it.
        tenant = webhook_tenant(client_slug, fresh=True)
        if tenant is None or not tenant.accepts_traffic:
            return _error(404, "unknown tenant")
        problem = verify(tenant.keys, msg_id=msg_id, timestamp=timestamp, signature_header=signature, body=body)
    if problem is not None:
        logger.info("webhook for %s refused: %s", client_slug, problem.value)
        return _error(401, problem.value)

    correlation_id = getattr(request, "correlation_id", "")
    try:
        if data is None:
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise MalformedPayload(f"body is not JSON: {exc.msg}") from None
        message = payload_parse(data)
    except MalformedPayload as exc:
        letter = dead_letter_record(
            tenant=tenant.client, body=body, error=str(exc), webhook_id=msg_id or "", correlation_id=correlation_id,
            headers={k: meta.get(h, "") for k, h in (("content-type", "CONTENT_TYPE"), ("user-agent", "HTTP_USER_AGENT"),
                                                   ("webhook-id", "HTTP_WEBHOOK_ID"), ("webhook-timestamp", "HTTP_WEBHOOK_TIMESTAMP"))},
        )
        logger.warning("webhook for %s: malformed body kept as dead letter %s: %s", client_slug, letter.pk, exc)
        return _error(400, str(exc))

    result = inbound_accept(tenant=tenant.client, message=message, webhook_id=msg_id or "", correlation_id=correlation_id)
    return HttpResponse(_ACCEPTED if result.status == "accepted" else _DUPLICATE, content_type="application/json")


_report_schema = inline_serializer(
    "OutboxSweepReport",
    {
        "turns_dispatched": serializers.IntegerField(),
        "turns_resumed": serializers.IntegerField(),
        "orphans_rescheduled": serializers.IntegerField(),
        "deliveries_marked_unknown": serializers.IntegerField(),
        "deliveries_dispatched": serializers.IntegerField(),
        "escalations_renotified": serializers.IntegerField(),
        "forwards_renotified": serializers.IntegerField(),
    },
)


class OutboxProcessSerializer(serializers.Serializer):
    inline = serializers.BooleanField(
        default=False,
        help_text="Do the due work in this request instead of queueing it (for installations without a running worker).",
    )
    limit = serializers.IntegerField(default=None, allow_null=True, min_value=1, max_value=5000,
                                     help_text="Most rows of each kind to handle (default OUTBOX_SWEEP_BATCH; 50 when inline).")


@extend_schema(
    summary="Run one outbox sweep now (staff or admin token)",
    description="Queues again every due turn, stuck delivery and pending notification, like the beat job. "
                "With `inline`, does the due work within the request.",
    request=OutboxProcessSerializer,
    responses={200: inline_serializer("OutboxProcessResult", {"status": serializers.CharField(), "inline": serializers.BooleanField(),
                                                             "report": _report_schema}),
               401: OpenApiResponse(description="no staff session or admin token"),
               403: OpenApiResponse(description="not staff")},
    tags=["operations"],
)
@api_view(["POST"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(OPERATOR_PERMISSIONS)
def outbox_process(request: Request) -> JsonResponse:
    params = OutboxProcessSerializer(data={**request.query_params.dict(), **(request.data if isinstance(request.data, dict) else {})})
    params.is_valid(raise_exception=True)
    inline = params.validated_data["inline"]
    limit = params.validated_data["limit"]
    if inline:
        with dispatch.inline():
            report = outbox_sweep(limit=limit or 50, redispatch_seconds=0)
    else:
        report = outbox_sweep(limit=limit)
    audit_record(actor=request_actor(request), action="outbox.process", payload={"inline": inline, **report.as_dict()})
    return JsonResponse({"status": "ok", "inline": inline, "report": report.as_dict()})
