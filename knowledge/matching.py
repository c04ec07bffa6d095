"""Lexical evidence: which knowledge item answers which part of a message, and how well.

The index proposes candidates (hybrid dense + sparse, see `knowledge.index`); this module
decides, for each candidate, whether it actually covers what was asked. Pure Python over a
`KBSnapshot` (the items of one version with precomputed features), no Django.

A message is split into segments (messages of a burst, questions, "… и сколько …" clauses).
An item can answer a segment only when:
- every content word of the segment is found in the item (its stem, a synonym, a typo or
  transliteration of a word the KB uses, or a Kazakh/English word mapped to Russian);
- the words not found in the item's question occur together in ONE fragment of its answer
  (a sentence, list entry or parenthetical), so "стаж Даны" is not answered from a sentence
  that gives Айгерим's experience and merely mentions Дана — or, when the item's question
  covers part of the segment, in two sentences that each hold their words close together;
- every number in the segment occurs in the item;
- a price question gets an item that states a price, an opening-hours question one that
  states clock times.
Words in no item at all (an unknown service, a medical condition, a town) can never be
covered, so such questions go to a human: the qualifier check.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from knowledge import kazakh, learning, semantics
from knowledge import text as T
from knowledge import translit as latin

CONTENT, SOFT, FILLER = "content", "soft", "filler"

# A tolerance rule for uncovered words (None: every content word must be covered), tried only on the nearest item of
# a segment nothing answers (`knowledge.retrieval.retrieve`): called as
# WAIVER(snapshot, token, segment, features, in_question, rest, uncovered, margin=…) -> bool. Set by
# bench/qualifier_study.py (a study, measured and not kept: docs/EVAL.md, "QW").
WAIVER = None

_CLAUSE_SPLIT = re.compile(
    r"[?!\n]+|\s\+\s|\s(?:и|а|а также|плюс|and|also)\s+(?=(?:еще |ещё |потом |вообще )?(?:в |во |на |с |по |за |до |у )?"
    r"(?:сколько|скока|скольк|какие|какой|какая|каких|каком|какое|какую|кто|где|когда|как|можно|есть|до скольки|во сколько|"
    r"what|how|where|who|when|do|is|are|can|қанша|кай)\b)"
)


@dataclass(frozen=True)
class ItemDoc:
    """What retrieval needs of one knowledge item (built from Postgres rows)."""

    external_id: str
    question: str
    answer: str
    alt_questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass
class ItemFeatures:
    doc: ItemDoc
    question_keys: set[str]
    question_content: list[frozenset[str]]  # content words of each question / alt phrasing
    fragment_keys: list[set[str]]
    fragment_positions: list[list[set[str]]]
    fragment_sentence: list[int]
    fragment_clauses: list[list[set[str]]]
    fragment_leads: list[list[set[str]]]  # a parenthetical's clauses, each with the word it follows (T.lead_in_clauses)
    units: dict[str, list[tuple[float, float]]]  # quantity ranges the answer states, per unit (T.quantity_bounds)
    dates: set[tuple[int, int]]
    all_keys: set[str]
    numbers: set[str]
    money: bool
    clock: bool
    surcharge: bool = False  # every price it states is a surcharge ("+1 000 ₸ за 1 кг"): T.surcharge_only
    surcharge_share: bool = False  # states a surcharge as a share of the price ("наценка 50 %"): T.states_surcharge_share
    aspects: frozenset[str] = frozenset()  # what the answer states: price, hours, duration, days, ...
    fragment_aspects: list[frozenset[str]] = field(default_factory=list)
    counted: set[str] = field(default_factory=set)  # keys of the words written right after a number ("12 детей")
    # Per fragment, the keys written only inside a beneficiary or purchase phrase ("для владельцев годового абонемента",
    # "при покупке абонемента"): who gets the fragment's facts, not what they are about (text.outside_mentions).
    # Mostly empty (one shared empty set), which keeps 5,000 items' features small.
    fragment_mentioned_keys: list[frozenset[str]] = field(default_factory=list)
    # What the business's own question asks ("Как добраться до Медеу?": the address; "Цены на праздники другие?": the
    # price): the item answers that aspect even when its answer states it in no pattern (a route, a percentage).
    question_aspects: frozenset[str] = frozenset()
    days: frozenset[int] = frozenset()  # days of the week the answer names, ranges expanded (text.days_stated)
    per_person: set[str] = field(default_factory=set)  # keys of the people priced one by one ("каждый следующий ребёнок")
    lead_time: bool = False  # states a notice period ("не позднее чем за 48 часов")
    per_time: set[str] = field(default_factory=set)  # time units priced one by one ("1 000 ₸ в сутки" → дн, сут)
    per_area: bool = False  # prices per square metre ("1 500 ₸ за м²")
    day_spans: tuple[tuple[float, float], ...] = ()  # periods the answer states, in days (T.day_spans: "от 7 ночей")
    fragment_two_prices: list[bool] = field(default_factory=list)
    occasions: frozenset[str] = frozenset()  # occasions it names in any form ("свадебный" → wedding): T.occasions_named
    # Per fragment, the keys written only as what a named thing is about ("мастер-класс по бенто-тортам":
    # T.without_subject_matter); mostly empty (one shared empty set).
    fragment_subject_matter: list[frozenset[str]] = field(default_factory=list)
    # Per fragment, the units it states a price per ("за ночь", "в час": T.rates_stated); mostly empty (RT).
    fragment_rates: list[frozenset[str]] = field(default_factory=list)
    fragment_timed: list[bool] = field(default_factory=list)  # states a relation in time (T.states_time_relation, TP)
    headcount: frozenset[str] = frozenset()  # people the answer names only as counted ("2 гостя"): T.headcount_keys
    numbered_lines: frozenset[str] = frozenset()  # Latin words a number follows ("iPhone 11"): the models it lists (MN)
    model_codes: bool = False  # writes a model code, a series letter with its number ("A14", "S24")
    # Per fragment, the keys of the sentence's heading before a colon ("Чистка ноутбука от пыли: …, MacBook — 18 000 ₸"),
    # which applies to every entry after it (HD); mostly empty (one shared empty set).
    fragment_heads: list[frozenset[str]] = field(default_factory=list)
    # Words of a short remark right after a word of the item's own question ("Фотохромные линзы («хамелеоны»)"): the
    # question's topic by another name, anchoring the other words as the question does (RG).
    glosses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QToken:
    text: str
    keys: frozenset[str]
    kind: str
    weight: float
    known: bool  # some item of the KB has it
    # Keys that cover the word only as a category it belongs to (a wordnet hypernym: "мороженое" → "десерт"): the item
    # must ask about the category in its own question, not only mention it ("готовые десерты с витрины").
    general: frozenset[str] = frozenset()


@dataclass
class Segment:
    text: str
    tokens: list[QToken]
    numbers: set[str]
    units: dict[str, str] = field(default_factory=dict)
    aspects: frozenset[str] = frozenset()  # what the segment asks about (price, duration, ...)
    dates: set[tuple[int, int]] = field(default_factory=set)
    counted: tuple[QToken, ...] = ()  # "сколько детей в группе": the thing whose number is asked
    unit_words: dict[str, tuple[str, str]] = field(default_factory=dict)  # "года" of "4 года" → ("4", "год")
    people: dict[str, str] = field(default_factory=dict)  # "15 детей" → {"15": "детей"}
    leads: dict[str, str] = field(default_factory=dict)  # "за 3 дня до" → {"3": "дня"}
    areas: set[str] = field(default_factory=set)  # the numbers of a size: "2 на 3", "12 квадратов"
    periods: dict[str, float] = field(default_factory=dict)  # "на неделю" → {"неделю": 7.0} (T.bare_periods)
    deadlines: set[str] = field(default_factory=set)  # "на завтра успеете?" → {"завтра"} (T.deadline_days)
    rates: dict[str, str] = field(default_factory=dict)  # "за ночь" → {"ночь": "ночь"}: a rate's unit (T.rates_asked, RT)
    latin: bool = False  # Latin script read in Cyrillic with a guessed word (`T.latin_guessed`): not understood plainly
    # Numbers that name a model of a product line (MN): "а52", "s23" (glued to a series letter: the marker "#code"), or
    # "note 12", "айфон 14" (beside a word the knowledge writes in Latin: that word's Latin keys).
    models: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def content(self) -> list[QToken]:
        return [t for t in self.tokens if t.kind == CONTENT]

    @property
    def soft(self) -> list[QToken]:
        return [t for t in self.tokens if t.kind == SOFT]


# An item whose own question asks what the business (or the bot) is: the overview, naming everything it does.
_OVERVIEW_QUESTION = re.compile(r"^(?:что такое|что за|чем вы занимаетесь|кто вы|вы бот)\b")

# An item whose own question asks whether the customer is talking to a bot: the bot's self-description.
_BOT_QUESTION = re.compile(r"^(?:вы|ты) (?:бот|робот)\b")

# A label naming the kind of fact its section states: «Срок — 1–2 дня», «Стандартный срок химчистки — 3 дня».
_LABEL_ASPECT_WORDS = {"срок": "duration", "сроки": "duration", "длительность": "duration", "график": "hours",
                       "режим": "hours", "адрес": "address"}


def _label_of(phrasing: str, answer: str) -> bool:
    """Whether a learned item's phrasing is the manager's label: each of its comma-separated parts is written in the answer."""
    folded = T.fold(answer)
    parts = [p.strip() for p in phrasing.split(",") if p.strip()]
    return bool(parts) and all(T.fold(p) in folded for p in parts)


def _label_aspects(phrasing: str) -> frozenset[str]:
    normalized = T.normalize(phrasing)
    return frozenset(T.aspects_asked(normalized)[0] | {_LABEL_ASPECT_WORDS[w] for w in T.words(normalized) if w in _LABEL_ASPECT_WORDS})


@dataclass
class ItemMatch:
    external_id: str
    valid: bool
    score: float
    confidence: float
    base: float = 0.0  # score without the burst's other segments (used for ambiguity)
    uncovered: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Occasion words the item does not name, read as the asker's situation ("торт на др сыну"): OC, `occasion_named`
    situated: tuple[str, ...] = ()
    waived: tuple[str, ...] = ()  # uncovered words a tolerance rule let the item leave out (WAIVER)


# A capitalised Cyrillic word after a lower-case letter or a comma (not a sentence's first word, not in quotes).
_MID_CAPITAL = re.compile(r"(?<=[а-яё,] )([А-ЯЁ][а-яё]{2,})(?![А-ЯЁа-яё])")


def _prefixes(word: str, minimum: int = 5) -> Iterable[str]:
    for end in range(len(word) - 1, minimum - 1, -1):
        yield word[:end]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class KBSnapshot:
    """The items of one KB version with their features, vocabulary and IDF. Immutable once
    built; cached per process by version id and content hash."""

    def __init__(self, docs: Sequence[ItemDoc], *, key: str = "", relations: Iterable[str] = ()) -> None:
        """`relations`: which wordnet relations read a word the knowledge does not use
        (`knowledge.semantics`: "synonyms", "hypernyms"; none by default)."""
        self.key = key
        self.docs = list(docs)
        self.features: dict[str, ItemFeatures] = {}
        df: Counter[str] = Counter()
        # The business's own name is a name in every item, not the Russian word its Latin letters spell (T.business_names).
        names = frozenset().union(*(T.business_names(doc.answer) for doc in self.docs))
        self._word_names = frozenset(name for name in names if T.name_spells_a_word(name))
        # Words the knowledge capitalises inside a sentence ("в корпусе Центр"): names, however generic the word (GC).
        self._proper_stems = frozenset(T.stem(T.fold(m.group(1))) for doc in self.docs for text in (doc.question, doc.answer)
                                       for m in _MID_CAPITAL.finditer(text))
        for doc in self.docs:
            feats = self._features(doc, names)
            self.features[doc.external_id] = feats
            df.update(feats.all_keys)
        n = max(1, len(self.docs))
        self.vocabulary = set(df)
        # The keys the items' own questions (and alternative phrasings) ask about: the topics the business answers (SI).
        self._question_vocabulary = set().union(*(feats.question_keys for feats in self.features.values()))

        self.relations = semantics.Relations(self.vocabulary, relations) if relations else None
        self.idf = {key: math.log(1 + n / count) for key, count in df.items()}
        self.unknown_weight = math.log(1 + n) + 0.5
        self._stem_deletes: dict[str, set[str]] = {}
        self._spelled_cache: dict[str, bool] = {}
        self._skeletons: dict[str, str] | None = None
        self._sound_index: dict[str, set[str]] | None = None  # sound skeleton → Latin words of the knowledge (BR)
        # The knowledge's Latin words and their Cyrillic readings ("samsung", "самсунг"): the names of brands and lines.
        self._latin_keys = {k for w in self.vocabulary if w.isascii() and w.isalpha() and len(w) >= 3 and w not in self._word_names
                            for k in (w, T.translit(w), T.stem(T.translit(w)))}
        self._line_models: dict[str, set[str]] = {}  # a Latin word → the numbers written after it in any item (MN)
        for doc in self.docs:
            words = T.words(T.normalize(" ".join([doc.question, *doc.alt_questions, doc.answer])))
            for word, after in zip(words, words[1:], strict=False):
                if word.isascii() and word.isalpha() and after.isdigit():
                    self._line_models.setdefault(word, set()).add(after)
                    self._line_models.setdefault(T.stem(word), set()).add(after)
        self._aspect_index: dict[str, set[str]] | None = None  # AA, built once
        self._verb_stems: dict[str, set[str]] | None = None  # stem → the knowledge's verb forms of it (PS), built once
        # GT: the keys the knowledge names in a sentence that says something is done or had, and the keys it names in a
        # sentence that refuses or excepts ("Не принимаем в чистку: матрасы, …", "Меха … срочно не чистим").
        self._named_keys: set[str] = set()
        self._refusals: list[set[str]] = []
        capitalized: set[str] = set()
        lowercase: set[str] = set()
        # Words the knowledge lists together ("телефоны и ноутбуки", "чай, кофе или воду"): kinds of one thing (GT).
        self._listed_with: dict[str, set[str]] = {}
        for doc in self.docs:
            for text in [doc.question, *doc.alt_questions, doc.answer]:
                for pair in _LISTED.finditer(T.normalize(text)):
                    a, b = T.stem(pair.group(1)), T.stem(pair.group(2))
                    self._listed_with.setdefault(a, set()).add(b)
                    self._listed_with.setdefault(b, set()).add(a)
        for doc in self.docs:
            sentences = T.sentences(doc.answer)
            for sentence in sentences:
                for position, word in enumerate(re.findall(r"[^\W\d_]+", sentence)):
                    if word[0].isupper() and position:
                        capitalized.add(T.stem(T.fold(word)))
                    elif word[0].islower():
                        lowercase.add(T.stem(T.fold(word)))
                keys = T.key_set(sentence, names=names)
                if _REFUSAL.search(T.normalize(sentence)):
                    self._refusals.append(keys)
                else:
                    for part in T.fragments(sentence):
                        # an amount of money (not "бесплатно"): the name before it is an entry of a price list,
                        # "дублёнка — 16 000 ₸", "пиджак отдельно — 3 800 ₸"; only a fragment's first entry (every
                        # entry gave sahar-cakes a shameful answer)
                        for name in T.price_entries(part)[:1]:
                            self._named_keys.update(T.key_set(name, names=names))
            for question in [doc.question, *doc.alt_questions]:
                if _REFUSAL.search(T.normalize(question)):
                    self._refusals.append(T.key_set(question, names=names) | set().union(*(
                        T.key_set(sentence, names=names) for sentence in sentences)))
        # A word the knowledge writes only capitalized inside a sentence is a name ("на Сатпаева", "Gyeon"), not a thing.
        self._proper_keys = capitalized - lowercase
        # A query stem may be a shorter form of a KB word ("подар" → "подарочн", "кератин" → "кератинов").
        self._extensions: dict[str, set[str]] = {}
        for key in self.vocabulary:
            for cut in range(max(5, len(key) - 3), len(key)):
                self._extensions.setdefault(key[:cut], set()).add(key)
        self._cores: dict[str, set[str]] = {}
        for key in self.vocabulary:
            if len(key) >= 5 and not key.isascii():
                self._cores.setdefault(T.core(key), set()).add(key)
                if (tail := T.compound_tail(key)) is not None:
                    self._cores.setdefault(T.core(tail), set()).add(key)  # "химчистк" by "чист"
        for key in self.vocabulary:
            if len(key) >= 5 and not key.isascii():
                for deleted in _deletes(key) | {key}:
                    self._stem_deletes.setdefault(deleted, set()).add(key)

    # --- item side ------------------------------------------------------------------------
    @staticmethod
    def _features(doc: ItemDoc, names: frozenset[str] = frozenset()) -> ItemFeatures:
        questions = [doc.question, *doc.alt_questions]
        question_keys: set[str] = set()
        question_content = []
        for phrasing in questions:
            keys = T.key_set(phrasing, names=names)
            question_keys |= keys
            content = [
                T.concept(w) for w in T.words(T.normalize(phrasing)) if not w.isdigit() and not T.is_filler(w) and not T.is_soft(w)
            ]
            question_content.append(content)
        fragment_positions, fragment_sentence, fragment_clauses, fragment_aspects, fragment_free = [], [], [], [], []
        fragment_leads: list[list[set[str]]] = []
        fragment_heads: list[frozenset[str]] = []
        glosses: set[str] = set()
        fragment_about: list[set[str]] = []
        two_prices: list[bool] = []
        fragment_rates: list[frozenset[str]] = []
        fragment_timed: list[bool] = []
        for index, sentence in enumerate(T.sentences(doc.answer)):
            for lead, body, remark in T.fragment_parts(T.without_question_topics(sentence)):
                part = f"{lead} {body}".strip()
                # A parenthetical remark's clauses each go with the word it follows ("Эконом (…, душ и туалет на
                # этаже)"); a sentence's heading is not joined this way (measured: a frozen answer lost to new ties).
                fragment_leads.append([T.key_set(clause, names=names) for clause in T.lead_in_clauses(lead, body)] if remark else _NO_LEADS)
                fragment_heads.append(frozenset(T.key_set(lead, names=names)) if lead and not remark else _NO_KEYS)
                if remark and _gloss(lead, body, question_keys, names):
                    glosses |= T.key_set(body, names=names)
                fragment_aspects.append(_booking_aspects(part))
                fragment_free.append(T.key_set(T.outside_mentions(part), names=names))
                about = T.without_subject_matter(part)
                fragment_about.append(T.key_set(about, names=names) if about != part else _NO_KEYS)
                two_prices.append(T.two_prices(part))
                fragment_rates.append(frozenset(T.rates_stated(part)) or _NO_KEYS)
                fragment_timed.append(T.states_time_relation(part))
                fragment_positions.append(T.key_positions(part, proximity=True, names=names))
                fragment_sentence.append(index)
                fragment_clauses.append([T.key_set(clause, names=names) for clause in T.clauses(part)])
        fragment_keys = [set().union(*positions) if positions else set() for positions in fragment_positions]
        fragment_mentioned = [frozenset(keys - free) or _NO_KEYS for keys, free in zip(fragment_keys, fragment_free, strict=True)]
        subject_matter = [frozenset(keys - about) if about is not _NO_KEYS else _NO_KEYS
                          for keys, about in zip(fragment_keys, fragment_about, strict=True)]
        all_keys = set(question_keys)
        for keys in fragment_keys:
            all_keys |= keys
        everything = " ".join([*questions, doc.answer])
        return ItemFeatures(
            doc=doc,
            question_keys=question_keys,
            question_content=question_content,
            fragment_keys=fragment_keys,
            fragment_positions=fragment_positions,
            fragment_sentence=fragment_sentence,
            fragment_clauses=fragment_clauses,
            fragment_leads=fragment_leads,
            fragment_heads=fragment_heads,
            glosses=frozenset(glosses - question_keys) or _NO_KEYS,
            units=T.quantity_bounds(doc.answer),
            dates=T.dates_in(everything),
            counted=T.counted_keys(doc.answer),
            all_keys=all_keys,
            numbers=T.numbers_in(everything),
            money=T.states_price(doc.answer),
            surcharge=T.surcharge_only(doc.answer),
            surcharge_share=T.states_surcharge_share(doc.answer),
            clock=T.has_clock_time(doc.answer),
            aspects=_booking_aspects(doc.answer),
            fragment_aspects=fragment_aspects,
            fragment_mentioned_keys=fragment_mentioned,
            question_aspects=frozenset() if "learned" in doc.tags else frozenset().union(*(
                T.aspects_asked(T.normalize(q))[0] | ({"price"} if T.asks_price(T.normalize(q)) else set())
                | ({"hours"} if T.asks_hours(T.normalize(q)) else set()) for q in questions)),
            days=T.days_stated(doc.answer),
            per_person=T.per_person_keys(doc.answer),
            lead_time=T.states_lead_time(doc.answer),
            per_time=T.per_time_units(doc.answer),
            per_area=T.per_area(doc.answer),
            day_spans=tuple(T.day_spans(doc.answer)),
            fragment_two_prices=two_prices,
            headcount=T.headcount_keys(doc.answer) or _NO_KEYS,
            numbered_lines=_numbered_lines(everything),
            model_codes=bool(_MODEL_CODE.search(T.normalize(everything))),
            occasions=T.occasions_named(everything),
            fragment_subject_matter=subject_matter,
            fragment_rates=fragment_rates,
            fragment_timed=fragment_timed,
        )

    def asking_aspects(self, segment: Segment, *, limit: int) -> list[str]:
        """For a question that is only an aspect ("где вы?", "до скольки?"), the items whose own question asks it: the
        index finds nothing by words a question does not have."""
        if not segment.aspects or not _bare(segment):
            return []
        return [doc.external_id for doc in self.docs if segment.aspects <= self.features[doc.external_id].question_aspects][:limit]

    def stating_days(self, segment: Segment, *, limit: int) -> list[str]:
        """Items naming the weekday a segment asks about ("в среду до скольки?" against "пн–пт с 09:00"): the index
        does not find them by a word they do not write."""
        asked = {day for t in segment.content if (day := T.day_number(t.text)) is not None}
        if not asked:
            return []
        return [doc.external_id for doc in self.docs if asked <= self.features[doc.external_id].days][:limit]

    def servable(self, segment: Segment) -> list[QToken]:
        """GT: the things a segment names that the business serves: a noun the knowledge names as an entry of a price
        list ("дублёнка — 16 000 ₸", "пиджак отдельно — 3 800 ₸"), not a name it writes capitalized ("на Сатпаева"), not a
        person, not what something is for ("для таксопарка")."""
        purposes = set(_FOR.findall(T.normalize(segment.text)))
        return [t for t in segment.content if t.text not in purposes and self._served(t)]

    def general_reading(self, segment: Segment, external_id: str) -> tuple[Segment, list[QToken]] | None:
        """GT: the segment without the served things (`servable`) an item does not name: "сколько дней чистится пуховик"
        → "сколько дней чистится" for «Сколько дней занимает химчистка?». What a general item (timing, urgency, stains,
        guarantee) states of the business's work it states of each thing the business serves; a thing the knowledge never
        names, or names only as refused, stays a qualifier. None when there is no such thing, or nothing else is asked."""
        feats = self.features[external_id]
        things = [t for t in self.servable(segment) if not self._covered(t, feats.all_keys)]
        rest = [t for t in segment.content if t not in things]
        # A thing named where the knowledge refuses or excepts something is not served for what that sentence says
        # ("Не принимаем в чистку: матрасы", "Меха … срочно не чистим"): blocked when the sentence has another asked word.
        if not things or any(self._covered(t, keys) and any(self._covered(r, keys) for r in rest)
                             for t in things for keys in self._refusals):
            return None
        tokens = [t for t in segment.tokens if t not in things]
        if not any(t.kind == CONTENT for t in tokens):
            return None
        return replace(segment, tokens=tokens), things

    def general_item(self, external_id: str, segment: Segment, things: list[QToken]) -> bool:
        """GT: whether an item found for a segment without the things it names (`general_reading`) answers of those things
        too: not a price (a price is of a thing, and a list that does not name it does not give it); not a negated
        question ("флешка не открывается": a fault of the thing, not a rule of the business); the item's own question asks
        what the segment asks (a word of it other than a person, and every aspect asked: "сколько дней" of «Сколько дней
        занимает химчистка?»); its own question names no other kind of the thing (a word the knowledge lists beside it:
        «Даёте телефон на время ремонта?» is not asked of a laptop); and no other item names the thing beside a word of the
        segment this item's question does not have ("где оставить машину в горах": the parking item names the cars of the
        mountain house, the luggage room does not)."""
        feats = self.features[external_id]
        phrasings = [feats.doc.question, *feats.doc.alt_questions]
        question_keys, question_aspects = feats.question_keys, feats.question_aspects
        if "learned" in feats.doc.tags:
            # A learned item's question is one customer's wording of one case, not the business's general rule; the
            # labels of the manager's answer («Стандартный срок химчистки») are the business's own name for it (GL).
            # One label names both the asked aspect and a word asked («Стандартный срок химчистки»), not a list of
            # sections where «Срок» is one part and «Чистка ковров» another.
            phrasings = [part.strip() for p in feats.doc.alt_questions if _label_of(p, feats.doc.answer)
                         for part in p.split(",") if part.strip()]
            phrasings = [p for p in phrasings if (segment.aspects - {"price"}) <= _label_aspects(p) and any(
                self._covered(t, T.key_set(p)) for t in segment.content)]
            if not phrasings:
                return False
            question_keys = set().union(*(T.key_set(p) for p in phrasings))
            question_aspects = frozenset().union(*(_label_aspects(p) for p in phrasings))
        normalized = T.normalize(segment.text)
        if T.asks_price(normalized) or "price" in segment.aspects or _REFUSAL.search(normalized):
            return False
        if not (segment.aspects - {"price"}) <= question_aspects:
            return False
        if not any(self._covered(t, question_keys) and not semantics.is_person(t.text) and not t.keys & self._proper_keys
                   for t in segment.content):
            # what is asked of the item is more than whom it is for ("в гости" against «кухня для гостей») or a name
            # ("массаж делаете на самале?" is not asked of «Где филиал в Самале?»)
            return False
        asked = set().union(*(t.keys for t in segment.tokens)) if segment.tokens else set()
        kinds = set().union(*(self._listed_with.get(k, set()) for t in things for k in t.keys | {T.stem(t.text)}))
        if any(T.stem(word) in kinds and not T.key_set(word) & asked
               for phrasing in phrasings for word in T.words(T.normalize(phrasing))):
            return False  # the item's own question is of another kind of thing: «Даёте телефон на время ремонта?» for a laptop
        others = [t for t in segment.content if not T.is_generic(t.text) and not self._covered(t, question_keys)]
        return not any(
            any(self._covered(t, keys) for t in things) and any(self._covered(t, keys) for t in others)
            for other_id, other in self.features.items() if other_id != external_id for keys in other.fragment_keys)

    def _served(self, token: QToken) -> bool:
        if token.kind != CONTENT or token.general:
            return False
        return self._served_word(token.text, token.keys)

    def _served_word(self, word: str, keys: Iterable[str]) -> bool:
        if T.is_generic(word) or len(word) < 4:
            return False
        if semantics.is_verb_form(word) or not semantics.is_noun_form(word) and _NOT_A_NOUN.search(word):
            return False
        keys = {k for k in keys if k in self.vocabulary}
        if not keys or not keys & self._named_keys or keys & self._proper_keys:
            return False
        # A person is whom the work is for (a guest, a client), not what it is done on: a general rule need not hold for them.
        return not semantics.is_person(word)

    # --- query side -----------------------------------------------------------------------
    def _known(self, keys: Iterable[str]) -> bool:
        return any(k in self.vocabulary for k in keys)

    def share(self, token: QToken) -> float:
        """The share of the knowledge's items that use the word (by its most used key; idf = log(1 + n / count))."""
        return max((1 / math.expm1(self.idf[k]) for k in token.keys if k in self.idf), default=0.0)

    def _weight(self, keys: Iterable[str]) -> float:
        weights = [self.idf[k] for k in keys if k in self.idf]
        return max(weights) if weights else self.unknown_weight

    def _correct(self, word: str) -> str | None:
        """The KB word one edit away from an unknown word (typo, transliteration)."""
        stem = T.stem(word)
        for probe in (stem, word):
            if len(probe) < 5:
                continue
            candidates: set[str] = set()
            for deleted in _deletes(probe) | {probe}:
                candidates |= self._stem_deletes.get(deleted, set())
            close = sorted(c for c in candidates if _within_one_edit(c, probe))
            if close:
                return close[0]
        return None

    def _perfective_s(self, word: str) -> set[str]:
        """PS: a perfective verb made by the prefix «с-» is read as the imperfective verb the knowledge writes
        ("склеите" → "клеите" against "не клеим", "спаяете" → "паяете" against "паяем", "сделаете" → "делаем"):
        both are verb forms of one stem. Only «с-» + a stem some verb form of the knowledge has; the knowledge's own
        forms are returned, so a word that is no verb of the knowledge stays unknown."""
        if not word.startswith("с") or word.startswith(("со", "съ")) or len(word) < 6:
            return set()
        bare = word[1:]
        if not semantics.is_verb_form(word) or not semantics.is_verb_form(bare):
            return set()
        if self._verb_stems is None:
            self._verb_stems = {}
            for key in self.vocabulary:
                if len(key) >= 4 and not key.isascii() and semantics.is_verb_form(key):
                    self._verb_stems.setdefault(T.stem(key), set()).add(key)
        stem = T.stem(bare)
        found = self._verb_stems.get(stem, set())
        return {*found, stem} if found else set()

    def _aspect_forms(self) -> dict[str, set[str]]:
        """AA: skeleton (`T.aspect_skeleton`) → the knowledge's verb forms of it, built once."""
        if self._aspect_index is None:
            self._aspect_index = {}
            for key in self.vocabulary:
                if (skeleton := T.aspect_skeleton(key)) and semantics.is_verb_form(key):
                    self._aspect_index.setdefault(skeleton, set()).add(key)
        return self._aspect_index

    def _latin_skeletons(self) -> dict[str, str]:
        """Skeleton → word of the knowledge (`T.latin_skeleton`), for Latin-script words; built once."""
        if self._skeletons is None:
            self._skeletons = {}
            for key in sorted(self.vocabulary):
                if len(key) >= 5 and not key.isascii():
                    self._skeletons.setdefault(T.latin_skeleton(key), key)
        return self._skeletons

    def _sounded(self, word: str) -> set[str]:
        """The knowledge's Latin words a Cyrillic word sounds like (`translit.latin_sound`): a customer types "айфон",
        "ксяоми", "макбук" for the "iPhone", "Xiaomi", "MacBook" a price list writes. Words of 4 letters or more whose
        skeleton has two consonants or more, so short words and vowels alone never meet a name by chance."""
        if self._sound_index is None:
            index: dict[str, set[str]] = {}
            for key in self.vocabulary:
                if key.isascii() and key.isalpha() and len(key) >= 3 and key not in self._word_names:
                    for skeleton in latin.latin_sound(key):
                        if latin.sound_consonants(skeleton) >= 2:
                            index.setdefault(skeleton, set()).add(key)
            self._sound_index = index
        for probe in (word, T.stem(word)):
            if len(probe) >= 4 and not probe.isascii():
                skeleton = latin.cyrillic_sound(probe)
                if latin.sound_consonants(skeleton) >= 2 and skeleton in self._sound_index:
                    return set(self._sound_index[skeleton])
        return set()

    def _russian_token(self, word: str) -> QToken:
        if T.is_filler(word) or len(word) == 1:  # "3х шаговая": a lone letter is no word
            return QToken(word, frozenset(), FILLER, 0.0, False)
        kind = SOFT if T.is_soft(word) else CONTENT
        keys = set(T.concept(word))
        if not self._known(keys):
            found, russian = T.kazakh_lookup(word)
            if found:
                if russian is None:
                    return QToken(word, frozenset(), FILLER, 0.0, False)
                keys |= T.concept(russian)
                if T.is_filler(russian):
                    return QToken(word, frozenset(), FILLER, 0.0, False)
        if not self._known(keys):
            # A Russian loanword with a Kazakh ending ("цехтың", "тортқа"): the word the knowledge writes.
            for base in kazakh.loanword_stems(word):
                if self._known(T.concept(base)):
                    keys |= T.concept(base)
                    break
        if not self._known(keys):
            for base in T.diminutive_bases(T.stem(word)):
                if base in self.vocabulary:
                    keys |= T.concept(base)
                    break
        if not self._known(keys):
            for base in T.verb_cores(word):
                if base in self._cores:
                    keys |= self._cores[base]
                    break
        elif self.relations is not None and semantics.is_verb_form(word):
            # A verb some item uses still names the action the other items name by its noun: "почистить" in one
            # item's question ("можно почистить срочно?") is "чистка", "химчистка" of the price lists.
            for base in T.verb_cores(word, T.ASPECT_PREFIXES):
                keys |= self._cores.get(base, set())
        if self.relations is not None and (read := semantics.reading(word)) is not None and read[0] == "verb":
            # A verb is also the action the knowledge names by its noun ("помоете" → "мыть" → "мойка"), even when some
            # item uses the verb itself (a learned "мотоцикл моете?"): without the noun, the engine-wash item lacked it.
            keys |= self.relations.keys_for(word)
        if not self._known(keys) and (base := self._perfective_s(word)):
            keys |= base  # "склеите" against "не клеим", "спаяете" against "паяем" (PS)
        if not self._known(keys):
            keys |= self._sounded(word)  # "айфон", "самсунге", "макбук": the knowledge's Latin name as it sounds (BR)
        if not self._known(keys) and not semantics.is_noun_form(word):
            # A dictionary noun is no typo: "котом" is a cat, not "которые" (TC).
            corrected = self._correct(word)
            if corrected:
                keys |= T.concept(corrected)
        general: set[str] = set()
        if not self._known(keys) and self.relations is not None:
            related = self.relations.keys_for(word)  # "мотора" → "двигател", "собаки" → "животн"
            general = (self.relations.generals(word) & related) - keys
            keys |= related
        if self._known(keys) and (skeleton := T.aspect_skeleton(word)) and semantics.is_verb_form(word):
            # AA: a verb the knowledge writes is also its other aspect the knowledge writes ("заберете" of a courier's
            # "заберёт" against "ковры забираем"). A verb form it writes in no form stays the asker's predicate (d).
            keys |= self._aspect_forms().get(skeleton, set())
        if (base := T.perfective_base(word)) in self.vocabulary and not self._known(T.concept(word)):
            keys |= T.concept(base)  # "поменять" against "меняем", "покрасите" against "красим"
        for key in (T.stem(word), word):
            if len(key) >= 5 and key in self._extensions:
                keys |= self._extensions[key]
        if not self._known(keys):
            for prefix in _prefixes(word):
                if prefix in self.vocabulary:
                    keys |= T.concept(prefix)
                    break
        keys |= {form for form in T.fleeting_vowel_forms(word) if form in self.vocabulary}  # "ковер" → "ковр"
        frozen = frozenset(keys)
        known = self._known(frozen)
        if kind == CONTENT and not known and self.relations is not None and self.relations.predicate(word):
            kind = SOFT  # "кто ведёт хип-хоп": a verb no item uses is the question's predicate (semantics, (d))
        return QToken(word, frozen, kind, self._weight(frozen), known, frozenset(general))

    def analyze(self, text: str) -> list[QToken]:
        tokens = []
        for word in T.words(T.normalize(text)):
            if word.isdigit():
                continue
            if word.isascii():
                if word in self.vocabulary or len(word) >= 5 and T.stem(word) in self.vocabulary:  # "macbooks" (EN)
                    keys = frozenset({word, T.stem(word)})
                    tokens.append(QToken(word, keys, CONTENT, self._weight(keys), True))
                    continue
                english = T.ENGLISH.get(word, T.ENGLISH.get(T.stem(word), "?"))
                if english is None:
                    tokens.append(QToken(word, frozenset(), FILLER, 0.0, False))
                    continue
                if english != "?":
                    token = self._russian_token(T.fold(english))
                    tokens.append(QToken(word, token.keys, CONTENT if token.kind != FILLER else FILLER, token.weight, token.known))
                    continue
                word = T.latin_reading(word, self.vocabulary, self._latin_skeletons())
            tokens.append(self._russian_token(word))
        return tokens

    def segments(self, messages: Sequence[str]) -> list[Segment]:
        raw: list[tuple[str, bool]] = []
        for message in messages:
            latin = T.latin_guessed(message)
            raw.extend((part, latin) for part in _CLAUSE_SPLIT.split(T.normalize(message)) if part and part.strip())
        segments = [replace(self._segment(part), latin=latin) for part, latin in raw]
        merged: list[Segment] = []
        pending: list[Segment] = []
        for segment in segments:
            if not segment.content and not segment.numbers and segment.aspects and merged:
                # "педикюр сколько стоит? и сколько по времени": the second question asks a new
                # aspect of the topic the burst just named (ellipsis).
                topic = [t for t in merged[-1].tokens if t.kind == CONTENT]
                merged.append(Segment(text=segment.text, tokens=topic + segment.tokens, numbers=set(), units={},
                                      aspects=segment.aspects, latin=segment.latin or merged[-1].latin,
                                      deadlines=merged[-1].deadlines))  # the day the topic was wanted by (DL2)
                continue
            if not segment.content and not segment.numbers or _situation_only(segment):
                pending.append(segment)  # "цена?", "привет", "дочке 6 лет": belongs to its neighbour
                continue
            for earlier in pending:
                segment = _join(earlier, segment)
            pending = []
            merged.append(segment)
        if pending:
            if merged:
                for later in pending:
                    merged[-1] = _join(merged[-1], later)
            else:
                merged = [_join_all(pending)]
        return merged

    def _segment(self, part: str) -> Segment:
        """One question: its tokens, numbers and aspects. The words of an aspect cue ("по каким
        дням", "сколько длится") are the question's form, not its topic: they turn soft, and the
        aspect itself must be stated by the answering item instead."""
        tokens = self.analyze(part)
        aspects, cue_words = T.aspects_asked(T.normalize(part))
        if re.search(r"[a-z]", part):  # "gde nahoditsya": the aspect cue read from the Latin words' readings
            read = re.sub(r"[a-z]+", lambda m: T.latin_reading(m.group(0), self.vocabulary, self._latin_skeletons())
                          if m.group(0) not in self.vocabulary and T.ENGLISH.get(m.group(0), "?") == "?" else m.group(0),
                          T.normalize(part))
            more, more_words = T.aspects_asked(read)
            aspects, cue_words = aspects | more, cue_words | more_words
        if cue_words:
            tokens = [QToken(t.text, t.keys, SOFT, t.weight, t.known) if t.kind == CONTENT and t.text in cue_words else t
                      for t in tokens]
        if self.relations is not None:
            # "стрижку сделаете, если волосы выпадают?": a verb in a condition clause states the asker's
            # condition (like "при беременности"), not the question's predicate, so it stays a qualifier.
            # An infinitive there has no subject of its own ("скидка, если жить месяц?", "если оплатить сразу"): it is
            # the asker's use of the service, the question's predicate like any other unknown verb.
            conditional = {w for clause in _CONDITION.findall(T.normalize(part)) for w in T.words(clause)
                           if not _INFINITIVE.search(w)}
            tokens = [QToken(t.text, t.keys, CONTENT, t.weight, t.known)
                      if t.kind == SOFT and not t.known and t.text in conditional and self.relations.predicate(t.text) else t
                      for t in tokens]
            if not aspects & {"price", "duration"} and not T.counted_word(T.normalize(part)):
                # "брекеты сколько носить?", "отбеливание сколько держится?": how much of an action is how long it
                # lasts, not the price list of the service named (the verb is soft, see V).
                folded = T.words(T.normalize(part))
                if any(word in _HOW_MUCH and i + 1 < len(folded) and _INFINITIVE.search(folded[i + 1])
                       and self.relations.predicate(folded[i + 1])
                       and folded[i + 1] not in self.vocabulary for i, word in enumerate(folded)):
                    aspects = aspects | {"duration"}
        counted = T.counted_word(T.normalize(part))
        if not aspects and counted is None and _asks_what_an_action_costs(T.words(T.normalize(part)), tokens):
            aspects = frozenset({"price"})
        return Segment(text=part.strip(), tokens=tokens, numbers=T.numbers_in(part) - T.date_numbers(part),
                       models=self._models(part, tokens),
                       units=T.quantity_units(part), aspects=aspects, dates=T.dates_in(part),
                       counted=tuple(t for t in tokens if t.text == counted and t.kind == CONTENT),
                       unit_words=T.quantity_words(part), people=T.people_counted(part), leads=T.lead_times(part),
                       areas=T.area_numbers(part), periods=T.bare_periods(part), deadlines=T.deadline_days(part),
                       rates=T.rates_asked(part))

    def _models(self, part: str, tokens: list[QToken]) -> dict[str, frozenset[str]]:
        """The numbers of a question that name a model (MN): glued to a series letter ("а52", "s23", "с21" as a Latin
        text reads it), or written beside a word the knowledge writes in Latin ("note 12", "айфон 14", "11 айфоне"). A
        number with a unit ("6 месяцев", "2 часа") is a quantity, never a model."""
        normalized = T.normalize(part)
        quantities = set(T.quantity_units(part)) | {n for n, _ in T.quantity_words(part).values()}
        models: dict[str, set[str]] = {}
        for match in _MODEL_CODE.finditer(normalized):
            letters = match.group(1)
            models.setdefault(match.group(2), set()).update({"#code", "#" + "".join(_SERIES_LETTER.get(c, c) for c in letters)})
        words = T.words(normalized)
        lines: list[frozenset[str]] = []
        index = 0
        for word in words:
            if word.isdigit():
                lines.append(frozenset())
                continue
            token = tokens[index] if index < len(tokens) else None
            index += 1
            keys = token.keys if token is not None and token.text == word else frozenset()
            lines.append(frozenset(k for k in keys if k.isascii() and k.isalpha() and len(k) >= 3 and k in self.vocabulary))
        for i, word in enumerate(words):
            if not word.isdigit() or len(word) > 3 or word in quantities:
                continue
            near = (lines[i - 1] if i > 0 else frozenset()) | (lines[i + 1] if i + 1 < len(words) else frozenset())
            if near:
                models.setdefault(word, set()).update(near)
        return {number: frozenset(keys) for number, keys in models.items()}

    def _unlisted_model(self, number: str, segment: Segment, feats: ItemFeatures) -> bool:
        """A model number the item need not state: it names the line ("Samsung серия A", "Redmi") and lists no models of
        it, so "самсунг а52" and "redmi note 12" are the line's; "iPhone 16" against "iPhone 11 … 15" is not (MN)."""
        lines = segment.models.get(number)
        if not lines:
            return False
        # The item's own question names the brand the customer wrote in Latin or as it sounds ("Сколько стоит замена
        # экрана на Samsung?"): not an item that only lists it among others ("переклейка стекла для iPhone и Samsung").
        brands = {k for t in segment.content for k in t.keys if k in self._latin_keys}
        if not brands and "#code" in lines and self._series_named(lines, feats):
            return not feats.model_codes
        if not brands & feats.question_keys and not self._brand_item_apart(brands, segment, feats):
            return False
        if "#code" in lines:
            return not feats.model_codes
        listed = set().union(*(self._line_models.get(k, _NO_KEYS) for k in lines))
        # A model the knowledge lists for the line elsewhere ("iPhone 14" in the price of a screen) is one of the line's
        # for an item pricing the whole line ("камера iPhone — от 25 000 ₸"); one it lists nowhere ("iPhone 16") is not.
        return bool(lines & feats.all_keys) and not lines & feats.numbered_lines and (not listed or number in listed)

    def _series_named(self, lines: frozenset[str], feats: ItemFeatures) -> bool:
        """MS: a model code asked without its brand ("у жены S22 треснул экран") belongs to the series an item names by
        that letter as a word of its own ("серия S — от 58 000 ₸") when no other item writes the letter so."""
        letters = {line[1:] for line in lines if line.startswith("#") and line != "#code"}
        return any(
            letter.isascii() and letter in feats.all_keys
            and not any(letter in other.all_keys for other in self.features.values() if other is not feats)
            for letter in letters)

    def _brand_item_apart(self, brands: set[str], segment: Segment, feats: ItemFeatures) -> bool:
        """MA: an item naming the brand only in its answer ("Замена основной камеры: iPhone — от 25 000 ₸" of «Сколько
        стоит ремонт камеры?») prices the line a model belongs to when no item whose own question names that brand holds
        the rest of the question ("стекло на камере треснуло, айфон 14": the iPhone screen and battery items name no
        camera). "самсунг а52 дисплей" still goes to «замена экрана на Samsung», never to the glass-only item that lists
        Samsung among others."""
        if not brands or not brands & feats.all_keys:
            return False
        others = [t for t in segment.content if not t.keys & brands and not T.is_generic(t.text)]
        return bool(others) and not any(
            brands & other.question_keys and any(self._covered(t, other.all_keys) for t in others)
            for other in self.features.values() if other is not feats)

    def broadened(self, segment: Segment) -> Segment | None:
        """The segment with each named thing also read as what it is made of or derived from (`semantics.made_of`,
        K): "шубу" as the "мех" of "Меха … срочно не чистим", "пуховик" as the "пух" of "изделия на пуху". Only the
        knowledge's own words, never a generic one. None when no word reads as more than itself."""
        if self.relations is None or semantics.MATERIALS not in self.relations.kinds:
            return None
        tokens, changed = [], False
        for token in segment.tokens:
            extra: set[str] = set()
            if token.kind == CONTENT:
                # What it is made of, not what it is a kind of: "номер с джакузи?" is not answered by "своя ванная", nor
                # "ушить шубу" by "ушить одежду" (measured: docs/EVAL.md, "K").
                made = semantics.made_of(token.text)
                extra = {k for k in made if k in self.vocabulary and not T.is_generic(k)} - token.keys
            if extra:
                changed = True
                token = QToken(token.text, token.keys | extra, token.kind, token.weight, True)
            tokens.append(token)
        return replace(segment, tokens=tokens) if changed else None

    # --- evidence -------------------------------------------------------------------------
    def _covered(self, token: QToken, keys: set[str]) -> bool:
        if token.keys & keys:
            return True
        if self._spelled(token.text) or any(self._spelled(base) for base in kazakh.loanword_stems(token.text)):
            # A word the knowledge itself spells ("пуховик", or "пуховикті": the same with a Kazakh ending) is not
            # covered by a shorter word that only begins like it ("пуховое одеяло"): the prefix reading is for words no
            # item writes (a form Snowball stems apart, a typo).
            return False
        return any(prefix in keys for prefix in _prefixes(token.text))

    def _spelled(self, word: str) -> bool:
        found = self._spelled_cache.get(word)
        if found is None:
            if len(self._spelled_cache) > 20_000:  # customers' words, per snapshot: bounded
                self._spelled_cache.clear()
            found = self._spelled_cache[word] = len(word) >= 5 and not word.isascii() and (
                word in self.vocabulary or T.stem(word) in self.vocabulary)
        return found

    def _co_located(self, rest: list[QToken], feats: ItemFeatures, *, pairs: bool = False, listed: bool = False) -> bool:
        covers = [
            [t for t in rest if self._covered(t, keys)] for keys in feats.fragment_keys
        ]
        for i, found in enumerate(covers):
            if len(found) == len(rest) and self._close(rest, feats.fragment_positions[i]) and (listed or self._same_clause(
                rest, feats.fragment_clauses[i]
            )):
                return True
            if len(found) == len(rest) and any(all(self._covered(t, keys) for t in rest) for keys in feats.fragment_leads[i]):
                return True  # one clause of a remark with the word it follows: "Эконом … туалет на этаже"
            if len(found) == len(rest) and (head := feats.fragment_heads[i]):
                # HD: a heading before a colon applies to every entry after it ("Чистка ноутбука от пыли с заменой
                # термопасты: обычный ноутбук — 10 000 ₸, …, MacBook — 18 000 ₸"): the words it holds are beside each entry.
                entry = [t for t in rest if not self._covered(t, head)]
                if len(entry) < len(rest) and self._close(entry, feats.fragment_positions[i]) and (
                        listed or self._same_clause(entry, feats.fragment_clauses[i])):
                    return True
        if not pairs:
            return False
        for i, first in enumerate(covers):
            if not first or not self._close(first, feats.fragment_positions[i]):
                continue
            remaining = [t for t in rest if t not in first]
            for j, second in enumerate(covers):
                if feats.fragment_sentence[j] == feats.fragment_sentence[i] or not remaining:
                    continue
                if all(t in second for t in remaining) and self._close(remaining, feats.fragment_positions[j]):
                    return True
        return False

    def _topic_unasked(self, in_question: list[QToken], segment: Segment, feats: ItemFeatures, asked: frozenset[str]) -> bool:
        """A learned item's question is one customer's wording. When what a segment asks of it is only words another item's
        own question asks the same aspect of ("Какой адрес филиала на Абая?"), and no phrasing of the learned question is
        asked whole, the segment shares the learned question's qualifier (the branch), not its topic (the parking)."""
        if not asked:
            return False
        query = set().union(*(t.keys for t in segment.tokens)) if segment.tokens else set()
        if any(content and all(concept & query for concept in content) for content in feats.question_content):
            return False
        return any(
            "learned" not in other.doc.tags and asked <= other.question_aspects
            and all(self._covered(t, other.question_keys) for t in in_question)
            for other in self.features.values())

    def _only_mentioned(self, token: QToken, feats: ItemFeatures) -> bool:
        """The word occurs in the answer only inside beneficiary/purchase phrases."""
        candidates = token.keys | set(_prefixes(token.text))
        return not any(
            any(k in keys and k not in mentioned for k in candidates)
            for keys, mentioned in zip(feats.fragment_keys, feats.fragment_mentioned_keys, strict=True)
        )

    def aspect_beside(self, external_id: str, segment: Segment, aspects: frozenset[str]) -> bool:
        """The item states every asked aspect in one fragment together with every (non-generic) word asked:
        "сколько стоит балет" against "Балет (12 занятий в месяц) — 26 000 ₸", not against "малыши и
        балет — белый купальник …" whose price is another sentence's, nor against "Мастер-класс по бенто-тортам —
        15 000 ₸" for "сколько стоит бенто?" (the price of what the fragment names, not of what it is about)."""
        feats = self.features[external_id]
        rest = [t for t in segment.content if not T.is_generic(t.text)]
        for keys, stated, about in zip(feats.fragment_keys, feats.fragment_aspects, feats.fragment_subject_matter, strict=True):
            if about:
                keys = keys - about
            if aspects <= stated and all(self._covered(t, keys) for t in rest):
                return True
        return False

    def named_apart(self, external_id: str, segment: Segment, aspects: frozenset[str]) -> bool:
        """A word asked that the item's question lacks occurs in the answer only in fragments not stating the asked
        aspect: "аккумулятор макбук сколько?" against "Замена аккумулятора ноутбука — от 22 000 ₸ … Аккумулятор MacBook —
        в ремонте MacBook" names the MacBook apart from the price (PB)."""
        feats = self.features[external_id]
        rest = [t for t in segment.content if not T.is_generic(t.text) and not self._covered(t, feats.question_keys)]
        return any(
            not any(aspects <= stated and self._covered(t, keys)
                    for keys, stated in zip(feats.fragment_keys, feats.fragment_aspects, strict=True))
            and any(self._covered(t, keys) for keys in feats.fragment_keys)
            for t in rest)

    @staticmethod
    def _outside(number: str, unit: str | None, feats: ItemFeatures) -> bool:
        """An age or a duration the item states in the same unit, none of them this one: "дочке 5 лет" against
        "с 7 лет" is not answered because "5" is written elsewhere in the item ("5 занятий")."""
        if unit is None or unit not in feats.units:
            return False
        value = float(number)
        return not any(low <= value <= high for low, high in feats.units[unit])

    @staticmethod
    def _within(number: str, unit: str | None, feats: ItemFeatures) -> bool:
        """A quantity the item does not state verbatim but states a range or a limit for."""
        if unit is None:
            return False
        value = float(number)
        return any(low <= value <= high and low != high for low, high in feats.units.get(unit, ()))

    def _situation(self, number: str, segment: Segment, feats: ItemFeatures) -> bool:
        """A number that states the asker's situation, which the item answers by its rule: a lead time
        against a notice period, a party's size against a price per person."""
        if number in segment.leads and feats.lead_time:
            return True
        if feats.per_time and any(n == number and unit in feats.per_time for n, unit in segment.unit_words.values()):
            return True
        if feats.per_area and number in segment.areas:
            return True  # "ковёр 2 на 3" against "2 500 ₸ за м²"
        word = segment.people.get(number)
        return word is not None and bool(feats.per_person) and any(
            t.text == word and t.keys & feats.per_person for t in segment.tokens)

    @staticmethod
    def _only_as_category(token: QToken, keys: set[str]) -> bool:
        """The word is found in the answer only as the category it belongs to ("мороженое" in "готовыми десертами с
        витрины"): the item mentions the kind of thing, it does not say it has this one."""
        return bool(token.general) and not (token.keys - token.general) & keys

    def _compares(self, rest: list[QToken], feats: ItemFeatures) -> bool:
        """The item says how its prices compare, or one of its fragments gives two prices beside the words
        the customer names ("для учеников"). Two prices alone compare nothing the customer asked about."""
        if "compare" in feats.aspects:
            return True
        return bool(rest) and any(
            two and all(self._covered(t, keys) for t in rest)
            for two, keys in zip(feats.fragment_two_prices, feats.fragment_keys, strict=True))

    @staticmethod
    def _measured(token: QToken, segment: Segment, feats: ItemFeatures) -> bool:
        """The unit word of a quantity the item states in that unit ("4 года" against "3–5 лет", "3 года"
        against "Малыши 3 лет"): the word is the number's, so the item need not repeat it."""
        if feats.lead_time and (token.text in segment.leads.values() or token.text in segment.deadlines):
            return True  # "за 3 дня до", "на завтра успеете?" against "минимум за 2 дня до выдачи"
        if token.text in segment.deadlines and "duration" in feats.aspects:
            return True  # "сегодня успеете сделать?" against "от 1 часа до 1 дня" (DL2)
        if token.text in segment.periods:
            # "на неделю скидка?" against "от 7 ночей — 10 %": a period named without a number, in days (U)
            days = segment.periods[token.text]
            return any(low <= days <= high for low, high in feats.day_spans)
        if token.text not in segment.unit_words:
            return False
        if segment.unit_words[token.text][1] in feats.per_time:
            return True  # "на 3 дня" against "1 000 ₸ в сутки"
        number, unit = segment.unit_words[token.text]
        value = float(number)
        return any(low <= value <= high for low, high in feats.units.get(unit, ()))

    def _told(self, segment: Segment, lacking: list[QToken], found: list[QToken], feats: ItemFeatures) -> list[QToken]:
        """SI: the words the item lacks that only describe the asker's situation. A message often says what happened
        before what it asks ("айфон х быстро садится, замена аккума почем"): when every word of its asking clauses is the
        item's and one of them names a thing of the item, and each clause the lacking words stand in asks nothing, is no
        condition or purpose ("если …", "чтоб …"), and names a thing of the item too, the words it adds there are the
        asker's circumstances, not which variant is asked — if they are the kinds of words that describe: a manner or
        frequency («быстро», «постоянно»: `T.MANNER`), or a word the knowledge writes but no item asks about («полосы»,
        only in a sentence of an answer). Never a word right after a preposition ("на самсунге": which thing), a word an
        item's own question asks about (another variant: «кожаная»), a word the knowledge does not write (a brand, a
        model, a symptom it never names), nor a number (checked on its own); and not when the question asks which one
        ("глаз покраснел, какие капли?": the situation chooses)."""
        parts = [p for p in _STATEMENT_SPLIT.split(segment.text) if p and p.strip()]
        if len(parts) < 2:
            return []
        asking = [p for p in parts if learning.asks(p)]
        if not asking or len(asking) == len(parts):
            return []
        asked_words = {w for p in asking for w in T.words(p)}
        things = {t.text for t in found if not T.is_generic(t.text)}
        if any(t.text in asked_words for t in lacking) or not things & asked_words or asked_words & _WHICH:
            return []
        told = []
        for token in lacking:
            if not (token.text in T.MANNER or token.known and not _NOT_A_NOUN.search(token.text)
                    and not self._covered(token, self._question_vocabulary)):
                return []  # "куртка кожаная": a quality of the thing may be which one; "самсунг": a thing it does not write
            stated = [T.words(part) for part in parts if part not in asking and token.text in T.words(part)]
            if not stated:
                return []
            for words in stated:
                at = words.index(token.text)
                if _SUBORDINATE & set(words) or not things & set(words) or at and words[at - 1] in _PLACE_PREPOSITIONS:
                    return []
            told.append(token)
        return told

    @staticmethod
    def _stating(feats: ItemFeatures, asked: set[str]) -> list[int]:
        """The fragments of the answer's sentences that state every `asked` aspect in one of their fragments (a
        parenthesis is a fragment of its own: "Утренний абонемент (до 12:00) — 10 000 ₸" states the price of the
        words before it)."""
        sentences = {feats.fragment_sentence[i] for i, stated in enumerate(feats.fragment_aspects) if asked <= stated}
        return [i for i, sentence in enumerate(feats.fragment_sentence) if sentence in sentences]

    def _close(self, tokens: list[QToken], positions: list[set[str]]) -> bool:
        """The words occur near each other (a phrase, not two mentions in a long list)."""
        if len(tokens) < 2:
            return True
        hits = sorted((i, j) for i, keys in enumerate(positions) for j, t in enumerate(tokens) if self._covered(t, keys))
        best = None
        counts: dict[int, int] = {}
        left = 0
        for right in range(len(hits)):
            counts[hits[right][1]] = counts.get(hits[right][1], 0) + 1
            while len(counts) == len(tokens):
                span = hits[right][0] - hits[left][0]
                best = span if best is None else min(best, span)
                counts[hits[left][1]] -= 1
                if counts[hits[left][1]] == 0:
                    del counts[hits[left][1]]
                left += 1
        window = len(tokens) + 2 if len(tokens) <= 2 else 4 * len(tokens)
        return best is not None and best <= window

    def _same_clause(self, tokens: list[QToken], clauses: list[set[str]]) -> bool:
        """Two words asked together must sit in one comma-separated clause: "шугаринг" and
        "мужские" in "массаж, шугаринг, мужские и детские стрижки" are two list entries."""
        return len(tokens) != 2 or any(all(self._covered(t, keys) for t in tokens) for keys in clauses)

    def match(
        self,
        external_id: str,
        segment: Segment,
        *,
        context: Sequence[QToken] = (),
        asks_price: bool = False,
        asks_hours: bool = False,
        answer_field_weight: float = 0.8,
        waive=None,
    ) -> ItemMatch:
        feats = self.features[external_id]
        failures: list[str] = []
        uncovered: list[str] = []
        excused: set[str] = set()
        in_question: list[QToken] = []
        rest: list[QToken] = []
        days: list[QToken] = []
        measured: list[QToken] = []
        situated: list[QToken] = []
        occasions = _occasions(segment.text)
        for token in segment.content:
            if self._measured(token, segment, feats):
                measured.append(token)
            elif self._covered(token, feats.question_keys):
                in_question.append(token)
            elif feats.headcount and not segment.numbers and not segment.counted and self._covered(token, feats.headcount):
                uncovered.append(token.text)  # "гости" against "Стандарт (2 гостя)": a capacity, not a visit
            elif self._covered(token, feats.all_keys) and not self._only_as_category(token, feats.all_keys):
                rest.append(token)
            elif (day := T.day_number(token.text)) is not None and day in feats.days:
                days.append(token)  # "в воскресенье?" against "ежедневно" or "пн–вс"
            elif token.text in occasions:
                # "сладкий стол на день рождения": what it is for, not which one (OC); "на свадьбу" is the «свадебный» item's
                (measured if occasions[token.text] in feats.occasions else situated).append(token)
            else:
                uncovered.append(token.text)
        if situated and not (in_question or rest):
            uncovered.extend(t.text for t in situated)  # the occasion is all that was asked of this item
            situated = []
        compared = [t for t in segment.content if t.text in uncovered and t.text in T.COMPARATIVES]
        if compared and (in_question or rest) and self._compares(rest, feats):
            # "лагерь для учеников дешевле?" against "55 000 ₸, для учеников — 48 000 ₸"; "у Айгерим дороже?"
            # against "стоимость у всех мастеров одинаковая"
            measured.extend(compared)
            uncovered = [w for w in uncovered if w not in {t.text for t in compared}]
        if uncovered and (in_question or rest):
            # A generic noun ("врач", "процедура") the item does not repeat is no qualifier once the
            # rest of the question is found in the item.
            generic = {w for w in uncovered if T.is_generic(w)}
            uncovered = [w for w in uncovered if w not in generic]
            if in_question:
                excused = {w for w in generic if T.stem(w) not in self._proper_stems}
        if (timed := [t for t in segment.content if t.text in uncovered and t.text in T.TIME_RELATIONS]) and (in_question or rest) and any(
                stated and all(self._covered(t, keys) for t in rest)
                for stated, keys in zip(feats.fragment_timed, feats.fragment_keys, strict=True)):
            # "можно поменять начинку после заказа?" against "Поменять начинку … можно не позже чем за 48 часов до выдачи":
            # «после»/«перед» ask when, and a fragment holding the other asked words states when. Not against an item that
            # only names the thing ("после удаления зуба" is not asked of the overview's "удаление зубов") (TP).
            measured.extend(timed)
            uncovered = [w for w in uncovered if w not in T.TIME_RELATIONS]
        if uncovered and (in_question or rest) and (
                told := self._told(segment, [t for t in segment.content if t.text in uncovered], in_question + rest, feats)):
            situated.extend(told)
            uncovered = [w for w in uncovered if w not in {t.text for t in told}]
        waived: list[QToken] = []
        if uncovered and (in_question or rest) and waive is not None:
            # Study hook (bench/qualifier_study.py): which uncovered words a tolerance rule would let the item leave out.
            waived = [t for t in segment.content if t.text in uncovered
                      and waive(self, t, segment, feats, in_question, rest, uncovered)]
            situated.extend(waived)
            uncovered = [w for w in uncovered if w not in {t.text for t in waived}]
        if self.relations is not None and "learned" in feats.doc.tags and not (asks_price or "price" in segment.aspects):
            # An unknown verb is the asker's predicate for the business's own items; a learned item's question is
            # one customer's wording, and the verb of another may be exactly what its answer is not about. Asked the
            # price, the verb names what is priced ("рубашки погладить сколько?", "сколько выйдет?"): the learned item
            # must still state a price beside what it does not hold (`not_beside`, `no_price`), as any item (LV).
            uncovered.extend(t.text for t in segment.soft if not t.known and self.relations.predicate(t.text))
        if self.relations is not None and rest and not in_question and _OVERVIEW_QUESTION.search(T.normalize(feats.doc.question)):
            # The overview ("Что такое …?", "Вы бот?") names everything the business does; asked something of one of
            # those things by a verb it does not use ("очки не подошли, можно вернуть?"), it only mentions the thing:
            # the verb is what is asked, a qualifier as for a learned item (OV). An aspect's cue ("как добраться") is not.
            cues = T.aspects_asked(T.normalize(segment.text))[1]
            uncovered.extend(t.text for t in segment.soft if not t.known and t.text not in cues and self.relations.predicate(t.text))
        if rest and not in_question and _BOT_QUESTION.search(T.normalize(feats.doc.question)):
            # The bot's self-description ("Вы бот?") names what the bot cannot do ("отменить бронь я не могу — это делает
            # администратор", "вызвать курьера"): asked about one of those things ("Как отменить бронь?", "курьер есть?"), it
            # states no fact of the business, only the hand-over an escalation makes anyway (BM).
            uncovered.extend(t.text for t in rest)
        if (in_question or rest) and (lacked := _WITHOUT.findall(segment.text)):
            # "можно без записи прийти?" asks about doing without a thing: not answered by an item that only names it
            # ("Отменить или перенести запись можно …"), only by one saying it is not needed where it names it (WO).
            question_text = " ".join([feats.doc.question, *feats.doc.alt_questions])
            sentences = T.sentences(feats.doc.answer)
            for token in in_question + rest:
                if token.text in lacked and not _says_not_needed(question_text, token.text) and not any(
                        _says_not_needed(sentences[feats.fragment_sentence[i]], token.text)
                        for i, keys in enumerate(feats.fragment_keys)
                        if feats.fragment_sentence[i] < len(sentences) and self._covered(token, keys)):
                    uncovered.append(token.text)
        if segment.rates and rest and (asks_price or "price" in segment.aspects):
            # "шале сколько за ночь?" asks a rate: the night is what the price is per. An item stating a price per night
            # in a fragment holding the other asked words answers it, however far its heading's "за ночь" stands from
            # "шале — 45 000 ₸"; an item stating no price per night ("одна ночь в шале с завтраком и 2 часа бани — 60 000
            # ₸", a bundle) only counts the unit, and does not (RT).
            for token in [t for t in rest if t.text in segment.rates]:
                unit = segment.rates[token.text]
                others = [t for t in rest if t.text not in segment.rates]
                if any(unit in rates and all(self._covered(t, keys) for t in others)
                       for rates, keys in zip(feats.fragment_rates, feats.fragment_keys, strict=True)):
                    rest.remove(token)
                    measured.append(token)
                elif not any(unit in rates for rates in feats.fragment_rates):
                    rest.remove(token)
                    uncovered.append(token.text)
        if uncovered:
            failures.append("uncovered")
        split = False
        # RG: a word the item glosses its own topic with ("хамелеоны" of «фотохромные линзы («хамелеоны»)») anchors the
        # rest as a word of its question does; it need not stand beside them.
        glossed = [t for t in rest if feats.glosses and self._covered(t, feats.glosses)]
        located = [t for t in rest if t not in glossed]
        if located and not uncovered and not self._co_located(located, feats, pairs=bool(in_question or glossed),
                                                              listed=_listed(located, segment.text)):
            # Two facts from two different sentences of one item may answer one question
            # ("если отменю кератин, предоплату вернёте?"), but only when the item's own
            # question anchors the topic.
            failures.append("scattered")
            uncovered.extend(t.text for t in rest)
        if rest and not in_question and (asks_price or segment.aspects) and all(self._only_mentioned(t, feats) for t in rest):
            # "сколько стоит годовой абонемент?" is not answered by "анализ тела — 3 000 ₸, для владельцев годового
            # абонемента — бесплатно": the asked words name who gets the item's offer, not what its price is of.
            failures.append("mentioned")
            uncovered.extend(t.text for t in rest)
        asked = segment.aspects & {"price", "hours"} | ({"price"} if asks_price else set()) | ({"hours"} if asks_hours else set())
        if rest and in_question and asked and "learned" in feats.doc.tags and not all(
                any(self._covered(t, feats.fragment_keys[i]) for i in self._stating(feats, asked)) for t in rest):
            # A learned item's question is one customer's wording of one case ("Стирка сколько стоит?"); a qualifier
            # another customer adds ("в горах") must be in a sentence of the answer that states the asked price or
            # time, not in a sentence about something else ("В Горах прачечной нет").
            failures.append("not_beside")
            uncovered.extend(t.text for t in rest)
        if in_question and not rest and "learned" in feats.doc.tags and self._topic_unasked(
                in_question, segment, feats, segment.aspects | ({"price"} if asks_price else set()) | ({"hours"} if asks_hours else set())):
            # "Где вы находитесь на Абая?" is not asked of the learned «Парковка на Абая есть?»: the branch is what the
            # business's own address item asks about, and the learned item's own topic was not asked.
            failures.append("topic_unasked")
            uncovered.extend(t.text for t in in_question)
        if segment.counted and not any(self._covered(t, feats.counted) for t in segment.counted):
            failures.append("no_count")  # "сколько детей в группе?" needs an item saying how many children
        missing_numbers = sorted(
            n for n in segment.numbers if (n not in feats.numbers or self._outside(n, segment.units.get(n), feats))
            and not self._within(n, segment.units.get(n), feats) and not self._situation(n, segment, feats)
            and not self._unlisted_model(n, segment, feats)
        )
        missing_numbers += [f"{day}.{month:02d}" for day, month in sorted(segment.dates - feats.dates)]
        if missing_numbers:
            failures.append("numbers")
            uncovered.extend(missing_numbers)
        asks_extra = bool(_ASKS_EXTRA.search(segment.text))
        if asks_price and "price" not in feats.question_aspects and (
                not (feats.money or feats.surcharge_share and asks_extra) or feats.surcharge and not asks_extra):
            # "сколько стоит торт за кг?" is not answered by "мастикой — +1 000 ₸ за 1 кг": a surcharge prices an
            # option, unless the extra is what is asked ("сколько доплата за мастику?"); then a share of the price
            # answers it too ("срочно насколько дороже?" against "наценка 50 %", SC).
            failures.append("no_price")
        elif (asks_price or "price" in segment.aspects) and rest and not in_question and "price" not in feats.question_aspects and not any(
                "price" in stated and any(self._covered(t, keys) for t in rest)
                for stated, keys in zip(feats.fragment_aspects, feats.fragment_keys, strict=True)):
            # "сколько стоит проверка зрения?" is not answered by a branch naming its eye-test room and saying "Парковка у
            # входа бесплатная": matched only through its answer, the item states a price, but of another thing (PX).
            failures.append("no_price")
        if asks_hours and not feats.clock and "hours" not in feats.aspects | feats.question_aspects:
            failures.append("no_hours")
        elif (asks_hours or "hours" in segment.aspects) and feats.clock and _UNTIL_ASKED.search(segment.text) and not (
                _END_TIME.search(feats.doc.answer) or _ROUND_THE_CLOCK.search(T.fold(feats.doc.answer))):
            # "магазин до скольки работает?" asks when something closes: "вход в ТРЦ с 10:00" states only when the mall
            # opens, not the shop's closing hour (UT).
            failures.append("no_hours")
        elif (asks_hours or "hours" in segment.aspects) and rest and not in_question and not any(
                "hours" in stated and any(self._covered(t, keys) for t in rest)
                for stated, keys in zip(feats.fragment_aspects, feats.fragment_keys, strict=True)):
            # "баня до скольки работает?" is not answered by the overview whose hours are the reception's ("Ресепшн …
            # с 08:00 до 22:00") and which names the sauna in another sentence: as D for a duration.
            failures.append("no_hours")
        for aspect in sorted(segment.aspects - {"price", "hours"}):
            if aspect not in feats.aspects | feats.question_aspects:
                failures.append(f"no_{aspect}")
            elif aspect in _BESIDE and rest and not in_question and not any(
                aspect in stated and any(self._covered(t, keys) for t in rest)
                for stated, keys in zip(feats.fragment_aspects, feats.fragment_keys, strict=True)
            ):
                failures.append(f"no_{aspect}")  # stated, but not of what was asked ("акция действует 2 недели")

        # A generic noun excused above is no qualifier, and no measure of how much of the question the item answers
        # either, when the item's own question shares a word of the question ("как записаться к оптометристу?" against
        # «Как записаться на проверку зрения?») and the knowledge does not write the word as a name ("в корпусе
        # Центр": "шале в центре?" is still asked of a branch) (GC).
        total = sum(t.weight for t in segment.content if t not in situated and t.text not in excused) or 1.0
        matched = sum(t.weight for t in in_question) + answer_field_weight * sum(t.weight for t in [*rest, *days, *measured])
        soft = sum(0.3 * t.weight for t in segment.soft if self._covered(t, feats.all_keys))
        ctx = sum(0.3 * t.weight for t in context if self._covered(t, feats.all_keys))
        overlap = 0.0
        query_keys = set().union(*(t.keys for t in segment.tokens)) if segment.tokens else set()
        for content in feats.question_content:
            if content:
                hit = sum(1 for concept in content if concept & query_keys)
                overlap = max(overlap, hit / len(content))
        shape = 0.6 + 0.4 * overlap
        confidence = (matched / total) * shape * (0.9 if split else 1.0) if segment.content else 0.0
        bare = _bare(segment)  # "где вы?", "как к вам добраться?"
        if not segment.content and segment.aspects and (soft or (bare and segment.aspects <= feats.question_aspects)):
            confidence = shape  # an aspect-only question: how much of the item's question it shares
        score = (matched + soft + ctx) * shape
        return ItemMatch(
            external_id=external_id,
            # A question that is only an aspect ("где вы находитесь?") needs an item stating it
            # and sharing at least one of its words.
            valid=not failures and bool(segment.content or segment.numbers or (segment.aspects and (
                score > 0 or (bare and segment.aspects <= feats.question_aspects)))),  # "где вы?": the item asking where
            score=round(score, 4),
            confidence=round(confidence, 4),
            base=round((matched + soft) * shape, 4),
            uncovered=uncovered,
            failures=failures,
            situated=tuple(t.text for t in situated),
            waived=tuple(t.text for t in waived),
        )


