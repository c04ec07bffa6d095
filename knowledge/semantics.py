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
Words are read with pymorphy3 (the most likely reading must be a noun, or a verb for (c)).
The table is loaded once per process, lazily (~0.5 MB gzipped, ~10 MB in memory).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable
from pathlib import Path

from knowledge import text as T

DATA = Path(__file__).resolve().parent / "data" / "lexical_relations.tsv.gz"
SYNONYMS, HYPERNYMS, ACTIONS = "synonyms", "hypernyms", "actions"

_lock = threading.Lock()
_tables: dict[str, dict[str, str]] | None = None
_morph = None


def _analyzer():
    """pymorphy3's analyser (~30 MB, ~0.1 s), loaded on the first word that needs it."""
    global _morph
    if _morph is None:
        with _lock:
            if _morph is None:
                import pymorphy3

                _morph = pymorphy3.MorphAnalyzer()
    return _morph


def reading(word: str) -> tuple[str, str] | None:
    """("noun", the Snowball stem of its lemma) or ("verb", its infinitive) for a word whose most
    likely reading is a noun or a verb ("сына" → noun "сын", "помоете" → verb "помыть"); None for
    other words ("вон", "нормально": the table's nouns would otherwise be reached through a stem)."""
    parses = _analyzer().parse(word)
    if not parses:
        return None
    if parses[0].tag.POS == "NOUN":
        return "noun", T.stem(T.fold(parses[0].normal_form))
    if parses[0].tag.POS in ("VERB", "INFN"):
        return "verb", T.fold(parses[0].normal_form)
    return None


def tables() -> dict[str, dict[str, str]]:
    global _tables
    if _tables is None:
        with _lock:
            if _tables is None:
                loaded: dict[str, dict[str, str]] = {"syn": {}, "hyper": {}, "kinds_of": {}, "action": {}}
                with gzip.open(DATA, "rt", encoding="utf-8") as fh:
                    for line in fh:
                        if not line.startswith("#"):
                            name, key, value = line.rstrip("\n").split("\t")
                            loaded[name][key] = value
                _tables = loaded
    return _tables


class Relations:
    """The relations usable for one knowledge base (its vocabulary of keys)."""

    def __init__(self, vocabulary: set[str], kinds: Iterable[str] = (SYNONYMS, HYPERNYMS, ACTIONS)) -> None:
        self.vocabulary = vocabulary
        self.kinds = frozenset(kinds)
        self._divided: set[str] | None = None

    def divided(self) -> set[str]:
        """Hypernyms of which the knowledge names a kind: "автомобиль" when it writes "седан"."""
        if self._divided is None:
            kinds_of = tables()["kinds_of"]
            self._divided = {h for key in self.vocabulary for h in kinds_of.get(key, "").split() if h != key}
        return self._divided

    def keys_for(self, word: str) -> set[str]:
        """Keys of the knowledge that cover `word` (a Russian word the knowledge does not use)."""
        if not self.kinds or len(word) < 3 or word.isascii():
            return set()
        data = tables()
        read = reading(word)
        if read is None:
            return set()
        if read[0] == "verb":
            return self._action_nouns(read[1]) if ACTIONS in self.kinds else set()
        key = read[1]
        found: set[str] = set()
        if SYNONYMS in self.kinds:
            for group in data["syn"].get(key, "").split("|"):
                used = [other for other in group.split() if other in self.vocabulary]
                if len(used) == 1:
                    found.add(used[0])
        if HYPERNYMS in self.kinds:
            for general in data["hyper"].get(key, "").split():
                if general in self.vocabulary and not T.is_generic(general) and general not in self.divided():
                    found.add(general)
        return found

    def _action_nouns(self, verb: str) -> set[str]:
        """(c) The knowledge's noun for the action of a verb ("помоете" → "мыть" → "мойка"): Wiktionary's
        {{действие|…}} definitions; a perfective "по-" verb is read as its base ("помыть" → "мыть")."""
        action = tables()["action"]
        for lemma in (verb, verb[2:] if verb.startswith("по") and len(verb) > 5 else None):
            if lemma and lemma in action:
                return {noun for noun in action[lemma].split() if noun in self.vocabulary}
        return set()
