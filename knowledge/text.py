"""Offline text analysis for Russian (plus Kazakh and English customer messages).

Pure functions, no Django: normalisation, tokens, Snowball stems, Latin→Cyrillic
transliteration ("skolko stoit manikur"), numbers and times, answer fragments, and the
vectors the index stores (lexical sparse + character n-gram dense).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from knowledge import english, kazakh, lexicon

_RU = snowballstemmer.stemmer("russian")
_EN = snowballstemmer.stemmer("english")

# Kazakh letters folded onto Russian ones: Kazakh words then share stems and n-grams with
# the Russian words they borrow ("маникюр", "филиал", "Самал").
_FOLD = str.maketrans({"ё": "е", "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и"})
_WORD = re.compile(r"[a-zа-я]+(?:'[a-z]+)?|\d+")
_TIME = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})(?!\d)")
_NUMBER = re.compile(r"(?<![\d:])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d:])|(?<![\d:.,])\d+(?![\d:])")
# An amount of money ("16 000 ₸"); a price is an amount or "бесплатно".
MONEY_AMOUNT = re.compile(r"\d[\d \u00a0\u202f]*\s?(?:₸|тг|тенге|руб|₽|\$|€|сом|usd|kzt)", re.IGNORECASE)
_MONEY = re.compile(MONEY_AMOUNT.pattern + "|бесплатн", re.IGNORECASE)


def price_entries(part: str) -> list[str]:
    """The names a price list's fragment prices, as it writes them: the words before each amount of money
    ("дублёнка — 16 000 ₸", "1.5 с антибликовым покрытием — 12 000 ₸"), not those after one ("16 000 ₸ за пару, … с
    антибликовым покрытием": what that price includes)."""
    names, start = [], 0
    for money in MONEY_AMOUNT.finditer(part):
        names.append(re.split(r"\s[—–-]\s", part[start:money.start()].rpartition(":")[2])[0])
        start = money.end()
    return names
_HAS_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
_SENTENCE = re.compile(r"(?<=[^\s.]{4}[.!?])\s+|[;\n]+|\(|\)")

_TRANSLIT = [
    ("shch", "щ"), ("sch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("tz", "ц"),
    ("iya", "ия"), ("iyu", "ию"), ("iye", "ие"),
    ("ya", "я"), ("ja", "я"), ("yu", "ю"), ("ju", "ю"), ("yo", "е"), ("jo", "е"), ("ye", "е"), ("je", "е"),
    ("iy", "ий"), ("yy", "ый"), ("oy", "ой"), ("ey", "ей"), ("ay", "ай"), ("x", "кс"), ("'", "ь"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"),
    ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"),
    ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "к"), ("q", "к"), ("y", "ы"),
]


_WIFI = re.compile(r"(?<![а-я])вай[\s-]?фай(?![а-я])")
# "скидка в день рождения": the day is the birthday itself ("рождения" / "др" carry it), not a day of the week or a
# duration, so the knowledge's "за 3 дня до дня рождения" and a customer's "на день рождения" meet on "рождения".
_BIRTHDAY_DAY = re.compile(r"(?<![а-я])(?:день|дня|дню|днем|дне)\s+(?=рожден)")


# Chat shorthand (`knowledge.lexicon.COLLOQUIAL_RU`) as whole words, and thousands written short after a number
# ("5к", "5 тыс", "1,5 тыщи" → "5000", "1500": the number a price list states as "5 000 ₸"); a bare "к" after a
# number is a thousand only when written on the number ("5к"), since "в 5 к вам" is the preposition.
_COLLOQUIAL = re.compile(
    r"(?<![a-zа-я-])(" + "|".join(sorted(map(re.escape, lexicon.COLLOQUIAL_RU), key=len, reverse=True)) + r")(?![a-zа-я-])")
_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})(?:[.,](\d))?(?:\s*(?:тыс(?:яч[аиу]?|\.)?|тыщ[аиу]?)|[кk])(?![a-zа-я])\.?")
# "в 2ч", "2 ч": the hour after a number (not "км/ч").
_HOURS_SHORT = re.compile(r"(?<![\d/])(\d{1,2})\s*ч(?![a-zа-я/])\.?")


def colloquial_to_plain(folded: str) -> str:
    """`folded` with chat shorthand read as the words a business writes (see `_COLLOQUIAL`, `_THOUSANDS`)."""
    folded = _THOUSANDS.sub(lambda m: str(int(m.group(1)) * 1000 + int(m.group(2) or 0) * 100), folded)
    folded = _HOURS_SHORT.sub(lambda m: f"{m.group(1)} часа", folded)
    return _COLLOQUIAL.sub(lambda m: lexicon.COLLOQUIAL_RU[m.group(1)], folded)


def fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def normalize(text: str) -> str:
    """The one normalisation of customer (and item) text before retrieval and the gate:
    lower-case, fold Kazakh letters and ё, drop greeting phrases, then a Kazakh or English
    question's words to the Russian ones the matcher understands (`knowledge.kazakh`,
    `knowledge.english`; Russian text and Russian text with a Latin brand name stay as they are).
    Latin-script Russian is read in Cyrillic first (`_latin_russian_to_cyrillic`)."""
    lowered = _latin_russian_to_cyrillic(text.lower())
    folded = lowered.translate(_FOLD)
    for phrase in _GREETINGS:
        folded = folded.replace(phrase, " ")
    folded = colloquial_to_plain(folded)
    folded = _WIFI.sub("вайфай", folded)  # "вай фай", "вай-фай": one word, as customers mean it
    folded = _BIRTHDAY_DAY.sub("", folded)
    return kazakh.to_russian(english.to_russian(folded, lowered), lowered)


def is_latin_russian(text: str) -> bool:
    """A text `normalize` reads from Latin script into Cyrillic (`_latin_russian_to_cyrillic`)."""
    lowered = text.lower()
    if not re.search(r"[a-z]", lowered):
        return False
    from knowledge import translit as latin

    return latin.looks_russian(lowered)


def latin_guessed(text: str) -> bool:
    """Latin-script Russian with a word none of whose readings is a Russian word the brain knows (a common word of
    customer questions or a verb's or noun's form): its Cyrillic is a guess, so the text is not understood plainly
    ("do skolki rabotaete v subbotku?"); "do skolki rabotaete v subbotu?" is read exactly."""
    if not is_latin_russian(text):
        return False
    from knowledge import semantics
    from knowledge import translit as latin

    readings = (_read_latin(match.group(0)) for match in latin._latin_words(text.lower()))
    return any(reading not in _common_words() and not semantics.is_word_form(reading) for reading in readings)


def _read_latin(word: str) -> str:
    return translit(word.replace("`", "'").replace("’", "'"))


def _latin_russian_to_cyrillic(lowered: str) -> str:
    """A text written in Latin-script Russian ("vo skolko zaezd?", "mozhno pozzhe vyehat") with its Latin words
    read in Cyrillic (`translit`), so every rule written for Russian sees Russian; English, mostly-Cyrillic text
    with a Latin brand name, handles and web addresses are left as they are (`knowledge.translit.looks_russian`)."""
    from knowledge import translit as latin

    return latin.to_cyrillic_text(lowered, read=_read_latin)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if word.isdigit():
        return word
    if word.isascii():
        return _EN.stemWord(word)
    return _RU.stemWord(word)


@lru_cache(maxsize=50_000)
def translit(word: str) -> str:
    """The Cyrillic reading of a Latin-script Russian word. Writers use several schemes at once and drop the
    soft sign ("vyehat", "zhit", "est'", "mesyac", "kakoi"), so the letter-by-letter reading (`_translit_default`:
    "вехат", "жит", "ест", "месяк", "какои") is checked against the Russian words the brain knows: the first of the
    word's readings (`knowledge.translit.readings`, every scheme) that is a common word of customer questions
    (the lexicon's and `knowledge.translit.KNOWN_RU`) wins ("есть", "какой"), else the first that is a form of a
    Russian verb or noun (`knowledge.semantics.is_word_form`: "выехать", "жить", "месяц", "собакой"), else the
    letter-by-letter reading. A letter-by-letter reading that is a noun's form is kept ("ves" is «вес», not «весь»),
    one that is a verb's form only when no reading is a common word ("est" is «есть», not «ест»)."""
    default = _translit_default(word)
    if len(word) < 2:
        return default
    from knowledge import semantics  # semantics imports this module

    if default not in _common_words() and semantics.is_noun_form(default):
        return default  # "ves" is «вес» (weight), not the common «весь»
    options = _translit_readings(word)
    common = [option for option in (default, *options) if option in _common_words()]
    if common:
        # the lexicon also lists misspellings ("сколко"): the spelling with a soft sign inside the word wins
        # ("сколько"); one at the end tells two words apart ("стоит" / "стоить") and the first reading stays
        same = [option for option in common if latin_skeleton(option) == latin_skeleton(common[0])]
        return max(same, key=lambda option: option[:-1].count("ь"))
    if semantics.is_word_form(default):
        return default
    for option in options:
        if semantics.is_word_form(option):
            return option
    return default


@lru_cache(maxsize=50_000)
def _translit_readings(word: str) -> tuple[str, ...]:
    from knowledge import translit as latin

    return tuple(latin.readings(word))


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    from knowledge import translit as latin

    return frozenset(_LEXICON_WORDS) | latin.KNOWN_RU


