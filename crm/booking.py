"""The booking conversation: free times answered live from the CRM, bookings made exactly once.

`booking_turn(...)` is called by the reply pipeline for every text turn of a tenant with a CRM
connection, before the answer brain. It returns None when the turn is not about booking (the
brain answers as usual), or a `BookingReply`: a text to send, or a hand-over to a manager with
what was collected.

The exchange is a `BookingSession` row (one open per conversation, expiring after
CRM_SESSION_MINUTES): collecting → proposed → booking → done, or declined / handed_over /
expired. Exactly once:

- «да» moves PROPOSED → BOOKING with a conditional update naming the turn (`booking_turn`) and
  committed *before* the CRM is called: a second «да» (another turn) finds BOOKING or DONE and
  never writes again;
- the write is `book_check` then one `book_record`. An unclear outcome (timeout, 5xx, dropped
  connection) is never retried blindly: the record is looked up by phone and time
  (`GET records`) first; only when the look-up answers and finds nothing is it written again;
- a worker killed after `book_record` leaves the session BOOKING for its turn; the resumed turn
  (same turn id) or, after the lease, any turn looks the record up the same way, so the
  customer gets one record and — the reply being the turn's one keyed message — one confirmation.

Free times are never guessed: a CRM that is down or slow means an honest hand-over.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import parsing, selectors, services
from crm.choices import ConnectionStatus, RecordSource, RecordStatus, SessionKind, SessionStatus
from crm.clients.altegio import CrmClient, CrmError
from crm.models import BookingSession, CrmConnection, CrmRecord, CrmService
from crm.selectors import crm_cache_key
from crm.texts import MONTHS_GENITIVE, WEEKDAYS_ACCUSATIVE, text
from imperium.core.actors import Actor
from imperium.core.crypto import mask_phone

logger = logging.getLogger(__name__)

ANSWER = "answer"
ESCALATE = "escalate"
MAX_QUESTIONS = 2  # unresolved after this many questions of the bot → a manager

_CUE = re.compile(r"запис|запиш|окошк|окн[оа]\b|свобод|брон|ближайш|можно\s+(на|к|в)\b|хочу\s+(на|к)\b|есть\s+(ли\s+)?время|"
                  r"успею|принять|примете|отмен|перенес|перенест|записат|zapis|appointment|book")
_QUESTION = re.compile(r"^\s*(как|можно\s+ли|сколько|до\s+скольки|за\s+сколько|что\s+будет|какие)\b|\bли\b")
_VISIT_ANSWER = re.compile(r"отмен|приду|буду|подтвержда")
_COMPLAINT = re.compile(r"недовол|не\s+понравил|ужасн|кошмар|жалоб|претензи|верн\w+\s+деньг|возврат|испортил|нагруб|хамил|обожгл")


@dataclass
class BookingReply:
    action: str  # ANSWER | ESCALATE
    text: str = ""
    reason: str = ""  # an EscalationReason value for ESCALATE
    detail: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass
class Customer:
    conversation_id: int
    key: str
    phone: str
    name: str = ""


class _HandOver(Exception):
    def __init__(self, why: str, reason: str = "booking") -> None:
        super().__init__(why)
        self.why = why
        self.reason = reason


# --- entry point ---------------------------------------------------------------------------
def booking_turn(*, tenant: Any, customer: Customer, texts: list[str], turn_key: str,
                 now: dt.datetime | None = None) -> BookingReply | None:
    """Handle a turn if it belongs to booking (see module doc). Never raises for a CRM failure:
    that becomes a hand-over with the collected details."""
    connection = selectors.crm_connection_of(tenant)
    if connection is None or connection.status == ConnectionStatus.DISABLED:
        return None
    now = now or timezone.now()
    message = "\n".join(t for t in texts if t and t.strip())
    if not message:
        return None
    flow = _Flow(tenant=tenant, connection=connection, customer=customer, message=message, turn_key=turn_key, now=now)
    return flow.run()


class _Flow:
    def __init__(self, *, tenant: Any, connection: CrmConnection, customer: Customer, message: str, turn_key: str,
                 now: dt.datetime) -> None:
        self.tenant, self.connection, self.customer, self.message, self.turn_key, self.now = (
            tenant, connection, customer, message, turn_key, now)
        self.tz = ZoneInfo(tenant.timezone)
        self.today = now.astimezone(self.tz).date()
        self._client: CrmClient | None = None
        self._staff: list[dict[str, Any]] | None = None
        self._services: list[CrmService] | None = None

    @property
    def services(self) -> list[CrmService]:
        if self._services is None:
            self._services = selectors.crm_services(self.tenant)
        return self._services

    @property
    def client(self) -> CrmClient:
        if self._client is None:
            self._client = services.crm_client_for(self.connection)
        return self._client

    # --- dispatch ------------------------------------------------------------------------
    def run(self) -> BookingReply | None:
        session = self._open_session()
        folded = parsing.prepared(self.message)
        cue = bool(_CUE.search(folded)) or (session is None and self._booking_shaped(folded))
        if (session is None and not cue and not parsing.is_stop(self.message)
                and parsing.answer_of(self.message) is None and parsing.rating_of(self.message) is None
                and not _VISIT_ANSWER.search(folded)):
            return None  # not about booking: one query for the connection, one for the session
        if parsing.is_stop(self.message):
            services.visit_opt_out(tenant=self.tenant, customer_key=self.customer.key)
            if session is not None and session.status != SessionStatus.BOOKING:
                self._close(session, SessionStatus.DECLINED)
            return BookingReply(ANSWER, text("opted_out"), detail={"crm": "opted_out"})
        visit = self._visit_answer(session)
        if visit is not None:
            return visit
        if session is None:
            recent = selectors.booking_session_latest(self.tenant, self.customer.conversation_id)
            if (recent is not None and recent.status == SessionStatus.DONE and parsing.answer_of(self.message) == "yes"
                    and self.now - recent.updated_at < dt.timedelta(minutes=settings.CRM_SESSION_MINUTES)):
                if recent.booking_turn == self.turn_key:  # this very turn booked it (resumed after a crash)
                    return self._done_reply(recent)
                return BookingReply(ANSWER, text("already_booked"), detail={"crm": "already_done", "session": recent.pk})
            if not cue:
                return None
            if _COMPLAINT.search(folded):
                return None  # the brain hands complaints over
        if self.connection.status == ConnectionStatus.BROKEN:
            return self._hand_over(session, "the CRM connection is broken (credentials refused)", reason="dependency_down")
        try:
            if session is not None and session.status == SessionStatus.BOOKING:
                return self._resume_write(session)
            if session is not None and session.status == SessionStatus.PROPOSED:
                answer = parsing.answer_of(self.message)
                if answer == "yes":
                    return self._confirm(session)
                if answer == "no":
                    self._close(session, SessionStatus.DECLINED)
                    return BookingReply(ANSWER, text("cancel_kept" if session.kind == SessionKind.CANCEL else "declined"),
                                        detail={"crm": "declined", "session": session.pk})
            return self._collect(session)
        except _HandOver as handover:
            return self._hand_over(self._open_session(), handover.why, reason=handover.reason)
        except CrmError as exc:
            logger.warning("CRM failure for %s: %s", self.tenant.slug, exc.message)
            return self._hand_over(self._open_session(), f"CRM unavailable: {exc.message}"[:300], reason="dependency_down")

    def _booking_shaped(self, folded: str) -> bool:
        """No booking word, but a service and a day or time («на педикюр сегодня в 17:00 можно?»)."""
        if not parsing.WHEN.search(folded):
            return False
        best, partial = parsing.match_services(self.message, self.services)
        return bool(best or len(partial) == 1)

    # --- sessions ------------------------------------------------------------------------
    def _open_session(self) -> BookingSession | None:
        session = selectors.booking_session_open(self.tenant, self.customer.conversation_id)
        if session is not None and session.expires_at <= self.now and session.status != SessionStatus.BOOKING:
            self._close(session, SessionStatus.EXPIRED)
            return None
        return session

    def _new_session(self, kind: str) -> BookingSession:
        expires = self.now + dt.timedelta(minutes=settings.CRM_SESSION_MINUTES)
        try:
            with transaction.atomic():
                return BookingSession.objects.create(
                    tenant=self.tenant, conversation_id=self.customer.conversation_id, customer_key=self.customer.key,
                    customer_phone=self.customer.phone, customer_name=self.customer.name[:200], kind=kind, created_at=self.now,
                    updated_at=self.now, expires_at=expires)
        except IntegrityError:  # another turn of this conversation opened one a moment ago
            existing = selectors.booking_session_open(self.tenant, self.customer.conversation_id)
            if existing is None:
                raise
            return existing

    def _save(self, session: BookingSession, **fields: Any) -> None:
        fields.setdefault("updated_at", self.now)
        fields.setdefault("expires_at", self.now + dt.timedelta(minutes=settings.CRM_SESSION_MINUTES))
        for name, value in fields.items():
            setattr(session, name, value)
        BookingSession.objects.filter(pk=session.pk).update(**fields)

    def _close(self, session: BookingSession, status: str) -> None:
        self._save(session, status=status)

    def _hand_over(self, session: BookingSession | None, why: str, *, reason: str = "booking") -> BookingReply:
        detail = {"crm": "handed_over", "why": why, "message": self.message[:500]}
        if session is not None:
            detail["collected"] = self._collected(session)
            detail["session"] = session.pk
            if session.status != SessionStatus.BOOKING:
                self._close(session, SessionStatus.HANDED_OVER)
            else:  # outcome of a write unknown: a manager checks the CRM; the bot never writes again
                self._save(session, status=SessionStatus.HANDED_OVER, detail={**session.detail, "write_unclear": True})
        return BookingReply(ESCALATE, reason=reason, detail=detail)

    def _collected(self, session: BookingSession) -> dict[str, Any]:
        return {k: v for k, v in {
            "kind": session.kind, "service": session.service_title, "master": session.staff_name,
            "day": session.day.isoformat() if session.day else "",
            "time": self._local(session.slot_at).strftime("%H:%M") if session.slot_at else "",
            "record_id": session.record_id, "customer": self.customer.name, "phone": mask_phone(self.customer.phone),
            "offered": session.detail.get("offered", []),
        }.items() if v}

    # --- CRM reads (slots cached ≤ CRM_SLOT_CACHE_SECONDS) --------------------------------
    def staff(self) -> list[dict[str, Any]]:
        if self._staff is None:
            key = crm_cache_key(self.tenant.pk, "staff")
            staff = cache.get(key)
            if staff is None:
                staff = [s for s in self.client.staff() if s.get("bookable", True)]
                cache.set(key, staff, 300)
            self._staff = staff
        return self._staff

    def times(self, staff_id: int, day: dt.date, service_id: int) -> list[dict[str, Any]]:
        key = _times_key(self.tenant.pk, staff_id, day, service_id)
        seances = cache.get(key)
        if seances is None:
            seances = self.client.times(staff_id=staff_id, day=day.isoformat(), service_ids=[service_id])
            cache.set(key, seances, settings.CRM_SLOT_CACHE_SECONDS)
        return seances

    def free_days(self, staff_id: int, service_id: int) -> list[dt.date]:
        key = crm_cache_key(self.tenant.pk, "dates", staff_id, service_id)
        days = cache.get(key)
        if days is None:
            days = self.client.dates(service_ids=[service_id], staff_id=staff_id)
            cache.set(key, days, settings.CRM_SLOT_CACHE_SECONDS)
        out = []
        for value in days:
            try:
                out.append(dt.date.fromisoformat(str(value)[:10]))
            except ValueError:
                continue
        return sorted(d for d in out if d >= self.today)

    # --- collecting ----------------------------------------------------------------------
    def _collect(self, session: BookingSession | None) -> BookingReply:
        if session is None and self.services:
            # What the message says without the CRM, kept on a session first: a CRM that fails
            # on the next call still leaves the manager the collected details.
            early = parsing.parse(self.message, today=self.today, services=self.services, staff=[])
            if early.says_anything and not (early.cancel or early.reschedule):
                session = self._new_session(SessionKind.BOOK)
                self._merge(session, early)
        staff = self.staff() if self.services else []
        request = parsing.parse(self.message, today=self.today, services=self.services, staff=staff)
        if request.group:
            raise _HandOver("group booking")
        if session is not None and _COMPLAINT.search(parsing.prepared(self.message)):
            raise _HandOver("complaint during booking", reason="complaint")
        if session is None:
            if request.cancel or request.reschedule:
                session = self._new_session(SessionKind.RESCHEDULE if request.reschedule else SessionKind.CANCEL)
                return self._own_record(session, request)
            session = self._new_session(SessionKind.BOOK)
        elif session.kind != SessionKind.BOOK and session.record_id is None:
            return self._own_record(session, request)
        self._merge(session, request)
        if session.kind == SessionKind.CANCEL:
            return self._own_record(session, request)
        if not session.service_id:
            if len(request.service_partial) > 1 or (request.service_partial and not request.service_ids):
                options = [s.title for s in self.services if s.crm_id in request.service_partial][:4]
                if len(options) == 1:
                    self._set_service(session, next(s for s in self.services if s.crm_id in request.service_partial))
                else:
                    return self._ask(session, "ask_service_which", options=" или ".join(options))
            elif len(request.service_ids) > 1:
                options = [s.title for s in self.services if s.crm_id in request.service_ids][:4]
                return self._ask(session, "ask_service_which", options=" или ".join(options))
            else:
                examples = ", ".join(s.title.lower() for s in self.services[:3])
                return self._ask(session, "ask_service", examples=examples)
        service = next((s for s in self.services if s.crm_id == session.service_id), None)
        if service is None:
            raise _HandOver("service no longer offered")
        wanted_time = dt.time.fromisoformat(session.detail["time"]) if session.detail.get("time") else None
        window = tuple(session.detail["window"]) if session.detail.get("window") else None
        nearest = bool(session.detail.get("nearest"))
        if session.day is None and not nearest:
            if wanted_time is None and window is None:
                return self._ask(session, "ask_day", service=service.title.lower())
            nearest = True
        staff_id = session.staff_id or 0
        days = [session.day] if session.day and not nearest else self.free_days(staff_id, service.crm_id)[:7]
        if session.day and not days:
            days = [session.day]
        for index, day in enumerate(days):
            seances = self.times(staff_id, day, service.crm_id)
            starts = [self._seance_start(s) for s in seances]
            starts = [s for s in starts if s is not None and s > self.now]
            if wanted_time is not None:
                exact = [s for s in starts if s.astimezone(self.tz).time() == wanted_time]
                if exact:
                    return self._propose(session, service, exact[0])
                if index == 0 and session.day:
                    alternatives = self._nearest(starts, dt.datetime.combine(day, wanted_time, self.tz))
                    if not alternatives:
                        alternatives = self._next_days(staff_id, service, day)
                    if not alternatives:
                        raise _HandOver("no free time found")
                    return self._ask(session, "taken", day=self._day_phrase(day), time=wanted_time.strftime("%H:%M"),
                                     master=self._master(session), alternatives=self._list(alternatives), offered=alternatives)
                continue
            if window is not None:
                starts = [s for s in starts if window[0] <= s.astimezone(self.tz).hour < window[1]]
            if not starts:
                if session.day and not nearest:
                    alternatives = self._next_days(staff_id, service, day, window)
                    if not alternatives:
                        raise _HandOver("no free time found")
                    return self._ask(session, "no_times_day", day_cap=_cap(self._day_phrase(day)), service=service.title.lower(),
                                     master=self._master(session), alternatives=self._list(alternatives), offered=alternatives)
                continue
            shown = _spread(starts, settings.CRM_MAX_SLOTS_SHOWN)
            self._save(session, day=day)
            return self._ask(session, "free_times", service=service.title, price=_price(service), length=_length(service.seance_length),
                             day=self._day_phrase(day), master=self._master(session),
                             times=", ".join(s.astimezone(self.tz).strftime("%H:%M") for s in shown), offered=shown)
        raise _HandOver("no free time found")

    def _merge(self, session: BookingSession, request: parsing.Request) -> None:
        fields: dict[str, Any] = {}
        detail = dict(session.detail)
        if len(request.service_ids) == 1:
            service = next(s for s in self.services if s.crm_id == request.service_ids[0])
            fields.update(service_id=service.crm_id, service_title=service.title)
        if request.staff_id:
            fields.update(staff_id=request.staff_id, staff_name=request.staff_name)
        if request.day:
            fields["day"] = request.day
            detail.pop("nearest", None)
        if request.time:
            detail["time"] = request.time.strftime("%H:%M")
            detail.pop("window", None)
            offered_day = self._offered_day(session, request.time)
            if offered_day and not request.day:
                fields["day"] = offered_day
        elif request.window:
            detail["window"] = list(request.window)
            detail.pop("time", None)
        if request.nearest:
            detail["nearest"] = True
        fields["detail"] = detail
        fields["status"] = SessionStatus.COLLECTING
        self._save(session, **fields)

    def _set_service(self, session: BookingSession, service: CrmService) -> None:
        self._save(session, service_id=service.crm_id, service_title=service.title)

    def _offered_day(self, session: BookingSession, wanted: dt.time) -> dt.date | None:
        for value in session.detail.get("offered", []):
            when = dt.datetime.fromisoformat(value).astimezone(self.tz)
            if when.time() == wanted:
                return when.date()
        return None

    def _ask(self, session: BookingSession, template: str, *, offered: list[dt.datetime] | None = None, **values: Any) -> BookingReply:
        if session.exchanges >= MAX_QUESTIONS:
            raise _HandOver(f"not resolved in {MAX_QUESTIONS} exchanges")
        detail = dict(session.detail)
        if offered is not None:
            detail["offered"] = [o.isoformat() for o in offered]
        self._save(session, exchanges=session.exchanges + 1, detail=detail, status=SessionStatus.COLLECTING)
        return BookingReply(ANSWER, text(template, **values), detail={"crm": template, "session": session.pk},
                            sources=["crm:book_times"] if offered else [])

    def _propose(self, session: BookingSession, service: CrmService, start: dt.datetime) -> BookingReply:
        day = start.astimezone(self.tz).date()
        self._save(session, status=SessionStatus.PROPOSED, slot_at=start, day=day,
                   detail={**session.detail, "price": _price(service), "length": _length(service.seance_length)})
        if session.kind == SessionKind.RESCHEDULE:
            old = self._local(dt.datetime.fromisoformat(session.detail["old_at"]))
            reply = text("propose_reschedule", service=service.title.lower(), old_day=self._day_phrase(old.date()),
                         old_time=old.strftime("%H:%M"), day=self._day_phrase(day), time=start.astimezone(self.tz).strftime("%H:%M"),
                         master=self._master(session), rule=self._cancel_rule())
        else:
            reply = text("propose", service=service.title.lower(), day=self._day_phrase(day),
                         time=start.astimezone(self.tz).strftime("%H:%M"),
                         master=self._master(session), price=_price(service), length=_length(service.seance_length))
        return BookingReply(ANSWER, reply, detail={"crm": "proposed", "session": session.pk}, sources=["crm:book_times"])

    # --- the write (exactly once) ----------------------------------------------------------
    def _confirm(self, session: BookingSession) -> BookingReply:
        from imperium.core.policy import action_spec, policy_execute

        action = "crm.cancel" if session.kind == SessionKind.CANCEL else "crm.book"
        if action_spec(action).risk != "low":
            raise _HandOver(f"{action} needs a verification")
        lease = self.now + dt.timedelta(seconds=settings.CRM_WRITE_LEASE_SECONDS)
        claimed = BookingSession.objects.filter(pk=session.pk, status=SessionStatus.PROPOSED).update(
            status=SessionStatus.BOOKING, booking_turn=self.turn_key, booking_lease_until=lease, updated_at=self.now)
        if claimed != 1:  # another turn took it a moment ago
            return BookingReply(ANSWER, text("in_progress"), detail={"crm": "in_progress", "session": session.pk})
        session.refresh_from_db()
        outcome = policy_execute(action, Actor.system("bot"), {"tenant": self.tenant.slug, "session_id": session.pk, "recover": False},
                                 tenant=self.tenant, reason="the customer confirmed in WhatsApp")
        return self._after_write(session, outcome.result)

    def _resume_write(self, session: BookingSession) -> BookingReply:
        """A session left BOOKING: by this very turn before a crash, or by a turn whose lease ran out."""
        from imperium.core.policy import policy_execute

        mine = session.booking_turn == self.turn_key
        lease_over = session.booking_lease_until is None or session.booking_lease_until <= self.now
        if not mine and not lease_over:
            return BookingReply(ANSWER, text("in_progress"), detail={"crm": "in_progress", "session": session.pk})
        lease = self.now + dt.timedelta(seconds=settings.CRM_WRITE_LEASE_SECONDS)
        if BookingSession.objects.filter(pk=session.pk, status=SessionStatus.BOOKING, booking_turn=session.booking_turn).update(
                booking_turn=self.turn_key, booking_lease_until=lease, updated_at=self.now) != 1:
            return BookingReply(ANSWER, text("in_progress"), detail={"crm": "in_progress", "session": session.pk})
        session.refresh_from_db()
        action = "crm.cancel" if session.kind == SessionKind.CANCEL else "crm.book"
        outcome = policy_execute(action, Actor.system("bot"), {"tenant": self.tenant.slug, "session_id": session.pk, "recover": True},
                                 tenant=self.tenant, reason="resuming an interrupted write")
        return self._after_write(session, outcome.result)

    def _after_write(self, session: BookingSession, result: dict[str, Any]) -> BookingReply:
        session.refresh_from_db()
        status = result.get("status")
        if status == "done":
            return self._done_reply(session)
        if status == "taken":
            service = next((s for s in self.services if s.crm_id == session.service_id), None)
            if service is None or session.slot_at is None:
                raise _HandOver("the slot was taken")
            day = self._local(session.slot_at).date()
            cache.delete(_times_key(self.tenant.pk, session.staff_id or 0, day, service.crm_id))
            seances = self.times(session.staff_id or 0, day, service.crm_id)
            starts = [s for s in (self._seance_start(x) for x in seances) if s and s > self.now]
            alternatives = self._nearest(starts, session.slot_at) or self._next_days(session.staff_id or 0, service, day)
            if not alternatives:
                raise _HandOver("the slot was taken and nothing else is free")
            self._save(session, status=SessionStatus.COLLECTING, detail={**session.detail, "time": None})
            return self._ask(session, "taken", day=self._day_phrase(day), time=self._local(session.slot_at).strftime("%H:%M"),
                             master=self._master(session), alternatives=self._list(alternatives), offered=alternatives)
        raise _HandOver(f"CRM write failed: {result.get('error', status)}"[:300], reason="dependency_down")

    def _done_reply(self, session: BookingSession) -> BookingReply:
        when = self._local(session.slot_at) if session.slot_at else None
        values = {"service": session.service_title.lower(), "day": self._day_phrase(when.date()) if when else "",
                  "time": when.strftime("%H:%M") if when else "", "master": self._master(session),
                  "record_id": session.new_record_id or session.record_id}
        names = {SessionKind.BOOK: "booked", SessionKind.CANCEL: "cancelled", SessionKind.RESCHEDULE: "rescheduled"}
        name = names[SessionKind(session.kind)]
        return BookingReply(ANSWER, text(name, **values), detail={"crm": name, "session": session.pk, "record_id": values["record_id"]},
                            sources=[f"crm:record:{values['record_id']}"])

    # --- the customer's own records (cancel / reschedule) --------------------------------
    def _own_record(self, session: BookingSession, request: parsing.Request) -> BookingReply:
        record = selectors.records_of_customer(self.tenant, self.customer.key, upcoming_after=self.now).first()
        if record is None:
            if _QUESTION.search(parsing.prepared(self.message)):
                # «Как отменить запись?» asks about the rule, not for an action: the knowledge answers it.
                self._close(session, SessionStatus.EXPIRED)
                return None  # type: ignore[return-value]
            raise _HandOver("no upcoming record found for the customer's phone")
        detail = {**session.detail, "old_at": record.starts_at.isoformat()}
        self._save(session, record_id=record.record_id, service_id=record.service_id, service_title=record.service_title,
                   staff_id=record.staff_id if session.kind == SessionKind.RESCHEDULE else None, staff_name=record.staff_name,
                   slot_at=record.starts_at if session.kind == SessionKind.CANCEL else None, detail=detail)
        local = self._local(record.starts_at)
        if session.kind == SessionKind.CANCEL:
            self._save(session, status=SessionStatus.PROPOSED)
            return BookingReply(ANSWER, text("propose_cancel", service=record.service_title.lower(), day=self._day_phrase(local.date()),
                                             time=local.strftime("%H:%M"), master=self._master(session), rule=self._cancel_rule()),
                                detail={"crm": "propose_cancel", "session": session.pk})
        if request.day or request.time:
            self._merge(session, request)
            return self._collect_reschedule(session)
        return self._ask(session, "ask_reschedule_when", service=record.service_title.lower(), old_day=self._day_phrase(local.date()),
                         old_time=local.strftime("%H:%M"))

    def _collect_reschedule(self, session: BookingSession) -> BookingReply:
        return self._collect(session)

    def _cancel_rule(self) -> str:
        rule = cancellation_rule(self.tenant)
        return f" Обратите внимание: {rule}" if rule else ""

    # --- helpers -------------------------------------------------------------------------
    def _visit_answer(self, session: BookingSession | None) -> BookingReply | None:
        """A rating after a thank-you, or the answer to a day-before reminder («да» / «отменить»)."""
        if session is not None:
            return None
        from crm import visits

        reply = visits.visit_answer(tenant=self.tenant, customer_key=self.customer.key, message=self.message, now=self.now,
                                    turn_key=self.turn_key)
        if reply is not None:
            return reply
        folded = parsing.prepared(self.message)
        answer = parsing.answer_of(self.message)
        wants_cancel = bool(re.search(r"отмен|не\s+при(ду|йду)|не\s+смогу", folded)) and len(folded.split()) <= 6
        if answer is None and not wants_cancel:
            return None
        record = visits.record_awaiting_answer(tenant=self.tenant, customer_key=self.customer.key, now=self.now)
        if record is None:
            return None
        if answer == "yes" and not wants_cancel:
            CrmRecord.objects.filter(pk=record.pk).update(confirmed_by_customer=True, updated_at=self.now)
            return BookingReply(ANSWER, text("visit_confirmed"), detail={"crm": "visit_confirmed", "record_id": record.record_id})
        if self.connection.status != ConnectionStatus.ACTIVE:
            return self._hand_over(None, "cancel after a reminder, CRM connection broken", reason="dependency_down")
        session = self._new_session(SessionKind.CANCEL)
        self._save(session, record_id=record.record_id, service_id=record.service_id, service_title=record.service_title,
                   staff_name=record.staff_name, slot_at=record.starts_at, status=SessionStatus.PROPOSED)
        try:
            return self._confirm(session)  # the reminder asked «да» or «отменить»: the answer is the confirmation
        except _HandOver as handover:
            return self._hand_over(session, handover.why, reason=handover.reason)

    def _seance_start(self, seance: dict[str, Any]) -> dt.datetime | None:
        try:
            start = dt.datetime.fromisoformat(str(seance.get("datetime")))
        except ValueError:
            return None
        return start if start.tzinfo else start.replace(tzinfo=self.tz)

    def _nearest(self, starts: list[dt.datetime], wanted: dt.datetime, count: int = 3) -> list[dt.datetime]:
        return sorted(sorted(starts, key=lambda s: abs((s - wanted).total_seconds()))[:count])

    def _next_days(self, staff_id: int, service: CrmService, after: dt.date, window: tuple[int, int] | None = None) -> list[dt.datetime]:
        for day in self.free_days(staff_id, service.crm_id):
            if day <= after:
                continue
            starts = [s for s in (self._seance_start(x) for x in self.times(staff_id, day, service.crm_id)) if s and s > self.now]
            if window is not None:
                starts = [s for s in starts if window[0] <= s.astimezone(self.tz).hour < window[1]]
            if starts:
                return starts[:3]
        return []

    def _list(self, starts: list[dt.datetime]) -> str:
        days = {s.astimezone(self.tz).date() for s in starts}
        if len(days) == 1:
            day = next(iter(days))
            prefix = "" if len(starts) and day == self.today else f"{self._day_phrase(day)} "
            return prefix + ", ".join(s.astimezone(self.tz).strftime("%H:%M") for s in starts)
        return ", ".join(f"{self._day_phrase(s.astimezone(self.tz).date())} в {s.astimezone(self.tz).strftime('%H:%M')}" for s in starts)

    def _local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.tz)

    def _day_phrase(self, day: dt.date) -> str:
        return day_phrase(day, self.today)

    def _master(self, session: BookingSession) -> str:
        return f" к {session.staff_name}" if session.staff_name else ""


def day_phrase(day: dt.date, today: dt.date) -> str:
    """«завтра, 7 декабря», «в субботу, 12 декабря», «15 декабря»."""
    date = f"{day.day} {MONTHS_GENITIVE[day.month - 1]}"
    delta = (day - today).days
    if delta == 0:
        return f"сегодня, {date}"
    if delta == 1:
        return f"завтра, {date}"
    if delta == 2:
        return f"послезавтра, {date}"
    if 0 < delta < 7:
        return f"{WEEKDAYS_ACCUSATIVE[day.weekday()]}, {date}"
    return date


def cancellation_rule(tenant: Any) -> str:
    """The salon's cancellation rule from its stable KB (an item whose question is about cancelling or
    moving a visit), or ''."""
    try:
        from knowledge.selectors import kb_items_for, kb_version_stable

        version = kb_version_stable(tenant)  # what customers are served: never an unreviewed draft
        if version is None:
            return ""
        for item in kb_items_for(version)[:500]:
            question = parsing.prepared(getattr(item, "question", "") or "")
            if re.search(r"отмен|перенос|перенест", question):
                return str(getattr(item, "answer", "") or "").strip()[:400]
    except Exception:  # the rule is a courtesy: never block a cancellation on it
        logger.exception("cancellation rule lookup failed")
    return ""


def _times_key(tenant_id: int, staff_id: int, day: dt.date, service_id: int) -> str:
    return crm_cache_key(tenant_id, "times", staff_id, day.isoformat(), service_id)


def _cap(value: str) -> str:
    return value[:1].upper() + value[1:]


def _spread(starts: list[dt.datetime], count: int) -> list[dt.datetime]:
    if len(starts) <= count:
        return starts
    step = (len(starts) - 1) / (count - 1)
    return [starts[round(i * step)] for i in range(count)]


def _price(service: CrmService) -> str:
    low, high = service.price_min, service.price_max
    if low is None and high is None:
        return "цена по прайсу"
    if low is None or high is None or low == high:
        return f"{_money(low if low is not None else high)} ₸"
    return f"{_money(low)}–{_money(high)} ₸"


def _money(value: Any) -> str:
    return f"{int(value):,}".replace(",", "\u00a0")


def _length(seconds: int) -> str:
    minutes = int(seconds or 0) // 60
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} ч {rest} мин"
    if hours:
        return f"{hours} ч"
    return f"{rest} мин"


# --- the write itself (policy executors call these) --------------------------------------
def booking_write(*, session_id: int, recover: bool) -> dict[str, Any]:
    """Write a claimed BOOKING session to the CRM exactly once. Returns {"status": done | taken |
    unclear | failed, ...}; the session is DONE with its record on success, PROPOSED→COLLECTING
    handled by the caller on `taken`.

    `recover`: a previous attempt may have reached the CRM — look the record up by phone and
    time first. An unclear outcome of `book_record` is looked up the same way before any retry."""
    session = BookingSession.objects.select_related("tenant").get(pk=session_id)
    if session.status != SessionStatus.BOOKING:
        return {"status": "done" if session.status == SessionStatus.DONE else session.status}
    connection = CrmConnection.objects.for_tenant(session.tenant).get()
    client = services.crm_client_for(connection)
    if session.kind == SessionKind.CANCEL:
        return _cancel_write(session, client)
    if recover or session.attempts:
        found = _lookup(session, client)
        if found is not None:
            return _booked(session, found)
    appointment = {"id": 0, "services": [session.service_id], "staff_id": session.staff_id or 0,
                   "datetime": session.slot_at.isoformat()}
    try:
        client.book_check(appointments=[appointment])
    except CrmError as exc:
        if exc.kind == "taken":
            return {"status": "taken"}
        return {"status": "failed", "error": exc.message}
    for _attempt in range(2):
        BookingSession.objects.filter(pk=session.pk).update(attempts=session.attempts + 1)
        session.attempts += 1
        try:
            created = client.book_record(phone=session.customer_phone, fullname=session.customer_name or "Клиент WhatsApp",
                                         appointments=[appointment], comment="Запись через WhatsApp-бота")
        except CrmError as exc:
            if exc.kind == "taken":
                return {"status": "taken"}
            if not exc.unclear:
                return {"status": "failed", "error": exc.message}
            try:
                found = _lookup(session, client)
            except CrmError as lookup_exc:
                return {"status": "unclear", "error": f"{exc.message}; look-up failed: {lookup_exc.message}"}
            if found is not None:
                return _booked(session, found)
            continue  # the CRM answered and has no such record: writing again is safe
        record_id = int(created[0]["record_id"]) if created and created[0].get("record_id") else None
        if record_id is None:
            return {"status": "unclear", "error": "book_record answered without a record id"}
        return _booked(session, {"id": record_id, "record_hash": created[0].get("record_hash", "")})
    return {"status": "unclear", "error": "book_record failed twice"}


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _lookup(session: BookingSession, client: CrmClient) -> dict[str, Any] | None:
    """The record for this session's phone and time, if the CRM has one (`GET records`)."""
    tz = ZoneInfo(session.tenant.timezone)
    day = session.slot_at.astimezone(tz).date().isoformat()
    phone = _digits(session.customer_phone)
    page = 1
    while True:
        rows = client.records(start_date=day, end_date=day, page=page, count=200)
        for row in rows:
            if row.get("deleted"):
                continue
            try:
                when = dt.datetime.fromisoformat(str(row.get("datetime")))
            except ValueError:
                continue
            if _digits(str((row.get("client") or {}).get("phone") or "")) == phone and when == session.slot_at:
                return row
        if len(rows) < 200:
            return None
        page += 1


