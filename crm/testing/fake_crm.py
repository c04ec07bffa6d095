"""A fake Altegio / YCLIENTS: the online-booking endpoints the bot uses, over real HTTP.

Used by the tests (in a thread, `FakeCrm().start()`), the benchmarks and `make run`:

    python -m crm.testing.fake_crm --port 9200

It keeps services, masters with working hours, and records; free times are computed from the
hours and the records, so a booked time disappears from `book_times`, and `book_check` /
`book_record` refuse a taken time with 422 like the real API. Faults apply to the next matching
requests, in order (optionally only to one endpoint):

    status  - answer with an HTTP status (500, 401 …), do nothing
    hang    - do nothing, answer 504 only after N seconds (client timeout)
    lost    - carry the request out (a record is made), then answer 504 after N seconds:
              "booked but the answer was lost"

`latency` delays every answer (benchmarks). Control over HTTP: POST /_control/faults
[{"kind": "status", "status": 500, "endpoint": "book_record"}], GET /_control/records, POST /_control/reset.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from imperium.core.testing.local_http import LocalHTTPServer, QuietHandler, send_json

DEMO_SERVICES = [
    {"id": 101, "title": "Маникюр с покрытием", "price_min": 5000, "price_max": 6000, "seance_length": 5400},
    {"id": 102, "title": "Маникюр без покрытия", "price_min": 3500, "price_max": 3500, "seance_length": 3600},
    {"id": 103, "title": "Педикюр", "price_min": 7000, "price_max": 8000, "seance_length": 5400},
    {"id": 104, "title": "Женская стрижка", "price_min": 6000, "price_max": 9000, "seance_length": 3600},
    {"id": 105, "title": "Окрашивание волос", "price_min": 15000, "price_max": 30000, "seance_length": 10800},
    {"id": 106, "title": "Коррекция бровей", "price_min": 3000, "price_max": 3000, "seance_length": 1800},
]
DEMO_STAFF = [
    {"id": 11, "name": "Айгерим", "specialization": "мастер маникюра", "services": [101, 102, 103], "days_off": [6]},
    {"id": 12, "name": "Дана", "specialization": "мастер маникюра", "services": [101, 102, 103, 106], "days_off": [0]},
    {"id": 13, "name": "Мадина", "specialization": "парикмахер", "services": [104, 105, 106], "days_off": []},
]


@dataclass
class Fault:
    kind: str  # status | hang | lost
    status: int = 500
    seconds: float = 0.0
    endpoint: str = ""  # empty: any endpoint


@dataclass
class Record:
    id: int
    hash: str
    staff_id: int
    service_ids: list[int]
    start: dt.datetime
    length: int
    phone: str
    fullname: str
    comment: str
    deleted: bool = False


@dataclass
class _State:
    records: dict[int, Record] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, endpoint)
    next_id: int = 9001


class FakeCrm(LocalHTTPServer):
    thread_name = "fake-crm"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, company_id: int = 4564,
                 partner_token: str = "partner-token", user_token: str = "user-token",  # noqa: S107 - a fake's tokens
                 tz: str = "Asia/Almaty", services: list[dict[str, Any]] | None = None,
                 staff: list[dict[str, Any]] | None = None, hours: tuple[int, int] = (10, 20), step_minutes: int = 30,
                 latency: float = 0.0) -> None:
        self.company_id = company_id
        self.partner_token, self.user_token = partner_token, user_token
        self.tz = ZoneInfo(tz)
        self.services = {s["id"]: dict(s) for s in (services or DEMO_SERVICES)}
        self.staff = {s["id"]: dict(s) for s in (staff or DEMO_STAFF)}
        self.hours = hours
        self.step = dt.timedelta(minutes=step_minutes)
        self.latency = latency
        self._state = _State()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self.bind(self._handler_class(), host, port)

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    # --- control ------------------------------------------------------------------------
    def add_fault(self, kind: str, *, status: int = 500, seconds: float = 0.0, endpoint: str = "", times: int = 1) -> None:
        with self._lock:
            self._state.faults.extend(Fault(kind, status, seconds, endpoint) for _ in range(times))

    def fail(self, status: int = 500, *, endpoint: str = "", times: int = 1) -> None:
        self.add_fault("status", status=status, endpoint=endpoint, times=times)

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    @property
    def records(self) -> list[Record]:
        with self._lock:
            return [r for r in self._state.records.values() if not r.deleted]

    @property
    def all_records(self) -> list[Record]:
        with self._lock:
            return list(self._state.records.values())

    def calls(self, endpoint: str | None = None) -> list[tuple[str, str]]:
        with self._lock:
            return [c for c in self._state.requests if endpoint is None or c[1] == endpoint]

    def book_directly(self, *, staff_id: int, service_id: int, start: dt.datetime, phone: str = "+77000000000",
                      fullname: str = "Другой клиент") -> Record:
        """A record made outside the bot (the salon's own admin, another channel)."""
        with self._lock:
            return self._create(staff_id, [service_id], start, phone, fullname, "")

    # --- schedule -----------------------------------------------------------------------
    def _length(self, service_ids: list[int]) -> int:
        return sum(int(self.services[s]["seance_length"]) for s in service_ids if s in self.services) or 3600

    def _busy(self, staff_id: int, start: dt.datetime, length: int) -> bool:
        end = start + dt.timedelta(seconds=length)
        for record in self._state.records.values():
            if record.deleted or record.staff_id != staff_id:
                continue
            if start < record.start + dt.timedelta(seconds=record.length) and record.start < end:
                return True
        return False

    def _works(self, staff_id: int, day: dt.date, service_ids: list[int]) -> bool:
        staff = self.staff.get(staff_id)
        if staff is None or day.weekday() in staff.get("days_off", []):
            return False
        return all(s in staff.get("services", self.services) for s in service_ids)

    def _free_times(self, staff_id: int, day: dt.date, service_ids: list[int]) -> list[tuple[dt.datetime, int]]:
        """(start, staff) pairs; staff 0 = the first free master for each time."""
        length = self._length(service_ids)
        open_at = dt.datetime.combine(day, dt.time(self.hours[0]), self.tz)
        close_at = dt.datetime.combine(day, dt.time(self.hours[1]), self.tz)
        now = dt.datetime.now(self.tz)
        candidates = [staff_id] if staff_id else sorted(self.staff)
        out: list[tuple[dt.datetime, int]] = []
        start = open_at
        while start + dt.timedelta(seconds=length) <= close_at:
            if start > now:
                for sid in candidates:
                    if self._works(sid, day, service_ids) and not self._busy(sid, start, length):
                        out.append((start, sid))
                        break
            start += self.step
        return out

    def _create(self, staff_id: int, service_ids: list[int], start: dt.datetime, phone: str, fullname: str, comment: str) -> Record:
        state = self._state
        record = Record(id=state.next_id, hash=uuid.uuid4().hex, staff_id=staff_id, service_ids=service_ids, start=start,
                        length=self._length(service_ids), phone=phone, fullname=fullname, comment=comment)
        state.records[record.id] = record
        state.next_id += 1
        return record

    def _record_json(self, record: Record) -> dict[str, Any]:
        staff = self.staff.get(record.staff_id, {})
        return {
            "id": record.id, "company_id": self.company_id, "staff_id": record.staff_id,
            "staff": {"id": record.staff_id, "name": staff.get("name", "")},
            "services": [{"id": s, "title": self.services.get(s, {}).get("title", ""), "cost": self.services.get(s, {}).get("price_min", 0)}
                         for s in record.service_ids],
            "client": {"name": record.fullname, "phone": record.phone},
            "date": record.start.strftime("%Y-%m-%d %H:%M:%S"), "datetime": record.start.isoformat(),
            "seance_length": record.length, "length": record.length, "comment": record.comment, "deleted": record.deleted,
            "attendance": 0, "confirmed": 1,
        }

    # --- protocol -----------------------------------------------------------------------
    def _appointments(self, body: dict[str, Any]) -> tuple[list[tuple[int, list[int], dt.datetime]], str]:
        out = []
        for item in body.get("appointments") or []:
            try:
                services = [int(s) for s in item.get("services") or []]
                start = dt.datetime.fromisoformat(str(item["datetime"]))
                if start.tzinfo is None:
                    start = start.replace(tzinfo=self.tz)
                staff_id = int(item.get("staff_id") or 0)
            except (KeyError, TypeError, ValueError):
                return [], "bad appointment"
            if not services or any(s not in self.services for s in services):
                return [], "unknown service"
            if staff_id and staff_id not in self.staff:
                return [], "unknown master"
            out.append((staff_id, services, start))
        return (out, "") if out else ([], "appointments are required")

    def _free_staff(self, staff_id: int, services: list[int], start: dt.datetime) -> int | None:
        for sid, when in ((s, t) for t, s in self._free_times(staff_id, start.astimezone(self.tz).date(), services)):
            if when == start:
                return sid
        return None

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "api":
            parts = parts[2:]  # /api/v1/...
        if not parts:
            return 404, {"success": False, "data": None, "meta": {"message": "Not found"}}
        endpoint = parts[0]
        if endpoint == "record" and method == "DELETE":
            endpoint = "record_delete"
        with self._lock:
            self._state.requests.append((method, endpoint))
        if auth != f"Bearer {self.partner_token}, User {self.user_token}":
            return 401, {"success": False, "data": None, "meta": {"message": "Authentication needed"}}
        if len(parts) < 2 or parts[1] != str(self.company_id):
            return 404, {"success": False, "data": None, "meta": {"message": "Company not found"}}
        fault = None
        with self._lock:
            for i, f in enumerate(self._state.faults):
                if not f.endpoint or f.endpoint == endpoint:
                    fault = self._state.faults.pop(i)
                    break
        if fault is not None and fault.kind == "status":
            return fault.status, {"success": False, "data": None, "meta": {"message": f"injected {fault.status}"}}
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.seconds)
            return 504, {"success": False, "data": None, "meta": {"message": "Gateway timeout"}}
        status, payload = self._dispatch(method, endpoint, parts, query, body)
        if fault is not None and fault.kind == "lost":
            self._stopping.wait(fault.seconds)
            return 504, {"success": False, "data": None, "meta": {"message": "Gateway timeout"}}
        return status, payload

    def _dispatch(self, method: str, endpoint: str, parts: list[str], query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        ok = lambda data, status=200: (status, {"success": True, "data": data, "meta": []})  # noqa: E731
        service_ids = [int(s) for s in query.get("service_ids[]", []) if s.isdigit()]
        with self._lock:
            if method == "GET" and endpoint == "book_services":
                return ok({"services": list(self.services.values()), "category": []})
            if method == "GET" and endpoint == "book_staff":
                return ok([{"id": s["id"], "name": s["name"], "specialization": s.get("specialization", ""), "bookable": True}
                           for s in self.staff.values() if all(x in s.get("services", []) for x in service_ids)])
            if method == "GET" and endpoint == "book_dates":
                staff_id = int((query.get("staff_id") or ["0"])[0] or 0)
                today = dt.datetime.now(self.tz).date()
                days = [today + dt.timedelta(days=i) for i in range(31)]
                return ok({"booking_days": {}, "booking_dates": [d.isoformat() for d in days
                                                                  if self._free_times(staff_id, d, service_ids)], "working_days": {}})
            if method == "GET" and endpoint == "book_times" and len(parts) >= 4:
                try:
                    staff_id, day = int(parts[2]), dt.date.fromisoformat(parts[3])
                except ValueError:
                    return 400, {"success": False, "data": None, "meta": {"message": "bad date"}}
                length = self._length(service_ids)
                return ok([{"time": t.strftime("%H:%M"), "seance_length": length, "sum_length": length, "datetime": t.isoformat()}
                           for t, _ in self._free_times(staff_id, day, service_ids)])
            if method == "POST" and endpoint in ("book_check", "book_record"):
                appointments, error = self._appointments(body if isinstance(body, dict) else {})
                if error:
                    return 422, {"success": False, "data": None, "meta": {"message": error}}
                chosen = []
                for staff_id, services, start in appointments:
                    sid = self._free_staff(staff_id, services, start)
                    if sid is None:
                        return 422, {"success": False, "data": None,
                                     "meta": {"message": "Выбранное время уже занято", "errors": {"code": 433}}}
                    chosen.append((sid, services, start))
                if endpoint == "book_check":
                    return ok(None, 201)
                if not str(body.get("phone") or "").strip():
                    return 422, {"success": False, "data": None, "meta": {"message": "phone is required"}}
                out = []
                for n, (sid, services, start) in enumerate(chosen):
                    record = self._create(sid, services, start, str(body["phone"]), str(body.get("fullname") or ""),
                                          str(body.get("comment") or ""))
                    out.append({"id": n, "record_id": record.id, "record_hash": record.hash})
                return ok(out, 201)
            if method == "GET" and endpoint == "records":
                start = dt.date.fromisoformat((query.get("start_date") or ["1970-01-01"])[0])
                end = dt.date.fromisoformat((query.get("end_date") or ["2999-12-31"])[0])
                page, count = int((query.get("page") or ["1"])[0]), int((query.get("count") or ["50"])[0])
                rows = [self._record_json(r) for r in sorted(self._state.records.values(), key=lambda r: (r.start, r.id))
                        if not r.deleted and start <= r.start.astimezone(self.tz).date() <= end]
                return 200, {"success": True, "data": rows[(page - 1) * count: page * count], "meta": {"count": len(rows)}}
            if method == "DELETE" and endpoint == "record_delete" and len(parts) >= 3:
                record = self._state.records.get(int(parts[2])) if parts[2].isdigit() else None
                if record is None or record.deleted:
                    return 404, {"success": False, "data": None, "meta": {"message": "Record not found"}}
                record.deleted = True
                return ok(None)
        return 404, {"success": False, "data": None, "meta": {"message": "Not found"}}

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/_control/faults" and method == "POST":
            for item in body or []:
                self.add_fault(str(item.get("kind", "status")), status=int(item.get("status", 500)),
                               seconds=float(item.get("seconds", 0)), endpoint=str(item.get("endpoint", "")))
            return 200, {"ok": True}
        if path == "/_control/records":
            return 200, [self._record_json(r) for r in self.records]
        if path == "/_control/reset" and method == "POST":
            self.reset()
            return 200, {"ok": True}
        return 404, {"error": "unknown control"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def handle_method(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    send_json(self, 400, {"success": False, "data": None, "meta": {"message": "bad json"}})
                    return
                url = urlparse(self.path)
                if url.path.startswith("/_control/"):
                    status, payload = fake._control(method, url.path, body)
                else:
                    if fake.latency:
                        fake._stopping.wait(fake.latency)
                    status, payload = fake.handle(method, url.path, parse_qs(url.query), body, self.headers.get("Authorization", ""))
                send_json(self, status, payload)

        return Handler


def main() -> None:  # pragma: no cover - a command-line helper
    parser = argparse.ArgumentParser(description="A fake Altegio/YCLIENTS API for local runs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--company-id", type=int, default=4564)
    parser.add_argument("--partner-token", default="partner-token")
    parser.add_argument("--user-token", default="user-token")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args()
    fake = FakeCrm(args.host, args.port, company_id=args.company_id, partner_token=args.partner_token, user_token=args.user_token,
                   latency=args.latency)
    print(f"fake CRM on {fake.url}/api/v1 (company {args.company_id})", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":  # pragma: no cover
    main()
