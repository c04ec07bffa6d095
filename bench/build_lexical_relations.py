"""Regenerate `knowledge/data/lexical_relations.tsv.gz` (synonyms and hypernyms of Russian nouns,
action nouns of verbs) from the Russian Wiktionary wordnet, for `knowledge.semantics`.

Source: the PyPI package `wiki-ru-wordnet` 1.0.3 (https://github.com/jamsic/ru-wordnet, MIT licence,
built from Russian Wiktionary, itself CC BY-SA): an SQLite database with `synsets(synset_id, lemma,
definition)` and `hypernyms(sid, hypersid)` (150 MB: only this script reads it, the application
loads the ~0.6 MB table it writes). Parts of speech and word forms from `pymorphy3` + `pymorphy3-dicts-ru`
(MIT): only this script needs them, the application reads customer words through the forms the table lists.

    .venv/bin/pip download --no-deps --no-binary :all: wiki-ru-wordnet==1.0.3 -d /tmp/pkgs
    tar xzf /tmp/pkgs/wiki_ru_wordnet-1.0.3.tar.gz -C /tmp/pkgs
    .venv/bin/pip install --target /tmp/lexlib pymorphy3==2.0.6 pymorphy3-dicts-ru==2.4.417150.4580142
    PYTHONPATH=/tmp/lexlib .venv/bin/python bench/build_lexical_relations.py \
        --db /tmp/pkgs/wiki_ru_wordnet-1.0.3/wiki_ru_wordnet/database/wikiwordnet.db

The output is deterministic (sorted, gzip mtime 0). What is kept (single-word nouns keyed by the
Snowball stem `knowledge.text` gives their lemma, verbs by their infinitive):
- a sense (one lemma's row in a synset) is dropped when Wiktionary marks it figurative, obsolete,
  historical, slang/jargon, vulgar, ironic, poetic, regional or rare, or from a remote science
  (minerals, chemistry, linguistics, …): customers of a small business do not mean those senses;
- "syn": per stem, its synsets (other members' stems) with at most MAX_SYNSET kept members;
- "action": per verb (infinitive), the stems of the nouns Wiktionary defines as its action
  ({{действие|мыть}} → "мойка", "мытьё"; "процесс действия по значению глаг.: [[покрасить]]" → "покраска");
- "noun" / "verb": per Snowball stem of a word form, the table keys (noun stems, verb infinitives) it is a
  form of, with the endings that follow the stem ("собак" → "собак:,а,ам,ами,ах,е,и,ой,у,…");
- "kinds_of": per stem, the hypernyms of every sense up to depth 2, unfiltered (for the sibling test);
- "hyper": per stem, its hypernyms' stems up to DEPTH (a multi-word hypernym "домашнее животное"
  gives its head noun "животное", which is more general still), leaving out hypernyms with more than
  MAX_HYPONYMS direct hyponyms (too general to be a statement about the specific case: "предмет").
"""

from __future__ import annotations

import argparse
import gzip
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "knowledge" / "data" / "lexical_relations.tsv.gz"
MAX_SYNSET = 5
MAX_HYPONYMS = 60
DEPTH = 1  # depth 2 reached noise ("рука" → "именование") through polysemous middle links
MAX_SENSES = 4  # a noun with more kept senses relates to nothing (which sense is meant is unknown)
MAX_HYPERNYM_SENSES = 2
EXCLUDED_MARKS = {
    "п.", "перен.", "устар.", "истор.", "старин.", "жарг.", "комп.жарг.", "сленг", "прост.", "бран.", "бранн.",
    "ритор.", "унич.", "ирон.", "шутл.", "пренебр.", "неодобр.", "груб.", "презр.", "вульг.", "обсц.", "мат",
    "поэт.", "нар.-поэт.", "высок.", "церк.", "религ.", "мифол.", "диал.", "обл.", "рег.", "местн.", "редк.",
    "крим.", "эвф.", "фам.", "сниж.", "минер.", "хим.", "физ.", "матем.", "астрон.", "геол.", "лингв.", "филол.",
    "филос.", "полигр.", "геометр.", "биохим.", "хим-элем", "воен.", "военн.", "морск.", "арх.", "книжн.",
}
_MARK = re.compile(r"\{\{([^|}]+)")
_ACTION = re.compile(r"\{\{действие\|([^|}]+)(?:\|([^}]*))?\}\}")
_ACTION_TEXT = re.compile(r"^(?:процесс )?действи[ея] по значению (?:глаг\.|гл\.)?:?\s*\[\[([а-яё]+)\]\]")
_LINK = re.compile(r"\[\[([а-яё]+)(?:\|[^\]]*)?\]\]")


