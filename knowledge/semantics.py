"""Curated lexical relations: a customer's noun the knowledge never uses, read through a wordnet.

Vector similarity rates siblings as synonyms (маникюр ~ педикюр, МРТ ~ УЗИ: issue 13's M2), so a
question about a service the business does not offer looked covered by the one it does. A wordnet
separates the relations: two words of one synset mean the same thing ("мотор" / "двигатель",
"прививка" / "вакцинация"), a hypernym is the more general word ("собака" → "животное").

`data/lexical_relations.tsv.gz` (built by `bench/build_lexical_relations.py` from the MIT-licensed
`wiki-ru-wordnet` 1.0.3, Russian Wiktionary) maps the Snowball stem of a noun lemma to
- "syn": its synsets (the other members' stems), polysemous nouns and rare/figurative senses left out;
- "hyper": its direct hypernyms' stems;
- "kinds_of": the hypernyms of every sense up to two levels, unfiltered (only for the sibling test).

A word of a question that no item uses (`Relations.keys_for`) gets, as extra keys:
- (a) synonyms: a synset member the knowledge uses, when it is the ONLY member the knowledge uses
  (a business that writes both "стрижка" and "причёска" tells them apart);
- (b) hypernyms, in the safe direction only: the question's specific word ("собака") is covered by an
  item stating the general one ("животных"), never the reverse (the question's general word is not
  covered by a specific item: the general word has no entry pointing down). Not when the knowledge
  names another kind of that hypernym ("седан" when the question says "кроссовер": the business
  prices its kinds apart), and not for the generic words of `knowledge.lexicon.GENERIC_RU`.
- (c) actions: a customer's verb the knowledge does not use, read as the noun Wiktionary defines as its
  action ("помоете" → "мыть" → "мойка"), extending the stem-based verb ↔ noun cores of `knowledge.text`.
- (d) verbs (`is_verb_form`): a customer's verb the knowledge does not use at all, not even through (c) or the
  verb ↔ noun cores ("ведёт", "проходят", "заболел", "надеть"), says what the asker does or wants; it is the
  question's predicate, not a qualifier of the thing asked, so it stops blocking an answer (it still ranks, as
  a soft word). Verbs the knowledge does use stay content words: "удалять" against "лечить" tells two items apart.
  The forms come from `data/verb_forms.u32.gz` (`bench/build_verb_forms.py`, OpenCorpora through pymorphy3).
A word is read through the table's own word forms (generated with pymorphy3 at build time, so the application
needs no morphological analyser): it must be a form of exactly one noun (or, for (c), one verb).
The table is loaded once per process, lazily (~0.6 MB gzipped, ~4 MB in memory).
"""

from __future__ import annotations

import gzip
import re
import sys
import threading
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

from knowledge import text as T

DATA = Path(__file__).resolve().parent / "data" / "lexical_relations.tsv.gz"
VERB_FORMS = Path(__file__).resolve().parent / "data" / "verb_forms.u32.gz"
NOUN_KINDS = Path(__file__).resolve().parent / "data" / "noun_kinds.tsv.gz"
SYNONYMS, HYPERNYMS, ACTIONS, VERBS, MATERIALS = "synonyms", "hypernyms", "actions", "verbs", "materials"

_lock = threading.Lock()
_tables: dict[Path, _Packed] = {}
_verb_forms: array | None = None


