"""Tiers: a price list written per tier, the tiers defined in another item of the same knowledge.

Small businesses price by tier and say once, elsewhere, what each tier holds: a detailing centre
writes "1 класс — седаны и хэтчбеки (Toyota Camry, …); 2 класс — кроссоверы …" in one item and
"Комплексная мойка: 1 класс — 6 000 ₸, 2 класс — 7 000 ₸, …" in the price items; a children's school
maps ages to groups ("«Малыши» 3–5 лет, «Дети» 6–9 лет") that the membership prices use; a vet clinic
maps weights to size classes. The customer asks with a member of the tier ("комплексная мойка для
кроссовера", "абонемент для ребёнка 7 лет"), a word the price item lacks, so the qualifier check
escalates. Here such a question is resolved through the reference item and answered with the line of
the price item that carries the tier's fact.

Pure Python over a `KBSnapshot`, no Django. The tier systems are read once per snapshot (one KB
version) by `tier_index`; a question costs a few set look-ups per candidate item.

Safety (the honesty promise):
- the mapping must be written in the knowledge: a member listed in exactly one tier's entry (a
  word, a brand name, a number inside the entry's range); a member found in two tiers' entries, or
  words of the question that no single entry states, resolve nothing;
- the candidate item must use the system (at least two of its tiers) and state the resolved tier;
- what is left of the question once the member is taken out must be answered by the candidate on
  its own (`KBSnapshot.match`: coverage, numbers, aspects) and must still name a service (no bare
  "для кроссовера?" answered with some price);
- the reply quotes only the line(s) for that tier, so another tier's price is never sent.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from knowledge import matching as M
from knowledge import text as T
from knowledge.translit import readings

# --- quantities (tier members such as ages and weights) ------------------------------------------

_UNITS = (
    ("год", r"лет|год[а-я]*|годик[а-я]*"),
    ("мес", r"мес|месяц[а-я]*"),
    ("кг", r"кг|килограмм[а-я]*|кило"),
    ("см", r"см|сантиметр[а-я]*"),
)
_UNIT_RE = "|".join(f"(?P<u_{name}>{pattern})" for name, pattern in _UNITS)
_NUM = r"\d+(?:[.,]\d+)?"
_RANGE = re.compile(
    rf"(?<![\d.,])(?:(?P<word>до|не более|не больше|менее|меньше|от|с|свыше|более|больше|старше|младше)\s+)?"
    rf"(?P<low>{_NUM})(?:\s*(?:[–—-]|до)\s*(?P<high>{_NUM}))?\s*(?:{_UNIT_RE})(?![а-яa-z])"
)
_ASKED = re.compile(rf"(?<![\d.,])(?P<value>{_NUM})\s*-?\s*(?P<unit>{_UNIT_RE})(?![а-яa-z])")


def _unit_of(match: re.Match[str]) -> str:
    return next(name for name, _ in _UNITS if match.group(f"u_{name}"))


def _float(value: str) -> float:
    return float(value.replace(",", "."))


def ranges_in(text: str) -> dict[str, list[tuple[float, float]]]:
    """Quantity ranges a text states, per unit: "6–9 лет" → год (6, 9); "до 5 кг" → кг (0, 5);
    "свыше 25 кг" → кг (25, ∞); "от 10 до 20 кг" → (10, 20)."""
    found: dict[str, list[tuple[float, float]]] = {}
    for match in _RANGE.finditer(T.fold(text)):
        low = _float(match.group("low"))
        word = match.group("word") or ""
        if match.group("high"):
            bounds = (low, _float(match.group("high")))
        elif word in ("до", "не более", "не больше", "менее", "меньше", "младше"):
            bounds = (0.0, low)
        elif word:
            bounds = (low, math.inf)
        else:
            bounds = (low, low)
        found.setdefault(_unit_of(match), []).append(bounds)
    return found


def quantities_asked(text: str) -> dict[str, tuple[str, str]]:
    """Numbers of a question that measure something: {"7": ("год", "лет")} for "ребёнку 7 лет"."""
    found: dict[str, tuple[str, str]] = {}
    for match in _ASKED.finditer(T.fold(text)):
        number = match.group("value").replace(",", ".")
        number = str(int(float(number))) if float(number).is_integer() else number
        found[number] = (_unit_of(match), match.group("unit"))
    return found


# --- Latin brand names written in Cyrillic ("камри" → Camry, "лэнд крузер" → Land Cruiser) ------------

_CYR_VOWELS = set("аеёиоуыэюяйьъ")
_SKELETON_MAP = str.maketrans({"з": "с", "ц": "с", "щ": "ш", "ё": "е"})


def _skeleton(cyrillic: str) -> str:
    """Consonants only, similar ones merged, doubles collapsed: "крузер" → "крср", "камри" → "кмр"."""
    letters = [c for c in cyrillic.translate(_SKELETON_MAP) if c.isalpha() and c not in _CYR_VOWELS]
    out: list[str] = []
    for letter in letters:
        if not out or out[-1] != letter:
            out.append(letter)
    return "".join(out)


def latin_skeletons(word: str) -> set[str]:
    """Skeletons of the Cyrillic readings of a Latin word (`knowledge.translit.readings`), long enough
    to tell brand names apart (3+ consonants)."""
    return {s for s in (_skeleton(r) for r in readings(word.lower())) if len(s) >= 3}


def cyrillic_skeleton(word: str) -> str:
    skeleton = _skeleton(word)
    return skeleton if len(skeleton) >= 3 and not word.isascii() else ""


# --- the tier systems a knowledge base defines -----------------------------------------------------

_DASH = re.compile(r"\s[—–-]\s|\s?—\s?")
_QUOTED = re.compile(r"^[«\"“]([^»\"”]{1,40})[»\"”]\s*[—–-]?\s*(.+)$", re.DOTALL)
_PAREN_BODY = re.compile(r"^([^()\d]{1,40}?)\s*\((.+)\)$", re.DOTALL)
_NUMBERED = re.compile(r"^(\d{1,2})\s*(?:-?(?:й|я|е|го|ой))?\s+([а-яa-z]+)$")
_NAMED = re.compile(r"^[а-яa-z][а-яa-z-]*(?:\s+[а-яa-z][а-яa-z-]*){0,2}$")
_HEADING = re.compile(r"^([^:;]{1,80}):(?!\d)\s*(.+)$", re.DOTALL)  # not the colon of "08:00"
_WORDS = re.compile(r"[a-zа-я]+(?:-[a-zа-я]+)*")
_NOT_MEMBERS = frozenset({"price", "hours", "days", "address", "phone", "duration", "lead"})


@dataclass(frozen=True)
class TierEntry:
    """One tier as the reference item defines it: its label and what belongs to it."""

    label: str  # "2" for "2 класс", or the label's stems ("дет") for a named tier
    label_text: str  # "2 класс", "«Дети»"
    text: str  # the whole entry as written ("2 класс — кроссоверы и …")
    keys: frozenset[str]  # the member words' keys (forms, stems)
    numbers: frozenset[str]  # numbers written among the members ("RAV4")
    ranges: tuple[tuple[str, float, float], ...]  # (unit, low, high)
    skeletons: frozenset[str]  # Latin brand names' skeletons (and of two adjacent ones: "Land Cruiser")


@dataclass
class TierSystem:
    reference: str  # the item that defines the tiers
    noun: str  # the stem of the tier noun ("класс") for numbered tiers, "" for named ones
    entries: dict[str, TierEntry] = field(default_factory=dict)
    # named tiers: the first stem of a label → (all its stems, label)
    label_stems: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.reference, self.noun, tuple(sorted(self.entries)))


@dataclass(frozen=True)
class LabelSpan:
    labels: frozenset[str]
    start: int
    end: int


def _top_level_split(text: str, separators: str) -> list[tuple[int, int]]:
    """Spans of the pieces of `text` between separators outside brackets and quotes."""
    spans, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "(«[":
            depth += 1
        elif char in ")»]" and depth:
            depth -= 1
        elif char in separators and depth == 0:
            spans.append((start, index))
            start = index + 1
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _label_of(head: str) -> tuple[str, str, str] | None:
    """(noun stem, label, label text) of an entry's head: "2 класс" → ("класс", "2", …); "«Малыши»",
    "мини" → ("", "малыш", …). None for a head that is not a short label."""
    folded = T.fold(head).strip(" «»\"“”")
    numbered = _NUMBERED.match(folded)
    if numbered:
        return T.stem(numbered.group(2)), str(int(numbered.group(1))), head.strip()
    if _NAMED.match(folded):
        stems = [T.stem(w) for w in T.words(folded) if not T.is_filler(w)]
        if stems and all(len(s) >= 3 for s in stems):
            return "", " ".join(stems), head.strip()
    return None


def _parse_entry(piece: str) -> tuple[tuple[str, str, str], str] | None:
    """A tier entry: "LABEL — members", "«LABEL» members", "LABEL (members)", or "members — N noun"."""
    piece = piece.strip(" .")
    quoted = _QUOTED.match(piece)
    if quoted:
        label = _label_of(quoted.group(1))
        return (label, quoted.group(2)) if label else None
    parts = _DASH.split(piece, maxsplit=1)
    if len(parts) == 2:
        head, body = parts[0].strip(), parts[1].strip()
        label = _label_of(head)
        if label:
            return label, body
        label = _label_of(body)
        if label and label[0] and len(head.split()) > 1:  # "седаны и хэтчбеки — 1 класс"
            return label, head
        return None
    paren = _PAREN_BODY.match(piece)
    if paren:
        label = _label_of(paren.group(1))
        return (label, paren.group(2)) if label else None
    return None


def _entry(label: tuple[str, str, str], body: str, text: str) -> TierEntry | None:
    folded = T.fold(body)
    words = [w for w in T.words(folded) if not w.isdigit()]
    keys = set()
    for word in words:
        if not T.is_filler(word):
            keys |= {word, T.stem(word), T.root(T.stem(word))}
            if word.isascii():
                keys |= {T.translit(word), T.stem(T.translit(word))}
    ranges = tuple((unit, low, high) for unit, bounds in ranges_in(body).items() for low, high in bounds)
    latin = [w for w in _WORDS.findall(folded) if w.isascii()]
    skeletons: set[str] = set()
    for index, word in enumerate(latin):
        skeletons |= latin_skeletons(word)
        if index + 1 < len(latin):
            skeletons |= latin_skeletons(word + latin[index + 1])
    numbers = T.numbers_in(body) - {str(int(low)) for _, low, _ in ranges} - {
        str(int(high)) for _, _, high in ranges if high != math.inf}
    if T.aspects_stated(body) & _NOT_MEMBERS or not (keys or ranges):
        return None  # a price list ("1 класс — 6 000 ₸") or branch hours define no tier
    return TierEntry(label=label[1], label_text=label[2], text=text.strip(" ;,."), keys=frozenset(keys),
                     numbers=frozenset(numbers), ranges=ranges, skeletons=frozenset(skeletons))


def _systems_of(doc: M.ItemDoc) -> list[TierSystem]:
    """The tier systems one item defines: two or more parallel entries of one sentence (or, for
    numbered tiers, of the whole item)."""
    numbered: dict[str, TierSystem] = {}
    named: list[TierSystem] = []
    for sentence in T.sentences(doc.answer):
        heading = _HEADING.match(sentence)
        body = heading.group(2) if heading else sentence
        pieces = [body[a:b] for a, b in _top_level_split(body, ";")]
        if len(pieces) == 1:
            pieces = [body[a:b] for a, b in _top_level_split(body, ",")]
        current: list[tuple[tuple[str, str, str], str, str]] = []
        open_entry = False
        for piece in pieces:
            parsed = _parse_entry(piece)
            if parsed:
                current.append((parsed[0], parsed[1], piece))
                open_entry = True
            elif _DASH.search(piece):
                open_entry = False  # an entry whose head is no label ends the previous entry's members
            elif current and open_entry:
                label, body_text, text = current[-1]
                current[-1] = (label, f"{body_text}, {piece.strip()}", f"{text}, {piece.strip()}")
        sentence_named = TierSystem(reference=doc.external_id, noun="")
        for label, body_text, text in current:
            entry = _entry(label, body_text, text)
            if entry is None:
                continue
            if label[0]:
                system = numbered.setdefault(label[0], TierSystem(reference=doc.external_id, noun=label[0]))
                system.entries.setdefault(entry.label, entry)
            else:
                sentence_named.entries.setdefault(entry.label, entry)
        if len(sentence_named.entries) >= 2:
            for label in sentence_named.entries:
                stems = tuple(label.split())
                sentence_named.label_stems.setdefault(stems[0], []).append((stems, label))
            named.append(sentence_named)
    return [s for s in numbered.values() if len(s.entries) >= 2] + named


_NUMBER_LIST = r"(\d{1,2})((?:\s*(?:[–—-]|и|или|,)\s*\d{1,2})*)\s*(?:-?(?:й|я|е|го|му|м|ой))?\s+([а-яa-z]+)"


def label_spans(text: str, system: TierSystem) -> list[LabelSpan]:
    """Where an item's text names tiers of the system: "2 класс", "1–2 класс", "2 и 3 класс" (numbered),
    or a named tier's word at the start of a list entry ("Дети и Юниоры — …", "у малышей — …")."""
    folded = T.fold(text)
    spans: list[LabelSpan] = []
    if system.noun:
        for match in re.finditer(rf"(?<![\d:.,]){_NUMBER_LIST}", folded):
            if T.stem(match.group(3)) != system.noun:
                continue
            numbers = [int(match.group(1)), *(int(n) for n in re.findall(r"\d+", match.group(2)))]
            if re.match(r"\s*[–—-]", match.group(2) or "") and len(numbers) == 2:
                numbers = list(range(numbers[0], numbers[1] + 1))
            labels = frozenset(str(n) for n in numbers) & set(system.entries)
            if labels:
                spans.append(LabelSpan(labels, match.start(), match.end()))
        return spans
    tokens = [m for m in re.finditer(r"[a-zа-я]+", folded) if not T.is_filler(m.group(0))]
    index = 0
    while index < len(tokens):
        found = None
        position = tokens[index].start()
        joined = bool(spans) and folded[spans[-1].end:position].strip() in ("", ",", "и", "или", "/")
        if joined or _entry_start(folded, position):
            for stems, label in system.label_stems.get(T.stem(tokens[index].group(0)), ()):
                window = tokens[index:index + len(stems)]
                if len(window) == len(stems) and all(T.stem(w.group(0)) == s for w, s in zip(window, stems, strict=True)):
                    found = (label, window[-1].end(), len(stems))
                    break
        if found is None:
            index += 1
            continue
        label, end, size = found
        if joined:
            spans[-1] = LabelSpan(spans[-1].labels | {label}, spans[-1].start, end)  # "Дети и Юниоры — …"
        else:
            spans.append(LabelSpan(frozenset({label}), tokens[index].start(), end))
        index += size
    return spans


def _entry_start(folded: str, position: int) -> bool:
    """A named tier counts where a list entry starts ("…; Дети — …", "у малышей — …"), not inside prose."""
    before = folded[:position].rstrip(" «\"“")
    return not before or before[-1] in ",;:(.—–-\n" or re.search(r"(?:^|[,;:(.—–\n])\s*(?:у|для|в|во|на|и)$", before) is not None


@dataclass
class TierIndex:
    systems: list[TierSystem]
    used_by: dict[str, list[int]]  # item id → indexes of the systems whose tiers it names (two or more)


def build_index(snapshot: M.KBSnapshot) -> TierIndex:
    systems: list[TierSystem] = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for doc in snapshot.docs:
        for system in _systems_of(doc):
            if system.key not in seen:
                seen.add(system.key)
                systems.append(system)
    used_by: dict[str, list[int]] = {}
    for doc in snapshot.docs:
        for index, system in enumerate(systems):
            if doc.external_id == system.reference:
                continue
            named = set().union(*(s.labels for s in label_spans(doc.answer, system)))
            if len(named) >= 2:
                used_by.setdefault(doc.external_id, []).append(index)
    return TierIndex(systems=systems, used_by=used_by)


_indexes: weakref.WeakKeyDictionary[M.KBSnapshot, TierIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def tier_index(snapshot: M.KBSnapshot) -> TierIndex:
    """The snapshot's tier systems, read once per snapshot (snapshots are cached per KB version)."""
    with _indexes_lock:
        cached = _indexes.get(snapshot)
    if cached is not None:
        return cached
    built = build_index(snapshot)
    with _indexes_lock:
        _indexes[snapshot] = built
    return built


# --- resolving a question ----------------------------------------------------------------------------

@dataclass
class Resolution:
    """A candidate item that answers the question once a tier member is read as its tier."""

    match: M.ItemMatch
    reference: str
    label_text: str
    basis: str  # the reference entry, quoted in the reply
    lines: list[str]  # the candidate's line(s) for that tier
    conditions: list[str] = field(default_factory=list)  # its sentences that hold for every tier


def _covers(snapshot: M.KBSnapshot, entry: TierEntry, token: M.QToken, unit_words: set[str]) -> bool:
    if token.text in unit_words:
        return True
    if snapshot._covered(token, set(entry.keys)):
        return True
    skeleton = cyrillic_skeleton(token.text)
    return bool(skeleton) and skeleton in entry.skeletons


def _covers_number(entry: TierEntry, number: str, asked: dict[str, tuple[str, str]]) -> bool:
    if number in entry.numbers:
        return True
    if number not in asked:
        return False
    unit = asked[number][0]
    value = _float(number)
    return any(u == unit and low <= value <= high for u, low, high in entry.ranges)


def _missing(snapshot: M.KBSnapshot, item_id: str, segment: M.Segment) -> tuple[list[M.QToken], set[str]] | None:
    """The question's words and numbers the item does not have (None when dates are missing)."""
    feats = snapshot.features[item_id]
    if segment.dates - feats.dates:
        return None
    tokens = [t for t in segment.content if not snapshot._covered(t, feats.all_keys)]
    if tokens and len(tokens) < len(segment.content):
        tokens = [t for t in tokens if not T.is_generic(t.text)]
    numbers = {n for n in segment.numbers if n not in feats.numbers and not snapshot._within(n, segment.units.get(n), feats)}
    return tokens, numbers


def _tier_for(snapshot: M.KBSnapshot, system: TierSystem, tokens: list[M.QToken], numbers: set[str],
              asked: dict[str, tuple[str, str]]) -> TierEntry | None:
    """The one entry of the system that states every missing word and number, or None."""
    unit_words = {word for number, (_, word) in asked.items() if number in numbers}
    fitting = [
        entry for entry in system.entries.values()
        if all(_covers(snapshot, entry, t, unit_words) for t in tokens) and all(_covers_number(entry, n, asked) for n in numbers)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _conditions(snapshot: M.KBSnapshot, item_id: str, system: TierSystem) -> list[str]:
    """The candidate's sentences that name no tier: they hold for every tier ("Только на Рыскулова.",
    "Занимает 50–60 минут.") and stay in the reply, so no condition is dropped."""
    return [s for s in T.sentences(snapshot.features[item_id].doc.answer) if not label_spans(s, system)]


def _lines(snapshot: M.KBSnapshot, item_id: str, system: TierSystem, label: str, segment: M.Segment) -> list[str]:
    """The candidate's text for one tier: per list entry naming it, the sentence's lead-in, the entry's
    own head ("лёгкая … —") and the tier's part ("2 класс — 7 000 ₸"). When the tier is priced in
    several entries (light and abrasive polishing), the entries whose heads the customer named."""
    answer = snapshot.features[item_id].doc.answer
    found: list[tuple[str, set[str], str]] = []  # (text, keys of its head, sub-entry)
    for sentence in T.sentences(answer):
        heading_match = _HEADING.match(sentence)
        heading, body = (heading_match.group(1), heading_match.group(2)) if heading_match else ("", sentence)
        for a, b in _top_level_split(body, ";"):
            fragment = body[a:b]
            spans = label_spans(fragment, system)
            for index, span in enumerate(spans):
                if label not in span.labels:
                    continue
                end = spans[index + 1].start if index + 1 < len(spans) else len(fragment)
                part = fragment[span.start:end].strip(" ,;.")
                if index + 1 == len(spans):
                    # the last tier of an entry ends with the entry's price, not the next sentence's words
                    cut = re.search(r"(?<=[₸₽$€])|(?<=тг)|(?<=тенге)|(?<=руб)", part)
                    part = part[:cut.end()] if cut else part
                head = fragment[:spans[0].start].strip()
                text = " ".join(p for p in (f"{heading.strip()}:" if heading.strip() else "", head, part) if p) + "."
                found.append((text, T.key_set(head) | T.numbers_in(head), part))
    if len(found) <= 1:
        return [t for t, _, _ in found]
    asked = {k for t in segment.content for k in t.keys} | segment.numbers
    scores = [len({k for k in head_keys if k in asked}) for _, head_keys, _ in found]
    best = max(scores)
    return [t for (t, _, _), s in zip(found, scores, strict=True) if s == best]


def resolve(snapshot: M.KBSnapshot, segment: M.Segment, candidates: Sequence[M.ItemMatch], *,
            context: Sequence[M.QToken] = (), asks_price: bool = False, asks_hours: bool = False) -> list[Resolution]:
    """The candidates that answer the segment once its missing words/numbers are read as one tier of
    a system the knowledge defines (best first). Empty when nothing resolves."""
    index = tier_index(snapshot)
    if not index.systems:
        return []
    asked = quantities_asked(segment.text)
    resolutions: list[Resolution] = []
    for candidate in candidates:
        if candidate.valid or candidate.external_id not in index.used_by:
            continue
        if any(f not in ("uncovered", "numbers", "scattered") for f in candidate.failures):
            continue
        missing = _missing(snapshot, candidate.external_id, segment)
        if missing is None or not (missing[0] or missing[1]):
            continue
        tokens, numbers = missing
        chosen: tuple[TierSystem, TierEntry] | None = None
        for position in index.used_by[candidate.external_id]:
            system = index.systems[position]
            entry = _tier_for(snapshot, system, tokens, numbers, asked)
            if entry is None:
                continue
            if chosen is not None and (chosen[0] is not system or chosen[1] is not entry):
                chosen = None  # two systems claim the member: never guess
                break
            chosen = (system, entry)
        if chosen is None:
            continue
        system, entry = chosen
        # The question without the words and numbers the tier's entry took; everything else it says stays.
        reduced = replace(segment, tokens=[t for t in segment.tokens if t not in tokens], numbers=segment.numbers - numbers,
                          units={n: u for n, u in segment.units.items() if n not in numbers})
        if not any(not T.is_generic(t.text) for t in reduced.content):
            continue  # the rest of the question must name what is asked about ("для кроссовера?" alone names nothing)
        match = snapshot.match(candidate.external_id, reduced, context=context, asks_price=asks_price, asks_hours=asks_hours)
        if not match.valid:
            continue
        lines = _lines(snapshot, candidate.external_id, system, entry.label, segment)
        quoted = T.key_set(" ".join(lines)) | snapshot.features[candidate.external_id].question_keys
        if any(not snapshot._covered(t, quoted) and not T.is_generic(t.text) for t in reduced.content):
            continue  # the tier's line must carry what else was asked ("балет для 5 лет" is not the «Малыши» line)
        feats = snapshot.features[candidate.external_id]
        if reduced.numbers - T.numbers_in(" ".join([*lines, feats.doc.question, *feats.doc.alt_questions])):
            continue  # and every number asked ("в 3 слоя" is no line of a list of 1 and 2 layers)
        conditions = _conditions(snapshot, candidate.external_id, system)
        stated = T.aspects_stated(" ".join(lines + conditions))
        if not lines or (asks_price and not T.has_money(" ".join(lines))) or any(
                a not in stated for a in segment.aspects - {"hours"}):
            continue  # the price must be the tier's own; a duration may be one that holds for every tier
        resolutions.append(Resolution(match=match, reference=system.reference, label_text=entry.label_text,
                                      basis=entry.text, lines=lines, conditions=conditions))
    resolutions.sort(key=lambda r: (-r.match.score, r.match.external_id))
    return resolutions