@lru_cache(maxsize=50_000)
def _translit_default(word: str) -> str:
    """The letter-by-letter reading: "skolko" → "сколко", "cena" → "цена" (a "c" before e/i/y/v is "ц", as in
    "cena", "cvet", "ulica"; before other letters "к", as in "manicure")."""
    out, i = [], 0
    while i < len(word):
        if word[i] == "c" and word[i + 1 : i + 2] in ("e", "i", "y", "v"):
            out.append("ц")
            i += 1
            continue
        for latin, cyr in _TRANSLIT:
            if word.startswith(latin, i):
                out.append(cyr)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def latin_skeleton(word: str) -> str:
    """A Cyrillic word as Latin-script Russian may spell it: without soft and hard signs, with "тс"
    (and "тьс") as "ц" — "находитесь" / "nahodites" → "находитес", "находится" / "nahoditsya" →
    "находиця". Two words with the same skeleton are one word written in two scripts."""
    return word.replace("ь", "").replace("ъ", "").replace("тс", "ц")


def latin_reading(word: str, vocabulary: set[str] | frozenset[str], skeletons: dict[str, str]) -> str:
    """The Cyrillic word a Latin-script word means: its transliteration (`translit`) when the knowledge uses it,
    else the first of its readings the knowledge uses, else its transliteration, or — when that is neither a
    word of the knowledge (`vocabulary`) nor of the lexicon — the knowledge's or the lexicon's word with
    the same skeleton (`skeletons`: skeleton → a word of the knowledge). Words under 5 letters keep their
    transliteration ("ves" is "вес", not "весь")."""
    cyr = translit(word)
    if cyr in vocabulary:
        return cyr
    known = next((option for option in _translit_readings(word) if option in vocabulary), None)
    if known is not None:
        return known  # "vyhod" → «выход» when the knowledge says it; "ves" → «вес» in a knowledge of weights
    if len(cyr) < 5 or cyr in _LEXICON_WORDS:
        return cyr
    skeleton = latin_skeleton(cyr)
    return skeletons.get(skeleton) or _LEXICON_SKELETONS.get(skeleton) or cyr


def numbers_in(text: str) -> set[str]:
    """Canonical numbers and times: '9 000 ₸' → '9000'; '09:00' → '9:00' and '9'."""
    found: set[str] = set()
    for hours, minutes in _TIME.findall(text):
        found.add(f"{int(hours)}:{minutes}")
        found.add(str(int(hours)))
    stripped = _TIME.sub(" ", text)
    for match in _NUMBER.findall(stripped):
        digits = re.sub(r"\D", "", match)
        if digits:
            found.add(str(int(digits)))
    return found


_UNIT_WORDS = r"(лет|год|года|годик\w*|мин|минут|минуты|час|часа|часов|дн|дней|дня|сут(?:ок|ки)|недел\w*|месяц\w*|мес)"
_UNIT = re.compile(rf"(\d+)(?:[,.–-]\d+)?\s*{_UNIT_WORDS}\b")
# "минут на 20", "лет через 5": the unit before an approximate number.
_UNIT_FIRST = re.compile(rf"\b{_UNIT_WORDS}\s+(?:на|через|за|по|около)\s+(\d+)(?![\d:])")


def quantity_units(text: str) -> dict[str, str]:
    """Numbers that measure something ("15 лет", "20 минут") → the unit's stem. A question
    "опоздаю на 20 минут" is about the rule that states minutes, not about the number 20."""
    found = {}
    folded = fold(text)
    for number, unit in _UNIT.findall(folded):
        found[str(int(number))] = unit[:3]
    for unit, number in _UNIT_FIRST.findall(folded):
        found.setdefault(str(int(number)), unit[:3])
    return {number: _unit_name(unit) for number, unit in found.items()}


def quantity_words(text: str) -> dict[str, tuple[str, str]]:
    """The unit words of a text's quantities → (number, unit): "дочке 4 года" → {"года": ("4", "год")}.
    The word belongs to its number: "4 года" is one quantity, checked against the quantities an item
    states, not a word the item must repeat."""
    found: dict[str, tuple[str, str]] = {}
    folded = fold(text)
    for match in _UNIT.finditer(folded):
        found.setdefault(match.group(2), (str(int(match.group(1))), _unit_name(match.group(2)[:3])))
    for match in _UNIT_FIRST.finditer(folded):
        found.setdefault(match.group(1), (str(int(match.group(2))), _unit_name(match.group(1)[:3])))
    return found


_UNIT_NAMES = (("лет", "год"), ("год", "год"), ("мин", "мин"), ("час", "час"), ("дн", "дн"), ("недел", "нед"), ("месяц", "мес"))
_BOUNDED = re.compile(
    rf"(?:(до|не более|не больше|не позднее|более|больше|свыше|от|с|после|старше|младше)\s+)?(\d+)(?:\s*[–-]\s*(\d+))?\s*{_UNIT_WORDS}\b")


def _unit_name(unit: str) -> str:
    return next((name for prefix, name in _UNIT_NAMES if unit.startswith(prefix)), unit[:3])


def quantity_bounds(text: str) -> dict[str, list[tuple[float, float]]]:
    """The ranges of quantities an answer states, per unit: "до 10 минут" → мин (0, 10), "более 15
    минут" → (15, ∞), "6–9 лет" → год (6, 9), "60 минут" → (60, 60). A question's "опоздаю минут на
    20" is answered by a rule covering 20 minutes, "занятие на 45 минут" is not by one of 60 minutes."""
    found: dict[str, list[tuple[float, float]]] = {}
    for word, low, high, unit in _BOUNDED.findall(fold(text)):
        a = float(low)
        if high:
            bounds = (a, float(high))
        elif word in ("до", "не более", "не больше", "не позднее", "младше"):
            bounds = (0.0, a)
        elif word:
            bounds = (a, math.inf)
        else:
            bounds = (a, a)
        found.setdefault(_unit_name(unit), []).append(bounds)
    return found


# A period a question names without a number ("на неделю скидка?", "через месяц вернёте?"): one week, one month. Not a
# rate ("раз в неделю", "в месяц") nor a date ("на этой неделе").
_BARE_PERIOD = re.compile(r"(?<![а-я\d])(?:(на|через|за|в течение)\s+)?(неделю|неделя|месяц|сутки)(?![а-я])")
_RATE_BEFORE = re.compile(r"(?:\d|(?<![а-я])(?:в|раз|кажд[а-я]*|эт[а-я]*|следующ[а-я]*|прошл[а-я]*))\s*$")
_DAY_BOUNDED = re.compile(
    r"(?:(до|не более|не больше|не позднее|в течение|более|больше|свыше|от|с|после)\s+)?(\d+)(?:\s*[–-]\s*(\d+))?\s*"
    r"(дн|дней|дня|день|сут(?:ок|ки)|недел[а-я]*|месяц[а-я]*|ноч[а-я]*)(?![а-я])")


def _days_in(unit: str) -> float:
    return 7.0 if unit.startswith("недел") else 30.0 if unit.startswith("месяц") else 1.0


def bare_periods(text: str) -> dict[str, float]:
    """Period words of a question without a number, in days: "на неделю скидка есть?" → {"неделю": 7.0}."""
    folded = fold(text)
    return {m.group(2): _days_in(m.group(2)) for m in _BARE_PERIOD.finditer(folded)
            if m.group(1) or not _RATE_BEFORE.search(folded[:m.start()])}


def day_spans(text: str) -> list[tuple[float, float]]:
    """The periods an answer states, in days, whatever the unit: "от 7 ночей" → (7, ∞), "в течение 14 дней" → (0, 14),
    "3 месяца" → (90, 90). A night is a day of a stay."""
    found = []
    for word, low, high, unit in _DAY_BOUNDED.findall(fold(text)):
        factor = _days_in(unit)
        a = float(low) * factor
        if high:
            found.append((a, float(high) * factor))
        elif word in ("до", "не более", "не больше", "не позднее", "в течение"):
            found.append((0.0, a))
        elif word:
            found.append((a, math.inf))
        else:
            found.append((a, a))
    return found


# People a question counts ("на др будет 15 детей", "нас 6 человек") and the prices an item states per
# person ("каждый следующий ребёнок — 3 000 ₸", "2 000 ₸ с человека"): a party's size is the asker's
# situation, answered by the per-person rule, not a variant the item must list.
_PERSON = r"(человек\w*|чел|гост[а-яё]*|дет(?:ей|и)|ребен\w*|ребят\w*|участник\w*|персон\w*|взросл\w*|школьник\w*|ученик\w*)"
_PEOPLE_ASKED = re.compile(rf"(?<![\d:.,])(\d+)\s+(?:[а-я]+\s+)?{_PERSON}(?![а-я])")
_PER_PERSON = re.compile(
    rf"(?<![а-я])(?:(?:каждый|каждого|каждому)\s+(?:следующ\w+|дополнительн\w+|последующ\w+)?\s*"
    rf"|(?:за|с|со|на)\s+(?:одного\s+|каждого\s+|1\s+)?){_PERSON}(?![а-я])")


def people_counted(text: str) -> dict[str, str]:
    """Numbers that count people → the counted word: "будет 15 детей" → {"15": "детей"}."""
    return {str(int(m.group(1))): m.group(2) for m in _PEOPLE_ASKED.finditer(fold(text))}


def headcount_keys(text: str) -> frozenset[str]:
    """Keys of the people a text names only as counted by a number ("Стандарт (2 гостя)", "до 6 человек"): a
    capacity says how many, not that guests may come ("друзья могут прийти в гости?")."""
    folded = fold(text)
    counted = {key for match in _PEOPLE_ASKED.finditer(folded) for key in key_set(match.group(2))}
    if not counted:
        return frozenset()
    return frozenset(counted - key_set(_PEOPLE_ASKED.sub(" ", folded)))


def _priced_fragments(text: str) -> list[str]:
    """The folded fragments of a text that state a price."""
    return [fold(part) for sentence in sentences(text) for part in fragments(sentence) if has_money(part)]


