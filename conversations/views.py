"""HTTP entry points of the pipeline: the inbound webhook, POST /admin/outbox/process and
POST /reminders/process.

The webhook is the hottest path in the product and does only what cannot wait (size, tenant,
signature, parse, one statement). Its logic is `conversations.webhook.webhook_receive`; its
OpenAPI description comes from `conversations.schema`.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request

from conversations import dispatch
from conversations.services.outbox import outbox_sweep
from conversations.services.reminders import escalation_reminders_process
from conversations.webhook import MAX_BODY_BYTES, TOO_LARGE, declared_length, webhook_receive
from imperium.core.api_schema import NO_COMPANY_ROLE, NOT_AUTHENTICATED, UNSUPPORTED_MEDIA_TYPE, error
from imperium.core.auth import COMPANY_PERMISSIONS, OPERATOR_AUTHENTICATION, request_actor
from imperium.core.services import audit_record

logger = logging.getLogger(__name__)

@csrf_exempt
def webhook(request: HttpRequest, client_slug: str | None = None) -> HttpResponse:
    """POST /webhook/<client_slug> and POST /webhook (slug in the body). Contract: docs/CONTRACTS.md "Inbound webhook".

    In production the WSGI fast path (`conversations.fastpath`) answers these URLs before
    Django's middleware; this view serves the test client, runserver and WEBHOOK_FAST_PATH=false.
    """
    if request.method != "POST":
        response = JsonResponse({"error": "method not allowed"}, status=405)
        response["Allow"] = "POST"
        return response
    if declared_length(request.META) > MAX_BODY_BYTES:
        status, payload = 413, json.dumps({"error": TOO_LARGE}).encode()
    else:
        status, payload = webhook_receive(client_slug=client_slug, meta=request.META, body=request.body,
                                          correlation_id=getattr(request, "correlation_id", ""))
    return HttpResponse(payload, status=status, content_type="application/json")


_report_schema = inline_serializer(
    "OutboxSweepReport",
    {
        "turns_dispatched": serializers.IntegerField(),
        "turns_resumed": serializers.IntegerField(),
        "deliveries_marked_unknown": serializers.IntegerField(),
        "deliveries_dispatched": serializers.IntegerField(),
        "escalations_renotified": serializers.IntegerField(),
        "forwards_renotified": serializers.IntegerField(),
        "learning_redispatched": serializers.IntegerField(),
        "answer_notices_redispatched": serializers.IntegerField(),
        "side_work_given_up": serializers.IntegerField(),
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
    summary="Run one outbox sweep now, for every tenant (company role or admin token)",
    description="Queues again every due turn, stuck delivery and pending notification, like the beat job. "
                "With `inline`, does the due work within the request.",
    request=OutboxProcessSerializer,
    responses={400: error("invalid parameters (inline not a boolean, limit out of range: `error` maps field → messages), "
                          "or a body that is not valid JSON"),
               200: inline_serializer("OutboxProcessResult", {"status": serializers.CharField(), "inline": serializers.BooleanField(),
                                                             "report": _report_schema}),
               401: NOT_AUTHENTICATED,
               403: NO_COMPANY_ROLE,
               415: UNSUPPORTED_MEDIA_TYPE},
    tags=["operations"],
)
@api_view(["POST"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(COMPANY_PERMISSIONS)
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


_reminders_report = inline_serializer(
    "RemindersReport",
    {
        "checked": serializers.IntegerField(help_text="Open escalations looked at."),
        "reminders_sent": serializers.IntegerField(),
        "holding_followups_sent": serializers.IntegerField(),
        "reminders": inline_serializer("ReminderSent", {"escalation_id": serializers.IntegerField(),
                                                        "conversation_id": serializers.IntegerField(),
                                                        "number": serializers.IntegerField()}, many=True),
        "holding_followups": inline_serializer("HoldingFollowupSent", {"escalation_id": serializers.IntegerField(),
                                                                       "conversation_id": serializers.IntegerField(),
                                                                       "outbound_id": serializers.IntegerField()}, many=True),
        "failed": inline_serializer("ReminderFailed", {"escalation_id": serializers.IntegerField(), "step": serializers.CharField(),
                                                       "error": serializers.CharField()}, many=True),
    },
)


@extend_schema(
    summary="Run the escalation SLA job now, for every tenant (company role or admin token)",
    description="Like the beat job: an escalation nobody took within the tenant's SLA gets a reminder in the managers' "
                "Telegram topic (once per SLA period, at most ESCALATION_REMINDERS_MAX), and a customer still waiting for a "
                "human after the SLA gets one more holding message (the tenant's template), once. Answers what was done; "
                "Telegram messages and customer messages are queued (outboxes), not sent within the request.",
    request=None,
    responses={200: inline_serializer("RemindersProcessResult", {"status": serializers.CharField(), "report": _reminders_report}),
               401: NOT_AUTHENTICATED,
               403: NO_COMPANY_ROLE},
    tags=["operations"],
)
@api_view(["POST"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(COMPANY_PERMISSIONS)
def reminders_process(request: Request) -> JsonResponse:
    report = escalation_reminders_process()
    data = report.as_dict()
    audit_record(actor=request_actor(request), action="reminders.process",
                 payload={k: data[k] for k in ("checked", "reminders_sent", "holding_followups_sent")} | {"failed": len(report.failed)})
    return JsonResponse({"status": "ok", "report": data})
