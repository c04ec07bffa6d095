"""Application errors shared by every app.

Services raise `ApplicationError` for anything a user can act on; DRF turns it into a JSON
error, admin actions show it with `message_user`, management commands print it.
Outside-system clients raise `IntegrationError`, which says whether retrying can help.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    def __init__(self, message: str, extra: dict[str, Any] | None = None, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.status = status


class IntegrationError(Exception):
    """A call to an outside system failed.

    `permanent` is True when repeating the same call cannot succeed (a 4xx, a bad credential);
    False for timeouts, 5xx and 429, which callers may retry.
    """

    def __init__(self, message: str, *, permanent: bool, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.message, "extra": exc.extra}, status=exc.status)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, drf_exceptions.APIException):
        detail = response.data
        response.data = {"error": detail.get("detail", detail) if isinstance(detail, dict) else detail}
    return response
