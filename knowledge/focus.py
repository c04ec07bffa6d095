"""Answer the fact asked: when the chosen item is a list (prices of several variants, two branches'
hours) and the question names one entry of it, the reply carries that entry instead of the whole list.

"химчистка потолка сколько?" is answered "Химчистка отдельных элементов: потолок — 15 000 ₸", not with
the six prices of the item. Only the list sentence shrinks: the item's other sentences (conditions such
as "только на Рыскулова", durations) stay, so nothing the customer should know is dropped. The entry is
chosen only when it is the one entry of its list that carries every word the question adds to the item's
own question, in the entry's name ("NAME — price": a value such as "бесплатно" names no entry), and
only in lists whose every entry is "NAME — value" stating what is asked (a price list, branches'
hours; prose joined by ";" is complementary facts, never cut); a question naming no entry, or two,
gets the whole item as before.

Pure Python over a `KBSnapshot`, no Django; a few set look-ups per chosen item.
"""

from __future__ import annotations

import re

from knowledge import matching as M
from knowledge import text as T

_HEADING = re.compile(r"^([^:;]{1,80}):(?!\d)\s*(.+)$", re.DOTALL)  # not the colon of "08:00"


_DASH = re.compile(r"\s[—–-]\s")


def _pieces(body: str) -> list[str]:
    """A list sentence's entries: ";"-separated, or ","-separated when each states a fact of its own
    ("короткие — 8 000 ₸, средние — 10 000 ₸"). Separators inside brackets do not split."""
    for separator in (";", ","):
        parts, depth, start = [], 0, 0
        for index, char in enumerate(body):
            if char in "(«[":
                depth += 1
            elif char in ")»]" and depth:
                depth -= 1
            elif char == separator and depth == 0:
                parts.append(body[start:index])
                start = index + 1
        parts.append(body[start:])
        parts = [p.strip() for p in parts if p.strip()]
        if len(parts) >= 2 and (separator == ";" or all(T.aspects_stated(p) for p in parts)):
            return parts
    return []


def focused_answer(snapshot: M.KBSnapshot, item_id: str, segment: M.Segment) -> str | None:
    """The item's answer with its list sentence reduced to the entry the question names, or None to
    answer the whole item."""
    feats = snapshot.features[item_id]
    variant = [t for t in segment.content if not snapshot._covered(t, feats.question_keys) and not T.is_generic(t.text)]
    numbers = segment.numbers - T.numbers_in(" ".join([feats.doc.question, *feats.doc.alt_questions]))
    if not variant and not numbers:
        return None
    sentences = T.sentences(feats.doc.answer)
    out: list[str | None] = []  # None: another list of the item (its siblings' prices), left out once an entry is named
    shrunk = False
    for sentence in sentences:
        heading_match = _HEADING.match(sentence)
        heading, body = (heading_match.group(1).strip(), heading_match.group(2)) if heading_match else ("", sentence)
        entries = _pieces(body.rstrip(" ."))
        if len(entries) < 2:
            out.append(sentence)
            continue
        if not segment.aspects or not all(_DASH.search(e) and segment.aspects <= T.aspects_stated(e) for e in entries):
            out.append(sentence)  # not a list of variants each stating what is asked ("NAME — price")
            continue
        heading_keys = T.key_set(heading)
        names = {entry: _DASH.split(entry, maxsplit=1)[0] for entry in entries}
        named = [
            entry for entry in entries
            if all(snapshot._covered(t, T.key_set(names[entry]) | heading_keys) for t in variant)
            and numbers <= T.numbers_in(f"{heading} {names[entry]}")
            and (any(snapshot._covered(t, T.key_set(names[entry])) for t in variant) or numbers & T.numbers_in(names[entry]))
        ]
        if named and shrunk:
            return None  # two lists name the variant: answer the whole item
        if len(named) != 1:
            if named:
                return None  # two entries of the list name it
            out.append(None)
            continue
        entry = named[0]
        if T.aspects_stated(body) - T.aspects_stated(f"{heading} {entry}") & segment.aspects:
            return None  # the entry lacks what is asked (the price is elsewhere in the list)
        out.append(f"{heading}: {entry}." if heading else f"{entry[:1].upper()}{entry[1:]}.")
        shrunk = True
    if not shrunk:
        return None
    text = " ".join(s for s in out if s)
    if segment.aspects - T.aspects_stated(text) != segment.aspects - feats.aspects:
        return None  # never drop an asked fact the item states
    return text
