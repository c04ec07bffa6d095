"""Altegio / YCLIENTS REST client: the only code that talks to a salon's CRM.

Both platforms speak the same API (`https://api.alteg.io/api/v1`, `https://api.yclients.com/api/v1`):
header `Authorization: Bearer <partner_token>, User <user_token>`, `Accept: application/vnd.api.v2+json`,
answers wrapped as `{"success": bool, "data": …, "meta": …}`. Endpoints used:

    GET  book_services/{company}            services: id, title, price_min, price_max, seance_length (s)
    GET  book_staff/{company}               masters: id, name, specialization, bookable
    GET  book_dates/{company}               {"booking_dates": ["2026-12-07", …]}
    GET  book_times/{company}/{staff}/{date}  seances: time, seance_length, datetime (staff 0 = any)
    POST book_check/{company}               the appointments can be booked (or 422: taken)
    POST book_record/{company}              creates the record(s): [{id, record_id, record_hash}]
    GET  records/{company}?start_date&end_date&page&count   records of the days
    DELETE record/{company}/{record_id}     cancel a record

Every failure raises `CrmError` (an IntegrationError) saying what happened: `auth` (401/403:
the credentials are wrong, calling again cannot help), `taken` (the slot is no longer free),
`rejected` (another 4xx), `server` (5xx), `timeout`, `connection`. `unclear` is True when a
write may have been carried out although we got no answer (timeout, 5xx, a connection dropped
after the request was sent): such a write is never repeated blindly (see crm.booking).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from imperium.core.exceptions import IntegrationError

ACCEPT = "application/vnd.api.v2+json"


class CrmError(IntegrationError):
    def __init__(self, message: str, *, kind: str, status: int | None = None, unclear: bool = False) -> None:
        super().__init__(message, permanent=kind in ("auth", "taken", "rejected"), status=status)
        self.kind = kind
        self.unclear = unclear


@dataclass(frozen=True)
class CallStat:
    endpoint: str
    ok: bool
    status_code: int | None
    ms: float
    error: str = ""


_sessions = threading.local()


def _session() -> requests.Session:
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
    return session


class CrmClient:
    def __init__(self, *, base_url: str, company_id: int, partner_token: str, user_token: str, timeout: float = 5.0,
                 on_call: Callable[[CallStat], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.company_id = int(company_id)
        self.partner_token = partner_token
        self.user_token = user_token
        self.timeout = timeout
        self.on_call = on_call

    # --- reads ---------------------------------------------------------------------------
    def services(self) -> list[dict[str, Any]]:
        data = self._call("GET", "book_services", f"book_services/{self.company_id}")
        # book_services answers {"services": [...], "category": [...]}; tolerate a bare list.
        services = data.get("services", []) if isinstance(data, dict) else data
        return [s for s in services or [] if isinstance(s, dict)]

    def staff(self, *, service_ids: list[int] | None = None) -> list[dict[str, Any]]:
        params = {"service_ids[]": service_ids} if service_ids else None
        data = self._call("GET", "book_staff", f"book_staff/{self.company_id}", params=params)
        return [s for s in data or [] if isinstance(s, dict)]

    def dates(self, *, service_ids: list[int] | None = None, staff_id: int = 0) -> list[str]:
        params: dict[str, Any] = {"staff_id": staff_id} if staff_id else {}
        if service_ids:
            params["service_ids[]"] = service_ids
        data = self._call("GET", "book_dates", f"book_dates/{self.company_id}", params=params or None)
        return list((data or {}).get("booking_dates") or [])

    def times(self, *, staff_id: int, day: str, service_ids: list[int] | None = None) -> list[dict[str, Any]]:
        params = {"service_ids[]": service_ids} if service_ids else None
        data = self._call("GET", "book_times", f"book_times/{self.company_id}/{int(staff_id)}/{day}", params=params)
        return [s for s in data or [] if isinstance(s, dict)]

    def records(self, *, start_date: str, end_date: str, page: int = 1, count: int = 200) -> list[dict[str, Any]]:
        params = {"start_date": start_date, "end_date": end_date, "page": page, "count": count}
        data = self._call("GET", "records", f"records/{self.company_id}", params=params)
        return [r for r in data or [] if isinstance(r, dict)]

    # --- writes --------------------------------------------------------------------------
    def book_check(self, *, appointments: list[dict[str, Any]]) -> None:
        self._call("POST", "book_check", f"book_check/{self.company_id}", json={"appointments": appointments})

    def book_record(self, *, phone: str, fullname: str, appointments: list[dict[str, Any]], comment: str = "") -> list[dict[str, Any]]:
        body = {"phone": phone, "fullname": fullname, "email": "", "comment": comment, "appointments": appointments}
        data = self._call("POST", "book_record", f"book_record/{self.company_id}", json=body)
        return [r for r in data or [] if isinstance(r, dict)]

    def record_delete(self, *, record_id: int) -> None:
        self._call("DELETE", "record_delete", f"record/{self.company_id}/{int(record_id)}")

    # --- transport -----------------------------------------------------------------------
    def _call(self, method: str, endpoint: str, path: str, *, params: dict[str, Any] | None = None,
              json: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.partner_token}, User {self.user_token}", "Accept": ACCEPT,
                   "Content-Type": "application/json"}
        write = method != "GET"
        started = time.perf_counter()
        status: int | None = None
        try:
            try:
                response = _session().request(method, f"{self.base_url}/{path}", params=params, json=json, headers=headers,
                                              timeout=self.timeout)
            except requests.Timeout as exc:
                raise CrmError(f"{endpoint}: no answer within {self.timeout:g}s", kind="timeout", unclear=write) from exc
            except requests.ConnectionError as exc:
                # A refused connection never reached the CRM; a dropped one may have.
                refused = "refused" in str(exc).lower()
                raise CrmError(f"{endpoint}: connection failed ({type(exc).__name__})", kind="connection",
                               unclear=write and not refused) from exc
            status = response.status_code
            payload = _json(response)
            message = _message(payload) or response.reason or ""
            if status in (401, 403):
                raise CrmError(f"{endpoint}: the CRM refused the credentials ({status} {message})"[:300], kind="auth", status=status)
            if status >= 500:
                raise CrmError(f"{endpoint}: CRM error {status} {message}"[:300], kind="server", status=status, unclear=write)
            if status == 429:
                raise CrmError(f"{endpoint}: rate limited", kind="server", status=status)
            if status == 422 or (status == 409):
                raise CrmError(f"{endpoint}: {message or 'the time is no longer free'}"[:300], kind="taken", status=status)
            if status >= 400:
                raise CrmError(f"{endpoint}: refused {status} {message}"[:300], kind="rejected", status=status)
            if isinstance(payload, dict) and payload.get("success") is False:
                raise CrmError(f"{endpoint}: {message or 'success=false'}"[:300], kind="rejected", status=status)
            data = payload.get("data") if isinstance(payload, dict) else None
        except CrmError as exc:
            self._report(CallStat(endpoint, False, status, _ms(started), exc.message[:300]))
            raise
        self._report(CallStat(endpoint, True, status, _ms(started)))
        return data

    def _report(self, stat: CallStat) -> None:
        if self.on_call is not None:
            self.on_call(stat)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(payload: Any) -> str:
    if isinstance(payload, dict):
        meta = payload.get("meta")
        if isinstance(meta, dict) and meta.get("message"):
            return str(meta["message"])
    return ""
