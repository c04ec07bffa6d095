"""Regenerate `knowledge/data/noun_kinds.tsv.gz`: what an everyday thing is made of, read from the Russian
Wiktionary's definitions, for `knowledge.semantics.made_of` (issue 13, "K — a thing read as what it is made of when
nothing names it").

A dictionary definition names the thing's genus first and often its material: «шуба — верхняя зимняя одежда
из меха», «дублёнка — шуба или куртка из дублёных овчин», «пуховик — куртка или пальто на пуховой прокладке».
Per noun lemma, over its kept senses (the marks of `build_lexical_relations.EXCLUDED_MARKS` and a few specialised
fields drop a sense; a noun with more than MAX_SENSES kept senses is left out), this script keeps in "made":
- the material: the noun after «из» («из меха» → «мех», «из дублёных овчин» → «овчина») when it names a material
  (itself, or its genus two levels up, one of SUBSTANCES: «овчина» → «шкура»; not «одно из животных», «из семейства»);
  the genus is the first noun of the definition in the nominative, or after a wrapper noun («вид», «предмет», …) the
  genitive that follows; a word with an adjective reading agreeing with the next word is a modifier («сладкое
  замороженное кушанье»);
- the base the word is derived from: a noun the definition names (itself, or through its adjective:
  «пуховой» → «пух») whose stem begins the word before a thing-making suffix («пуховик» → «пух» + «овик»).
Not the genus itself (what the thing is a kind of) nor the genus's material: both were measured and dropped
(docs/EVAL.md, "K").
The nouns of the definitions are read with pymorphy3 (build time only). Rows: "made<TAB>lemma<TAB>stems" and the
word forms of the keyed nouns ("noun<TAB>stem<TAB>lemma:endings"), as in `lexical_relations.tsv.gz`.

    .venv/bin/pip download --no-deps --no-binary :all: wiki-ru-wordnet==1.0.3 -d /tmp/pkgs
    tar xzf /tmp/pkgs/wiki_ru_wordnet-1.0.3.tar.gz -C /tmp/pkgs
    .venv/bin/pip install --target /tmp/lexlib pymorphy3==2.0.6 pymorphy3-dicts-ru==2.4.417150.4580142
    PYTHONPATH=/tmp/lexlib .venv/bin/python bench/build_noun_kinds.py \
        --db /tmp/pkgs/wiki_ru_wordnet-1.0.3/wiki_ru_wordnet/database/wikiwordnet.db

The output is deterministic (sorted, gzip mtime 0).
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
sys.path.insert(0, str(ROOT / "bench"))

from build_lexical_relations import EXCLUDED_MARKS  # noqa: E402

OUT = ROOT / "knowledge" / "data" / "noun_kinds.tsv.gz"
MAX_SENSES = 3  # a noun with more kept senses is read as nothing (which sense is meant is unknown)
# Specialised senses customers of a small business do not mean («рубашка» of a card, «кожа» of anatomy).
MORE_MARKS = {
    "спец.",
    "биол.",
    "анат.",
    "мифол.",
    "театр.",
    "спорт.",
    "собир.",
    "техн.",
    "бот.",
    "зоол.",
    "мед.",
    "книжн.",
    "офиц.",
    "проф.",
    "муз.",
    "кулин.",
    "с.-х.",
    "экон.",
    "юр.",
    "полит.",
    "мор.",
    "ав.",
}
WRAPPERS = {
    "вид",
    "предмет",
    "часть",
    "кусок",
    "разновидность",
    "род",
    "тип",
    "сорт",
    "принадлежность",
    "название",
    "элемент",
    "деталь",
    "набор",
    "комплект",
    "изделие",
    "штука",
}
# Suffixes that make a thing's name from its material or its base noun («пух» → «пуховик», «кожа» → «кожанка»,
# «джинса» → «джинсовка»): «дублёнка» is no «дуб» + «лёнка».
# What a material is (its genus, two levels up): the nouns after «из» that name one.
SUBSTANCES = {"материал", "материя", "вещество", "ткань", "волокно", "шкура", "сырьё", "сырье", "металл", "сплав", "пряжа", "мех", "кожа"}
SUFFIXES = {"ик", "овик", "евик", "ник", "ка", "овка", "евка", "анка", "янка", "ок", "ица", "ушка"}
_MARK = re.compile(r"\{\{([^|}]+)")
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_WORD = re.compile(r"[а-яё]+|[,;:.()]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="wikiwordnet.db of wiki-ru-wordnet 1.0.3")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    import pymorphy3

    from knowledge import text as T

    morph = pymorphy3.MorphAnalyzer()

    def key(lemma: str) -> str:
        return T.stem(T.fold(lemma))

    def parse(word: str):
        return morph.parse(word)[0]

    def is_noun_lemma(word: str) -> bool:
        return bool(re.fullmatch(r"[а-яё]{3,}", word)) and any(
            p.tag.POS == "NOUN" and p.normal_form.replace("ё", "е") == word.replace("ё", "е") for p in morph.parse(word)
        )

    def clean(definition: str) -> str | None:
        body = definition.split("~ru~", 2)[-1].split("~")[0]
        marks = set(_MARK.findall(body))
        if marks & (EXCLUDED_MARKS | MORE_MARKS):
            return None
        body = body.split("{{пример")[0]
        while _TEMPLATE.search(body):
            body = _TEMPLATE.sub(" ", body)
        body = _LINK.sub(r"\1", body)
        body = re.sub(r"''[^']*''", " ", body)
        body = re.sub(r"\([^()]*\)", " ", body)
        return body.lower()

    def modifier(word: str, following: str) -> str | None:
        """The adjective lemma of `word` when it reads as an adjective or participle agreeing with the word after it
        («сладкое замороженное», «дублёных овчин»), else None («животное семейства» is a noun)."""
        parses = morph.parse(word)
        if parses[0].tag.POS in ("ADJF", "PRTF"):
            return parses[0].normal_form
        for q in parses:
            if q.tag.POS not in ("ADJF", "PRTF"):
                continue
            for r in morph.parse(following) if following.isalpha() else ():
                if (
                    r.tag.POS in ("NOUN", "ADJF", "PRTF")
                    and r.tag.case == q.tag.case
                    and r.tag.number == q.tag.number
                    and (q.tag.number == "plur" or r.tag.gender in (None, q.tag.gender))
                ):
                    return q.normal_form
        return None

    def read(body: str) -> tuple[list[str], list[str], list[str]]:
        """(genus lemmas, material lemmas, every noun and adjective lemma) of a definition's first clause."""
        words = _WORD.findall(body.split(";")[0])
        while words and words[0] in ",:.":
            words.pop(0)
        genus: list[str] = []
        material: list[str] = []
        named: list[str] = []
        state = "genus"  # genus → (or | wrapper) → done
        after_from = False
        for index, word in enumerate(words):
            if word in ",;:.()":
                if state == "genus" and genus:
                    state = "done"
                after_from = False
                continue
            p = parse(word)
            pos, case = p.tag.POS, p.tag.case
            adjective = modifier(word, words[index + 1] if index + 1 < len(words) else "")
            if adjective is not None:  # «сладкое замороженное кушанье»: a modifier, even where a noun reading ranks first
                named.append(adjective)
                continue
            if pos == "NOUN":
                named.append(p.normal_form)
                if after_from and case == "gent":
                    material.append(p.normal_form)
                    after_from = False
                    continue
                if state == "genus" and case == "nomn":
                    if p.normal_form in WRAPPERS:
                        state = "wrapped"
                        continue
                    genus.append(p.normal_form)
                    state = "or" if index + 1 < len(words) and words[index + 1] == "или" else "done"
                    continue
                if state == "wrapped" and case == "gent":
                    genus.append(p.normal_form)
                    state = "done"
                    continue
                if state == "or" and case == "nomn":
                    genus.append(p.normal_form)
                    state = "done"
                    continue
                if state == "genus":
                    state = "done"  # the first noun is not the genus ("для лежания …"): nothing is guessed
                continue
            if word == "из":
                after_from = True
            elif word == "или" and state == "or":
                continue
            elif pos not in ("PREP", "CONJ", "ADVB", "PRCL", "NUMR") and state == "genus" and not genus:
                state = "done"
        return genus, material, named

    db = sqlite3.connect(args.db)
    senses: dict[str, list[str]] = defaultdict(list)
    for lemma, definition in db.execute("SELECT lemma, definition FROM synsets"):
        word = lemma.lower()
        if " " in word or not is_noun_lemma(word):
            continue
        body = clean(definition)
        senses[word].append(body if body is not None else "")
    direct: dict[str, dict[str, set[str]]] = {}
    for word, bodies in senses.items():
        kept = [b for b in bodies if b]
        if not kept or len(kept) > MAX_SENSES:
            continue
        genus: set[str] = set()
        material: set[str] = set()
        base: set[str] = set()
        own = word.replace("ё", "е")
        for body in kept:
            g, m, named = read(body)
            genus |= {n.replace("ё", "е") for n in g if is_noun_lemma(n)}
            material |= {n.replace("ё", "е") for n in m if is_noun_lemma(n)}
            for lemma in named:
                lemma = lemma.replace("ё", "е")
                for cut in range(len(lemma), 2, -1):  # "пуховой" → "пух"
                    candidate = lemma[:cut]
                    stem = key(candidate)
                    if (
                        candidate != own
                        and len(stem) >= 3
                        and own.startswith(stem)
                        and own[len(stem) :] in SUFFIXES
                        and is_noun_lemma(candidate)
                    ):
                        base.add(candidate.replace("ё", "е"))
                        break
        genus.discard(own)
        material.discard(own)
        if genus or material or base:
            direct[own] = {"genus": genus, "material": material, "base": base}

    def substance(noun: str, depth: int = 2) -> bool:
        """A material: itself one of SUBSTANCES, or its genus (two levels) is ("мех" → "шкура", "шёлк" → "ткань");
        "из семейства", "одно из наиболее …" name no material."""
        if noun in SUBSTANCES:
            return True
        return depth > 0 and any(substance(g, depth - 1) for g in direct.get(noun, {}).get("genus", ()))

    for rel in direct.values():
        rel["material"] = {m for m in rel["material"] if substance(m)}
    made: dict[str, set[str]] = defaultdict(set)
    for word, rel in direct.items():
        if keys := {key(t) for t in rel["material"] | rel["base"]} - {key(word)}:
            made[word] = keys

    def forms(lemma: str) -> list[str]:
        for p in morph.parse(lemma):
            if p.tag.POS == "NOUN" and p.normal_form.replace("ё", "е") == lemma:
                return [T.fold(f.word) for f in p.lexeme if f.tag.POS == "NOUN"]
        return []

    noun_forms: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for word in sorted(direct):
        if word not in made:
            continue
        for form in forms(word):
            stem = T.stem(form)
            if form.startswith(stem):
                noun_forms[stem].setdefault(word, set()).add(form[len(stem) :])
    tables = {
        "made": {k: " ".join(sorted(v)) for k, v in made.items()},
        "noun": {k: ";".join(f"{t}:{','.join(sorted(e))}" for t, e in sorted(v.items())) for k, v in noun_forms.items()},
    }
    lines = [
        "# What a thing is made of, for knowledge.semantics.made_of: table<TAB>key<TAB>value. Source:",
        "# wiki-ru-wordnet 1.0.3 definitions (https://github.com/jamsic/ru-wordnet, MIT licence; Russian Wiktionary,",
        "# CC BY-SA), nouns by pymorphy3. Regenerate with bench/build_noun_kinds.py; do not edit by hand.",
    ]
    for name, table in sorted(tables.items()):
        lines.extend(f"{name}\t{k}\t{v}" for k, v in sorted(table.items(), key=lambda kv: kv[0].encode()))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{args.out}: " + ", ".join(f"{len(t)} {n}" for n, t in tables.items()) + f"; {Path(args.out).stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
