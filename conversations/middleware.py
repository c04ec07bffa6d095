"""Keep customer phone numbers out of URLs (and so out of access logs, browser history, Referer).

An operator who types a phone number into an admin search box sends it as `?q=+7701…` — a GET
that the web server's access log records in full. This middleware answers such a request with a
redirect to the same page searching for `ck:<customer key>` (the keyed hash the database already
looks conversations up by); the admin's search understands that form
(`TenantScopedAdminMixin.get_search_results`). The first request line still holds the number, so
gunicorn's access log masks phone-looking digit runs too (`imperium.core.accesslog`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from conversations.customers import customer_key, phone_normalize

CUSTOMER_KEY_PREFIX = "ck:"


def _phone_in_search(term: str) -> str | None:
    digits = sum(ch.isdigit() for ch in term)
    if digits < 9:  # a short number is a suffix search on the masked phone, not a phone
        return None
    return phone_normalize(term)


class PhoneSearchMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and "q" in request.GET and request.path_info.startswith("/admin/"):
            phone = _phone_in_search(request.GET["q"])
            if phone is not None:
                query = request.GET.copy()
                query["q"] = CUSTOMER_KEY_PREFIX + customer_key(phone)
                return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        return self.get_response(request)