# RT: a price per one unit — of time, weight, area, count or people ("за ночь", "в час", "за 1 кг", "с человека",
# "₸/час"). General Russian: the unit nouns a price is quoted per, in the form «за»/«в»/«с» governs. Not a lead time ("за
# день до выдачи"), a day named by its event ("в день рождения", "в день обращения") or a frequency ("раз в неделю").
_RATE_UNITS = {
    "ночь": "ночь", "сутки": "сутки", "день": "день", "час": "час", "неделю": "неделя", "месяц": "месяц", "год": "год",
    "кг": "кг", "килограмм": "кг", "кило": "кг", "м²": "м2", "м2": "м2", "метр": "м2", "квадрат": "м2",
    "штуку": "шт", "шт": "шт", "занятие": "занятие", "урок": "занятие", "сеанс": "сеанс", "посещение": "посещение",
    "визит": "посещение", "человека": "человек", "чел": "человек", "персону": "человек", "гостя": "человек",
    "пару": "пара",
}
_RATE_FORMS = "|".join(sorted(map(re.escape, _RATE_UNITS), key=len, reverse=True))
_RATE = re.compile(
    rf"(?<![а-яё\d])(?<!раз )(?<!раза )(?:(?:за|в|с|per)\s+|/\s*)(?:(?:1|одн[уаи]|один)\s+)?({_RATE_FORMS})(?![а-яё\d])"
    r"(?!\s+(?:до|после|рожден|обращен|получен|заезд|выезд|приезд|выдач|сдач|заказ|при[её]м))")
_UNIT_ENTRY = re.compile(rf"(?:(?:1|одн[уаи]|один)\s+)?({_RATE_FORMS})")


def rates_asked(text: str) -> dict[str, str]:
    """The unit words of the rates a question names ("шале сколько за ночь?" → {"ночь": "ночь"}): word → unit (RT)."""
    return {m.group(1): _RATE_UNITS[m.group(1)] for m in _RATE.finditer(fold(text))}


def rates_stated(part: str) -> set[str]:
    """The units a fragment of an answer states a price per (RT): "Цены … за ночь: … шале — 45 000 ₸", "баня — 8 000 ₸ в
    час", or an entry named by the unit alone ("1 ночь — 20 000 ₸"); none in a fragment stating no price."""
    folded = fold(part)
    if not MONEY_AMOUNT.search(folded):
        return set()
    found = {_RATE_UNITS[m.group(1)] for m in _RATE.finditer(folded)}
    for name in price_entries(folded):
        entry = _UNIT_ENTRY.fullmatch(name.strip(" ,.:;—–-"))
        if entry:
            found.add(_RATE_UNITS[entry.group(1)])
    return found


# TP: «после» and «перед» relate the asked thing to a moment ("поменять начинку после заказа?", "линзы снимать перед
# проверкой?"). A fragment states such a relation with a notice period or window ("не позже чем за 48 часов до выдачи",
# "за 2 часа до проверки"), «после»/«перед»/«накануне», or a delay ("через 3 дня").
TIME_RELATIONS = frozenset({"после", "перед"})
_TIME_RELATION = re.compile(
    r"(?<![а-яё])(?:после|перед|накануне|не позже|не позднее)(?![а-яё])|(?<![а-яё])за\s+\d+(?:[–-]\d+)?\s*[а-яё]+\s+до(?![а-яё])"
    r"|(?<![а-яё])через\s+\d+")


def states_time_relation(part: str) -> bool:
    """The fragment states when something may or must be done relative to an event (TP)."""
    return bool(_TIME_RELATION.search(fold(part)))


def per_person_keys(text: str) -> set[str]:
    """Keys of the people a text prices one by one, in its fragments that state a price."""
    return {key for part in _priced_fragments(text) for match in _PER_PERSON.finditer(part) for key in key_set(match.group(1))}


# A price per day or per hour ("1 000 ₸ в сутки", "5 000 ₸ за час"): "хранение на 3 дня" is the asker's stay, answered
# by the daily rate.
_PER_TIME = re.compile(r"(?<![а-я])(?:в|за|/)\s*(сутки|день|час)(?![а-я])")
_PER_TIME_UNITS = {"сутки": {"дн", "сут"}, "день": {"дн", "сут"}, "час": {"час"}}


def per_time_units(text: str) -> set[str]:
    """The time units (`quantity_units` names) a text prices one by one, in its fragments that state a price."""
    return {unit for part in _priced_fragments(text) for match in _PER_TIME.finditer(part) for unit in _PER_TIME_UNITS[match.group(1)]}


# A price per square metre ("1 500 ₸ за м²", "800 ₸ за кв. м", "за квадрат"): a carpet "2 на 3" or "12 квадратов" is
# the asker's size, answered by the rate per metre, not a number the item must repeat.
_PER_AREA = re.compile(r"(?:за|/)\s*(?:1\s*)?(?:м²|м2|кв\.?\s*м|квадратн\w*\s+метр\w*|квадрат\w*)")
_DIMENSIONS = re.compile(r"(?<![\d:.,])(\d+(?:[.,]\d+)?)\s*(?:на|х|x|\*|×)\s*(\d+(?:[.,]\d+)?)(?![\d:]|\s*(?:час|мин|дн|дня|дней))")
_AREA_ASKED = re.compile(r"(?<![\d:.,])(\d+(?:[.,]\d+)?)\s*(?:м²|м2|кв\.?\s*м\w*|квадрат\w*|квадратн\w*\s+метр\w*)")


def per_area(text: str) -> bool:
    """The text prices something per square metre, in a fragment that states a price."""
    return any(_PER_AREA.search(part) for part in _priced_fragments(text))


def area_numbers(text: str) -> set[str]:
    """The numbers of a size the asker states: the sides of "2 на 3", "3х4", or an area "12 квадратов", "10 м²"."""
    folded = fold(text)
    found = {n for match in _DIMENSIONS.finditer(folded) for n in match.groups()}
    found |= {match.group(1) for match in _AREA_ASKED.finditer(folded)}
    return {str(int(float(n.replace(",", ".")))) if float(n.replace(",", ".")).is_integer() else n for n in found}


# Nouns with a fleeting vowel (беглая гласная): "ковёр" / "ковра", "замок" / "замка", "платок" / "платков". Snowball
# stems the two apart ("ковер" vs "ковр"); each reads as the other when the knowledge writes the other.
_CONSONANT = "бвгджзклмнпрстфхцчшщ"
_FLEETING = re.compile(rf"[а-я]*[{_CONSONANT}][ео][{_CONSONANT}]")
_CLUSTER = re.compile(rf"[а-я]*[аеиоуыэюя][а-я]*[{_CONSONANT}][{_CONSONANT}]")


def fleeting_vowel_forms(word: str) -> list[str]:
    """The other stem of a noun with a fleeting vowel: "ковер" → "ковр"; "ковры" → "ковер", "ковор"."""
    forms = []
    if len(word) >= 4 and _FLEETING.fullmatch(word):
        forms.append(word[:-2] + word[-1])
    base = stem(word)
    if len(base) >= 3 and _CLUSTER.fullmatch(base) and base != word:
        forms += [base[:-1] + vowel + base[-1] for vowel in "ео"]
    return forms


# A lead time before an event: "отменю за 3 дня до записи" asks about the notice rule, which an item states
# as "не позднее чем за 48 часов" / "за сутки": the customer's own number is their situation.
_LEAD_ASKED = re.compile(rf"(?<![а-я])за\s+(\d+)\s*{_UNIT_WORDS}\s+до(?![а-я])")
_LEAD_STATED = re.compile(r"(?<![а-я])за\s+(?:\d+(?:[,.]\d+)?\s*)?(?:час|дн|день|сут|недел|мин)")


def lead_times(text: str) -> dict[str, str]:
    """The lead times a question states → their unit words: "за 3 дня до керамики" → {"3": "дня"}."""
    return {str(int(m.group(1))): m.group(2) for m in _LEAD_ASKED.finditer(fold(text))}


# A relative day asked with a readiness verb: "на завтра успеете?", "к субботе сделаете?", "до пятницы будет готов?"
# asks whether the order can be ready by then, which an item stating a lead time ("минимум за 2 дня до выдачи")
# answers; the day is the asker's situation, like the number of "за 3 дня до" (DL).
_DEADLINE_DAY = re.compile(
    r"(?<![а-я])(?:на|к|ко|до)\s+(сегодня|завтра|послезавтра|понедельник[ау]?|вторник[ау]?|сред[уые]|четверг[ау]?|"
    r"пятниц[уые]|суббот[уые]|воскресень[еяю]|выходны[ме]|выходных)(?![а-я])")
_READINESS = re.compile(r"(?<![а-я])(?:успе[а-я]*|готов[а-я]*|сделает[а-я]*|сделать|испеч[а-я]*|испек[а-я]*|"
                        r"приготов[а-я]*)(?![а-я])")


# Said with readiness or urgency, the nearest days need no preposition: "очки сегодня успеете сделать?", "срочно
# надо, завтра улетаю" (DL2).
_NEAREST_DAY = re.compile(r"(?<![а-я])(сегодня|завтра|послезавтра)(?![а-я])")
_URGENCY = re.compile(r"(?<![а-я])срочн[а-я]*")


def deadline_days(text: str) -> set[str]:
    """The relative days a readiness or urgency question names: "на завтра успеете?" → {"завтра"}, "срочно надо к
    завтра" → {"завтра"}; nothing without a verb of readiness or an urgency word ("на завтра запись есть?" is a
    booking, not a lead time)."""
    folded = fold(text)
    if not (_READINESS.search(folded) or _URGENCY.search(folded)):
        return set()
    return {m.group(1) for m in _DEADLINE_DAY.finditer(folded)} | {m.group(1) for m in _NEAREST_DAY.finditer(folded)}