def _configure(args: argparse.Namespace) -> None:
    """Variants measured in docs/EVAL.md ("W — wordnet"); the defaults are what is kept."""
    global MAX_SENSES, MAX_HYPERNYM_SENSES, DEPTH
    MAX_SENSES, MAX_HYPERNYM_SENSES, DEPTH = args.max_senses, args.max_hypernym_senses, args.depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="wikiwordnet.db of wiki-ru-wordnet 1.0.3")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--max-senses", type=int, default=MAX_SENSES)
    parser.add_argument("--max-hypernym-senses", type=int, default=MAX_HYPERNYM_SENSES)
    parser.add_argument("--depth", type=int, default=DEPTH)
    args = parser.parse_args()
    _configure(args)

    import pymorphy3

    from knowledge import text as T

    morph = pymorphy3.MorphAnalyzer()
    noun_cache: dict[str, bool] = {}

    def is_noun(lemma: str) -> bool:
        if lemma not in noun_cache:
            word = lemma.lower().replace("ё", "е")
            noun_cache[lemma] = bool(re.fullmatch(r"[а-я]{3,}", word)) and any(
                p.tag.POS == "NOUN" and p.normal_form.replace("ё", "е") == word for p in morph.parse(word))
        return noun_cache[lemma]

    def is_verb(lemma: str) -> bool:
        return bool(re.fullmatch(r"[а-я]{3,}", lemma)) and any(
            p.tag.POS == "INFN" and p.normal_form == lemma for p in morph.parse(lemma))

    def head(lemma: str, synset_id: int) -> str | None:
        """The noun a lemma of a synset names: itself, or for "домашнее животное" the last word when the
        wordnet says that word is its hypernym ("физическая культура" is a kind of "спорт", not of
        "культура"; "должностное лицо" is no "лицо")."""
        words = lemma.lower().split()
        if len(words) == 1:
            return words[0] if is_noun(words[0]) else None
        last = words[-1]
        if not is_noun(last) or not all(re.fullmatch(r"[а-яё-]+", w) for w in words):
            return None
        above = {m.lower() for parent in parents.get(synset_id, ()) for m in all_members.get(parent, ())}
        return last if last in above else None

    def key(lemma: str) -> str:
        return T.stem(T.fold(lemma))

    db = sqlite3.connect(args.db)
    members: dict[int, set[str]] = defaultdict(set)  # kept senses: synset -> lemmas (as written)
    for synset_id, lemma, definition in db.execute("SELECT synset_id, lemma, definition FROM synsets"):
        body = definition.split("~ru~", 2)[-1]
        if set(_MARK.findall(body)) & EXCLUDED_MARKS:
            continue
        members[synset_id].add(lemma)
    parents: dict[int, set[int]] = defaultdict(set)
    children: dict[int, set[int]] = defaultdict(set)
    for sid, hypersid in db.execute("SELECT sid, hypersid FROM hypernyms"):
        parents[sid].add(hypersid)
        children[hypersid].add(sid)

    senses: dict[str, int] = defaultdict(int)  # kept senses per lemma: how polysemous it is
    for lemmas in members.values():
        for lemma in lemmas:
            senses[lemma.lower()] += 1

    # Every sense's hypernyms, unfiltered: what a knowledge base's own words are kinds of. When the
    # knowledge names one kind of a hypernym ("седан"), the hypernym no longer covers another
    # kind ("кроссовер"): the business tells its kinds apart (`knowledge.semantics`).
    loose: dict[str, set[str]] = defaultdict(set)
    all_members: dict[int, set[str]] = defaultdict(set)
    for synset_id, lemma in db.execute("SELECT synset_id, lemma FROM synsets"):
        all_members[synset_id].add(lemma)
    for synset_id, lemmas in all_members.items():
        keys = {key(w) for w in lemmas if " " not in w and is_noun(w)}
        targets = {key(noun) for parent in parents.get(synset_id, ()) for lemma in all_members.get(parent, ())
                   if (noun := head(lemma, parent))}
        for grand in {g for parent in parents.get(synset_id, ()) for g in parents.get(parent, ())}:
            targets |= {key(noun) for lemma in all_members.get(grand, ()) if (noun := head(lemma, grand))}
        for k in keys:
            loose[k] |= targets - {k}

    question_nouns: set[str] = set()
    syn: dict[str, list[list[str]]] = defaultdict(list)
    hyper: dict[str, dict[str, int]] = defaultdict(dict)
    for synset_id, lemmas in members.items():
        nouns = sorted({w.lower() for w in lemmas if " " not in w and is_noun(w) and senses[w.lower()] <= MAX_SENSES})
        if not nouns:
            continue
        question_nouns.update(nouns)
        keys = sorted({key(w) for w in nouns})
        if 2 <= len(keys) <= MAX_SYNSET:
            for k in keys:
                group = [other for other in keys if other != k]
                if group not in syn[k]:
                    syn[k].append(group)
        frontier, seen = {synset_id}, {synset_id}
        for depth in range(1, DEPTH + 1):
            nxt = set()
            for sid in frontier:
                for parent in parents.get(sid, ()):
                    if parent in seen:
                        continue
                    seen.add(parent)
                    nxt.add(parent)
            frontier = nxt
            for parent in frontier:
                if len(children.get(parent, ())) > MAX_HYPONYMS or len(members.get(parent, ())) > MAX_SYNSET:
                    continue  # too general, or a loose group ("ребёнок, малыш, младенец, крошка, …")
                for lemma in members.get(parent, ()):
                    if senses[lemma.lower()] > MAX_HYPERNYM_SENSES:
                        continue  # "кошка" (12 senses, one of them a climbing spike): which one is meant is unknown
                    noun = head(lemma, parent)
                    if noun is None:
                        continue
                    target = key(noun)
                    for k in keys:
                        if target != k:
                            hyper[k][target] = min(depth, hyper[k].get(target, depth))
    # Action nouns: Wiktionary defines "мойка" as {{действие|мыть}} (the action of the verb), "отмена" as
    # {{действие|отменить|[[отменять]]}}, "открытие" as {{действие|открывать}}, [[открыть]], ….
    verbs: dict[str, set[str]] = defaultdict(set)
    for _synset_id, lemma, definition in db.execute("SELECT synset_id, lemma, definition FROM synsets"):
        body = definition.split("~ru~", 2)[-1]
        match = _ACTION.search(body)
        if " " in lemma or not is_noun(lemma) or set(_MARK.findall(body)) & EXCLUDED_MARKS:
            continue
        if match:
            named = [match.group(1), *_LINK.findall(match.group(2) or ""), *_LINK.findall(body[match.end():][:80].split(";")[0])]
        else:  # "процесс действия по значению глаг.: [[покрасить]]"
            named = _ACTION_TEXT.findall(body[:120])
            if not named:
                continue
        for verb in named:
            verb = T.fold(verb.strip())
            if is_verb(verb):
                verbs[verb].add(key(lemma))

    # Word forms, so the application needs no morphological analyser: a customer's word is looked up by
    # its Snowball stem and must end in an ending of a form of the noun (or verb) — "собаки" = "собак" + "и"
    # is a form of "собака"; "вон" ("вон" + "") is no form of "вонь", "ездите" none of "езда".
    def forms(lemma: str, pos: set[str]) -> list[str]:
        found = []
        for parse in morph.parse(lemma):
            if parse.tag.POS in pos and parse.normal_form.replace("ё", "е") == lemma:
                found = [T.fold(f.word) for f in parse.lexeme if f.tag.POS in pos | ({"VERB"} if "INFN" in pos else set())]
                break
        return found

    def add_forms(table: dict[str, dict[str, set[str]]], target: str, words: list[str]) -> None:
        for word in words:
            stem = T.stem(word)
            if word.startswith(stem):
                table[stem].setdefault(target, set()).add(word[len(stem):])

    noun_forms: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for noun in sorted(question_nouns):
        if key(noun) in syn or key(noun) in hyper:
            add_forms(noun_forms, key(noun), forms(noun, {"NOUN"}))
    verb_forms: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for verb in sorted(verbs):
        add_forms(verb_forms, verb, forms(verb, {"INFN"}))
        perfective = "по" + verb  # "помоете" is read as "мыть": the perfective of a verb with "по-"
        if len(verb) >= 3 and morph.word_is_known(perfective):
            add_forms(verb_forms, verb, forms(perfective, {"INFN"}))

    def packed(table: dict[str, dict[str, set[str]]]) -> dict[str, str]:
        return {k: ";".join(f"{target}:{','.join(sorted(ends))}" for target, ends in sorted(v.items())) for k, v in table.items()}

    used = {target for targets in hyper.values() for target in targets}
    tables = {
        "syn": {k: "|".join(" ".join(g) for g in v) for k, v in syn.items()},
        "hyper": {k: " ".join(sorted(v)) for k, v in hyper.items()},
        "action": {k: " ".join(sorted(v)) for k, v in verbs.items()},
        # Only the hypernyms "hyper" can use matter for the sibling test: the rest is left out (memory).
        "kinds_of": {k: " ".join(sorted(v & used)) for k, v in loose.items() if v & used},
        "noun": packed(noun_forms),
        "verb": packed(verb_forms),
    }
    lines = [
        "# Lexical relations for knowledge.semantics: table<TAB>key<TAB>value. Source: wiki-ru-wordnet 1.0.3",
        "# (https://github.com/jamsic/ru-wordnet, MIT licence; built from Russian Wiktionary, CC BY-SA), nouns and",
        "# verbs by pymorphy3. Regenerate with bench/build_lexical_relations.py; do not edit by hand.",
        f"# max_synset={MAX_SYNSET} max_senses={MAX_SENSES} max_hypernym_senses={MAX_HYPERNYM_SENSES} "
        f"max_hyponyms={MAX_HYPONYMS} depth={DEPTH}",
    ]
    for name, table in sorted(tables.items()):  # sorted by UTF-8 bytes: the application bisects the file
        lines.extend(f"{name}\t{k}\t{v}" for k, v in sorted(table.items(), key=lambda kv: kv[0].encode()))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0) as fh:  # mtime 0: the same bytes every run
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{args.out}: " + ", ".join(f"{len(t)} {n}" for n, t in tables.items())
          + f"; {Path(args.out).stat().st_size // 1024} KiB")

if __name__ == "__main__":
    main()
