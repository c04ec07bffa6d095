"""Every evaluation set in one go: `onboard_tenant --kb` + `kb_eval --json` per set, on a fresh
throw-away SQLite database (temporary VAR_DIR), default offline backends. Prints one table.

    .venv/bin/python bench/eval_all.py [--set NAME ...] [--json] [--misses] [--forms]

- Sets: every folder of `knowledge/fixtures/eval/` with a `kb.jsonl` and a `cases.jsonl`.
- FROZEN sets (issue 13's generalisation protocol) are only measured: for them this script prints
  the aggregate numbers and never their cases, misses or shameful case ids, so nobody designs a rule
  from them by accident. `--misses` lists the misses of the other (development) sets.
- `--forms` adds, per set (frozen ones too: counts only), faq accuracy by the form of the question: Kazakh,
  English, Latin-script Russian, a burst of several messages, plain Russian (`form_of`).
- The exit code is 1 when any set has a shameful answer or an escalation recall below 100 %.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVAL_DIR = ROOT / "knowledge" / "fixtures" / "eval"
FROZEN = frozenset({"pulse-fit", "vetdrug"})


def _setup() -> None:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="imperium-eval-")
    os.environ.pop("DATABASE_URL", None)  # a fresh SQLite database under VAR_DIR
    os.environ["DJANGO_SETTINGS_MODULE"] = "imperium.settings"
    os.environ.setdefault("LOG_LEVEL", "error")
    os.environ.setdefault("KNOWLEDGE_INDEX", "memory")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _override_thresholds(values: dict[str, str]) -> None:
    """What a release's `answering.thresholds` would set, applied to every turn of this run."""
    from conversations.answering import brain

    original = brain.effective_config

    def patched(release=None):
        config = original(release)
        for name, value in values.items():
            config["thresholds"][name] = type(config["thresholds"][name])(float(value))
        return config

    brain.effective_config = patched


def sets() -> list[str]:
    return sorted(p.name for p in EVAL_DIR.iterdir() if (p / "kb.jsonl").is_file() and (p / "cases.jsonl").is_file())


def evaluate(name: str) -> dict:
    from django.core.management import call_command

    slug = f"eval-{name}"
    call_command("onboard_tenant", "--slug", slug, "--name", name, "--kb", str(EVAL_DIR / name / "kb.jsonl"), stdout=StringIO())
    out = StringIO()
    try:
        call_command("kb_eval", "--tenant", slug, "--cases", str(EVAL_DIR / name / "cases.jsonl"), "--json",
                     "--min-accuracy", "0", stdout=out)
    except SystemExit:
        pass
    return json.loads(out.getvalue())


def row(name: str, result: dict) -> dict:
    summary, cases = result["summary"], result["cases"]
    faq = [c for c in cases if c["expected"] == "answer"]
    return {
        "set": name, "role": "frozen" if name in FROZEN else "dev", "cases": len(cases),
        "faq_correct": sum(c["correct"] for c in faq), "faq_total": len(faq), "faq_accuracy": summary["answer_accuracy"],
        "shame": sum(c["shame"] for c in cases), "escalation_recall": summary["escalation_recall"],
        "escalation_precision": summary["escalation_precision"], "latency_p95_ms": summary["latency_ms"]["p95"],
        # Aggregate only (safe for frozen sets): why the missed answers were missed, by gate rule.
        "faq_miss_rules": dict(Counter(c["gate"].split(":")[0] if c["actual"] == "escalate" else "answered wrong"
                                       for c in faq if not c["correct"]).most_common()),
    }


def form_of(messages: list[str]) -> str:
    """The form of a customer's question, for the aggregate `--forms` table (the first that applies)."""
    from knowledge import english, kazakh
    from knowledge import text as T

    lowered = " ".join(messages).lower()
    if kazakh.looks_kazakh(lowered):
        return "kazakh"
    if english.looks_english(lowered):
        return "english"
    if any(T.latin_guessed(m) for m in messages):
        return "latin"
    return "burst" if len(messages) > 1 else "plain"


