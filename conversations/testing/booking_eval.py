"""Scripted booking conversations played through the pipeline (webhook → turn → CRM) against the
fake CRM: docs/EVAL.md "Booking through the CRM". Run with

    .venv/bin/python -m pytest -q conversations/tests/test_booking_eval.py -s

Each case is what a customer writes, message by message (the bot answers in between), and what
should come out: one record with the expected service, master (when named) and local time, or a
hand-over to a manager with the collected details. Outcomes:

- booked_ok: exactly one record for the customer's phone, matching the expectation;
- handed_over: no record, an escalation whose detail carries what was collected;
- wrong: a record that does not match, more than one record, or a record where a hand-over was expected;
- declined_ok: the customer said «нет» to the proposal and nothing was booked;
- unresolved: anything else (the bot still asking).

The clock is Sunday 6 December 2026, 10:00 in Almaty (UTC+5); the fake's masters: Айгерим (11,
nails, off on Sundays), Дана (12, nails and brows, off on Mondays), Мадина (13, hair and brows);
the salon opens 10:00–20:00.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
MANI, MANI_PLAIN, PEDI, CUT, COLOR, BROWS = 101, 102, 103, 104, 105, 106
AIGERIM, DANA, MADINA = 11, 12, 13


@dataclass
class Case:
    id: str
    messages: list[str]
    outcome: str  # booked | handover | declined
    service: int | None = None
    local: str = ""  # "2026-12-07 15:00"
    staff: int | None = None
    setup: list[dict[str, Any]] = field(default_factory=list)  # fake.book_directly kwargs / {"fail": n}


def _b(case_id: str, messages: list[str], service: int, local: str, staff: int | None = None, **kw: Any) -> Case:
    return Case(case_id, messages, "booked", service, local, staff, **kw)


def _h(case_id: str, messages: list[str], **kw: Any) -> Case:
    return Case(case_id, messages, "handover", **kw)


CASES: list[Case] = [
    # exact requests
    _b("exact-1", ["Запишите меня на маникюр с покрытием завтра в 15:00 к Айгерим", "да"], MANI, "2026-12-07 15:00", AIGERIM),
    _b("exact-2", ["Здравствуйте! Хочу на педикюр завтра в 12:00", "Да, записывайте"], PEDI, "2026-12-07 12:00"),
    _b("exact-3", ["можно на стрижку 9 декабря в 11.30?", "да"], CUT, "2026-12-09 11:30", None),
    _b("exact-4", ["Запишите на окрашивание волос во вторник в 10:00", "ок"], COLOR, "2026-12-08 10:00"),
    _b("exact-5", ["запишите на коррекцию бровей завтра на 17:00", "давайте"], BROWS, "2026-12-07 17:00"),
    _b("exact-6", ["Запишите на маникюр без покрытия 10.12 в 14:00", "да"], MANI_PLAIN, "2026-12-10 14:00"),
    _b("exact-7", ["хочу записаться на маникюр с покрытием в пятницу в 16:00 к Дане", "да, подтверждаю"], MANI, "2026-12-11 16:00", DANA),
    _b("exact-8", ["Добрый день. Запишите пожалуйста на педикюр в среду в 13:30", "Да"], PEDI, "2026-12-09 13:30"),
    _b("exact-9", ["Можно записаться на стрижку к Мадине завтра в 18:00?", "да"], CUT, "2026-12-07 18:00", MADINA),
    _b("exact-10", ["Запишите на брови 8 декабря в 12:30", "хорошо"], BROWS, "2026-12-08 12:30"),
    # typos
    _b("typo-1", ["запишите на маникбр завтро в 15:00", "да"], MANI, "2026-12-07 15:00"),
    _b("typo-2", ["хочу на педикур послезавтро в 11:00", "да"], PEDI, "2026-12-08 11:00"),
    _b("typo-3", ["запишыте на стрижкку в субботу в 12:00", "да"], CUT, "2026-12-12 12:00"),
    _b("typo-4", ["можна на маникюр с пакрытием завтра в 16:00", "да"], MANI, "2026-12-07 16:00"),
    _b("typo-5", ["запишите на педикюр в четверк в 15:00", "да"], PEDI, "2026-12-10 15:00"),
    _b("typo-6", ["Запишите к Айгериим на маникюр завтра в 11:00", "да"], MANI, "2026-12-07 11:00", AIGERIM),
    # relative days
    _b("rel-1", ["Запишите на маникюр послезавтра в 10:00", "да"], MANI, "2026-12-08 10:00"),
    _b("rel-2", ["на педикюр сегодня в 17:00 можно?", "да"], PEDI, "2026-12-06 17:00"),
    _b("rel-3", ["Запишите на стрижку в субботу в 15:00", "да"], CUT, "2026-12-12 15:00"),
    _b("rel-4", ["в понедельник в 10:30 на маникюр с покрытием", "да"], MANI, "2026-12-07 10:30"),
    _b("rel-5", ["запишите на окрашивание в воскресенье в 11:00", "да"], COLOR, "2026-12-13 11:00"),
    _b("rel-6", ["хочу на брови в пятницу в 19:00", "да"], BROWS, "2026-12-11 19:00"),
    _b("rel-7", ["Запишите на педикюр 15 декабря в 14:00", "да"], PEDI, "2026-12-15 14:00"),
    _b("rel-8", ["на маникюр без покрытия в субботу в 10:00", "да"], MANI_PLAIN, "2026-12-12 10:00"),
    # windows: the bot lists free times, the customer picks one
    _b("win-1", ["есть окошко завтра после обеда на маникюр?", "давайте в 14:00", "да"], MANI, "2026-12-07 14:00"),
    _b("win-2", ["хочу на педикюр послезавтра после 6", "в 18:00", "да"], PEDI, "2026-12-08 18:00"),
    _b("win-3", ["можно на стрижку в субботу утром?", "в 10:00", "да"], CUT, "2026-12-12 10:00"),
    _b("win-4", ["запишите на маникюр завтра вечером", "давайте в 18:30", "да"], MANI, "2026-12-07 18:30"),
    _b("win-5", ["на брови в среду после 5 есть время?", "17:30", "да"], BROWS, "2026-12-09 17:30"),
    _b("win-6", ["Есть свободное время на окрашивание завтра до 12?", "давайте в 10:00", "да"], COLOR, "2026-12-07 10:00"),
    _b("win-7", ["хочу на маникюр к Дане в субботу после обеда", "в 15:00", "да"], MANI, "2026-12-12 15:00", DANA),
    # masters by first name
    _b("master-1", ["Запишите к Айгерим на педикюр в среду в 12:00", "да"], PEDI, "2026-12-09 12:00", AIGERIM),
    _b("master-2", ["хочу к Дане на маникюр во вторник в 11:00", "да"], MANI, "2026-12-08 11:00", DANA),
    _b("master-3", ["Мадина свободна завтра в 16:00? на стрижку", "да"], CUT, "2026-12-07 16:00", MADINA),
    _b("master-4", ["к Айгериму на маникюр с покрытием послезавтра в 17:00", "да"], MANI, "2026-12-08 17:00", AIGERIM),
    _b("master-5", ["запишите на брови к Мадине в четверг в 13:00", "да"], BROWS, "2026-12-10 13:00", MADINA),
    _b("master-6", ["можно к Дане на педикюр в субботу в 14:00", "да"], PEDI, "2026-12-12 14:00", DANA),
    # transliteration
    _b("translit-1", ["zapishite na manikur zavtra v 15:00", "da"], MANI, "2026-12-07 15:00"),
    _b("translit-2", ["hochu na pedikur poslezavtra v 12:00", "da"], PEDI, "2026-12-08 12:00"),
    _b("translit-3", ["zapishite k Aigerim na manikur v sredu v 16:00", "da"], MANI, "2026-12-09 16:00", AIGERIM),
    _b("translit-4", ["mozhno na strizhku v subbotu v 11:00", "ok"], CUT, "2026-12-12 11:00"),
    _b("translit-5", ["zapishite k Dane na manikur v pyatnicu v 12:00", "da"], MANI, "2026-12-11 12:00", DANA),
    # two steps: service or day given later
    _b("steps-1", ["Хочу записаться на завтра в 15:00", "маникюр с покрытием", "да"], MANI, "2026-12-07 15:00"),
    _b("steps-2", ["Запишите меня на педикюр", "завтра в 13:00", "да"], PEDI, "2026-12-07 13:00"),
    _b("steps-3", ["можно записаться к Мадине?", "на стрижку в субботу в 16:00", "да"], CUT, "2026-12-12 16:00", MADINA),
    _b("steps-4", ["запишите на маникюр", "послезавтра в 12:00", "да"], MANI, "2026-12-08 12:00"),
    # taken slots: the customer takes one of the alternatives
    _b("taken-1", ["Запишите на маникюр завтра в 15:00 к Айгерим", "давайте в 16:30", "да"], MANI, "2026-12-07 16:30", AIGERIM,
       setup=[{"staff_id": AIGERIM, "service_id": MANI, "local": "2026-12-07 15:00"}]),
    _b("taken-2", ["на стрижку к Мадине в субботу в 12:00", "в 13:00", "да"], CUT, "2026-12-12 13:00", MADINA,
       setup=[{"staff_id": MADINA, "service_id": CUT, "local": "2026-12-12 12:00"}]),
    _b("taken-3", ["хочу на брови к Дане в пятницу в 11:00", "в 11:30", "да"], BROWS, "2026-12-11 11:30", DANA,
       setup=[{"staff_id": DANA, "service_id": BROWS, "local": "2026-12-11 11:00"}]),
    # change of mind before «да»
    _b("change-1", ["Запишите на маникюр завтра в 15:00", "а можно в 16:00?", "да"], MANI, "2026-12-07 16:00"),
    _b("change-2", ["на педикюр в среду в 12:00", "лучше в четверг в 12:00", "да"], PEDI, "2026-12-10 12:00"),
    # hand-overs
    _h("group-1", ["Нас двое с подругой, запишите на маникюр завтра в 15:00"]),
    _h("group-2", ["можно на двоих педикюр в субботу?"]),
    _h("group-3", ["запишите меня с дочкой на стрижку в субботу в 12:00"]),
    _h("complaint-1", ["запишите на маникюр завтра", "в прошлый раз мне испортили ногти, я недовольна"]),
    _h("unknown-1", ["запишите меня на массаж завтра в 15:00", "массаж спины", "ну массаж"]),
    _h("unknown-2", ["хочу записаться", "не знаю, что-нибудь", "сами решите"]),
    _h("down-1", ["Запишите на маникюр завтра в 15:00"], setup=[{"fail": 20}]),
    _h("down-2", ["есть окошко в субботу на стрижку?"], setup=[{"fail": 20}]),
    _h("down-3", ["запишите к Дане на педикюр в пятницу в 12:00", "да"], setup=[{"fail_after": 3, "times": 20}]),
    _h("dayoff-1", ["Запишите к Айгерим на маникюр сегодня в 15:00", "нет", "ну не знаю", "другое"]),
    Case("declined-1", ["Запишите на маникюр завтра в 15:00", "нет"], "declined"),
    Case("declined-2", ["хочу на педикюр в субботу в 12:00", "нет, не надо"], "declined"),
    # nothing free late in the day: a question and an answer, then the customer gives up
    _h("closed-1", ["запишите на окрашивание волос завтра в 19:00", "а позже?", "ещё позже"]),
]


def play(case: Case, *, tenant: Any, fake: Any, webhook: Any, inline: Any, phone: str) -> dict[str, Any]:
    """Play one case through the webhook and the pipeline; returns its outcome."""
    import time_machine

    from conversations.models import Escalation, SandboxMessage
    from conversations.services import turn_run_due
    from conversations.tests.helpers import conversation_of

    replies: list[str] = []
    with time_machine.travel(T0, tick=False) as traveller:
        for item in case.setup:
            if "fail" in item:
                fake.fail(503, times=item["fail"])
            elif "staff_id" in item:
                local = datetime.strptime(item["local"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC) - timedelta(hours=5)
                fake.book_directly(staff_id=item["staff_id"], service_id=item["service_id"], start=local)
        for index, message in enumerate(case.messages):
            for item in case.setup:
                if "fail_after" in item and index == 1:
                    fake.fail(503, times=item["times"])
            before = set(SandboxMessage.objects.values_list("pk", flat=True))
            assert webhook.post(tenant, text=message, **{"from": phone}).status_code == 200
            with inline():
                turn_run_due(conversation_id=conversation_of(tenant, phone).pk)
            replies += [m.text for m in SandboxMessage.objects.exclude(pk__in=before).order_by("pk")]
            traveller.shift(30)
            conversation = conversation_of(tenant, phone)
            if conversation.state != "bot":
                break
    records = [r for r in fake.records if r.phone == phone]
    escalation = Escalation.objects.filter(conversation__customer_key=conversation_of(tenant, phone).customer_key,
                                           tenant=tenant).first()
    expected_start = (datetime.strptime(case.local, "%Y-%m-%d %H:%M").replace(tzinfo=UTC) - timedelta(hours=5)) if case.local else None
    if records:
        record = records[0]
        ok = (case.outcome == "booked" and len(records) == 1 and record.service_ids == [case.service] and record.start == expected_start
              and (case.staff is None or record.staff_id == case.staff))
        outcome = "booked_ok" if ok else "wrong"
    elif escalation is not None and escalation.detail.get("crm") in ("handed_over", "error") or (
            escalation is not None and escalation.reason in ("complaint", "booking", "dependency_down")):
        outcome = "handed_over"
    elif case.outcome == "declined" and any("не записываю" in r for r in replies):
        outcome = "declined_ok"
    else:
        outcome = "unresolved"
    details = bool(escalation and (escalation.detail.get("collected") or escalation.detail.get("message")))
    return {"id": case.id, "expected": case.outcome, "outcome": outcome, "records": len(records), "details": details,
            "replies": replies, "escalation": escalation.detail if escalation else None}


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(r["outcome"] for r in results)
    total = len(results)
    expected_booked = sum(1 for r in results if r["expected"] == "booked")
    return {
        "cases": total, "expected_booked": expected_booked, "counts": dict(counts),
        "booked_ok_share": round(counts["booked_ok"] / total, 3),
        "booked_ok_of_bookable": round(counts["booked_ok"] / expected_booked, 3) if expected_booked else 0.0,
        "handed_over_share": round(counts["handed_over"] / total, 3),
        "handed_over_with_details": sum(1 for r in results if r["outcome"] == "handed_over" and r["details"]),
        "wrong": counts["wrong"],
        "one_record_each": all(r["records"] <= 1 for r in results),
    }