_NO_KEYS: frozenset[str] = frozenset()
# A word shaped as an adjective, an adverb or a short form (no noun of the table): "кожаную", "срочно", "готовы" (GT).
_NOT_A_NOUN = re.compile(r"(?:[ыио]й|[ая]я|[ое]е|[ыи]е|[ое]го|[ое]му|[ыи]м|[ыи]х|[ую]ю|о)$")
# The word after «для»: whom or what for, not the thing served ("скидка для таксопарка", "лупа для чтения") (GT).
_FOR = re.compile(r"(?<![а-яё])для\s+([а-яё]+)")
# Two words listed together: "X и Y", "X или Y", "X, Y" (GT: `_listed_with`).
_LISTED = re.compile(r"([а-яё]{3,})(?=\s*(?:,\s*|\s+и\s+|\s+или\s+)([а-яё]{3,}))")
# A sentence that refuses or excepts: "не принимаем", "нет", "кроме", "ни" (GT).
_REFUSAL = re.compile(r"(?<![а-яёa-z])(?:не|нет|ни|кроме)(?![а-яёa-z])")
# A model code: one or two letters with the model's number written on them ("a52", "s23", "а32"), not a number with a
# thousand's "к" ("5к", read before) nor a letter after a number ("2х").
_MODEL_CODE = re.compile(r"(?<![a-zа-я0-9])([a-zа-я]{1,2})(\d{1,3})(?![\d])")
# A series letter typed in Cyrillic ("а52", "с21" as a Latin text reads it) is the Latin letter it stands for (MS).
_SERIES_LETTER = {"а": "a", "в": "b", "с": "s", "е": "e", "к": "k", "м": "m", "н": "n", "о": "o", "р": "r", "т": "t",
                  "х": "x", "з": "z", "и": "i", "у": "u", "п": "p", "г": "g", "л": "l", "д": "d", "ф": "f", "ж": "j"}


