"""Every unhandled exception in a request becomes an ErrorLog carrying the request's
correlation id (the response — Django's 500 — still carries it in X-Correlation-ID)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ErrorLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        if isinstance(exception, Http404 | PermissionDenied):
            return None  # answered as 404/403, not a failure
        from incidents.errors import error_log_record

        user = getattr(request, "user", None)
        error_log_record(
            where=f"http {request.method} {request.path}"[:200], exc=exception,
            context={"method": request.method, "path": request.path[:500], "user": getattr(user, "pk", None),
                     "view": getattr(getattr(request, "resolver_match", None), "view_name", "")},
        )
        return None