# A surcharge given as a share of the price ("наценка 50 %", "плюс 30 % к стоимости"): how much more one pays (SC).
_SURCHARGE_SHARE = re.compile(r"(?<![а-я])(?:наценк[а-я]*|надбавк[а-я]*|доплат[а-я]*|плюс|\+)\s*(?:[а-яё]+\s+){0,2}"
                              r"\d+(?:[,.]\d+)?\s*%")


def states_surcharge_share(text: str) -> bool:
    return bool(_SURCHARGE_SHARE.search(fold(text)))


# The asker's occasion (OC): "торт на свадьбу", "сладкий стол на день рождения", "на др сыну" — what the thing is for,
# said with a preposition of purpose. Not "в день рождения" (a day: the birthday discount's), not "провести свадьбу" (the
# occasion is what is asked for), and nothing in a question about an offer ("скидка на др?", "на юбилей бесплатно?").
# Each occasion by the roots of its noun and adjective ("свадьба" / "свадебный"), so an item naming it is known.
_OCCASION_KINDS = {
    "wedding": r"свад(?:ьб|еб)[а-я]*", "birthday": r"рожд[её]н[а-я]*|др|днюх[а-я]*|именин[а-я]*", "jubilee": r"юбиле[а-я]*",
    "graduation": r"выпускн[а-я]*", "anniversary": r"годовщин[а-я]*", "christening": r"крестин[а-я]*",
    "engagement": r"помолвк[а-я]*", "party": r"девичник[а-я]*|мальчишник[а-я]*",
}
_OCCASION_WORD = {kind: re.compile(rf"(?<![а-я])(?:{pattern})(?![а-я])") for kind, pattern in _OCCASION_KINDS.items()}
_OCCASION = re.compile(
    r"(?<![а-я])(?:на|к|ко|для)\s+(?:(?:мой|мою|моего|моей|наш|нашу|нашего|нашей|его|ее|их|сына|дочки|дочери|мамы|мужа|"
    r"жены|ребенка|подруги|друга)\s+)?(" + "|".join(_OCCASION_KINDS.values()) + r")(?![а-я])")
_OFFER = re.compile(r"(?<![а-я])(?:скид|акци|бонус|кэшб|кешб|промо|бесплатн|даром|подар(?:ок|ка|ки|ку|ком|ков)(?![а-я]))")


def occasions(text: str) -> dict[str, str]:
    """The occasion words a question names as what the thing is for → their occasion: "торт на др сыну" → {"др":
    "birthday"}; none when it asks about an offer."""
    folded = fold(text)
    if _OFFER.search(folded):
        return {}
    return {m.group(1): occasion_of(m.group(1)) or "" for m in _OCCASION.finditer(folded)}


def occasion_of(word: str) -> str | None:
    return next((kind for kind, pattern in _OCCASION_WORD.items() if pattern.fullmatch(word)), None)


def occasions_named(text: str) -> frozenset[str]:
    """The occasions a text names in any form: "Свадебные торты — от 5 кг" → {"wedding"}."""
    folded = fold(text)
    return frozenset(kind for kind, pattern in _OCCASION_WORD.items() if pattern.search(folded))


def states_lead_time(text: str) -> bool:
    return bool(_LEAD_STATED.search(fold(text)))


_MONTHS = ("январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр")
_DATE = re.compile(r"(?<![\d:])(\d{1,2})(?:\s*[–-]\s*(\d{1,2}))?\s+"
                   r"(январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр)[а-я]*")


def dates_in(text: str) -> set[tuple[int, int]]:
    """Calendar dates written with a month name: "16 декабря" → (16, 12); "21–23 марта" → each day."""
    found: set[tuple[int, int]] = set()
    for first, last, month in _DATE.findall(fold(text)):
        number = next(i for i, m in enumerate(_MONTHS, start=1) if month.startswith(m))
        for day in range(int(first), int(last or first) + 1):
            found.add((day, number))
    return found


def date_numbers(text: str) -> set[str]:
    """The day numbers of the dates in a text (not quantities, not clock hours)."""
    return {str(int(m.group(1))) for m in _DATE.finditer(fold(text))} | {
        str(int(m.group(2))) for m in _DATE.finditer(fold(text)) if m.group(2)}


_COUNTED = re.compile(r"\d+(?:\s*[–-]\s*\d+)?\s+(?:[a-zа-я-]+\s+)?([a-zа-я-]+)")
# "сколько" + a genitive plural ("детей", "занятий", "мастеров") asks how many; "сколько френч" (a noun in
# the nominative) is the colloquial price question.
_HOW_MANY = re.compile(r"(?<![a-zа-я])(?:сколько|скока|скоко|сколко)\s+([а-я-]+(?:ей|ов|ев|ий))(?![а-я])")


def counted_keys(text: str) -> set[str]:
    """Keys of the words written right after a number (or one word later): "до 12 детей в группе",
    "8 занятий", "3 мастера" — what the text says how many of."""
    keys: set[str] = set()
    for match in _COUNTED.finditer(normalize(text)):
        for word in (match.group(0).split()[1:]):
            if not word[0].isdigit():
                keys |= {word, stem(word), root(stem(word))}
    return keys


def counted_word(normalized: str) -> str | None:
    """The word right after "сколько" ("сколько детей"), or None: a question about how many of it.
    Aspect cues ("сколько стоит", "сколько времени") turn the word soft, so it is no count."""
    match = _HOW_MANY.search(normalized)
    return match.group(1) if match else None


def has_money(text: str) -> bool:
    return bool(_MONEY.search(text))


# A price stated relative to another: "цены на 30 % выше обычных", "50 % стоимости ночи", "30 % от цены".
_RELATIVE_PRICE = re.compile(r"(?<![\d.,])\d{1,3}\s*%\s*(?:от\s+)?(?:стоимост|цен|тариф)"
                             r"|(?<![а-яё])(?:цен[аыу]?|стоимость|тариф\w*)\s+(?:[а-яё]+\s+){0,2}на\s+\d{1,3}\s*%", re.IGNORECASE)


def states_price(text: str) -> bool:
    """The text states a price: an amount of money, "бесплатно", or a price relative to another ("цены на 30 %
    выше", "50 % стоимости ночи")."""
    return has_money(text) or bool(_RELATIVE_PRICE.search(text))


_SURCHARGE = re.compile(r"\+\s?\d[\d \u00a0\u202f]*\s?(?:₸|тг|тенге|руб|₽|\$|€|сом|usd|kzt)", re.IGNORECASE)


def surcharge_only(text: str) -> bool:
    """Every amount of money the text states is a surcharge ("мастикой — +1 000 ₸ за 1 кг"): what an option adds to a
    price, not the price of anything."""
    return has_money(text) and not _MONEY.search(_SURCHARGE.sub(" ", text))


def has_clock_time(text: str) -> bool:
    return bool(_HAS_TIME.search(text))


_SENTENCE_END = re.compile(r"[.!?]+\s+(?=[A-ZА-ЯЁ«\"0-9])|\n+")
_ABBREVIATIONS = {"г", "ул", "пр", "пр-т", "мкр", "д", "тел", "им", "обл", "р", "кв", "стр", "корп", "эт", "т", "см", "мин"}


def sentences(text: str) -> list[str]:
    """Split at sentence ends, but not after address abbreviations ("ул. Абая", "г. Алматы")."""
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = re.findall(r"[\w-]+$", text[start : match.start()])
        if match.group(0).startswith((".",)) and before and before[0].lower() in _ABBREVIATIONS:
            continue
        parts.append(text[start : match.end()])
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]
_HEADING = re.compile(r"^([^:;]{1,80})(?<!\d):(?!\d)\s*(.+)$", re.DOTALL)  # not the colon of "С 00:00 до 06:00"
_PAREN = re.compile(r"([^\s(]+)\s*\(([^)]*)\)")


def fragments(text: str) -> list[str]:
    """The units inside which a fact and what it is about are written together: list entries
    (;) of each sentence, each carrying the sentence's lead-in before a colon ("Примерное
    время: …; …"); a parenthetical remark is its own unit together with the word it follows
    ("Айгерим (топ-мастер, стаж 8 лет) и Дана" → "Айгерим топ-мастер, стаж 8 лет" / "Айгерим и Дана")."""
    return [f"{lead} {body}".strip() for lead, body, _remark in fragment_parts(text)]


def lead_in_clauses(lead: str, body: str) -> list[str]:
    """Each comma/dash clause of a fragment's body with the fragment's lead-in: a parenthetical's remark belongs
    to the word it follows ("Эконом (1–2 гостя, душ и туалет на этаже)" → "Эконом туалет на этаже")."""
    if not lead:
        return []
    return [f"{lead} {p}" for p in re.split(r",|\s[—–]\s|\sи\s", body) if p.strip()]