def _gloss(lead: str, body: str, question_keys: set[str], names: frozenset[str]) -> bool:
    """RG: a parenthetical remark of one or two words, right after a word of the item's own question, is another name
    for what the question asks about: «Фотохромные линзы («хамелеоны»)» of «Сколько стоят фотохромные линзы?»,
    «Контактные линзы для астигматизма (торические)» of «Есть ли контактные линзы при астигматизме?». Not a remark with
    a number or a preposition («(с мытьём головы)», «(до 12:00)»): what it adds is a condition, not a name."""
    words = T.words(T.normalize(body))
    before = T.words(T.normalize(lead))
    if not 1 <= len(words) <= 2 or not before or any(w.isdigit() or w in _GLOSS_NOT for w in words):
        return False
    return bool(T.key_set(before[-1], names=names) & question_keys)


# Prepositions and conjunctions: a remark holding one adds a condition or a list, not another name (RG).
_GLOSS_NOT = frozenset("в во на с со к ко по от до из у за для без при о об про через и или а но не".split())


def _numbered_lines(text: str) -> frozenset[str]:
    """The Latin words of an item that a number follows ("iPhone 11", "SSD 512"): lines whose models it lists (MN)."""
    words = T.words(T.normalize(text))
    found: set[str] = set()
    for word, after in zip(words, words[1:], strict=False):
        if word.isascii() and word.isalpha() and after.isdigit():
            found |= {word, T.stem(word)}
    return frozenset(found) if found else _NO_KEYS
