"""Reading a customer's booking message: service, day, time or time window, master, yes/no.

Russian as customers write it in WhatsApp: typos («завтро», «маникбр»), relative days
(«послезавтра», «в субботу»), windows («после 6», «утром», «после обеда»), masters by first
name, and Latin transliteration («zapishite na manikur zavtra v 15»). Pure functions: no
database, no CRM; `crm.booking` feeds them the tenant's service map and masters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from knowledge.text import fold, stem, translit

_WORD = re.compile(r"[a-zа-я0-9']+")

YES = {"да", "ага", "угу", "давайте", "давай", "подтверждаю", "подтверждаем", "записывайте", "запишите", "верно", "конечно",
       "ок", "окей", "ok", "okay", "хорошо", "yes", "da", "го", "идет", "годится", "согласна", "согласен", "подходит", "устраивает",
       "отлично", "супер", "можно", "точно", "ес", "приду", "придем", "буду", "будем"}
NO = {"нет", "неа", "не", "no", "net", "отмена", "передумала", "передумал", "неудобно", "не надо", "не нужно", "не подходит"}
_FILLER = {"да", "пожалуйста", "спасибо", "вас", "меня", "мне", "так", "и", "все", "всё", "тогда", "ну", "а", "очень", "конечно",
           "в", "этот", "это", "раз", "давайте"}

WEEKDAYS = {"понедельник": 0, "пн": 0, "вторник": 1, "вт": 1, "среда": 2, "среду": 2, "ср": 2, "четверг": 3, "чт": 3,
            "пятница": 4, "пятницу": 4, "пт": 4, "суббота": 5, "субботу": 5, "сб": 5, "воскресенье": 6, "вс": 6}
MONTHS = {"январ": 1, "феврал": 2, "март": 3, "апрел": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "август": 8, "сентябр": 9,
          "октябр": 10, "ноябр": 11, "декабр": 12}
RELATIVE = {"сегодня": 0, "завтра": 1, "послезавтра": 2}

_GROUP = re.compile(r"нас\s+(двое|трое|четверо|2|3|4)|вдво[её]м|втро[её]м|на\s+двоих|на\s+троих|для\s+двоих|для\s+троих|"
                    r"с\s+(подруг|дочк|дочер|сестр|мамой|мамо[йю]|сыном|мужем)|двоих|троих|компани[ейя]\s|группо[йю]")
_CANCEL = re.compile(r"отмен(и|ите|ить|яю|а)\b|отменить|не\s+(смогу|приду|получится)\s+(прийти|придти)?|cancel")
_RESCHEDULE = re.compile(r"перенес(и|ите|ти)\b|перенест|перезапиш|другое\s+время|поменя\w+\s+время|сдвин|reschedule")
_STOP = re.compile(r"^\s*(стоп|stop|отписаться|отпишите|не\s+присылайте|хватит\s+присылать)\s*[.!]*\s*$")
WHEN = re.compile(r"\b(сегодня|завтр\w*|послезавтр\w*|понедельник|вторник|сред[уа]|четверг|пятниц[уа]|суббот[уа]|воскресенье|"
                  r"утром|вечером|после\s+обеда|\d{1,2}[:.]\d{2}|в\s+\d{1,2}\b|после\s+\d|\d{1,2}\s+(?:декабр|январ|феврал)\w*)")
_NEAREST = re.compile(r"ближайш|как\s+можно\s+скорее|поскорее|побыстрее|в\s+любой\s+день")

# Windows in local hours: (from, to).
_WINDOWS = [
    (re.compile(r"после\s+обеда|днем|днём|в\s+обед"), (13, 18)),
    (re.compile(r"утр(ом|а)\b|с\s+утра|пораньше"), (9, 12)),
    (re.compile(r"вечер(ом|а)?\b|попозже"), (17, 22)),
]
_AFTER = re.compile(r"(?:после|позже|не\s+раньше)\s+(\d{1,2})(?:[:.](\d{2}))?")
_BEFORE = re.compile(r"(?:до|раньше|не\s+позже)\s+(\d{1,2})(?:[:.](\d{2}))?(?!\s*(?:января|февраля|марта|апреля|мая|июня|июля|августа|"
                     r"сентября|октября|ноября|декабря|\.\d))")
_CLOCK = re.compile(r"(?<![\d.])(\d{1,2})[:.](\d{2})(?![\d.])")
_HOUR = re.compile(r"(?:\b(?:в|во|на|к|около)\s+)(\d{1,2})(?:\s*(?:час\w*|ч\b))?(?:\s*(утра|дня|вечера))?(?![\d.:])"
                   r"(?!\s*(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|числ))")
_HOUR_SUFFIX = re.compile(r"\b(\d{1,2})\s*(утра|дня|вечера|час\w*)")
_DATE_NUM = re.compile(r"(?<![\d:])(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?(?![\d:])")
_DATE_WORD = re.compile(r"(?<![\d:])(\d{1,2})(?:-?(?:го|е|ое))?\s+([а-я]+)")


@dataclass
class Request:
    """What one message says about a booking. Empty fields: not said."""

    day: dt.date | None = None
    time: dt.time | None = None
    window: tuple[int, int] | None = None  # local hours [from, to)
    nearest: bool = False
    service_ids: list[int] = field(default_factory=list)  # best matches (one = resolved; several = ambiguous)
    service_partial: list[int] = field(default_factory=list)  # services it might mean
    staff_id: int | None = None
    staff_name: str = ""
    group: bool = False
    cancel: bool = False
    reschedule: bool = False

    @property
    def says_anything(self) -> bool:
        return bool(self.day or self.time or self.window or self.service_ids or self.service_partial or self.staff_id or self.nearest)


def prepared(text: str) -> str:
    """Folded text with Latin words transliterated."""
    folded = fold(text)
    return re.sub(r"[a-z']+", lambda m: translit(m.group(0)), folded)


def words_of(text: str) -> list[str]:
    return _WORD.findall(prepared(text))


def _similar(a: str, b: str, cutoff: float = 0.8) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    return SequenceMatcher(None, a, b).ratio() >= cutoff


def _fuzzy_key(word: str, options: dict[str, Any], cutoff: float = 0.8) -> Any:
    if word in options:
        return options[word]
    for key, value in options.items():
        if len(key) >= 5 and _similar(word, key, cutoff):
            return value
    return None


def answer_of(text: str) -> str | None:
    """"yes" / "no" for a short confirmation answer; None when the message says more than that."""
    folded = prepared(text).strip()
    if re.search(r"\bне\s+(надо|нужно|подходит|могу|смогу|устраивает)", folded):
        return "no"
    words = _WORD.findall(folded)
    if not words or len(words) > 6:
        return None
    if any(w in NO for w in words):
        return "no"
    content = [w for w in words if w not in YES and w not in _FILLER]
    if any(w in YES for w in words) and not content:
        return "yes"
    return None


def is_stop(text: str) -> bool:
    return bool(_STOP.match(prepared(text)))


def rating_of(text: str) -> int | None:
    """1–5 when the message is just a rating («5», «4 спасибо», «оценка 3», «5/5»)."""
    folded = prepared(text).strip()
    found = re.fullmatch(r"(?:оценка\s+|ставлю\s+)?([1-5])(?:\s*/\s*5|\s*из\s*5)?\s*[!.)]*\s*(?:спасибо\w*)?[!.)]*", folded)
    return int(found.group(1)) if found else None


def parse_day(text: str, today: dt.date) -> dt.date | None:
    folded = prepared(text)
    for word in _WORD.findall(folded):
        offset = _fuzzy_key(word, RELATIVE, 0.82)
        if offset is not None:
            return today + dt.timedelta(days=offset)
    for word in _WORD.findall(folded):
        weekday = WEEKDAYS.get(word) if len(word) <= 2 else _fuzzy_key(word, {k: v for k, v in WEEKDAYS.items() if len(k) > 2}, 0.8)
        if weekday is not None:
            # «в воскресенье» said on a Sunday means the next one (today is «сегодня»).
            ahead = (weekday - today.weekday()) % 7 or 7
            return today + dt.timedelta(days=ahead + (7 if "следующ" in folded and ahead < 7 else 0))
    for match in _DATE_WORD.finditer(folded):
        month = next((m for prefix, m in MONTHS.items() if match.group(2).startswith(prefix)), None)
        if month:
            return _future_date(today, int(match.group(1)), month)
    for match in _DATE_NUM.finditer(folded):
        day, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            return _future_date(today, day, month)
    number_day = re.search(r"\b(\d{1,2})\s*(?:-?го|числа)\b", folded)
    if number_day:
        day = int(number_day.group(1))
        candidate = _future_date(today, day, today.month)
        return candidate
    return None


def _future_date(today: dt.date, day: int, month: int) -> dt.date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _pm(hour: int, marker: str = "") -> int:
    """Salons work in the day: «в 6» means 18:00, «в 10» means 10:00."""
    if marker in ("дня", "вечера") and hour < 12:
        return hour + 12
    if marker == "утра":
        return hour
    return hour + 12 if 1 <= hour <= 8 else hour


def _without_dates(folded: str) -> str:
    """«10.12 в 14:00»: the date is not a time. A valid day.month not after «в»/«к» is removed."""
    def drop(match: re.Match[str]) -> str:
        before = folded[max(0, match.start() - 3): match.start()]
        day, month = int(match.group(1)), int(match.group(2))
        if re.search(r"\b(в|к|на)\s$", before) or not (1 <= month <= 12 and 1 <= day <= 31):
            return match.group(0)
        return " "
    return _DATE_NUM.sub(drop, folded)


def parse_time(text: str) -> tuple[dt.time | None, tuple[int, int] | None]:
    """(exact time, window) — at most one of them."""
    folded = _without_dates(prepared(text))
    after = _AFTER.search(folded)
    if after:
        return None, (_pm(int(after.group(1))), 24)
    before = _BEFORE.search(folded)
    if before and not _DATE_NUM.search(before.group(0)):
        return None, (0, _pm(int(before.group(1))))
    clock = _CLOCK.search(folded)
    if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60:
        hour = int(clock.group(1))
        return dt.time(_pm(hour) if hour <= 8 else hour, int(clock.group(2))), None
    hour_match = _HOUR.search(folded)
    if hour_match and int(hour_match.group(1)) < 24:
        return dt.time(_pm(int(hour_match.group(1)), hour_match.group(2) or "")), None
    suffix = _HOUR_SUFFIX.search(folded)
    if suffix and int(suffix.group(1)) < 24:
        return dt.time(_pm(int(suffix.group(1)), suffix.group(2) if suffix.group(2) in ("утра", "дня", "вечера") else "")), None
    for pattern, window in _WINDOWS:
        if pattern.search(folded):
            return None, window
    return None, None


_SERVICE_STOP = {"с", "на", "и", "в", "для", "по", "к"}


def _stems(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(prepared(text)) if w not in _SERVICE_STOP and not w.isdigit()]


def match_services(text: str, services: list[Any]) -> tuple[list[int], list[int]]:
    """(best services, partial candidates). `services`: objects with crm_id, title, keywords.

    A phrase (the title or a keyword) matches when each of its words is in the message (by
    stem, typos tolerated); the longest matching phrase wins. Services sharing a word with the
    message but matching no whole phrase are candidates for a clarifying question."""
    said = _stems(text)
    if not said:
        return [], []

    def present(word: str) -> bool:
        return any(s == word or (len(word) >= 4 and (s.startswith(word) or _similar(s, word, 0.78))) for s in said)

    scored: dict[int, int] = {}
    partial: list[int] = []
    for service in services:
        phrases = [service.title, *[k for k in str(service.keywords or "").split(",") if k.strip()]]
        best = 0
        touched = False
        for phrase in phrases:
            phrase_stems = _stems(phrase)
            if not phrase_stems:
                continue
            hits = [present(w) for w in phrase_stems]
            if all(hits):
                best = max(best, len(phrase_stems))
            if any(hits[i] for i, w in enumerate(phrase_stems) if len(w) >= 4):
                touched = True
        if best:
            scored[service.crm_id] = best
        elif touched:
            partial.append(service.crm_id)
    if not scored:
        return [], partial
    top = max(scored.values())
    return [sid for sid, score in scored.items() if score == top], partial


def match_staff(text: str, staff: list[dict[str, Any]]) -> tuple[int | None, str]:
    """The master named in the message (first name, any case ending, typos, Latin)."""
    said = _WORD.findall(prepared(text))
    for master in staff:
        name = str(master.get("name") or "")
        first = _WORD.findall(prepared(name))
        if not first:
            continue
        target = first[0]
        for word in said:
            if len(word) < 3:
                continue
            if word == target or (len(target) >= 4 and (word.startswith(target[: max(4, len(target) - 1)]) or _similar(word, target, 0.8)
                                                          or stem(word) == stem(target))):
                return int(master["id"]), name
    return None, ""


def parse(text: str, *, today: dt.date, services: list[Any], staff: list[dict[str, Any]]) -> Request:
    folded = prepared(text)
    request = Request()
    request.day = parse_day(text, today)
    request.time, request.window = parse_time(text)
    request.nearest = bool(_NEAREST.search(folded))
    request.service_ids, request.service_partial = match_services(text, services)
    request.staff_id, request.staff_name = match_staff(text, staff)
    request.group = bool(_GROUP.search(folded))
    request.cancel = bool(_CANCEL.search(folded))
    request.reschedule = bool(_RESCHEDULE.search(folded))
    return request
