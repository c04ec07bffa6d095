"""Shared OpenAPI pieces for the operator and health endpoints.

Every error a DRF view answers goes through `imperium.core.exceptions.drf_exception_handler`, which
gives the body `{"error": ...}` (a message; for invalid parameters an object of field → messages)
with `extra` for application errors. Views that answer errors themselves use the same shape.
Documenting that shape once keeps the schema true for 400/401/403/404/405/415 alike
(`imperium/tests/test_schema_truth.py` calls every documented response).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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