_NO_LEADS: list[set[str]] = []  # shared, never mutated: most fragments have no parenthetical remark
# "до скольки", "до какого времени": the hour something ends (UT). An answer states one with "до 21:00" or a span
# "10:00–21:00"; "с 10:00" alone is when it starts.
_UNTIL_ASKED = re.compile(r"(?<![а-яё])до (?:скольки|скольких|какого времени|какого часа)(?![а-яё])")
_END_TIME = re.compile(r"(?:(?<![а-яё])до|(?<![а-яё])по|\d\s*[–—-])\s*\d{1,2}[:.]\d{2}", re.IGNORECASE)
_ROUND_THE_CLOCK = re.compile(r"круглосуточн|24/7|24 часа")
_ASKS_EXTRA = re.compile(r"(?<![а-я])(?:доплат|доплач|добав|дополнительн|наценк|надбавк|дороже|сверху|плюсом|\+)")
_HOW_MUCH = frozenset({"сколько", "скока", "скоко", "сколко", "скок"})

# "если"/"пока" open a condition; not "когда" (also the question word: "когда проходят занятия?") nor "раз"
# ("сколько раз в неделю").
_INFINITIVE = re.compile(r"(?:ть|ться|ти|тись|чь|чься)$")
_CONDITION = re.compile(r"(?<![а-яa-z])(?:если|пока|при том что)(?![а-яa-z])([^,?.!;]*)")