def fragment_parts(text: str) -> list[tuple[str, str, bool]]:
    """`fragments` as (lead-in, body, is a parenthetical remark): the lead-in is the sentence's heading before a
    colon and, for a parenthetical remark, the word it follows."""
    units: list[tuple[str, str, bool]] = []
    for sentence in sentences(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        heading, body = "", sentence
        match = _HEADING.match(sentence)
        if match:
            heading, body = match.group(1), match.group(2)
            # A remark in the lead-in belongs to the word before it, not to every entry.
            for paren in _PAREN.finditer(heading):
                units.append((paren.group(1), paren.group(2), True))
            heading = _PAREN.sub(lambda m: m.group(1), heading)
        for entry in body.split(";"):
            if not entry.strip():
                continue
            for paren in _PAREN.finditer(entry):
                units.append((f"{heading} {paren.group(1)}".strip(), paren.group(2), True))
            units.append((heading, _PAREN.sub(lambda m: m.group(1), entry), False))
    return units


# Who gets an offer or on what purchase it depends: "для владельцев годового абонемента", "при покупке абонемента
# на 3 месяца", "клиентам с картой". The phrase runs to the end of its clause.
_MENTION = re.compile(
    r"(?<![\w-])(?:(?:для|у)\s+(?:владельц|держател|обладател|покупател|участник|член)\w*"
    r"|(?:владельцам|держателям|обладателям|покупателям|участникам|членам)"
    r"|при\s+(?:покупк|оплат|заказ|оформлени|продлени|предъявлени|наличи)\w*)"
    r"[^,;:.!?()—–]*",
    re.IGNORECASE,
)


def outside_mentions(fragment: str) -> str:
    """The fragment without its beneficiary and purchase phrases (`_MENTION`)."""
    return _MENTION.sub(" ", fragment)


# What one answers questions about ("Отвечаю на вопросы о тортах, ценах, начинках, доставке и оплате", "по вопросам
# доставки пишите…"): the topics of a conversation, not facts about them. To the end of the sentence (a list).
# A bot speaking of itself in the first person singular lists the same topics ("Подскажу цены, сроки, гарантию, адреса
# и график"); a business's "подскажем по телефону +7 …" gives a fact and is kept.
_QUESTION_TOPICS = re.compile(
    r"(?:(?:(?<![а-яё])(?:отвечаю|отвечаем|отвечу|ответим)\s+на\s+)?(?<![а-яё])(?:вопрос[а-яё]*)\s+(?:о|об|обо|про|по)\s+"
    r"|(?<![а-яё])(?:подскажу|расскажу)\s+)[^.;!?()]*",
    re.IGNORECASE,
)


# What a thing is about, after its name: "мастер-класс по бенто-тортам", "консультация по уходу". The price or the time
# beside such a phrase is the thing's (the master class's), not that of what it is about (the bento cake).
_SUBJECT_MATTER = re.compile(r"(?<=[а-яё])\s+по\s+[а-яё]+(?:-[а-яё]+)*", re.IGNORECASE)


def without_subject_matter(fragment: str) -> str:
    """The fragment without the "по …" phrases that say what a named thing is about (`_SUBJECT_MATTER`)."""
    return _SUBJECT_MATTER.sub(" ", fragment)


def without_question_topics(text: str) -> str:
    """The text without the topics it says questions are answered about (`_QUESTION_TOPICS`): a bot's or a
    business's self-description names them, and "доставка есть?" is not answered by "отвечаю на вопросы о доставке"."""
    return _QUESTION_TOPICS.sub(" ", text)


def clauses(fragment: str) -> list[str]:
    """Comma-separated clauses of a fragment; a lead-in before a colon joins each. A dash joins a name to its value
    ("групповой абонемент — 22 000 ₸ в месяц"), so it separates no clauses."""
    heading, _, body = fragment.rpartition(":") if ":" in fragment[:80] else ("", "", fragment)
    parts = _attached_modifiers(_elided_nouns([p for p in re.split(r",|\sи\s", body) if p.strip()]))
    return [f"{heading} {p}" for p in parts] or [fragment]


# A short clause that is only a prepositional phrase with no figure of its own ("…, с НДС", "…, без выходных")
# modifies the clause before it rather than listing another entry.
_MODIFIER = re.compile(r"^\s*(?:с|со|без|по|через|при)\s+[^\d₸$%]{1,30}$", re.IGNORECASE)


def _attached_modifiers(parts: list[str]) -> list[str]:
    """The clauses, plus each clause joined with a bare prepositional phrase after it (`_MODIFIER`)."""
    joined = [f"{before} {part}" for before, part in zip(parts, parts[1:], strict=False) if _MODIFIER.match(part)]
    return parts + joined


_ADJECTIVE_CLASSES = (("ый", "ий", "ой"), ("ая", "яя"), ("ое", "ее"), ("ые", "ие"))
_NAMED_VALUE = re.compile(r"(?<![а-яё])([а-яё]+)\s+([а-яё]+)\s+[—–]\s", re.IGNORECASE)
_ADJECTIVE_VALUE = re.compile(r"^\s*([а-яё]+)\s+[—–]\s", re.IGNORECASE)


def _elided_nouns(parts: list[str]) -> list[str]:
    """A list of values by kind names its noun once: "одноканальный зуб — 35 000 ₸, двухканальный — 45 000 ₸" (the
    second is a tooth too), "женская стрижка — 1 час, мужская — 30 минут". An entry that is only an adjective before
    its dash, of the gender of the adjective + noun entry before it, gets that noun."""
    result: list[str] = []
    named: tuple[tuple[str, ...], str] | None = None
    for part in parts:
        match = _ADJECTIVE_VALUE.match(part)
        if match and named and match.group(1).lower().endswith(named[0]):
            part = f"{part[: match.end(1)]} {named[1]}{part[match.end(1):]}"
        else:
            found = _NAMED_VALUE.search(part)
            ending = next((g for g in _ADJECTIVE_CLASSES if found and found.group(1).lower().endswith(g)), None)
            named = (ending, found.group(2)) if found and ending else None
        result.append(part)
    return result


_DERIVATION = ("ировани", "овани", "евани", "ивани", "ывани", "ани", "ени", "ен")


def root(stem_: str) -> str:
    """A verb and its noun share a root after Snowball: "удалить" → "удал", "удаление" →
    "удален" → "удал". An "-ический" adjective shares its noun's stem: "керамическое" → "керамик"
    ← "керамика" (косметический/косметика, диагностический/диагностика)."""
    if stem_.endswith("ическ") and len(stem_) >= 9:
        return stem_[:-5] + "ик"
    for suffix in _DERIVATION:
        if stem_.endswith(suffix) and len(stem_) - len(suffix) >= 4:
            return stem_[: -len(suffix)]
    return stem_


# Diminutive and affectionate suffixes of Russian nouns ("котик", "собачка", "бровки", "реснички",
# "зубик", "маникюрчик"): (suffix of the Snowball stem, what replaces it). Customers write them,
# businesses do not; the base is only used when the knowledge has it (`KBSnapshot`).
_DIMINUTIVES = (
    ("ечк", ""), ("ечк", "к"), ("очк", ""), ("очк", "к"), ("оньк", ""), ("еньк", ""), ("ушк", ""), ("юшк", ""),
    ("ичк", "иц"), ("ичк", ""), ("чик", ""), ("чк", "к"), ("чк", "ц"), ("ик", ""), ("ок", ""), ("ек", ""), ("к", ""),
)


def diminutive_bases(stem_: str) -> list[str]:
    """Candidate base stems of a diminutive stem, longest first ("собачк" → "собак", ...)."""
    bases = []
    for suffix, replacement in _DIMINUTIVES:
        if stem_.endswith(suffix):
            base = stem_[: len(stem_) - len(suffix)] + replacement
            shortest = 4 if suffix in ("к", "ок", "ек") else 3  # "рука" is not a diminutive of "ру"
            if len(base) >= shortest and base != stem_ and base not in bases:
                bases.append(base)
    return bases


# Verbal prefixes and the suffixes that tie a verb to its noun ("затонируете" → "тонир" ← "тонировка",
# "почистить" → "чист" ← "чистка", "отполировать" → "полир" ← "полировка").
_VERB_PREFIXES = ("пере", "раз", "рас", "при", "под", "про", "за", "по", "на", "вы", "от", "до", "об", "с", "у", "о")
_CORE_SUFFIXES = ("ировк", "ирова", "ирует", "ирую", "овк", "ова", "ует", "ива", "ыва", "ева", "ьн", "ов", "к", "н")


def core(stem_: str) -> str:
    """The stem without the suffix that makes a verb or a noun of it (at least 4 letters kept)."""
    for suffix in _CORE_SUFFIXES:
        if stem_.endswith(suffix) and len(stem_) - len(suffix) >= 4:
            return stem_[: -len(suffix)]
    return stem_


def perfective_base(word: str) -> str:
    """The stem of the imperfective verb a perfective verb pairs with (`ASPECT_PREFIXES`: "поменять" → "меня"), or ""
    for any other word; other prefixes change the meaning ("отменить" is not "менять")."""
    prefix = next((p for p in ASPECT_PREFIXES if word.startswith(p)), "")
    if not prefix or word.startswith(_VERB_PREFIXES[:_VERB_PREFIXES.index(prefix)]) or len(word) - len(prefix) < 5:
        return ""
    base = stem(word[len(prefix):])
    return base if len(base) >= 4 else ""


# Verbs whose root loses or changes its vowel between the aspects ("забрать" / "заберёте" / "забираем",
# "вызвать" / "вызовете" / "вызываем", "выбрать" / "выберу" / "выбираете"): the imperfective puts "и"/"ы" between the
# root's two consonants and takes "-а-", the perfective has "е"/"о" or nothing there. Snowball keeps them apart
# ("забер" / "забира"), so one aspect in a question did not reach the other in an item (AA).
_CONSONANTS = "бвгджзклмнпрстфхцчшщ"
_PERFECTIVE_ENDINGS = frozenset(("у", "ут", "ешь", "ет", "ем", "ете", "ать", "ал", "ала", "али", "ало", "ите", "и"))
_IMPERFECTIVE_ENDINGS = frozenset(("ать", "аю", "аешь", "ает", "аем", "аете", "ают", "ал", "ала", "али", "ай", "айте"))


def aspect_skeleton(word: str) -> str:
    """Prefix and the root's two consonants of a verb form whose root vowel alternates between the aspects
    ("заберете", "забрать", "забираем" → "забр"), or "" for any other word. Only a one-syllable root directly
    followed by a verb ending, so "забронировать" (root "брон-") is no form of "забрать"."""
    word = word.replace("ё", "е")
    prefix = next((p for p in _VERB_PREFIXES if word.startswith(p)), "")
    rest = word[len(prefix):]
    if not prefix or len(rest) < 3 or rest[0] not in _CONSONANTS:
        return ""
    if rest[1] in _CONSONANTS:
        vowel, second, ending = "", rest[1], rest[2:]
    elif len(rest) >= 4 and rest[2] in _CONSONANTS:
        vowel, second, ending = rest[1], rest[2], rest[3:]
    else:
        return ""
    if vowel in ("и", "ы"):
        fits = ending in _IMPERFECTIVE_ENDINGS
    else:
        fits = vowel in ("", "е", "о") and ending in _PERFECTIVE_ENDINGS
    return prefix + rest[0] + second if fits else ""


def verb_cores(word: str, prefixes: tuple[str, ...] = ()) -> list[str]:
    """Cores of a customer's word, with and without a verbal prefix (of `prefixes`, by default every one), and
    without the verb's thematic vowel ("стираете" → "стира" → "стир" ← "стирка")."""
    cores = [core(stem(word))]
    for prefix in _VERB_PREFIXES:  # longest first: "подшить" has "под-", not "по-"
        if word.startswith(prefix):
            if len(word) - len(prefix) >= 5 and (not prefixes or prefix in prefixes):
                cores.append(core(stem(word[len(prefix):])))
            break
    cores += [c[:-1] for c in cores if c[-1:] in _THEMATIC and len(c) >= 5]
    # The "л" a labial takes before an imperfective's "-я-" ("доставлять" of "доставить", "оформлять" of
    # "оформить"): "доставляете" → "доставл" → "достав" ← "доставка".
    cores += [m.group(1) for c in cores if (m := _EPENTHETIC_L.fullmatch(c))]
    return [c for c in dict.fromkeys(cores) if len(c) >= 4]


_THEMATIC = frozenset("аеи")
_EPENTHETIC_L = re.compile(r"(\w{4,}[бвмпф])ля?")
# The prefix that only makes a verb perfective, its meaning unchanged ("почистить", "постирать", "покрасить",
# "помыть"); "отработать" is not "работа", "заменить" not "мена".
ASPECT_PREFIXES = ("по",)

# First elements of Russian compound nouns that name an action or a thing by its kind ("химчистка", "аквачистка",
# "автомойка", "фотосессия", "экспресс-доставка"): the noun after them is the action itself, so a customer's verb
# ("почистить") reaches the compound through its tail.
COMPOUND_HEADS = ("экспресс", "электро", "аква", "авто", "видео", "гидро", "термо", "фото", "мото", "вело", "аэро",
                  "мини", "эко", "био", "хим")


def compound_tail(key: str) -> str | None:
    """The tail of a compound noun's key after a known first element, when at least 4 letters remain."""
    for head in COMPOUND_HEADS:
        if key.startswith(head) and len(key) - len(head) >= 4:
            return key[len(head):]
    return None


def key_set(text: str, *, names: frozenset[str] = frozenset()) -> set[str]:
    """Every normalised word and its stem: what an item 'contains' for coverage."""
    keys: set[str] = set()
    for position in key_positions(text, names=names):
        keys |= position
    return keys


# Parts of the day a clock time falls in ("с 07:30 до 10:30" is in the morning): a customer asks "утром?",
# "ночью?", the knowledge writes the hours. Night 0–4, morning 5–11, day 12–16, evening 17–23.
_PERIODS = ((range(0, 5), "ночью"), (range(5, 12), "утром"), (range(12, 17), "днем"), (range(17, 24), "вечером"))
_CLOCK_RANGE = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})\s*(?:до|–|—|-)\s*(\d{1,2})[:.](\d{2})(?!\d)|(?<!\d)(\d{1,2}):(\d{2})(?!\d)")
_ROUND_THE_CLOCK = re.compile(r"круглосуточн\w*|24/7")