def _booked(session: BookingSession, record: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    record_id = int(record["id"])
    staff_name = session.staff_name or str((record.get("staff") or {}).get("name") or "")
    old_record = session.record_id if session.kind == SessionKind.RESCHEDULE else None
    fields: dict[str, Any] = {"status": SessionStatus.DONE, "updated_at": now, "booking_lease_until": None, "staff_name": staff_name}
    if session.kind == SessionKind.RESCHEDULE:
        fields["new_record_id"] = record_id
    else:
        fields["record_id"] = record_id
    BookingSession.objects.filter(pk=session.pk, status=SessionStatus.BOOKING).update(**fields)
    services.crm_record_upsert(tenant=session.tenant, record_id=record_id, customer_key=session.customer_key,
                               customer_phone=session.customer_phone, customer_name=session.customer_name, starts_at=session.slot_at,
                               source=RecordSource.BOT, service_id=session.service_id, service_title=session.service_title,
                               staff_id=session.staff_id or (record.get("staff_id") or None), staff_name=staff_name,
                               conversation_id=session.conversation_id)
    tz = ZoneInfo(session.tenant.timezone)
    local = session.slot_at.astimezone(tz)
    cache.delete(_times_key(session.tenant_id, session.staff_id or 0, local.date(), session.service_id or 0))
    old_kept = _cancel_old(session, old_record) if old_record else ""
    from incidents.alerts import tenant_notify

    card = "manager_reschedule_card" if old_record else "manager_card"
    values = {"service": session.service_title, "day": day_phrase(local.date(), timezone.now().astimezone(tz).date()),
              "time": local.strftime("%H:%M"), "master": f" к {staff_name}" if staff_name else "", "customer": session.customer_name or "—",
              "phone": mask_phone(session.customer_phone), "record_id": record_id}
    tenant_notify(tenant=session.tenant, key=f"crm-booked:{session.pk}", title="CRM booking", text=text(card, **values))
    if old_kept:
        # The customer was told the visit moved: a manager must remove the old record by hand, or the
        # salon keeps both slots (our copy is already cancelled, so no reminder goes out for the old time).
        tenant_notify(tenant=session.tenant, key=f"crm-old-record-kept:{session.pk}", title="CRM reschedule: old record kept",
                      severity="warning", text=text("manager_reschedule_old_kept", old_record_id=old_record, error=old_kept, **values))
    return {"status": "done", "record_id": record_id}


def _cancel_old(session: BookingSession, record_id: int) -> str:
    """Delete the record a reschedule replaced; "" when gone, else the CRM's error (the caller tells the managers).
    Our copy is marked cancelled either way: the customer moved the visit and gets no reminder for the old time."""
    connection = CrmConnection.objects.for_tenant(session.tenant).get()
    error = ""
    try:
        services.crm_client_for(connection).record_delete(record_id=record_id)
    except CrmError as exc:
        if exc.status != 404:  # 404: already gone
            logger.warning("rescheduled: the old record %s could not be deleted: %s", record_id, exc.message)
            error = exc.message or f"HTTP {exc.status}"
    services.crm_record_mark_cancelled(tenant=session.tenant, record_id=record_id)
    return error


def _cancel_write(session: BookingSession, client: CrmClient) -> dict[str, Any]:
    record = CrmRecord.objects.for_tenant(session.tenant).filter(record_id=session.record_id).first()
    if record is None or _digits(record.customer_phone) != _digits(session.customer_phone):
        return {"status": "failed", "error": "not the customer's own record"}
    try:
        client.record_delete(record_id=record.record_id)
    except CrmError as exc:
        if exc.status != 404:  # 404: already gone (a previous attempt went through)
            return {"status": "unclear" if exc.unclear else "failed", "error": exc.message}
    now = timezone.now()
    BookingSession.objects.filter(pk=session.pk, status=SessionStatus.BOOKING).update(status=SessionStatus.DONE, updated_at=now,
                                                                                       booking_lease_until=None)
    CrmRecord.objects.filter(pk=record.pk).update(status=RecordStatus.CANCELLED, updated_at=now)
    from incidents.alerts import tenant_notify

    tz = ZoneInfo(session.tenant.timezone)
    local = record.starts_at.astimezone(tz)
    tenant_notify(tenant=session.tenant, key=f"crm-cancelled:{session.pk}", title="CRM cancellation",
                  text=text("manager_cancel_card", service=record.service_title, day=day_phrase(local.date(), now.astimezone(tz).date()),
                            time=local.strftime("%H:%M"), customer=session.customer_name or "—", phone=mask_phone(session.customer_phone),
                            record_id=record.record_id))
    return {"status": "done", "record_id": record.record_id}