# The clauses of one question: a statement of what happened and what is asked ("на ноутбуке полосы по экрану, матрицу
# менять сколько стоит") (SI).
_STATEMENT_SPLIT = re.compile(r"[,.;:]+|\s(?:но|а)\s|\s[—–-]\s")
# Words that open a clause stating a condition, a purpose or a time, which may change the answer ("если упадёт").
_SUBORDINATE = frozenset("если пока чтоб чтобы когда хотя хоть раз после перед при".split())
_WHICH = frozenset("какой какая какое какие каких каком какую каким какими что чем чего почему зачем".split())
_PLACE_PREPOSITIONS = frozenset("в во на с со у по для до от к ко за из при о об без через под над про после перед".split())


# Aspects a question asks of its topic that an item may state of something else in another fragment ("акция действует
# 2 недели" beside "скидка на кератин"): for an item whose own question shares no asked word, they must be stated
# beside an asked word.
_BESIDE = frozenset({"duration", "lead", "days", "age"})


def _asks_what_an_action_costs(folded: list[str], tokens: list[QToken]) -> bool:
    """"сколько рубашку почистить?", "сколько шторы постирать": «сколько» with an infinitive of an action the knowledge
    names (its verb or its noun: "почистить" → "чистка") and nothing counted or timed asks what the action costs. Without
    it the question asked no aspect, and any item mentioning the thing answered it ("Чистим одежду, …"). An infinitive
    the knowledge does not use is the asker's predicate and asks how long (PV: "сколько носить брекеты")."""
    if not any(word in _HOW_MUCH for word in folded):
        return False
    start = next(i for i, word in enumerate(folded) if word in _HOW_MUCH)
    kinds = {t.text: t for t in tokens}
    after = [kinds.get(word) for word in folded[start + 1 : start + 4]]
    if not after or after[0] is None or after[0].kind != CONTENT or _INFINITIVE.search(after[0].text) \
            or semantics.is_verb_form(after[0].text):
        return False  # "сколько носить", "сколько можно заморозить": no object named first
    return any(t is not None and t.kind == CONTENT and t.known and _INFINITIVE.search(t.text) for t in after[1:])


