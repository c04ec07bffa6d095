"""Regenerate `knowledge/data/verb_forms.u32.gz`: the Russian word forms that are verb forms, for
`knowledge.semantics.is_verb_form` (issue 13, "V — a verb no item uses is the question's predicate").

Source: the OpenCorpora dictionary shipped as `pymorphy3-dicts-ru` (MIT), read with `pymorphy3` (MIT). Only
this script needs them; the application loads the table it writes (~1.3 MB gzipped, ~2 MB in memory,
where pymorphy3 itself would add ~26 MB to every worker process):

    .venv/bin/pip install --target /tmp/lexlib pymorphy3==2.0.6 pymorphy3-dicts-ru==2.4.417150.4580142
    PYTHONPATH=/tmp/lexlib .venv/bin/python bench/build_verb_forms.py

What is kept: every form of the dictionary tagged VERB (personal and past forms), INFN (infinitive), GRND
(gerund) or PRTS (short participle: «открыт», «записана») whose MOST LIKELY reading, as pymorphy3 ranks
them, is one of those (so «стекла», «мой», «три», «лечу» stay out: their likelier reading is a noun, a
pronoun, a numeral). ё is folded to е, as `knowledge.text.fold` does. A form is stored as the CRC-32 of its
UTF-8 bytes; the sorted values are delta-encoded as little-endian uint32 after one header line. A word
that is no verb form collides with a stored value with probability ~1.3e-4 (535k values in 2^32).
The output is deterministic (sorted, gzip mtime 0); about 2 minutes on one core.
"""

from __future__ import annotations

import array
import gzip
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "knowledge" / "data" / "verb_forms.u32.gz"
VERBAL = {"VERB", "INFN", "GRND", "PRTS"}
HEADER = b"# imperium verb forms v1: crc32(utf-8) of folded forms, sorted, delta-encoded uint32 little-endian\n"


def main() -> int:
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer()
    candidates = {word.replace("ё", "е") for word, tag, *_ in morph.dictionary.iter_known_words() if tag.POS in VERBAL}
    kept = sorted({zlib.crc32(word.encode()) for word in candidates if morph.parse(word)[0].tag.POS in VERBAL})
    deltas = array.array("I", [kept[0]] + [b - a for a, b in zip(kept, kept[1:], strict=False)])
    if sys.byteorder != "little":
        deltas.byteswap()
    OUT.write_bytes(gzip.compress(HEADER + deltas.tobytes(), compresslevel=9, mtime=0))
    print(f"{len(candidates)} verbal forms, {len(kept)} kept hashes -> {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
