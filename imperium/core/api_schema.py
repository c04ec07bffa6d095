"""Shared OpenAPI pieces for the operator and health endpoints.

Every error a DRF view answers goes through `imperium.core.exceptions.drf_exception_handler`, which
gives the body `{"error": ...}` (a message; for invalid parameters an object of field → messages)
with `extra` for application errors. Views that answer errors themselves use the same shape.
Documenting that shape once keeps the schema true for 400/401/403/404/405/415 alike
(`imperium/tests/test_schema_truth.py` calls every documented response).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

ERROR = inline_serializer(
    "Error",
    {
        "error": serializers.JSONField(help_text="What went wrong: a message, or for invalid parameters an object of "
                                                 "field → list of messages."),
        "extra": serializers.DictField(required=False, help_text="Details of an application error, when it has any."),
    },
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR, description=description)


NOT_AUTHENTICATED = error("no staff session or admin token (`WWW-Authenticate: Bearer`)")
NOT_STAFF = error("the session's user is not active staff, or a session caller failed the CSRF check")
NO_COMPANY_ROLE = error("no company role (superuser or the company_operations permission), or a session caller failed "
                        "the CSRF check")
UNSUPPORTED_MEDIA_TYPE = error("the body's Content-Type is not JSON, a form or multipart")


class PrometheusTextRenderer(BaseRenderer):
    """Only for the schema: /metrics answers Prometheus' text exposition format."""

    media_type = "text/plain"
    format = "prometheus"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:  # pragma: no cover
        return str(data).encode()


# Documentation only: `GET /metrics` is a plain Django view (imperium.views.metrics).
class MetricsSchemaView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [PrometheusTextRenderer]

    @extend_schema(
        operation_id="metrics",
        summary="Prometheus metrics (text exposition format); with METRICS_TOKEN set, `Authorization: Bearer <token>`",
        description="Every process's counters (gunicorn workers, Celery children, beat) summed, and gauges read from the "
                    "database at scrape time (docs/PRODUCTION.md, Metrics).",
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="every process's counters and the scrape-time gauges"),
                   401: OpenApiResponse(OpenApiTypes.STR, description="METRICS_TOKEN is set and the Bearer token is missing or wrong")},
        tags=["health"],
        auth=[],
    )
    def get(self, request: Any) -> None:  # pragma: no cover - documentation only
        raise NotImplementedError


def add_metrics_endpoint(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """drf-spectacular preprocessing hook: document the plain-Django /metrics view."""
    return [*endpoints, ("/metrics", r"^metrics$", "GET", MetricsSchemaView.as_view())]
