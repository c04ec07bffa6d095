"""Which words the qualifier veto could tolerate: a study over the DEVELOPMENT sets, with leave-one-business-out.

    .venv/bin/python bench/qualifier_study.py collect [--set NAME ...] [--out FILE]      # ~1.5 min, nine dev sets
    .venv/bin/python bench/qualifier_study.py analyze [--in FILE] [--literals 2] [--criterion worst|net|spread]
    .venv/bin/python bench/qualifier_study.py dump [--in FILE] [--which gain|unsafe|all]   # the changed cases, per word
    .venv/bin/python bench/qualifier_study.py collect --rule "pos=verb & no_siblings" --out FILE   # a real run of a rule

`collect` runs every case of each development set through `decide_reply` twice, on a fresh throw-away SQLite database
as `bench/eval_all.py` does (`onboard_tenant --kb`, the tenant's release, default offline backends):
- as the brain is (the baseline);
- with the qualifier veto waived: a segment no item answers takes its NEAREST item (the one the `qualifier` rule
  names) when that item's only failure is uncovered words, every one of which the waiver lets it leave out
  (`knowledge.matching.WAIVER`, tried by `knowledge.retrieval.retrieve` on that item only, after every other reading).
  A segment some item answers is never touched, so a waiver can turn an escalation into an answer, nothing else.
  What the bot would then have said is scored like `kb_eval` (correct / shameful), plus "wrong item": an answer case
  answered from items none of which is one of its `kb_ids`. Unsafe = shameful or wrong item.
For each word the nearest item was let leave out, it records features of the word against the item and the
knowledge: part of speech by the application's own tables (`semantics.is_verb_form`, `is_noun_form`, an adjective's
ending; no pymorphy3 at run time), whether any item uses it (`known`), whether an item's own question does
(`question_vocab`), how many items use it, its IDF, Latin, after a preposition, beside a covered word (a modifier of
what the item names), how many OTHER items cover every word the nearest one covers (`siblings`), the share of the
question's weight left uncovered, the nearest item's score over the next candidate's (`margin`), whether an aspect
(price, duration, …) is asked, its position.

`analyze` prints what waiving everything would gain and cost per set, a per-literal table (cases whose every waived
word satisfies the literal: gains vs unsafe), searches every conjunction of up to `--literals` literals, and runs
leave-one-business-out: on each fold, among the rules with no unsafe waiver on the eight training sets, the best by
`--criterion` (`worst`: worst-business accuracy, then net gain, then fewer literals — the issue's protocol; `net`: net
gain; `spread`: sets gained), scored on the held-out set. A case counts for a rule when every word its nearest item
left out satisfies the rule; with the waiver tried on the nearest item only this is exact (checked: `--rule` runs
agree case for case). An earlier version waived words on every candidate item: that is not what a rule does (a
partial waiver then makes other items valid and outrank the right one), and the per-case estimate missed 7 unsafe
answers of the real run — see docs/EVAL.md, "QW".

FROZEN sets are refused: never collected, never printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_all import EVAL_DIR, FROZEN, _setup, sets  # noqa: E402

DEFAULT_OUT = Path("/tmp/qualifier_study.json")


# --- collect -------------------------------------------------------------------------------------------------------

def _word_features(snapshot, token, segment, feats, in_question, rest, uncovered, margin=9.0) -> dict:
    from knowledge import matching as M
    from knowledge import semantics
    from knowledge import text as T

    word = token.text
    words = T.words(T.normalize(segment.text))
    at = words.index(word) if word in words else -1
    prev = words[at - 1] if at > 0 else ""
    nxt = words[at + 1] if 0 <= at < len(words) - 1 else ""
    covered_texts = {t.text for t in in_question + rest}
    covered = in_question + rest
    siblings = sum(1 for other_id, other in snapshot.features.items() if other_id != feats.doc.external_id
                   and all(snapshot._covered(t, other.all_keys) for t in covered))
    word_items = sum(1 for other in snapshot.features.values() if snapshot._covered(token, other.all_keys))
    is_verb = semantics.is_verb_form(word)
    is_noun = semantics.is_noun_form(word)
    adj_shape = bool(M._NOT_A_NOUN.search(word))
    if word.isascii():
        pos = "latin"
    elif is_verb and not is_noun:
        pos = "verb"
    elif is_noun and not is_verb:
        pos = "noun"
    elif adj_shape:
        pos = "adj"
    else:
        pos = "other"
    total = sum(t.weight for t in segment.content) or 1.0
    return {
        "word": word, "pos": pos, "is_verb": is_verb, "is_noun": is_noun, "adj_shape": adj_shape,
        "in_table": semantics.reading(word) is not None, "latin": word.isascii(), "digit": any(c.isdigit() for c in word),
        "known": token.known, "question_vocab": snapshot._covered(token, snapshot._question_vocabulary),
        "word_items": word_items, "idf": round(token.weight / snapshot.unknown_weight, 3),
        "generic": T.is_generic(word), "after_prep": prev in M._PLACE_PREPOSITIONS,
        "next_covered": nxt in covered_texts, "prev_covered": prev in covered_texts,
        "first": at == 0, "last": at == len(words) - 1, "n_words": len(words),
        "n_covered": len(covered), "n_in_question": len(in_question), "n_uncovered": len(uncovered),
        "uncovered_share": round(sum(t.weight for t in segment.content if t.text in uncovered) / total, 3),
        "siblings": siblings, "aspects": sorted(segment.aspects), "latin_segment": segment.latin,
        "item_question": feats.doc.question, "learned": "learned" in feats.doc.tags, "margin": margin,
    }


def collect(names: list[str], out: Path, rule: tuple[str, ...] = ()) -> None:
    """`rule`: instead of waiving every uncovered word, waive only the words satisfying every literal of `rule` (a
    real run of the rule inside the matcher, `verify`); literals needing the ranking (margin, single_valid) cannot be
    evaluated there."""
    _setup()
    from django.core.management import call_command

    from conversations.answering import brain
    from knowledge import matching as M
    from knowledge.evaluation import load_cases, score_case
    from knowledge.selectors import kb_version_default
    from releases.selectors import release_for_tenant
    from tenants.selectors import client_get_by_slug

    recorded: dict[tuple, dict] = {}

    def waive_all(snapshot, token, segment, feats, in_question, rest, uncovered, margin=9.0):
        key = (segment.text, feats.doc.external_id, token.text)
        args = (snapshot, token, segment, feats, list(in_question), list(rest), list(uncovered), margin)
        recorded[key] = args
        if rule:
            return all(literals[lit](_word_features(*args)) for lit in rule)
        return True

    literals = _literals([])

    captured: list = []
    original_retrieve = brain.retrieve

    def capturing(*args, **kwargs):
        result = original_retrieve(*args, **kwargs)
        captured.append(result)
        return result

    brain.retrieve = capturing
    rows = []
    for name in names:
        if name in FROZEN:
            raise SystemExit(f"{name} is a frozen set: never studied")
        slug = f"study-{name}"
        call_command("onboard_tenant", "--slug", slug, "--name", name, "--kb", str(EVAL_DIR / name / "kb.jsonl"), stdout=StringIO())
        tenant = client_get_by_slug(slug)
        version = kb_version_default(tenant)
        release = release_for_tenant(tenant)
        cases = load_cases((EVAL_DIR / name / "cases.jsonl").read_text(encoding="utf-8"))
        for case in cases:
            outcome = {}
            for mode in ("base", "waive"):
                M.WAIVER = waive_all if mode == "waive" else None
                recorded.clear()
                captured.clear()
                decision = brain.decide_reply(tenant, None, list(case["messages"]), kb_version=version, release=release)
                scored = score_case(case, decision.action, decision.text)
                failing = next((g for g in decision.gate if not g.get("passed")), None)
                kb_ids = set(case.get("kb_ids") or [])
                answered = decision.action == "answer"
                entry = {
                    "action": decision.action, "correct": scored["correct"], "shame": scored["shame"],
                    "wrong_item": bool(answered and case["expect"] == "answer" and kb_ids and not kb_ids & set(decision.sources)),
                    "rule": failing["rule"] if failing else "passed", "detail": failing["detail"][:200] if failing else "",
                    "reply": decision.text[:240], "sources": list(decision.sources),
                }
                if mode == "waive":
                    words = []
                    retrieval = captured[-1] if captured else None
                    for segment in retrieval.segments if retrieval is not None else []:
                        for match in segment.variants or ([segment.chosen] if segment.chosen else []):
                            for word in match.waived:
                                args = recorded.get((segment.text, match.external_id, word))
                                features = _word_features(*args) if args else {"word": word}
                                features.update({"item": match.external_id, "segment": segment.text})
                                words.append(features)
                    entry["words"] = words
                outcome[mode] = entry
            M.WAIVER = None
            rows.append({"set": name, "id": case["id"], "category": case["category"], "expect": case["expect"],
                         "messages": case["messages"], **outcome})
        print(f"{name}: {len(cases)} cases", file=sys.stderr)
    brain.retrieve = original_retrieve
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"wrote {out} ({len(rows)} cases)", file=sys.stderr)


# --- analyze -------------------------------------------------------------------------------------------------------

def _unsafe(entry: dict) -> bool:
    return bool(entry["shame"] or entry["wrong_item"])


def _literals(words: list[dict]) -> dict[str, callable]:
    """Boolean tests of one waived word (and its negations), never keyed to a word or a set."""
    tests = {
        "pos=verb": lambda w: w.get("pos") == "verb",
        "pos=noun": lambda w: w.get("pos") == "noun",
        "pos=adj": lambda w: w.get("pos") == "adj",
        "pos=other": lambda w: w.get("pos") == "other",
        "latin": lambda w: bool(w.get("latin")),
        "in_table": lambda w: bool(w.get("in_table")),
        "known": lambda w: bool(w.get("known")),
        "question_vocab": lambda w: bool(w.get("question_vocab")),
        "after_prep": lambda w: bool(w.get("after_prep")),
        "next_covered": lambda w: bool(w.get("next_covered")),
        "prev_covered": lambda w: bool(w.get("prev_covered")),
        "beside_covered": lambda w: bool(w.get("next_covered") or w.get("prev_covered")),
        "in_question": lambda w: w.get("n_in_question", 0) > 0,
        "one_uncovered": lambda w: w.get("n_uncovered", 9) == 1,
        "covered>=2": lambda w: w.get("n_covered", 0) >= 2,
        "no_siblings": lambda w: w.get("siblings", 9) == 0,
        "siblings<=1": lambda w: w.get("siblings", 9) <= 1,
        "unc_share<0.34": lambda w: w.get("uncovered_share", 1) < 0.34,
        "unc_share<0.5": lambda w: w.get("uncovered_share", 1) < 0.5,
        "margin>=1.2": lambda w: w.get("margin", 0) >= 1.2,
        "margin>=1.5": lambda w: w.get("margin", 0) >= 1.5,
        "margin>=2": lambda w: w.get("margin", 0) >= 2,
        "aspect_asked": lambda w: bool(w.get("aspects")),
        "generic": lambda w: bool(w.get("generic")),
        "last": lambda w: bool(w.get("last")),
        "first": lambda w: bool(w.get("first")),
        "word_items=0": lambda w: w.get("word_items", 9) == 0,
    }
    out = {}
    for name, test in tests.items():
        out[name] = test
        out[f"!{name}"] = (lambda t: lambda w: not t(w))(test)
    return out


def _admitted(row: dict, rule: tuple[str, ...], literals: dict) -> bool:
    words = row["waive"].get("words") or []
    return bool(words) and all(all(literals[lit](w) for lit in rule) for w in words)


def _ok(entry: dict) -> bool:
    return bool(entry["correct"] and not entry["wrong_item"])


class _Study:
    """The cases a waiver changes, each with its effect; a rule's effect is a sum over the cases it admits. A case is
    admitted by a conjunction when every waived word satisfies every literal, i.e. the intersection of the cases each
    literal admits on its own."""

    def __init__(self, rows: list[dict], literals: dict) -> None:
        self.names = sorted({r["set"] for r in rows})
        self.faq = Counter(r["set"] for r in rows if r["expect"] == "answer")
        self.base = Counter(r["set"] for r in rows if r["expect"] == "answer" and _ok(r["base"]))
        self.changed = [r for r in rows if r["waive"].get("words") and (
            r["waive"]["action"] != r["base"]["action"] or r["waive"]["sources"] != r["base"]["sources"])]
        self.delta = []
        for r in self.changed:
            answer = r["expect"] == "answer"
            self.delta.append((r["set"], int(answer and _ok(r["waive"]) and not _ok(r["base"])),
                               int(answer and _ok(r["base"]) and not _ok(r["waive"])),
                               int(_unsafe(r["waive"]) and not _unsafe(r["base"])), int(r["waive"]["shame"] and not r["base"]["shame"])))
        self.admits = {lit: frozenset(i for i, r in enumerate(self.changed) if _admitted(r, (lit,), literals)) for lit in literals}

    def cases(self, rule: tuple[str, ...]) -> frozenset[int]:
        found = frozenset(range(len(self.changed)))
        for lit in rule:
            found &= self.admits[lit]
        return found

    def effect(self, rule: tuple[str, ...] | None) -> dict[str, dict]:
        result = {n: {"faq": self.faq[n], "correct": self.base[n], "gain": 0, "loss": 0, "unsafe": 0, "shame": 0} for n in self.names}
        for i in self.cases(rule) if rule is not None else ():
            name, gain, loss, unsafe, shame = self.delta[i]
            stats = result[name]
            stats["gain"] += gain
            stats["loss"] += loss
            stats["correct"] += gain - loss
            stats["unsafe"] += unsafe
            stats["shame"] += shame
        return result


def _worst(effect: dict[str, dict], names: list[str]) -> float:
    return min(effect[n]["correct"] / effect[n]["faq"] for n in names if effect[n]["faq"])


def analyze(path: Path, max_literals: int, criterion: str = "worst", require: str = "") -> None:
    rows = json.loads(path.read_text(encoding="utf-8"))
    literals = _literals([])
    study = _Study(rows, literals)
    names = study.names
    print(f"{len(rows)} cases over {len(names)} development sets; {len(study.changed)} change when every uncovered word is waived\n")
    everything = study.effect(())
    print("| set | faq | baseline correct | waive-all gains | waive-all unsafe (of which shame) | losses |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        e = everything[name]
        print(f"| {name} | {e['faq']} | {study.base[name]} | {e['gain']} | {e['unsafe']} ({e['shame']}) | {e['loss']} |")
    print("\nPer literal: cases whose every waived word satisfies it — gains / unsafe, and in how many sets")
    print("| literal | gains | unsafe | gain sets | unsafe sets |")
    print("| --- | --- | --- | --- | --- |")
    for lit in literals:
        if lit.startswith("!"):
            continue
        e = study.effect((lit,))
        print(f"| {lit} | {sum(x['gain'] for x in e.values())} | {sum(x['unsafe'] for x in e.values())} | "
              f"{sum(1 for x in e.values() if x['gain'])} | {sum(1 for x in e.values() if x['unsafe'])} |")
    gains = [r for r, d in zip(study.changed, study.delta, strict=True) if d[1]]
    unsafe = [r for r, d in zip(study.changed, study.delta, strict=True) if d[3]]
    pos_counts = Counter((w.get("pos"), "gain") for r in gains for w in r["waive"]["words"]) + Counter(
        (w.get("pos"), "unsafe") for r in unsafe for w in r["waive"]["words"])
    print("\nwaived words by part of speech:", dict(sorted(pos_counts.items())))

    rules = []
    for size in range(1, max_literals + 1):
        for rule in itertools.combinations(literals, size):
            if len({lit.lstrip("!") for lit in rule}) == len(rule):
                rules.append(rule)
    if require:
        rules = [rule for rule in rules if require in rule]
    effects = {rule: study.effect(rule) for rule in rules}
    print(f"\n{len(effects)} rules of at most {max_literals} literals searched")
    base_effect = study.effect(None)

    def pick(train: list[str]) -> tuple[tuple[str, ...], float, int]:
        best = None
        for rule, eff in effects.items():
            if any(eff[n]["unsafe"] for n in train):
                continue
            gain = sum(eff[n]["gain"] - eff[n]["loss"] for n in train)
            if gain <= 0:
                continue
            spread = sum(1 for n in train if eff[n]["gain"])
            key = {"worst": (_worst(eff, train), gain, -len(rule)), "net": (gain, -len(rule)),
                   "spread": (spread, gain, -len(rule))}[criterion]
            if best is None or key > best[0]:
                best = (key, rule)
        if best is None:
            return (), _worst(base_effect, train), 0
        return best[1], _worst(effects[best[1]], train), sum(effects[best[1]][n]["gain"] - effects[best[1]][n]["loss"] for n in train)

    print(f"\nLeave-one-business-out (train on 8: no unsafe waiver, then the best by {criterion!r}"
          f"{', rules with ' + require if require else ''}; score the held-out set)")
    print("| held out | rule chosen on the other 8 | train worst | train net gain | held-out baseline | held-out with rule | "
          "gain | loss | unsafe (shame) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    held_unsafe = 0
    for held in names:
        train = [n for n in names if n != held]
        rule, worst, gain = pick(train)
        eff = effects.get(rule) if rule else base_effect
        h = eff[held]
        held_unsafe += h["unsafe"]
        print(f"| {held} | {' & '.join(rule) or '(none)'} | {worst:.1%} | {gain} | {study.base[held]}/{h['faq']} | "
              f"{h['correct']}/{h['faq']} | {h['gain']} | {h['loss']} | {h['unsafe']} ({h['shame']}) |")
    print(f"\nheld-out unsafe waivers over all folds: {held_unsafe}")
    rule, worst, gain = pick(names)
    print(f"\nrule chosen on all nine: {' & '.join(rule) or '(none)'}; worst {worst:.1%}; net gain {gain}")
    if rule:
        eff = effects[rule]
        for name in names:
            print(f"  {name}: {study.base[name]} → {eff[name]['correct']} / {eff[name]['faq']} "
                  f"(+{eff[name]['gain']} −{eff[name]['loss']}, unsafe {eff[name]['unsafe']})")
    ranked = sorted(((sum(e[n]["gain"] - e[n]["loss"] for n in names), sum(e[n]["unsafe"] for n in names), r)
                     for r, e in effects.items()), key=lambda x: (x[1], -x[0], len(x[2])))
    print("\nrules with no unsafe waiver on any dev set, by net gain (top 15):")
    for net, _bad, rule in [x for x in ranked if x[1] == 0][:15]:
        print(f"  {net:+d} on {sum(1 for n in names if effects[rule][n]['gain'])} sets: {' & '.join(rule)}")
    print("\nbest net gain at each number of unsafe waivers (the trade-off):")
    for bad in range(0, 11):
        at = [x for x in ranked if x[1] == bad]
        if at:
            net, _bad, rule = max(at, key=lambda x: (x[0], -len(x[2])))
            print(f"  unsafe {bad}: {net:+d} ({' & '.join(rule)})")


def dump(path: Path, which: str) -> None:
    rows = json.loads(path.read_text(encoding="utf-8"))
    for r in rows:
        w = r["waive"]
        if not w.get("words") or (w["action"] == r["base"]["action"] and w["sources"] == r["base"]["sources"]):
            continue
        ok = r["expect"] == "answer" and w["correct"] and not w["wrong_item"]
        bad = _unsafe(w) and not _unsafe(r["base"])
        if which == "gain" and not ok or which == "unsafe" and not bad:
            continue
        print(f"{r['set']} {r['id']} {r['category']} {'GAIN' if ok else 'UNSAFE' if bad else 'other'} {r['messages']}")
        print(f"   base {r['base']['action']}/{r['base']['rule']}; waive → {w['sources']} {w['reply'][:120]!r}")
        for word in w["words"]:
            print("   ", {k: word.get(k) for k in ("word", "pos", "known", "question_vocab", "after_prep", "next_covered",
                                                   "prev_covered", "n_covered", "n_in_question", "n_uncovered", "siblings",
                                                   "margin", "idf", "item")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--set", action="append")
    c.add_argument("--out", type=Path, default=DEFAULT_OUT)
    c.add_argument("--rule", default="", help="waive only words satisfying these literals (joined by &): a real run")
    a = sub.add_parser("analyze")
    a.add_argument("--in", dest="path", type=Path, default=DEFAULT_OUT)
    a.add_argument("--literals", type=int, default=2)
    a.add_argument("--criterion", choices=("worst", "net", "spread"), default="worst",
                   help="how a fold chooses among the rules safe on its eight sets: worst-business accuracy (default), "
                        "net gain, or the number of sets gained")
    a.add_argument("--require", default="", help="only rules with this literal (e.g. pos=verb)")
    d = sub.add_parser("dump")
    d.add_argument("--in", dest="path", type=Path, default=DEFAULT_OUT)
    d.add_argument("--which", choices=("gain", "unsafe", "all"), default="all")
    args = parser.parse_args()
    if args.command == "collect":
        rule = tuple(lit.strip() for lit in args.rule.split("&") if lit.strip())
        collect([n for n in (args.set or sets()) if n not in FROZEN], args.out, rule)
    elif args.command == "analyze":
        analyze(args.path, args.literals, args.criterion, args.require)
    else:
        dump(args.path, args.which)


if __name__ == "__main__":
    main()