FORMS = ("plain", "burst", "latin", "kazakh", "english")


def forms(name: str, result: dict) -> dict[str, tuple[int, int]]:
    """faq answered correctly / asked, by form (counts only, so frozen sets may be shown too)."""
    messages = {json.loads(line)["id"]: json.loads(line)["messages"]
                for line in (EVAL_DIR / name / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    found: dict[str, list[int]] = {form: [0, 0] for form in FORMS}
    for case in result["cases"]:
        if case["expected"] == "answer":
            counts = found[form_of(messages[case["id"]])]
            counts[0] += int(case["correct"])
            counts[1] += 1
    return {form: (ok, total) for form, (ok, total) in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", help="only these sets (default: all)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the misses of the development sets (never of frozen ones)")
    parser.add_argument("--forms", action="store_true", help="faq accuracy by the form of the question (counts only)")
    parser.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                        help="override an answering threshold for this run (e.g. min_confidence=0.35), for calibration")
    args = parser.parse_args()
    _setup()
    if args.threshold:
        _override_thresholds(dict(item.split("=", 1) for item in args.threshold))
    names = args.set or sets()
    rows, misses = [], {}
    for name in names:
        result = evaluate(name)
        rows.append(row(name, result))
        if args.forms:
            rows[-1]["forms"] = forms(name, result)
        if args.misses and name not in FROZEN:
            misses[name] = [
                {k: c[k] for k in ("id", "category", "expected", "actual", "reason", "gate", "reply", "missing", "forbidden", "shame")}
                for c in result["cases"] if not c["correct"]
            ]
    failing = any(r["shame"] or r["escalation_recall"] < 1.0 for r in rows)
    if args.json:
        print(json.dumps({"sets": rows, "misses": misses}, ensure_ascii=False, indent=1))
    else:
        print("| set | role | faq accuracy | shameful answers | escalation recall | escalation precision |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['set']} | {r['role']} | {r['faq_accuracy']:.1%} ({r['faq_correct']}/{r['faq_total']}) | {r['shame']} | "
                  f"{r['escalation_recall']:.1%} | {r['escalation_precision']:.1%} |")
        if args.forms:
            print("\n| set | " + " | ".join(FORMS) + " |")
            print("| --- |" + " --- |" * len(FORMS))
            for r in rows:
                print(f"| {r['set']} | " + " | ".join(f"{ok}/{total}" for ok, total in (r["forms"][f] for f in FORMS)) + " |")
            totals = [tuple(sum(r["forms"][f][i] for r in rows if r["role"] == role) for i in (0, 1)) for role in ("dev", "frozen")
                      for f in FORMS]
            print("| all dev | " + " | ".join(f"{ok}/{total}" for ok, total in totals[: len(FORMS)]) + " |")
            print("| all frozen | " + " | ".join(f"{ok}/{total}" for ok, total in totals[len(FORMS):]) + " |")
        print("\nfaq misses by gate rule: " + "; ".join(f"{r['set']} {r['faq_miss_rules']}" for r in rows))
        dev = [r for r in rows if r["role"] == "dev"]
        if dev:
            worst = min(dev, key=lambda r: r["faq_accuracy"])
            print(f"\nworst development set: {worst['set']} {worst['faq_accuracy']:.1%}")
        for name, items in misses.items():
            print(f"\n## misses: {name}")
            for c in items:
                mark = "SHAME " if c["shame"] else ""
                answered = (f" | reply: {c['reply'][:100]!r} missing {c['missing']} forbidden {c['forbidden']}"
                            if c["actual"] == "answer" else "")
                print(f"- {mark}{c['id']} [{c['category']}] {c['expected']}→{c['actual']} {c['reason']}: {c['gate'][:160]}{answered}")
    sys.exit(1 if failing else 0)


if __name__ == "__main__":
    main()
