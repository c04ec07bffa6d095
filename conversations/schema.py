"""OpenAPI description of the inbound webhook.

The webhook is a plain Django view (no DRF request machinery on the hot path), which
drf-spectacular cannot see. These schema-only DRF views describe it, and the preprocessing hook
`add_webhook_endpoints` (SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"]) adds them to /api/schema/.
They are never routed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

_SIGNATURE_HEADERS = [
    OpenApiParameter("webhook-id", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="Unique delivery id."),
    OpenApiParameter("webhook-timestamp", OpenApiTypes.INT, OpenApiParameter.HEADER, required=True,
                     description="Unix seconds; refused when more than 5 minutes off."),
    OpenApiParameter("webhook-signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                     description="`v1,<base64 HMAC-SHA256 of '{id}.{timestamp}.{body}'>` with the tenant's whsec_ secret; "
                                 "several space-separated signatures allowed (rotation)."),
]


class InboundMessageSerializer(serializers.Serializer):
    message_id = serializers.CharField(min_length=1, max_length=200, help_text="Provider message id (deduplication key per tenant).")
    # "from" is a Python keyword; the field is renamed in the schema below.
    from_ = serializers.RegexField(r"^\+?[0-9]{5,20}$", help_text="Customer phone, e.g. +77011234567 (spaces, dashes, dots "
                                                                 "and parentheses between digits are ignored).")
    name = serializers.CharField(required=False, allow_blank=True)
    type = serializers.CharField(required=False, default="text", help_text="text, image, audio, … (non-text goes to a human).")
    text = serializers.CharField(required=False, allow_blank=True, help_text="Required for type text.")
    timestamp = serializers.IntegerField(required=False, help_text="Unix seconds when the customer sent it.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class InboundMessageWithSlugSerializer(InboundMessageSerializer):
    client_slug = serializers.SlugField(help_text="The tenant (when it is not in the URL).")


_status = inline_serializer("WebhookAccepted", {"status": serializers.ChoiceField(choices=["accepted", "duplicate"])})
_error = inline_serializer("WebhookError", {"error": serializers.CharField()})
_RESPONSES = {
    200: OpenApiResponse(_status, description="stored (`accepted`) or already stored (`duplicate`)"),
    400: OpenApiResponse(_error, description="malformed body from a correctly signed caller (kept as a dead letter)"),
    401: OpenApiResponse(_error, description="missing or bad signature, or stale timestamp"),
    404: OpenApiResponse(_error, description="unknown or disabled tenant"),
    413: OpenApiResponse(_error, description="body over 64 KiB"),
}


class WebhookSchemaView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # the contract's body is JSON only

    @extend_schema(
        operation_id="webhook_receive",
        summary="Inbound WhatsApp message from ChatFlow (Standard Webhooks signature)",
        parameters=[OpenApiParameter("client_slug", OpenApiTypes.STR, OpenApiParameter.PATH), *_SIGNATURE_HEADERS],
        request=InboundMessageSerializer,
        responses=_RESPONSES,
        tags=["webhook"],
        auth=[],
    )
    def post(self, request: Any, client_slug: str) -> None:  # pragma: no cover - documentation only
        raise NotImplementedError


class WebhookBodySlugSchemaView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="webhook_receive_slug_in_body",
        summary="Inbound WhatsApp message, tenant named in the body",
        parameters=_SIGNATURE_HEADERS,
        request=InboundMessageWithSlugSerializer,
        responses=_RESPONSES,
        tags=["webhook"],
        auth=[],
    )
    def post(self, request: Any) -> None:  # pragma: no cover - documentation only
        raise NotImplementedError


def add_webhook_endpoints(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """drf-spectacular preprocessing hook: document the plain-Django webhook views."""
    return [
        *endpoints,
        ("/webhook/{client_slug}", r"^webhook/(?P<client_slug>[-a-zA-Z0-9_]+)$", "POST", WebhookSchemaView.as_view()),
        ("/webhook", r"^webhook$", "POST", WebhookBodySlugSchemaView.as_view()),
    ]
