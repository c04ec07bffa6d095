"""Health endpoints. `/health` is liveness only: no database, no secrets."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from imperium.core.api_schema import NOT_AUTHENTICATED, NOT_STAFF
from imperium.core.auth import OPERATOR_AUTHENTICATION, OPERATOR_PERMISSIONS
from imperium.core.health import check_database, run_health_checks

_health_schema = inline_serializer("Health", {"status": serializers.CharField(), "version": serializers.CharField()})
_db_check_schema = inline_serializer("DbCheck", {
    "status": serializers.ChoiceField(choices=["ok", "error"]),
    "database": serializers.CharField(help_text="the database's answer, or `unreachable`"),
    "latency_ms": serializers.FloatField(allow_null=True),
})
_check_schema = inline_serializer("HealthCheckResult", {
    "name": serializers.CharField(),
    "ok": serializers.BooleanField(),
    "latency_ms": serializers.FloatField(allow_null=True),
    "configured": serializers.BooleanField(help_text="false: optional and not set up (the embedded default), healthy"),
    "detail": serializers.CharField(),
    "extra": serializers.DictField(),
})
_admin_health_schema = inline_serializer("AdminHealth", {
    "status": serializers.ChoiceField(choices=["ok", "degraded"]),
    "failing": serializers.ListField(child=serializers.CharField(), help_text="names of the failing checks"),
    "version": serializers.CharField(),
    "checks": serializers.DictField(child=_check_schema, help_text="check name → result"),
})


@extend_schema(summary="Liveness", responses={200: _health_schema}, tags=["health"])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "version": settings.APP_VERSION})


@extend_schema(
    summary="Database round trip (SELECT 1)",
    responses={200: OpenApiResponse(_db_check_schema, description="database reachable"),
               503: OpenApiResponse(_db_check_schema, description="database down")},
    tags=["health"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def db_check(request: HttpRequest) -> JsonResponse:
    result = check_database()
    body = {"status": "ok" if result.ok else "error", "database": result.detail if result.ok else "unreachable",
            "latency_ms": result.latency_ms}
    return JsonResponse(body, status=200 if result.ok else 503)


@extend_schema(
    summary="Every dependency with status and latency (staff or admin token)",
    responses={200: OpenApiResponse(_admin_health_schema, description="all healthy"),
               401: NOT_AUTHENTICATED,
               403: NOT_STAFF,
               503: OpenApiResponse(_admin_health_schema,
                                    description="a configured dependency is down, or did not answer within HEALTH_CHECK_DEADLINE")},
    tags=["health"],
)
@api_view(["GET"])
@authentication_classes(OPERATOR_AUTHENTICATION)
@permission_classes(OPERATOR_PERMISSIONS)
def admin_health(request: HttpRequest) -> JsonResponse:
    results = run_health_checks()
    failing = [r.name for r in results if not r.ok]
    body = {
        "status": "ok" if not failing else "degraded",
        "failing": failing,
        "version": settings.APP_VERSION,
        "checks": {r.name: r.as_dict() for r in results},
    }
    return JsonResponse(body, status=503 if failing else 200)


def _wants_html(request: HttpRequest) -> bool:
    # The admin is a browser UI: its pages keep Django's HTML errors. Everything else is an API.
    path = request.path_info
    return path.startswith("/admin/") and not path.startswith(("/admin/health", "/admin/outbox/"))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a JSON body for every API route (e.g. `/webhook/%14`), Django's page in the admin."""
    if _wants_html(request):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    return JsonResponse({"error": "not found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON outside the admin (the ErrorLog and the log line are written by the middleware)."""
    if _wants_html(request):
        from django.views.defaults import server_error as html_server_error

        return html_server_error(request)
    return JsonResponse({"error": "internal error"}, status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        from django.views.defaults import bad_request as html_bad_request

        return html_bad_request(request, exception)
    return JsonResponse({"error": "bad request"}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        from django.views.defaults import permission_denied as html_permission_denied

        return html_permission_denied(request, exception)
    return JsonResponse({"error": "forbidden"}, status=403)


@csrf_exempt  # GET only, token-authenticated: other methods get a JSON 405, not the CSRF failure page
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition (text format) of every process's counters and the scrape-time
    collectors. With METRICS_TOKEN set, `Authorization: Bearer <token>` is required."""
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405, headers={"Allow": "GET"})
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    from imperium.core.metrics import render

    body, content_type = render()
    return HttpResponse(body, content_type=content_type)