class _Packed:
    """The whole table as one bytes object, its lines sorted, bisected by "name<TAB>key": ~4 MB
    resident, where dicts of strings took ~12 MB (and pymorphy3, which the word forms replace, ~26 MB)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = array("I")
        position = 0
        while data.startswith(b"#", position):  # the header's comment lines
            position = data.index(b"\n", position) + 1
        while position < len(data):
            self.starts.append(position)
            position = data.find(b"\n", position)
            position = len(data) if position < 0 else position + 1

    def _key(self, index: int) -> bytes:
        start = self.starts[index]
        return self.data[start:self.data.find(b"\t", self.data.find(b"\t", start) + 1)]

    def get(self, name: str, key: str) -> str:
        target = f"{name}\t{key}".encode()
        low, high = 0, len(self.starts)
        while low < high:
            middle = (low + high) // 2
            if self._key(middle) < target:
                low = middle + 1
            else:
                high = middle
        if low == len(self.starts) or self._key(low) != target:
            return ""
        start = self.starts[low] + len(target) + 1
        end = self.data.find(b"\n", start)
        return self.data[start:end if end >= 0 else len(self.data)].decode()


def _loaded(path: Path) -> _Packed:
    """A packed table, read once per process on first use."""
    found = _tables.get(path)
    if found is None:
        with _lock:
            found = _tables.get(path)
            if found is None:
                found = _tables[path] = _Packed(gzip.decompress(path.read_bytes()))
    return found


def table() -> _Packed:
    return _loaded(DATA)


def kinds_table() -> _Packed:
    return _loaded(NOUN_KINDS)


def made_of(word: str) -> set[str]:
    """(e) Stems of what the thing a noun names is made of or derived from, as a dictionary defines it: "шубу" →
    {мех}, "пуховик" → {пух} (`data/noun_kinds.tsv.gz`, `bench/build_noun_kinds.py`). The word must be a form of
    exactly one noun of that table."""
    if len(word) < 3 or word.isascii():
        return set()
    folded = T.fold(word)
    stem = T.stem(folded)
    if not folded.startswith(stem):
        return set()
    packed = kinds_table()
    ending = folded[len(stem):]
    lemmas = set()
    for entry in packed.get("noun", stem).split(";"):
        lemma, _, endings = entry.partition(":")
        if lemma and ending in endings.split(","):
            lemmas.add(lemma)
    return set(packed.get("made", lemmas.pop()).split()) - _ANY_MATERIAL if len(lemmas) == 1 else set()


# Stems of the materials every made thing is of («сумка … из ткани, кожи или другого материала»): they tell nothing
# ("сумку" read as "ткань" reached «Ткань ваша или из наших образцов» of a tailoring item).
_ANY_MATERIAL = {"материа", "матер", "веществ", "ткан", "волокн", "сыр"}


def _verb_hashes() -> array:
    global _verb_forms
    if _verb_forms is None:
        with _lock:
            if _verb_forms is None:
                data = gzip.decompress(VERB_FORMS.read_bytes())
                deltas = array("I")
                deltas.frombytes(data[data.index(b"\n") + 1:])
                if sys.byteorder != "little":
                    deltas.byteswap()
                total = 0
                hashes = array("I", bytes(4 * len(deltas)))
                for index, delta in enumerate(deltas):
                    total += delta
                    hashes[index] = total
                _verb_forms = hashes
    return _verb_forms


def is_verb_form(word: str) -> bool:
    """A form of a Russian verb (personal, past, infinitive, gerund, short participle) whose likelier reading
    is the verb: "ведет", "проходят", "заболел", "надеть", "открыт"; not "стекла", "зал", "подарок", "мой"."""
    if not word or word.isascii():
        return False
    hashes = _verb_hashes()
    target = zlib.crc32(T.fold(word).encode())
    index = bisect_left(hashes, target)
    return index < len(hashes) and hashes[index] == target


def is_word_form(word: str) -> bool:
    """A form of a Russian verb (`is_verb_form`) or of a noun of the table ("месяц", "собакой", "ночи"): how a
    Latin-script word's readings are told from letter strings that are no Russian word (`knowledge.text.translit`:
    "vyehat" is "выехать", not "вехат")."""
    return is_verb_form(word) or is_noun_form(word)


def is_noun_form(word: str) -> bool:
    """A form of a noun of the table ("вес", "ночи", "собакой"), whichever of its nouns."""
    folded = T.fold(word)
    stem = T.stem(folded)
    return folded.startswith(stem) and bool(_forms("noun", stem, folded[len(stem):]))


# People a business serves, named as such ("гостей", "друзья", "клиенту"): GT's whom the work is for, not what it is
# done on (the wordnet reads "гость" as an account and has no "друг").
_PERSONS = re.compile(r"(?:человек|гост|друз|клиент|пациент|посетител|взросл|школьник|ученик|студент|пенсионер)[а-яё]*"
                      r"|друг(?:а|у|ом|е)?")


def is_person(word: str) -> bool:
    """A noun naming people a business serves ("гости", "друзьям", "клиента"), not "другой" (GT)."""
    return bool(_PERSONS.fullmatch(T.fold(word)))


def _forms(name: str, stem: str, ending: str) -> set[str]:
    """The keys of table `name` ("noun", "verb") of which stem + ending is a form."""
    found = set()
    for entry in table().get(name, stem).split(";"):
        if entry:
            target, _, endings = entry.partition(":")
            if ending in endings.split(","):
                found.add(target)
    return found


def reading(word: str) -> tuple[str, str] | None:
    """("noun", the table key of its lemma) or ("verb", its infinitive) for a word that is a form of
    exactly one noun or one verb of the table ("сына" → noun "сын", "помоете" → verb "мыть"); None for
    other words ("вон" is no form of "вонь", "нормально" none of "нормальность", "ездите" none of "езда":
    the table's nouns are not reached through a shared stem)."""
    folded = T.fold(word)
    stem = T.stem(folded)
    if not folded.startswith(stem):
        return None
    ending = folded[len(stem):]
    nouns, verbs = _forms("noun", stem, ending), _forms("verb", stem, ending)
    if len(nouns) == 1 and not verbs:
        return "noun", nouns.pop()
    if len(verbs) == 1 and not nouns:
        return "verb", verbs.pop()
    return None


class Relations:
    """The relations usable for one knowledge base (its vocabulary of keys)."""

    def __init__(self, vocabulary: set[str], kinds: Iterable[str] = (SYNONYMS, HYPERNYMS, ACTIONS)) -> None:
        self.vocabulary = vocabulary
        self.kinds = frozenset(kinds)
        self._divided: set[str] | None = None

    def divided(self) -> set[str]:
        """Hypernyms of which the knowledge names a kind: "автомобиль" when it writes "седан"."""
        if self._divided is None:
            packed = table()
            self._divided = {h for key in self.vocabulary if not key.isascii()
                             for h in packed.get("kinds_of", key).split() if h != key}
        return self._divided

    def predicate(self, word: str) -> bool:
        """(d) A verb the knowledge does not use: the asker's action, not a qualifier."""
        return VERBS in self.kinds and is_verb_form(word)

    def keys_for(self, word: str) -> set[str]:
        """Keys of the knowledge that cover `word` (a Russian word the knowledge does not use)."""
        if not self.kinds or len(word) < 3 or word.isascii():
            return set()
        packed = table()
        read = reading(word)
        if read is None:
            return set()
        if read[0] == "verb":
            return self._action_nouns(read[1]) if ACTIONS in self.kinds else set()
        key = read[1]
        found: set[str] = set()
        if SYNONYMS in self.kinds:
            for group in packed.get("syn", key).split("|"):
                used = [other for other in group.split() if other in self.vocabulary]
                if len(used) == 1:
                    found.add(used[0])
        if HYPERNYMS in self.kinds:
            for general in packed.get("hyper", key).split():
                if general in self.vocabulary and not T.is_generic(general) and general not in self.divided():
                    found.add(general)
        return found

    def generals(self, word: str) -> set[str]:
        """The keys of `keys_for(word)` that name a category `word` belongs to (its wordnet hypernyms), not the word."""
        if HYPERNYMS not in self.kinds or len(word) < 3 or word.isascii():
            return set()
        read = reading(word)
        if read is None or read[0] == "verb":
            return set()
        return {general for general in table().get("hyper", read[1]).split() if general in self.vocabulary}

    def _action_nouns(self, verb: str) -> set[str]:
        """(c) The knowledge's noun for the action of a verb ("помоете" → "мыть" → "мойка"): Wiktionary's
        {{действие|…}} definitions; the table reads a perfective "по-" verb as its base ("помыть" → "мыть")."""
        return {noun for noun in table().get("action", verb).split() if noun in self.vocabulary}