def _periods(hours: Iterable[int]) -> str:
    hours = set(hours)
    return " ".join(name for span, name in _PERIODS if hours & set(span))


def _day_periods(match: re.Match[str]) -> str:
    """The parts of the day a clock time or a range of them covers ("07:30 до 10:30" → "утром")."""
    if match.group(1) is not None:
        start, end = int(match.group(1)), int(match.group(3))
        if start > 24 or end > 24:
            return ""
        if end <= start:  # past midnight
            end += 24
        return _periods(h % 24 for h in range(start, end + (1 if int(match.group(4)) else 0)))
    return _periods([int(match.group(5))]) if int(match.group(5)) <= 24 else ""


@lru_cache(maxsize=50_000)
def noun_stem(word: str) -> str | None:
    """The stem of a noun ending in «-сь» that Snowball cut as a reflexive verb: "надпись" → "надп", but its other forms
    ("надписи", "надписью") → "надпис"; so "запись", "роспись", "подпись", "смесь". Read as the noun (the soft sign
    dropped, "надпис"), unless the word is a form of a verb ("записалась", "садись", "учись")."""
    if len(word) < 5 or not word.endswith("сь") or stem(word).endswith("с"):
        return None
    from knowledge import semantics  # semantics imports this module

    return None if semantics.is_verb_form(word) else stem(word[:-1])


def _word_keys(word: str, names: frozenset[str] = frozenset()) -> set[str]:
    keys = {word, stem(word), root(stem(word))}
    if (noun := noun_stem(word)) is not None:
        keys.add(noun)
    if word.isascii():
        cyr = translit(word)
        if word not in names or not _russian_word(cyr):
            keys |= {cyr, stem(cyr)}
    return keys


def name_spells_a_word(name: str) -> bool:
    """A Latin-script name whose Cyrillic reading is a Russian word ("sahar" → «сахар»)."""
    return _russian_word(translit(name))


def _russian_word(word: str) -> bool:
    from knowledge import semantics  # semantics imports this module

    return semantics.is_word_form(word)


# A business presents itself by its name: "Sahar — кондитерская в Шымкенте…", "Ritm Kids — детская школа танцев…".
_SELF_NAME = re.compile(r"(?:^|[.!?]\s+)((?:[A-Z][A-Za-z'&-]+\s+){0,2}[A-Z][A-Za-z'&-]+)\s+[—–]\s+[а-яё]")


def business_names(text: str) -> frozenset[str]:
    """The Latin-script words of a name a text presents ("Sahar — кондитерская…" → "sahar"). Such a name is read as a
    name, not as the Russian word its letters spell: "Sahar" is no «сахар» ("торт без сахара есть?" is not answered
    by the overview), while a place's name keeps its reading ("Shymkent Plaza" is «плаза» to "заберу в плазе")."""
    return frozenset(fold(w) for match in _SELF_NAME.finditer(text or "") for w in match.group(1).split())


def key_positions(text: str, *, proximity: bool = False, names: frozenset[str] = frozenset()) -> list[set[str]]:
    """The keys of each word, in order (for proximity checks). A clock time (or range) also stands for the parts of
    the day it covers, as keys of the word before it, so it adds no distance between the words around it; so does
    «круглосуточно». With `proximity`, a short preposition or particle ("по", "с") takes no position either: "расчёт по
    договору, с НДС" keeps "расчёт" and "НДС" as close as the words that carry meaning. `names` (`business_names`)
    keep no Russian reading."""
    positions: list[set[str]] = []
    normalized = normalize(text)
    cursor = 0
    for match in [*_CLOCK_RANGE.finditer(normalized), None]:
        chunk = normalized[cursor : match.start() if match else len(normalized)]
        for word in words(chunk):
            if not word.isdigit() and not (proximity and len(word) <= 2 and is_filler(word)):
                positions.append(_word_keys(word, names))
                if _ROUND_THE_CLOCK.match(word):
                    positions[-1] |= set(words(_periods(range(24))))
        if match is None:
            break
        cursor = match.end()
        periods = words(_day_periods(match))
        if periods:
            if not positions:
                positions.append(set())
            positions[-1] |= set(periods)
    return positions


# --- lexicons, normalised once -----------------------------------------------------------------

def _stems(text: str) -> set[str]:
    return {stem(w) for w in words(fold(text))}


_GREETINGS = sorted((fold(p) for p in [*lexicon.GREETING_PHRASES, *lexicon.GOODBYE_PHRASES]), key=len, reverse=True)
FILLER_WORDS = set(words(fold(lexicon.FILLER_RU)))
FILLER_STEMS = {stem(w) for w in FILLER_WORDS}
SOFT_WORDS = set(words(fold(lexicon.SOFT_RU)))
SOFT_STEMS = {stem(w) for w in SOFT_WORDS}
GENERIC_WORDS = set(words(fold(lexicon.GENERIC_RU)))
GENERIC_STEMS = {stem(w) for w in GENERIC_WORDS}
SYNONYM_GROUPS: dict[str, frozenset[str]] = {}
for _group in lexicon.SYNONYMS:
    _keys = frozenset(_stems(_group) | set(words(fold(_group))))
    for _key in _keys:
        SYNONYM_GROUPS[_key] = SYNONYM_GROUPS.get(_key, frozenset()) | _keys
KAZAKH: dict[str, str | None] = {fold(k): (fold(v) if v else None) for k, v in lexicon.KAZAKH.items()}
_KAZAKH_PREFIXES = sorted((k for k in KAZAKH if len(k) >= 4), key=len, reverse=True)
ENGLISH: dict[str, str | None] = {}
for _word, _ru in lexicon.ENGLISH.items():
    ENGLISH[_word] = _ru
    ENGLISH.setdefault(_EN.stemWord(_word), _ru)
