"""Operator API for incidents (staff session or `Authorization: Bearer <ADMIN_API_TOKEN>`).

- `GET /incidents/<id>/rca` — the RCA bundle as JSON (`incidents.rca.rca_bundle`);
- `POST /incidents/<id>/acknowledge` — through the write-risk policy (`incident.acknowledge`, low risk).

A staff user sees only incidents of their tenants (system-wide ones: superusers); the admin
token sees all. Unknown or invisible ids answer 404 alike.
"""

from __future__ import annotations

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request

from imperium.core.api_schema import NOT_AUTHENTICATED, NOT_STAFF, error
from imperium.core.auth import ADMIN_TOKEN_AUTH, OPERATOR_AUTHENTICATION, OPERATOR_PERMISSIONS, request_actor
from imperium.core.policy import policy_execute
from incidents.choices import EventSource
from incidents.rca import rca_bundle
from incidents.selectors import incident_get


def _visible(request: Request, incident_id: int):  # type: ignore[no-untyped-def]
    user = None if request.auth == ADMIN_TOKEN_AUTH else request.user
    return incident_get(incident_id=incident_id, user=user)


_not_found = error("no such incident, or not visible to this user")
_bundle = inline_serializer("RcaBundle", {
    "incident": serializers.DictField(help_text="id, title, kind, fingerprint, tenant, severity, status, times, counters"),
    "window": serializers.DictField(help_text="from / to (ISO 8601) of the traces and errors included"),
    "timeline": serializers.ListField(child=serializers.DictField(), help_text="IncidentEvents, oldest first"),
    "check_results": serializers.DictField(help_text="failing (in the window), failing_total, latest"),
    "error_logs": serializers.DictField(help_text="total, items (the tenant's, or all for system-wide incidents)"),
    "message_traces": serializers.DictField(help_text="total, items (each with error_log_ids: same correlation id)"),
    "audit": serializers.DictField(help_text="changes shortly before and during the incident"),
    "in_effect": serializers.DictField(help_text="release, channel, kb_version, from_traces"),
})


@extend_schema(
    summary="RCA bundle of an incident (staff or admin token)",
    description="Everything the database knows about the incident: timeline, failing check results, ErrorLogs and message "
                "traces of its tenant around it, audit entries shortly before, release and KB version in effect.",
    responses={200: _bundle, 401: NOT_AUTHENTICATED, 403: NOT_STAFF, 404: _not_found},
    tags=["incidents"],
)
@api_view(["GET"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(OPERATOR_PERMISSIONS)
def incident_rca(request: Request, incident_id: int) -> JsonResponse:
    incident = _visible(request, incident_id)
    if incident is None:
        return JsonResponse({"error": "incident not found"}, status=404)
    return JsonResponse(rca_bundle(incident), json_dumps_params={"ensure_ascii": False})


@extend_schema(
    summary="Acknowledge an incident (staff or admin token)",
    description="open → acknowledged (stops the optional nag). Runs the low-risk policy action `incident.acknowledge`; "
                "acknowledging twice changes nothing.",
    request=None,
    responses={200: inline_serializer("IncidentAcknowledged", {
                   "incident": serializers.IntegerField(), "changed": serializers.BooleanField(), "status": serializers.CharField(),
                   "acknowledged_by": serializers.CharField()}),
               401: NOT_AUTHENTICATED, 403: NOT_STAFF, 404: _not_found},
    tags=["incidents"],
)
@api_view(["POST"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(OPERATOR_PERMISSIONS)
def incident_acknowledge(request: Request, incident_id: int) -> JsonResponse:
    incident = _visible(request, incident_id)
    if incident is None:
        return JsonResponse({"error": "incident not found"}, status=404)
    source = EventSource.API if request.auth == ADMIN_TOKEN_AUTH else EventSource.WEB
    outcome = policy_execute("incident.acknowledge", request_actor(request), {"incident_id": incident.pk, "source": source},
                             tenant=incident.tenant_id, reason="operator API")
    return JsonResponse(outcome.result)