@functools.lru_cache(maxsize=4096)
def _occasions(text: str) -> dict[str, str]:
    return T.occasions(T.normalize(text))


def occasion_named(matches: list[ItemMatch], segment: Segment) -> list[ItemMatch]:
    """"на свадьбу торт": when an item that names the occasion answers, the items that do not name it cannot (their
    price is not the wedding cake's); only when none does is the occasion the asker's situation (OC)."""
    asked = {t.text for t in segment.content} & set(_occasions(segment.text))
    named = {w for m in matches if m.valid for w in asked if w not in m.situated}
    if not named:
        return matches
    result = []
    for m in matches:
        if m.valid and set(m.situated) & named:
            m = replace(m, valid=False, failures=[*m.failures, "occasion"], uncovered=[*m.uncovered, *m.situated])
        result.append(m)
    result.sort(key=lambda m: (not m.valid, -m.score, m.external_id))
    return result


def _situation_only(segment: Segment) -> bool:
    """A part that only states who asks, by an age or a party's size ("дочке 6 лет", "нас 5 человек"): no
    other word, no aspect. It belongs to the question next to it. (A duration — "заболел на 2 недели" —
    is a situation too, but joined to "можно заморозить?" it would demand the item repeat it.)"""
    ages = {word: number for word, (number, unit) in segment.unit_words.items() if unit == "год"}
    people = set(segment.people.values())
    return bool(segment.numbers) and segment.numbers <= set(ages.values()) | set(segment.people) and not segment.aspects and all(
        t.text in ages or t.text in people for t in segment.content)