# The English glossary's single words too (`knowledge.english`): an English word in a Russian message ("принимаете
# dollars?", "завтрак included?") is read like the same word in an English message; the matcher's list wins.
for _word, _ru in english.WORDS.items():
    if " " not in _word and "-" not in _word:
        ENGLISH.setdefault(_word, fold(_ru) if _ru else None)
for _word, _ru in english.WORDS.items():
    if " " not in _word and "-" not in _word and len(_word) >= 4:
        ENGLISH.setdefault(_EN.stemWord(_word), fold(_ru) if _ru else None)
PRICE_CUES = [fold(c) for c in lexicon.PRICE_CUES]
_LEXICON_WORDS = {w for w in FILLER_WORDS | SOFT_WORDS | GENERIC_WORDS if not w.isascii()}
_LEXICON_WORDS |= {w for group in lexicon.SYNONYMS for w in words(fold(group)) if not w.isascii()}
_LEXICON_WORDS |= {w for text_ in lexicon.ASPECT_FORM_WORDS.values() for w in words(fold(text_))}
_LEXICON_WORDS |= {w for cues in lexicon.ASPECT_CUES.values() for cue in cues for w in words(fold(cue)) if not w.isascii()}
_LEXICON_SKELETONS: dict[str, str] = {}
for _word in sorted(_LEXICON_WORDS):
    _LEXICON_SKELETONS.setdefault(latin_skeleton(_word), _word)
HOURS_CUES = [fold(c) for c in lexicon.HOURS_CUES]


def kazakh_lookup(word: str) -> tuple[bool, str | None]:
    """(found, Russian word or None for filler). Kazakh suffixes are agglutinative, so a known
    stem at the start of the word is enough ("жексенбіде" → "жексенбі")."""
    if word in KAZAKH:
        return True, KAZAKH[word]
    for prefix in _KAZAKH_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) <= 6:
            return True, KAZAKH[prefix]
    return False, None


def concept(word: str) -> frozenset[str]:
    """The keys that satisfy a (Russian) word: its form, its stem and its synonyms."""
    base = {word, stem(word)}
    if (noun := noun_stem(word)) is not None:
        base.add(noun)
    for key in tuple(base):
        base |= SYNONYM_GROUPS.get(key, frozenset())
    base |= {root(stem(k)) for k in tuple(base)}
    return frozenset(base)


def is_filler(word: str) -> bool:
    return word in FILLER_WORDS or stem(word) in FILLER_STEMS


def is_generic(word: str) -> bool:
    return word in GENERIC_WORDS or stem(word) in GENERIC_STEMS


def is_soft(word: str) -> bool:
    return word in SOFT_WORDS or stem(word) in SOFT_STEMS


def cue_pattern(cue: str) -> str:
    """A cue matches from the start of a word; a cue ending in a short word ("сколько за", "сколько это") also
    ends with that word, so "во сколько заезд" is not "сколько за" and "предоплата" is not "доплата"."""
    last = words(cue)[-1] if words(cue) else cue
    return rf"(?<![a-zа-я]){re.escape(cue)}" + (r"(?![a-zа-я])" if len(last) < 4 else "")


_PRICE_CUE = re.compile("|".join(cue_pattern(c) for c in sorted(PRICE_CUES, key=len, reverse=True)))
_HOURS_CUE = re.compile("|".join(cue_pattern(c) for c in sorted(HOURS_CUES, key=len, reverse=True)))


def asks_price(normalized: str) -> bool:
    return bool(_PRICE_CUE.search(normalized) or _WHAT_IT_COSTS.search(normalized))


def asks_hours(normalized: str) -> bool:
    return bool(_HOURS_CUE.search(normalized)) and not _WHAT_IT_COSTS.search(normalized)


# --- aspects: what is asked, and what an item's text states ---------------------------------------

ASPECT_CUES: dict[str, list[str]] = {
    name: sorted({fold(c) for c in cues}, key=len, reverse=True) for name, cues in lexicon.ASPECT_CUES.items()
}
ASPECT_TOPIC_WORDS = set(words(fold(lexicon.ASPECT_TOPIC_WORDS)))
COMPARATIVES = set(words(fold(lexicon.COMPARATIVES)))
MANNER = set(words(fold(lexicon.MANNER_RU)))
ASPECT_FORM_WORDS: dict[str, set[str]] = {name: set(words(fold(text))) for name, text in lexicon.ASPECT_FORM_WORDS.items()}
_WEEKDAY = (r"(?:пн|вт|ср|чт|пт|сб|вс|понедельник\w*|вторник\w*|сред[аыу]|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*"
            r"|будн\w*|выходн\w*|ежедневно|без выходных)")
_ROLE = (r"(?<![а-яё])(?:мастер|тренер|педагог|преподавател|учител|инструктор|хореограф|врач|доктор|хирург|терапевт"
         r"|стоматолог|ортодонт|косметолог|массажист|визажист|стилист|парикмахер|колорист|бровист|ветеринар|грумер"
         r"|руководител|директор|администратор|специалист|топ-мастер)")
_PLACE = r"(?<![а-яё])(?:филиал|студи|зал|бокс|кабинет|корпус|здани|тц|трц|бц|дк|клуб|центр)"
ASPECT_STATEMENTS: dict[str, re.Pattern[str]] = {
    "price": _MONEY,
    "hours": re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)|круглосуточн|24/7|выходной|не работа|закрыт", re.IGNORECASE),
    # Not a window before or after an event ("в течение 7 дней после пробного", "за 24 часа до визита").
    "duration": re.compile(r"\d+(?:[,.]\d+)?\s*(?:(?:рабоч|календарн|полн)[а-я]*\s+)?(?:мин|час|сек|дн|недел)[а-яё]*+"
                           r"(?!\s+(?:после|до)\s)|длительност|займ[её]т|длится",
                           re.IGNORECASE),
    "days": re.compile(rf"(?<![а-яё]){_WEEKDAY}(?![а-яё])", re.IGNORECASE),
    # How far ahead ("минимум за 3 дня", "за 48 часов до выдачи", "за сутки").
    "lead": _LEAD_STATED,
    "address": re.compile(r"(?<![а-яё])(?:ул|пр|мкр|пр-т|г|д)\.|проспект|улиц|мкр|этаж|(?<![а-яё])вход(?![а-яё])", re.IGNORECASE),
    # An age, not an experience ("стаж 10 лет", "опыт работы 8 лет") nor a year ("с 2017 года").
    "age": re.compile(r"(?<!стаж )(?<!стажем )(?<!опыт )(?<!опытом )(?<!работы )"
                      r"(?<![\d.])\d{1,2}(?:\s*[–-]\s*\d{1,2})?(?:-?х)?\s*(?:лет|год)|возраст", re.IGNORECASE),
    "phone": re.compile(r"\+?\d[\d ()\u00a0-]{8,}\d|@[\w.]+|whatsapp", re.IGNORECASE),
    "distance": re.compile(r"\d+\s*(?:мин\w*|км|м|метр\w*)\s+(?:пешком|ходьбы|езды|на машине|на такси|на автобусе|от|до)"
                           r"|(?<![а-яё])(?:рядом|в шаговой доступности|напротив)(?![а-яё])", re.IGNORECASE),
    # A channel by which the customer learns of something ("пришлём сообщение в WhatsApp", "позвоним", "узнать у
    # администратора").
    "notice": re.compile(r"сообщ|уведом|оповещ|позвон|звонк|напиш|пришл[её]м|(?<![а-яё])узна|whatsapp|ватсап|sms|смс"
                         r"|telegram|телеграм", re.IGNORECASE),
    # A channel to book through ("запишитесь по телефону +7 …", "напишите в WhatsApp", "у администратора").
    "signup": re.compile(r"\+?\d[\d ()\u00a0-]{8,}\d|whatsapp|ватсап|напиш|позвон|звонит|"
                         r"администратор|менеджер|ресепшн|регистратур|direct|директ", re.IGNORECASE),
    # A case the business states a rule for ("если вы заметили пятно…", "в случае неявки", "при отмене позже").
    "remedy": re.compile(r"(?<![а-яё])(?:если|в случае|при условии|при неявке|при отмене|при опоздании)(?![а-яё])",
                         re.IGNORECASE),
    # Words that say how prices compare ("стоимость у всех мастеров одинаковая", "5 000 ₸ вместо 6 000 ₸").
    "compare": re.compile(r"одинаков|вместо|дешевле|дороже|выгодн|разниц", re.IGNORECASE),
    # A person by name: a name and patronymic ("Алия Сериковна"); a role followed by a capitalised name within two
    # words that are not a preposition ("старший мастер Даурен", "Педагоги: Айгерим", "руководителем школы Айгерим";
    # "администратором филиала в Самале" is a place); or a capitalised name followed by a role or an experience
    # ("Айгерим (топ-мастер", "Ольга — колорист", "Ерлан, стаж").
    # Case-sensitive: a capitalised word is what makes a name.
    "person": re.compile(
        rf"[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+(?:овн|евн|ичн|ович|евич|ьич)[а-яё]*"
        rf"|(?i:{_ROLE})[а-яё-]*[\s:—–,-]+(?:(?!(?:в|во|на|из|с|со|у|к|по|от|до|для|при)\s)[а-яё-]+[\s:—–,-]+){{0,2}}"
        rf"[А-ЯЁ][а-яё]{{2,}}"
        rf"|[А-ЯЁ][а-яё]{{2,}}\s*(?:\(|—|–|,)\s*(?:[а-яё-]+\s+)?(?i:{_ROLE}|стаж)"
    ),
    # A place by name: an address, "в/на" + a capitalised name ("на Юго-Востоке", "во Дворце культуры"), or a
    # place noun with a name or number ("студия Центр", "ТЦ «Орбита»", "зал 305").
    "place": re.compile(
        r"(?i:(?<![а-яё])(?:ул|пр|мкр|пр-т)\.|проспект|улиц)"
        r"|(?<![А-Яа-яЁё])(?:в|во|на)\s+[А-ЯЁ][а-яё]"
        rf"|(?i:{_PLACE})[а-яё]*\s+(?:[«\"]|[А-ЯЁ]|№\s*\d|\d)"
    ),
}


