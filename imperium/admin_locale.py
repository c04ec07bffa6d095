"""Admin pages in Russian and in the salon's time; everything else in English and UTC.

The command line, logs, Celery workers and the HTTP APIs run with the project defaults
(LANGUAGE_CODE en-us, TIME_ZONE UTC). For a request under the admin this middleware activates
`ADMIN_LANGUAGE` (or the language the operator chose with the switch in the admin header, kept in
Django's language cookie) and the time zone of the operator's tenants when they all share one
(`ADMIN_TIME_ZONE` otherwise, and for superusers), then restores what was active before, so a
thread that serves an admin page goes back to English afterwards.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation

from tenants.selectors import tenant_time_zones_for


def admin_language(request: HttpRequest) -> str:
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if chosen in dict(settings.LANGUAGES) else settings.ADMIN_LANGUAGE


def admin_time_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    zones = tenant_time_zones_for(request.user)
    name = next(iter(zones)) if len(zones) == 1 else settings.ADMIN_TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.ADMIN_TIME_ZONE)


class AdminLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._prefix: str | None = None

    def _is_admin(self, request: HttpRequest) -> bool:
        if self._prefix is None:
            self._prefix = reverse("admin:index")
        return request.path.startswith(self._prefix)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._is_admin(request):
            return self.get_response(request)
        previous_language = translation.get_language()
        translation.activate(admin_language(request))
        request.LANGUAGE_CODE = translation.get_language()
        timezone.activate(admin_time_zone(request))
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
            return response
        finally:
            timezone.deactivate()
            if previous_language:
                translation.activate(previous_language)
            else:
                translation.deactivate()