def _bare(segment: Segment) -> bool:
    """Only the aspect is asked ("где вы?", "как к вам добраться?"): no content word, no number, and no soft word but
    the aspect's own forms ("добраться"); "до скольки можно шуметь?" asks about something else."""
    forms = set().union(*(T.ASPECT_FORM_WORDS.get(aspect, set()) for aspect in segment.aspects))
    return not segment.content and not segment.numbers and all(t.text in forms for t in segment.soft)


def _listed(tokens: list[QToken], text: str) -> bool:
    """Two words the customer joined with "и" or a comma ("капот и бампер") name two things, so they may
    sit in two clauses of the item's list ("капот, передний бампер"); otherwise they are one phrase."""
    if len(tokens) != 2:
        return False
    first, second = (re.escape(t.text) for t in tokens)
    folded = T.fold(text)
    return bool(re.search(rf"(?<![а-яa-z]){first}\s*(?:,|\sи)\s*{second}(?![а-яa-z])", folded)
                or re.search(rf"(?<![а-яa-z]){second}\s*(?:,|\sи)\s*{first}(?![а-яa-z])", folded))


def _join(a: Segment, b: Segment) -> Segment:
    return Segment(text=f"{a.text} {b.text}".strip(), tokens=a.tokens + b.tokens, numbers=a.numbers | b.numbers,
                   units={**a.units, **b.units}, aspects=a.aspects | b.aspects, dates=a.dates | b.dates,
                   counted=a.counted + b.counted, unit_words={**a.unit_words, **b.unit_words},
                   people={**a.people, **b.people}, leads={**a.leads, **b.leads}, areas=a.areas | b.areas,
                   latin=a.latin or b.latin, periods={**a.periods, **b.periods},
                   deadlines=a.deadlines | b.deadlines, rates={**a.rates, **b.rates})