# Compiled once: one alternation per aspect says whether any of its cues occurs, and only then are the cues
# tried one by one for their words (a cue per regex search cost ~1.7 ms per question, most of decide_reply).
_CUE_ANY = {name: re.compile("|".join(cue_pattern(c) for c in cues)) for name, cues in ASPECT_CUES.items() if cues}
_CUE_EACH = {name: [(cue, re.compile(cue_pattern(cue))) for cue in cues] for name, cues in ASPECT_CUES.items()}


# "шале сколько?", "а на двоих сколько": a question that ends in «сколько» with nothing counted asks the price; not
# "детей в группе сколько?" (a genitive plural, or a noun whose genitive plural has no ending, is what is counted).
_TRAILING_HOW_MUCH = re.compile(r"(?<![a-zа-я])(?:сколько|скока|скоко|сколко|скок)[\s?!.)]*$")
_COUNTED_BEFORE = re.compile(r"(?<![а-я])(?:[а-я-]+(?:ей|ов|ев|ий)|лет|раз|человек|штук|грамм|килограмм|метров|сантиметров)"
                             r"(?![а-я])")


def aspects_asked(normalized: str) -> tuple[frozenset[str], set[str]]:
    """The aspects a question asks about, and the words of their cues (the question's form)."""
    found: set[str] = set()
    cue_words: set[str] = set()
    trailing = _TRAILING_HOW_MUCH.search(normalized)
    if trailing and not _COUNTED_BEFORE.search(normalized[: trailing.start()]) and not _CUE_ANY["hours"].search(normalized):
        found.add("price")
    for name, any_cue in _CUE_ANY.items():
        if not any_cue.search(normalized):
            continue
        if name == "phone" and _device_phone(normalized):
            continue  # "диагностика телефона платная?": the telephone is the thing asked about, not the contact (PH)
        found.add(name)
        for cue, pattern in _CUE_EACH[name]:
            if pattern.search(normalized):
                cue_words.update(w for w in words(cue) if w not in ASPECT_TOPIC_WORDS)
    if _WHAT_IT_COSTS.search(normalized):
        found.discard("hours")  # "во сколько обойдётся?" is a price, not a time
        found.add("price")
    if not found and _NEGATED_CONDITION.search(normalized) and not _ASKS_OTHER.search(normalized):
        found.add("remedy")  # "если не успею, за сколько предупредить?" asks the lead time, not the remedy
    for name in found:
        cue_words |= ASPECT_FORM_WORDS.get(name, set())
    return frozenset(found), cue_words


# The bare word "телефон" asks for the business's number only when nothing but question words and the words of a
# contact stand beside it ("телефон ваш?", "какой у вас телефон для записи?"); "диагностика телефона платная?",
# "квитанцию потеряла, как забрать телефон?", "телефоны продаете?" ask about a telephone (PH).
_PHONE_WORD = re.compile(r"(?<![а-я])телефон[а-я]*|(?<![a-z])phone(?![a-z])")
_CONTACT_WORDS = frozenset(
    "для связи записи запись записаться администратора администратор менеджера менеджер салона клиники офиса филиала "
    "студии центра номер номера ваш ваши вашего какой какие есть дайте скиньте подскажите напишите".split())


def _device_phone(normalized: str) -> bool:
    """The phone cue matched only as the bare word "телефон" and other content words stand beside it (PH)."""
    if any(pattern.search(normalized) for cue, pattern in _CUE_EACH["phone"] if cue not in ("телефон", "phone")):
        return False
    rest = _PHONE_WORD.sub(" ", normalized)
    return any(not is_filler(w) and not is_soft(w) and not is_generic(w) and w not in _CONTACT_WORDS and not w.isdigit()
               for w in words(rest))


_WHAT_IT_COSTS = re.compile(r"(?<![а-я])во\s+сколько\s+(?:\w+\s+)?(?:обойд|выйд|стан)")
# "если пятно не вывели, что делаете?", "если не подойдёт размер?": a question about what the business does when
# something fails, answered by an item that states a case ("если…", "в случае…"), not by one describing the service.
# Not the politeness "если не сложно".
_ASKS_OTHER = re.compile(r"(?<![а-я])(?:сколько|скока|когда|где|какой|какая|какие|какое|кто)(?![а-я])")
_NEGATED_CONDITION = re.compile(r"(?<![а-я])если\s+(?:[а-я]+\s+){0,3}не\s+(?!сложно|трудно|затруднит|секрет)[а-я]+")


# --- weekdays: which days of the week a text names (ranges and "every day" expanded) ------------------
_DAY_STEMS = ("понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресен")
_DAY_ABBREVIATIONS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_DAY = r"(?:понедельник\w*|вторник\w*|сред[аыуе]|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*|пн|вт|ср|чт|пт|сб|вс)"
_DAY_RANGE = re.compile(rf"(?<![а-яё])(?:с\s+)?({_DAY})\s*(?:[–—-]|\s+по\s+)\s*({_DAY})(?![а-яё])")
_DAY_SINGLE = re.compile(rf"(?<![а-яё]){_DAY}(?![а-яё])")
_EVERY_DAY = re.compile(r"ежедневн|каждый день|без выходных|круглосуточн|24/7|7 дней в неделю|семь дней в неделю")


def day_number(word: str) -> int | None:
    """0 for Monday … 6 for Sunday, from a full form or the usual abbreviation; else None."""
    word = fold(word)
    if word in _DAY_ABBREVIATIONS:
        return _DAY_ABBREVIATIONS.index(word)
    if len(word) >= 4:
        for number, day_stem in enumerate(_DAY_STEMS):
            if word.startswith(day_stem):
                return number
    return None


def days_stated(text: str) -> frozenset[int]:
    """The days of the week a piece of answer text names: "пн–пт" and "с понедельника по субботу" are every day
    between; "ежедневно", "без выходных", "круглосуточно" every day. "Будни" and "выходные" are left alone: a
    promotion's "по будням с 10:00 до 13:00" would answer the opening hours, and "выходные" is also "days off"."""
    folded = fold(text)
    if _EVERY_DAY.search(folded):
        return frozenset(range(7))
    days: set[int] = set()
    for match in _DAY_RANGE.finditer(folded):
        first, last = day_number(match.group(1)), day_number(match.group(2))
        if first is not None and last is not None and first <= last:
            days.update(range(first, last + 1))
    for match in _DAY_SINGLE.finditer(folded):
        number = day_number(match.group(0))
        if number is not None:
            days.add(number)
    return frozenset(days)


_PRICE = r"(?:\d[\d \u00a0\u202f]*\s?(?:₸|тг|тенге|руб|₽)|бесплатн)"
_TWO_PRICES = re.compile(rf"{_PRICE}.*?{_PRICE}", re.IGNORECASE | re.DOTALL)


def two_prices(text: str) -> bool:
    """Two prices side by side ("с обедом — 55 000 ₸, для учеников — 48 000 ₸")."""
    return bool(_TWO_PRICES.search(text))


# A channel given for cancelling or moving a visit ("Отменить или перенести запись можно … — напишите в этот чат") is
# no way to book: every sentence that gives one is about another action on the booking (HB).
_OTHER_BOOKING_ACTION = re.compile(r"отмен|перен[её]с|перенос|cancel|reschedul", re.IGNORECASE)
_CHANNEL_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s+")
_BOOKING_VERB = re.compile(r"запиш|записа(?:ть|ться)|записыва|(?<![a-z])book", re.IGNORECASE)  # "Записать, перенести …"


def channel_only_for_other_action(text: str) -> bool:
    """Every sentence of `text` giving a channel (`ASPECT_STATEMENTS["signup"]`) is about cancelling or moving a visit."""
    sentences = [s for s in _CHANNEL_SENTENCE_END.split(text) if ASPECT_STATEMENTS["signup"].search(s)]
    return bool(sentences) and all(_OTHER_BOOKING_ACTION.search(s) and not _BOOKING_VERB.search(s) for s in sentences)


def aspects_stated(text: str) -> frozenset[str]:
    """The aspects a piece of answer text states (a price, a clock time, a duration, ...)."""
    return frozenset(name for name, pattern in ASPECT_STATEMENTS.items() if pattern.search(text))


# --- vectors --------------------------------------------------------------------------------------

def _bucket(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) & 0x7FFFFFFF


@dataclass
class SparseVector:
    indices: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @classmethod
    def from_counts(cls, counts: Counter[str]) -> SparseVector:
        merged: dict[int, float] = {}
        for token, weight in counts.items():
            index = _bucket(token)
            merged[index] = merged.get(index, 0.0) + weight
        ordered = sorted(merged.items())
        return cls(indices=[i for i, _ in ordered], values=[float(v) for _, v in ordered])


def sparse_from_keys(weighted: dict[str, float]) -> SparseVector:
    return SparseVector.from_counts(Counter(weighted))


def dense_char_ngrams(text_words: list[str], dim: int) -> list[float]:
    """Signed hashing of character 3- and 4-grams of each word: close spellings (typos,
    transliteration) share most n-grams, so their vectors stay close."""
    vector = [0.0] * dim
    for word in text_words:
        padded = f"#{word}#"
        for size in (3, 4):
            for start in range(max(1, len(padded) - size + 1)):
                gram = padded[start : start + size]
                h = zlib.crc32(gram.encode("utf-8"))
                vector[h % dim] += 1.0 if (h >> 31) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector
