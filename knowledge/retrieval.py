"""Retrieval: from a burst of customer messages to the knowledge items that answer it.

1. The version's `KBSnapshot` (items + features) is loaded from Postgres once per process and
   cached by (version id, content hash); the index is ensured for the same key.
2. The burst is split into segments (see `knowledge.matching`); for each, the index returns
   hybrid candidates (dense + sparse, RRF) filtered by tenant and version.
3. Each candidate is checked for lexical evidence (`KBSnapshot.match`); the best valid item
   per segment is chosen, and an ambiguous segment is resolved by an item another segment
   of the same burst already chose ("и сколько по времени" after "педикюр сколько?").
The quality gate (conversations.answering) turns the result into pass/fail rules.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from knowledge import focus as F
from knowledge import learning, tiers
from knowledge import matching as M
from knowledge import text as T
from knowledge.index import Embedder, IndexKey, embedder_from_settings, get_index
from knowledge.models import KnowledgeVersion
from knowledge.selectors import kb_items_for

_snapshots: OrderedDict[tuple[int, str, tuple[str, ...]], M.KBSnapshot] = OrderedDict()
_snapshots_lock = threading.Lock()
MAX_SNAPSHOTS = 32
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def snapshot_for(version: KnowledgeVersion) -> M.KBSnapshot:
    relations = tuple(settings.KNOWLEDGE_LEXICAL_RELATIONS)
    key = (version.pk, version.content_hash, relations)
    with _snapshots_lock:
        cached = _snapshots.get(key)
        if cached is not None:
            _snapshots.move_to_end(key)
            return cached
    docs = [
        M.ItemDoc(external_id=i.external_id, question=i.question, answer=i.answer,
                  alt_questions=tuple(i.alt_questions or ()), tags=tuple(i.tags or ()))
        for i in kb_items_for(version)
    ]
    snapshot = M.KBSnapshot(docs, key=f"{version.pk}:{version.content_hash}", relations=relations)
    with _snapshots_lock:
        for stale in [k for k in _snapshots if k[0] == version.pk and k != key]:
            del _snapshots[stale]
        _snapshots[key] = snapshot
        while len(_snapshots) > MAX_SNAPSHOTS:
            _snapshots.popitem(last=False)
    return snapshot


def clear_caches() -> None:
    with _snapshots_lock:
        _snapshots.clear()


@dataclass
class SegmentResult:
    text: str
    content_words: list[str]
    unknown_words: list[str]
    asks_price: bool
    asks_hours: bool
    aspects: frozenset[str] = frozenset()
    candidates: list[M.ItemMatch] = field(default_factory=list)
    chosen: M.ItemMatch | None = None
    runner_up: M.ItemMatch | None = None
    resolved_by_context: bool = False
    # Two parallel items (the same question about two branches or variants) that both state what
    # was asked, when the customer named neither: both are answered (`parallel_variants`).
    variants: list[M.ItemMatch] = field(default_factory=list)
    # The chosen item answers only once the customer's word is read as a tier another item defines
    # ("кроссовер" → "2 класс"): the reply quotes that tier's line (`knowledge.tiers`).
    tier: tiers.Resolution | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "content_words": self.content_words,
            "unknown_words": self.unknown_words,
            "aspects": sorted(self.aspects),
            "chosen": self.chosen.external_id if self.chosen else None,
            "score": self.chosen.score if self.chosen else 0.0,
            "confidence": self.chosen.confidence if self.chosen else 0.0,
            "runner_up": self.runner_up.external_id if self.runner_up else None,
            "runner_up_score": self.runner_up.score if self.runner_up else 0.0,
            "resolved_by_context": self.resolved_by_context,
            "variants": [v.external_id for v in self.variants],
            "tier": {"reference": self.tier.reference, "label": self.tier.label_text} if self.tier else None,
            "nearest": [{"id": c.external_id, "valid": c.valid, "score": c.score, "failures": c.failures, "uncovered": c.uncovered}
                        for c in self.candidates[:3]],
        }


@dataclass
class Retrieval:
    version_number: int
    item_count: int
    segments: list[SegmentResult]
    items: list[str]
    rag_ms: float
    snapshot: M.KBSnapshot
    # item id → how the reply quotes it when a tier was resolved for it (every segment that chose it)
    focus: dict[str, tiers.Resolution] = field(default_factory=dict)
    # item id → its answer reduced to the one list entry the question named (`knowledge.focus`)
    entries: dict[str, str] = field(default_factory=dict)

    def answer_texts(self) -> dict[str, str]:
        """The answers the reply may be built from: the chosen items and the items that defined a
        resolved tier (their entry is quoted as the basis)."""
        ids = list(self.items) + [f.reference for f in self.focus.values() if f.reference not in self.items]
        return {item_id: self.snapshot.features[item_id].doc.answer for item_id in ids}


def is_ambiguous(chosen: M.ItemMatch | None, runner_up: M.ItemMatch | None, ratio: float) -> bool:
    """Two items answer about equally well — on their own merits and with the burst's context."""
    if not chosen or not runner_up:
        return False
    return runner_up.score >= ratio * chosen.score and runner_up.base >= ratio * chosen.base


def _ambiguous(segment: SegmentResult, ratio: float) -> bool:
    return not segment.resolved_by_context and is_ambiguous(segment.chosen, segment.runner_up, ratio)


def parallel_variants(snapshot: M.KBSnapshot, segment: M.Segment, result: SegmentResult, ratio: float) -> list[M.ItemMatch]:
    """The two items to answer together for an ambiguous segment, or [] to keep it ambiguous.

    Both when: exactly two valid items tie (no third close); every word of the question is plain
    Russian the knowledge itself uses (a word that was not understood — Latin script, Kazakh, a
    typo, a word no item has — may be the very word that tells the two apart); and the two items
    are parallel: their questions say the same thing except for the words naming the variant
    ("…филиала на Левом берегу?" / "…на Правом берегу?"), none of which the customer used."""
    best, second = result.chosen, result.runner_up
    if not best or not second or not is_ambiguous(best, second, ratio):
        return []
    close = [m for m in result.candidates if m.valid and m.score >= ratio * best.score]
    if len(close) != 2:
        return []
    if _LATIN.search(segment.text) or segment.latin:
        return []
    if _branch_facts(snapshot, segment, close):
        return close
    for token in segment.tokens:
        if token.kind == M.FILLER or T.day_number(token.text) is not None:
            continue  # a weekday is understood exactly, through the days the items name (text.days_stated)
        own = T.concept(token.text)
        if not any(k in snapshot.vocabulary for k in own):
            return []  # understood only through a correction, a prefix or a Kazakh word
    first, other = (snapshot.features[m.external_id] for m in (best, second))
    a = set(T.words(T.normalize(first.doc.question))) - T.FILLER_WORDS
    b = set(T.words(T.normalize(other.doc.question))) - T.FILLER_WORDS
    shared, differing = a & b, a ^ b
    if not differing or len(shared) < len(differing):
        return []  # two different questions, not one question about two variants
    asked = {k for t in segment.tokens for k in t.keys}
    if any(T.concept(w) & asked for w in differing):
        return []  # the customer named a variant, so the tie is not for lack of one
    return [best, second]


# Facts a business states once per branch: where it is, when it is open, how to reach it. A question asking only one of
# them, naming no branch, is asked of every branch the knowledge has.
_PER_BRANCH = frozenset({"address", "hours", "days", "phone"})


def _branch_facts(snapshot: M.KBSnapshot, segment: M.Segment, close: list[M.ItemMatch]) -> bool:
    """"где вы находитесь?", "адрес скиньте": a question that is only an aspect a business states per branch (no content
    word, no number: `matching._bare`) ties the items whose own questions ask it, one per branch ("Где находится
    центральный филиал?" / "Где находится пункт в ТРЦ …?"). Nothing the customer wrote tells them apart, so no word was
    misread (M3's lesson): when the tying items are every item whose own question asks that aspect, they answer
    together (BA)."""
    if not segment.aspects or not segment.aspects <= _PER_BRANCH or not M._bare(segment):
        return False
    asking = {doc.external_id for doc in snapshot.docs
              if "learned" not in doc.tags and segment.aspects <= snapshot.features[doc.external_id].question_aspects}
    return {m.external_id for m in close} == asking


def _asked_as_written(snapshot: M.KBSnapshot, item_id: str, segment: M.Segment) -> bool:
    """The segment's words (filler apart, by stem) are those of one of the item's own questions."""
    def stems(text: str) -> frozenset[str]:
        return frozenset(T.stem(w) for w in T.words(T.normalize(text)) if not T.is_filler(w) and not w.isdigit())

    asked = stems(segment.text)
    doc = snapshot.features[item_id].doc
    return bool(asked) and any(stems(question) == asked for question in (doc.question, *doc.alt_questions))


def _named_by_label(snapshot: M.KBSnapshot, item_id: str, segment: M.Segment) -> bool:
    """A learned item one of whose answer's labels (the phrasings `learning.answer_topic`/`answer_parts` stored, each
    written in the answer) names every content word of the segment (LT)."""
    feats = snapshot.features[item_id]
    if "learned" not in feats.doc.tags or not segment.content:
        return False
    labels = [part.strip() for p in feats.doc.alt_questions if M._label_of(p, feats.doc.answer)
              for part in p.split(",") if part.strip()]
    return any(all(snapshot._covered(t, T.key_set(label)) for t in segment.content) for label in labels)


def _stated(text: str, messages: Sequence[str]) -> bool:
    """The part of a burst asks nothing: no question mark after it, no question word, no aspect cue."""
    if learning.asks(text):
        return False
    for message in messages:
        normalized = T.normalize(message)
        at = normalized.find(text)
        if at >= 0 and normalized[at + len(text):].lstrip().startswith("?"):
            return False
    return True


def _asked_whole(snapshot: M.KBSnapshot, item_id: str, segment: M.Segment, asked: frozenset[str],
                 topic: frozenset[str] = frozenset()) -> bool:
    """The item's own questions ask everything the segment asks: each of its content words (but the business's
    `topic` words, when given: at least one other) and each aspect it asks."""
    feats = snapshot.features[item_id]
    if "learned" in feats.doc.tags or not segment.content or not asked <= feats.question_aspects:
        return False
    own = [t for t in segment.content if t.text not in topic]
    return bool(own) and all(snapshot._covered(t, feats.question_keys) for t in own)


# A word a third of the knowledge's items use or more is the business's own topic («торт» at a bakery, «очки» at an
# optician's), not what a question is about (TW).
_TOPIC_SHARE = 1 / 3


def _topic_words(snapshot: M.KBSnapshot, segment: M.Segment) -> frozenset[str]:
    """The segment's content words that are the business's own topic (`_TOPIC_SHARE`)."""
    return frozenset(t.text for t in segment.content if snapshot.share(t) >= _TOPIC_SHARE)


def _priced_names(snapshot: M.KBSnapshot, item_id: str) -> set[str]:
    """The keys of the names the item's answer prices (`T.price_entries`)."""
    return {key for part in T.fragments(snapshot.features[item_id].doc.answer)
            for name in T.price_entries(part) for key in T.key_set(name)}


def _prices_named(snapshot: M.KBSnapshot, item_id: str, segment: M.Segment) -> bool:
    """Each asked word (generic ones apart) is in the item's own question or names an entry its answer prices, and one
    at least only there (PE)."""
    question = snapshot.features[item_id].question_keys
    rest = [t for t in segment.content if not T.is_generic(t.text) and not snapshot._covered(t, question)]
    if not rest:
        return False
    names = _priced_names(snapshot, item_id)
    return all(snapshot._covered(t, names) for t in rest)


def _both_state(snapshot: M.KBSnapshot, segment: M.Segment, result: SegmentResult, ratio: float) -> list[M.ItemMatch]:
    """"можно спать в линзах?" ties «Как правильно носить контактные линзы?» ("Спать в линзах нельзя (кроме Air Optix
    Night & Day)") with the monthly lenses' price list ("Air Optix Night & Day (в них можно спать)"): both state what
    was asked, each in one fragment holding every asked word. Issue 13: answer both when the item set states both (BS).
    Only for a question asking no aspect, no price, no hours and no number (two prices or two times are two answers to
    choose between, M3's lesson), of exactly two tying items, in plain Russian words the knowledge uses (M7's guard: a
    word not understood may be the one telling the two apart)."""
    best = result.chosen
    if not best or segment.aspects or result.asks_price or result.asks_hours or segment.numbers or not segment.content:
        return []
    close = [m for m in result.candidates if m.valid and m.score >= ratio * best.score]
    if len(close) != 2 or _LATIN.search(segment.text) or segment.latin:
        return []
    for token in segment.tokens:
        if token.kind == M.FILLER:
            continue
        if not any(k in snapshot.vocabulary for k in T.concept(token.text)):
            return []
    if set(T.words(T.normalize(segment.text))) & _THIRD_PERSON:
        return []  # "какой у нее стаж": asked of one person, whom nothing here names
    content = list(segment.content)
    if all(snapshot._co_located(content, snapshot.features[m.external_id]) and _states_plainly(snapshot, m.external_id, content)
           for m in close):
        return close
    return []


def _states_plainly(snapshot: M.KBSnapshot, item_id: str, content: list[M.QToken]) -> bool:
    """A fragment of the item's answer holds every asked word and no number: a yes or a no, not a value ("стаж 6 лет",
    "3 шт. — 12 000 ₸") that the other item may state differently."""
    for sentence in T.sentences(snapshot.features[item_id].doc.answer):
        for lead, body, _remark in T.fragment_parts(T.without_question_topics(sentence)):
            part = f"{lead} {body}".strip()
            keys = T.key_set(part)
            if not re.search(r"\d", part) and all(snapshot._covered(t, keys) for t in content):
                return True
    return False


_OF = frozenset({"без", "с", "со", "для", "из", "на"})  # "торты без сахара": a preposition inside a noun phrase
_LIST_PARTS = re.compile(r"[,;]")


def _general_of_variants(snapshot: M.KBSnapshot, segment: M.Segment, close: list[M.ItemMatch],
                         asked: frozenset[str]) -> M.ItemMatch | None:
    """"сколько стоит торт за кило?" ties «Сколько стоит торт на заказ?» with «Сколько стоит свадебный торт?», «Есть ли
    торты без сахара?», «Делаете ли вы ярусные торты?»: siblings whose own questions all name what the customer named.
    Each but one names, right beside that word, a variant the customer did not say (свадебный, без сахара, ярусные), which
    its answer names too and no other tying item has: it is the variant's item. The one left is the general item and
    answers (GV), when it states the asked fact beside the customer's other words ("9 000 ₸ за 1 кг"; not "надпись на торте
    платная?", whose inscription the cake's price only mentions). A word beside it that other tying items share ("на
    заказ") names no variant; nor does one joined by "и" ("заезд и выезд": two topics, not a kind of one)."""
    said = [t for t in segment.tokens if t.kind != M.FILLER]
    feats = {m.external_id: snapshot.features[m.external_id] for m in close}
    named = {item_id: frozenset(t.text for t in segment.content if snapshot._covered(t, f.question_keys))
             for item_id, f in feats.items()}
    if not all(named.values()) or len(set(named.values())) != 1:
        return None  # not siblings about the same thing

    def variant(item_id: str) -> bool:
        f = feats[item_id]
        others = [g for other, g in feats.items() if other != item_id]
        answer_keys = set().union(*f.fragment_keys) if f.fragment_keys else set()
        words = snapshot.analyze(f.doc.question)
        for i, word in enumerate(words):
            if word.kind != M.CONTENT or not any(c.keys & word.keys or snapshot._covered(c, word.keys) for c in said):
                continue  # not the word the customer named
            beside = [i - 1, i + 1]
            if i + 2 < len(words) and words[i + 1].text in _OF:
                beside.append(i + 2)
            for j in beside:
                if not 0 <= j < len(words):
                    continue
                modifier = words[j]
                if modifier.kind != M.CONTENT or T.is_generic(modifier.text) or any(
                        c.keys & modifier.keys or snapshot._covered(c, modifier.keys) for c in said):
                    continue
                if snapshot._covered(modifier, answer_keys) and not any(
                        snapshot._covered(modifier, g.all_keys) for g in others):
                    return True
        return False

    def plain(item_id: str) -> bool:
        """A learned item's question is one customer's wording of one case: what else it names is that customer's
        variant ("рукава у пиджака длинные, укоротить сколько стоит") or another topic ("за бенто тоже предоплата?"), and
        naming it apart from the asked word does not make it general. A learned item is the general one only when a
        phrasing of it — its question, or a part of a label list ("Заезд, выезд") — names nothing but what was asked."""
        f = feats[item_id]
        if "learned" not in f.doc.tags:
            return True
        parts = [f.doc.question, *(part for phrasing in f.doc.alt_questions for part in _LIST_PARTS.split(phrasing))]
        for part in parts:
            words = [w for w in snapshot.analyze(part) if w.kind == M.CONTENT and not T.is_generic(w.text)]
            if words and all(any(c.keys & w.keys or snapshot._covered(c, w.keys) for c in said) for w in words):
                return True
        return False

    general = [m for m in close if not variant(m.external_id) and plain(m.external_id)]
    if len(general) != 1 or len(close) < 2:
        return None
    f = feats[general[0].external_id]
    rest = [t for t in segment.content if not snapshot._covered(t, f.question_keys) and not T.is_generic(t.text)]
    if not any(asked <= stated and all(snapshot._covered(t, keys) for t in rest)
               for keys, stated in zip(f.fragment_keys, f.fragment_aspects, strict=True)):
        return None  # what else was asked ("за кило") is not what the general item's fact is stated of
    return general[0]


_THIRD_PERSON = frozenset({"он", "она", "они", "него", "нее", "неё", "них", "ним", "ней", "нему", "его", "ее", "её", "их"})
_NAME = re.compile(r"(?<=[а-яёa-z0-9,;:)»—–-] )([А-ЯЁ][а-яё]{2,})")


def _names(text: str) -> set[str]:
    """The capitalised words inside a sentence: the names of people (and brands) an answer gives."""
    return {T.fold(name) for name in _NAME.findall(text)}


def _named_before(snapshot: M.KBSnapshot, segment: M.Segment, result: SegmentResult, earlier: list[str],
                  ratio: float) -> M.ItemMatch | None:
    """"Кто делает имплантацию? какой у него стаж": a follow-up that refers back with a pronoun asks about the one
    the earlier answer named. Of the items tying on the follow-up's words, the only one naming a person (or brand)
    that an earlier segment's chosen item names answers it."""
    if not earlier or not (set(T.words(T.normalize(segment.text))) & _THIRD_PERSON):
        return None
    names = set().union(*(_names(snapshot.features[item_id].doc.answer) for item_id in earlier))
    if not names:
        return None
    best = result.chosen
    close = [m for m in result.candidates if m.valid and best and m.score >= ratio * best.score]
    naming = [m for m in close if _names(snapshot.features[m.external_id].doc.answer) & names]
    return naming[0] if len(naming) == 1 and len(close) > 1 else None


def retrieve(
    version: KnowledgeVersion,
    messages: Sequence[str],
    *,
    candidates: int = 12,
    ambiguity_ratio: float = 0.9,
    embedder: Embedder | None = None,
) -> Retrieval:
    """Raises `IntegrationError` when a configured outside service (embeddings, Qdrant) fails."""
    started = time.perf_counter()
    snapshot = snapshot_for(version)
    embedder = embedder or embedder_from_settings()
    index = get_index()
    key = IndexKey(version.tenant_id, version.pk, version.content_hash)
    if snapshot.docs:
        index.ensure(key, snapshot, embedder)
    segments = snapshot.segments(messages)
    all_tokens = [t for s in segments for t in s.tokens]
    results: list[SegmentResult] = []
    for segment in segments:
        normalized = T.normalize(segment.text)
        result = SegmentResult(
            text=segment.text,
            content_words=[t.text for t in segment.content],
            unknown_words=[t.text for t in segment.content if not t.known],
            asks_price=T.asks_price(normalized) or "price" in segment.aspects,
            asks_hours=T.asks_hours(normalized) or "hours" in segment.aspects,
            aspects=segment.aspects,
        )
        results.append(result)
        if not snapshot.docs:
            continue
        context = [t for t in all_tokens if t not in segment.tokens and t.kind != M.FILLER]
        sparse = T.sparse_from_keys({**M.query_weighted_keys(context, 0.3), **M.query_weighted_keys(segment.tokens)})
        dense = embedder.embed_query(segment.tokens, segment.text)
        hits = index.search(key, embedder, dense=dense, sparse=sparse, limit=candidates)
        extra = [*snapshot.stating_days(segment, limit=candidates), *snapshot.asking_aspects(segment, limit=candidates)]
        found = {item_id for item_id, _ in hits}
        hits += [(item_id, 0.0) for item_id in dict.fromkeys(extra) if item_id not in found]
        matches = [
            snapshot.match(item_id, segment, context=context, asks_price=result.asks_price, asks_hours=result.asks_hours)
            for item_id, _ in hits if item_id in snapshot.features
        ]
        matches.sort(key=lambda m: (not m.valid, -m.score, m.external_id))
        matches = M.occasion_named(matches, segment)
        result.candidates = matches
        valid = [m for m in matches if m.valid]
        result.chosen = valid[0] if valid else None
        result.runner_up = valid[1] if len(valid) > 1 else None
        asked = segment.aspects | ({"price"} if result.asks_price else set())
        if asked and is_ambiguous(result.chosen, result.runner_up, ambiguity_ratio):
            # Of items tying on words, the one stating the asked fact beside the asked words answers.
            close = [m for m in valid if m.score >= ambiguity_ratio * valid[0].score]
            beside = [m for m in close if snapshot.aspect_beside(m.external_id, segment, frozenset(asked))]
            if len(beside) == 1:
                result.chosen, result.runner_up = beside[0], None
        elif asked and result.chosen is not None and snapshot.named_apart(result.chosen.external_id, segment,
                                                                          frozenset(asked)):
            # "аккумулятор макбук сколько?" is not answered by the laptop battery's price and a sentence that only names
            # the MacBook ("Аккумулятор MacBook — в ремонте MacBook"): when a word the chosen item's question lacks sits
            # only in its sentences that do not state the asked fact, the only valid item stating that fact beside every
            # asked word answers, however the words' weights ranked them (PB).
            beside = [m for m in valid if snapshot.aspect_beside(m.external_id, segment, frozenset(asked))]
            if len(beside) == 1:
                result.chosen, result.runner_up = beside[0], None
        if "price" in asked and is_ambiguous(result.chosen, result.runner_up, ambiguity_ratio):
            # "антиблик сколько стоит?" ties the lens price list ("1.5 с … антибликовым покрытием — 12 000 ₸") with the
            # blue-light lenses ("16 000 ₸ за пару, индекс 1.56 с антибликовым покрытием"), both stating a price beside
            # the word: the one whose price list names it before an amount prices it; the other says what its own price
            # includes. The only tying item whose question or priced names hold every asked word (generic ones apart)
            # answers (PE).
            close = [m for m in valid if m.score >= ambiguity_ratio * valid[0].score]
            named = [m for m in close if _prices_named(snapshot, m.external_id, segment)]
            if len(named) == 1:
                result.chosen, result.runner_up = named[0], None
        if is_ambiguous(result.chosen, result.runner_up, ambiguity_ratio):
            # "как заказать торт?" is the business's own question of one item: asked in its words, it is that item's.
            close = [m for m in valid if m.score >= ambiguity_ratio * valid[0].score]
            same = [m for m in close if _asked_as_written(snapshot, m.external_id, segment)]
            if len(same) == 1:
                result.chosen, result.runner_up = same[0], None
        if is_ambiguous(result.chosen, result.runner_up, ambiguity_ratio):
            # "однодневные линзы есть?" ties the learned «линзы цветные однодневные есть?» (one customer's words about
            # coloured lenses) with the item whose manager's answer opens «Однодневные контактные линзы: …». Of learned
            # items only, the one a label of whose answer names every asked word answers: the label is the business's
            # name for what the answer is about, the customer's question names what one customer asked (LT).
            close = [m for m in valid if m.score >= ambiguity_ratio * valid[0].score]
            labelled = [m for m in close if _named_by_label(snapshot, m.external_id, segment)]
            # It never overturns the ranking: an item ranked below the first by the customer's words is not chosen by a label.
            if len(labelled) == 1 and labelled[0].score >= valid[0].score and all(
                    "learned" in snapshot.features[m.external_id].doc.tags for m in close):
                result.chosen, result.runner_up = labelled[0], None
        if asked and is_ambiguous(result.chosen, result.runner_up, ambiguity_ratio):
            close = [m for m in valid if m.score >= ambiguity_ratio * valid[0].score]
            general = _general_of_variants(snapshot, segment, close, frozenset(asked))
            if general is not None:
                result.chosen, result.runner_up = general, None
        if result.chosen is None:
            resolved = tiers.resolve(snapshot, segment, matches, context=context, asks_price=result.asks_price,
                                     asks_hours=result.asks_hours)
            if resolved:
                result.chosen, result.tier = resolved[0].match, resolved[0]
                result.runner_up = resolved[1].match if len(resolved) > 1 else None
        if result.chosen is None and (broad := snapshot.broadened(segment)) is not None:
            # Nothing answers the thing as the customer named it: read it as what it is made of ("шубу" → "мех",
            # "пуховик" → "пух"), and answer only when exactly one item then does (the reading never chooses between items).
            sparse = T.sparse_from_keys({**M.query_weighted_keys(context, 0.3), **M.query_weighted_keys(broad.tokens)})
            hits = index.search(key, embedder, dense=dense, sparse=sparse, limit=candidates)
            valid = [m for m in (snapshot.match(item_id, broad, context=context, asks_price=result.asks_price,
                                                asks_hours=result.asks_hours)
                                 for item_id, _ in hits if item_id in snapshot.features) if m.valid]
            if len(valid) == 1:
                result.chosen = valid[0]
        if result.chosen is None and (servable := snapshot.servable(segment)):
            # GT: nothing answers the thing the customer named; what a general item states of the business's work
            # ("Стандартный срок химчистки — 3 рабочих дня") it states of each thing the business serves.
            plain = [t for t in segment.tokens if t not in servable]
            sparse = T.sparse_from_keys({**M.query_weighted_keys(context, 0.3), **M.query_weighted_keys(plain)})
            ids = dict.fromkeys([*(m.external_id for m in matches),
                                 *(item_id for item_id, _ in index.search(key, embedder, dense=dense, sparse=sparse, limit=candidates))])
            found = []
            for item_id in ids:
                if item_id in snapshot.features and (general := snapshot.general_reading(segment, item_id)) is not None:
                    reading, things = general
                    match = snapshot.match(item_id, reading, context=context, asks_price=result.asks_price, asks_hours=result.asks_hours)
                    if match.valid and snapshot.general_item(item_id, reading, things):
                        found.append(match)
            found.sort(key=lambda m: (-m.score, m.external_id))
            if found and not is_ambiguous(found[0], found[1] if len(found) > 1 else None, ambiguity_ratio):
                result.chosen = found[0]

    # Context: a segment that is ambiguous or uncovered alone takes an item that another,
    # clearly answered segment of the same burst chose, when that item covers it too.
    settled = {r.chosen.external_id for r in results if r.chosen and not _ambiguous(r, ambiguity_ratio)}
    for result, segment in zip(results, segments, strict=True):
        if result.chosen and not _ambiguous(result, ambiguity_ratio):
            continue
        for item_id in settled:
            if result.chosen and result.chosen.external_id == item_id:
                result.runner_up, result.resolved_by_context = None, True
                break
            match = snapshot.match(item_id, segment, asks_price=result.asks_price, asks_hours=result.asks_hours)
            if match.valid:
                result.chosen, result.runner_up, result.resolved_by_context = match, None, True
                break

    if M.WAIVER is not None:
        # Study hook (bench/qualifier_study.py, not kept): a segment nothing answers takes its nearest item when the
        # only failure is uncovered words and the tolerance rule waives every one of them.
        for result, segment in zip(results, segments, strict=True):
            if result.chosen is not None or not result.candidates or result.candidates[0].failures != ["uncovered"]:
                continue
            nearest = result.candidates[0]
            others = [m.score for m in result.candidates[1:]]
            margin = round(nearest.score / max(others), 3) if others and max(others) > 0 else 9.0
            context = [t for t in all_tokens if t not in segment.tokens and t.kind != M.FILLER]
            match = snapshot.match(nearest.external_id, segment, context=context, asks_price=result.asks_price,
                                   asks_hours=result.asks_hours, waive=functools.partial(M.WAIVER, margin=margin))
            if match.valid:
                result.chosen, result.runner_up = match, None

    for index, (result, segment) in enumerate(zip(results, segments, strict=True)):
        if _ambiguous(result, ambiguity_ratio):
            earlier = [r.chosen.external_id for r in results[:index] if r.chosen and not _ambiguous(r, ambiguity_ratio)]
            named = _named_before(snapshot, segment, result, earlier, ambiguity_ratio)
            if named is not None:
                result.chosen, result.runner_up, result.resolved_by_context = named, None, True
    for result, segment in zip(results, segments, strict=True):
        if _ambiguous(result, ambiguity_ratio):
            # "выезд до скольки?" ties «Во сколько заезд и выезд?» with «Можно ли выехать позже?», whose answer states a
            # later hour; nothing else in the burst settles it. The item ranked first whose own question asks all of it
            # (every word and the asked aspect), the only one of the tying items to, answers (AQ). It never overturns
            # the ranking: an item ranked below the first by the customer's words is not chosen by its question.
            asked = frozenset(segment.aspects | ({"price"} if result.asks_price else set()))
            top = result.chosen.score if result.chosen else 0.0
            close = [m for m in result.candidates if m.valid and m.score >= ambiguity_ratio * top]
            whole = [m for m in close if _asked_whole(snapshot, m.external_id, segment, asked)]
            if not whole and (topic := _topic_words(snapshot, segment)):
                # "Do you deliver cakes?" ("доставка торты") ties «Есть ли доставка?» with the claims item «Что делать,
                # если с тортом что-то не так?», whose answer names a damage in delivery: «торт» is what every item of
                # a bakery is about, so the question asks of delivery; the item whose own question asks the rest (TW).
                whole = [m for m in close if _asked_whole(snapshot, m.external_id, segment, asked, topic)]
            if len(whole) > 1 and asked and (general := _general_of_variants(snapshot, segment, whole, asked)) is not None:
                whole = [general]
            if len(whole) == 1 and whole[0].score >= top:
                result.chosen, result.runner_up = whole[0], None
    for result, segment in zip(results, segments, strict=True):
        if _ambiguous(result, ambiguity_ratio):
            result.variants = parallel_variants(snapshot, segment, result, ambiguity_ratio)
            if not result.variants:
                result.variants = _both_state(snapshot, segment, result, ambiguity_ratio)
    answered = [r for r in results if r.chosen and (r.variants or not _ambiguous(r, ambiguity_ratio))
                and not _stated(r.text, messages)]
    if answered:
        # "Заморозить абонемент можно? ребенок заболел": a part that asks nothing (no question mark, no question word,
        # no aspect) and says something with a word no item uses ("заболел", "прилетаем") only states the asker's
        # situation; when its words tie two items and a question of the same burst is answered, it is not a second
        # question to hand over for (SN). A bare noun ("маникюр") is a question in a chat, and stays one.
        kept = [(r, s) for r, s in zip(results, segments, strict=True)
                if not (_ambiguous(r, ambiguity_ratio) and not r.variants and _stated(r.text, messages)
                        and any(t.kind != M.FILLER and not t.known for t in s.tokens))]
        results, segments = [r for r, _ in kept], [s for _, s in kept]

    chosen: list[str] = []
    for result in results:
        for match in result.variants or ([result.chosen] if result.chosen else []):
            if match.external_id not in chosen:
                chosen.append(match.external_id)
    return Retrieval(
        version_number=version.number,
        item_count=len(snapshot.docs),
        segments=results,
        items=chosen,
        rag_ms=round((time.perf_counter() - started) * 1000, 2),
        snapshot=snapshot,
        focus=_focus(results),
        entries=_entries(snapshot, results, segments),
    )


def _entries(snapshot: M.KBSnapshot, results: list[SegmentResult], segments: list[M.Segment]) -> dict[str, str]:
    """Items answered by one list entry: every segment that chose the item (alone, not through a tier
    or as one of two parallel variants) names the same entry of it."""
    found: dict[str, str | None] = {}
    for result, segment in zip(results, segments, strict=True):
        for match in result.variants or ([result.chosen] if result.chosen else []):
            item_id = match.external_id
            text = None if result.variants or result.tier is not None else F.focused_answer(snapshot, item_id, segment)
            found[item_id] = text if item_id not in found or found[item_id] == text else None
    return {item_id: text for item_id, text in found.items() if text}


def _focus(results: list[SegmentResult]) -> dict[str, tiers.Resolution]:
    """Items to quote by one tier's line: chosen through a tier by every segment that chose them, and
    always through the same tier (otherwise the whole item is answered, as before)."""
    focus: dict[str, tiers.Resolution] = {}
    plain: set[str] = set()
    for result in results:
        for match in result.variants or ([result.chosen] if result.chosen else []):
            tier = result.tier if result.tier is not None and result.tier.match.external_id == match.external_id else None
            if tier is None:
                plain.add(match.external_id)
            elif match.external_id in focus and focus[match.external_id].lines != tier.lines:
                plain.add(match.external_id)
            else:
                focus[match.external_id] = tier
    return {item_id: tier for item_id, tier in focus.items() if item_id not in plain}