def _join_all(segments: list[Segment]) -> Segment:
    result = segments[0]
    for segment in segments[1:]:
        result = _join(result, segment)
    return result


def query_weighted_keys(tokens: Sequence[QToken], weight: float = 1.0) -> dict[str, float]:
    """Sparse query terms: every key of every non-filler token (stems, synonyms, corrections)."""
    weighted: dict[str, float] = {}
    for token in tokens:
        if token.kind == FILLER:
            continue
        for key in token.keys:
            weighted[key] = max(weighted.get(key, 0.0), weight * (0.5 if token.kind == SOFT else 1.0))
    return weighted


def item_weighted_keys(feats: ItemFeatures) -> dict[str, float]:
    weighted = {key: 1.0 for key in feats.all_keys}
    for key in feats.question_keys:
        weighted[key] = 2.0
    return weighted


def dense_words(tokens: Sequence[QToken]) -> list[str]:
    return [t.text for t in tokens if t.kind != FILLER]


def item_dense_words(doc: ItemDoc) -> list[str]:
    text = " ".join([doc.question, doc.question, *doc.alt_questions, doc.answer])
    return [w for w in T.words(T.normalize(text)) if not w.isdigit() and not T.is_filler(w)]


_WITHOUT = re.compile(r"(?<![а-яё])без\s+([а-яё]+)")
_WITHOUT_TWO = re.compile(r"(?<![а-яё])без\s+([а-яё]+)(?:\s+([а-яё]+))?")
_NOT_NEEDED = re.compile(r"не\s+(?:нуж|обязат|требу)|необязат", re.IGNORECASE)


def _says_not_needed(text: str, word: str) -> bool:
    """`text` says `word`'s thing is not needed: "без записи" itself (not "без предупреждения"), or "не нужна", "не
    обязательно" (WO)."""
    lowered = text.lower()
    stem = T.stem(T.fold(word))
    return bool(_NOT_NEEDED.search(lowered)) or any(  # "без предварительной записи": the thing within two words
        T.stem(T.fold(w)) == stem for pair in _WITHOUT_TWO.findall(lowered) for w in pair if w)


def _booking_aspects(text: str) -> frozenset[str]:
    """The aspects `text` states, without "signup" when its only channel is for cancelling or moving a visit
    ("Отменить или перенести запись можно … — напишите в этот чат" is no way to book; HB)."""
    stated = T.aspects_stated(text)
    if "signup" in stated and T.channel_only_for_other_action(text):
        return stated - {"signup"}
    return stated
