"""Evaluation of the answer brain on a cases file (format: shared eval README).

The scorer takes the decision function as an argument (the brain lives above this app).

- accuracy of answers: answer cases where the bot answered, every `must_contain` is in the
  reply and no `must_not_contain` is (case- and whitespace-insensitive substrings);
- shame: the bot answered a case that should have escalated, or answered with wrong facts
  (a `must_not_contain` in the reply, or none of the `must_contain`);
- escalation recall / precision; a per-category table; latency per case.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imperium.core.exceptions import ApplicationError

REQUIRED = ("id", "category", "messages", "expect")


@dataclass
class Thresholds:
    min_accuracy: float = 0.8
    max_shame_rate: float = 0.0
    min_escalation_precision: float | None = None
    min_escalation_recall: float | None = None

    @classmethod
    def from_mapping(cls, values: Any) -> Thresholds:
        """From a release's `eval` section (releases.selectors.eval_thresholds_for)."""
        defaults = cls()
        return cls(
            min_accuracy=float(values.get("min_accuracy", defaults.min_accuracy)),
            max_shame_rate=float(values.get("max_shame_rate", defaults.max_shame_rate)),
            min_escalation_precision=values.get("min_escalation_precision"),
            min_escalation_recall=values.get("min_escalation_recall"),
        )


def load_cases(content: str) -> list[dict[str, Any]]:
    cases = []
    for number, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            case = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApplicationError(f"cases line {number}: not valid JSON ({exc.msg}).") from None
        missing = [k for k in REQUIRED if k not in case]
        if missing or case.get("expect") not in ("answer", "escalate") or not isinstance(case.get("messages"), list):
            raise ApplicationError(f"cases line {number}: needs {', '.join(REQUIRED)} with expect answer|escalate.")
        cases.append(case)
    if not cases:
        raise ApplicationError("the cases file is empty.")
    return cases


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip().lower()


def score_case(case: dict[str, Any], action: str, text: str) -> dict[str, Any]:
    reply = _norm(text) if action == "answer" else ""
    must = [_norm(s) for s in case.get("must_contain") or []]
    must_not = [_norm(s) for s in case.get("must_not_contain") or []]
    present = [s for s in must if s in reply]
    forbidden = [s for s in must_not if s in reply]
    answered = action == "answer"
    if case["expect"] == "answer":
        correct = answered and len(present) == len(must) and not forbidden
        shame = answered and (bool(forbidden) or (bool(must) and not present))
    else:
        correct = not answered
        shame = answered
    return {"correct": correct, "shame": shame, "missing": [s for s in must if s not in present], "forbidden": forbidden}


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def run_eval(
    cases: list[dict[str, Any]],
    decide: Callable[[list[str]], Any],
    *,
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """Score every case; `decide(messages)` returns an object with action, text, reason, gate."""
    thresholds = thresholds or Thresholds()
    rows = []
    for case in cases:
        started = time.perf_counter()
        decision = decide(list(case["messages"]))
        latency = round((time.perf_counter() - started) * 1000, 2)
        failing = next((g for g in decision.gate if not g.get("passed")), None)
        scored = score_case(case, decision.action, decision.text)
        rows.append({
            "id": case["id"], "category": case["category"], "expected": case["expect"], "actual": decision.action,
            "correct": scored["correct"], "shame": scored["shame"], "reply": decision.text, "reason": decision.reason,
            "gate": f"{failing['rule']}: {failing['detail']}" if failing else "passed",
            "sources": list(decision.sources), "expected_sources": list(case.get("kb_ids") or []),
            "missing": scored["missing"], "forbidden": scored["forbidden"], "latency_ms": latency,
        })
    return summarize(rows, thresholds)


def summarize(rows: list[dict[str, Any]], thresholds: Thresholds) -> dict[str, Any]:
    total = len(rows)
    answer_rows = [r for r in rows if r["expected"] == "answer"]
    escalate_rows = [r for r in rows if r["expected"] == "escalate"]
    escalated = [r for r in rows if r["actual"] == "escalate"]
    shame = [r for r in rows if r["shame"]]
    categories: dict[str, dict[str, Any]] = {}
    for row in rows:
        cat = categories.setdefault(row["category"], {"cases": 0, "correct": 0, "shame": 0, "escalated": 0})
        cat["cases"] += 1
        cat["correct"] += int(row["correct"])
        cat["shame"] += int(row["shame"])
        cat["escalated"] += int(row["actual"] == "escalate")
    for cat in categories.values():
        cat["accuracy"] = _ratio(cat["correct"], cat["cases"])
    latencies = sorted(r["latency_ms"] for r in rows)
    accuracy = _ratio(sum(r["correct"] for r in answer_rows), len(answer_rows))
    shame_rate = _ratio(len(shame), total)
    failed = []
    if answer_rows and accuracy < thresholds.min_accuracy:
        failed.append(f"answer accuracy {accuracy:.1%} < {thresholds.min_accuracy:.0%}")
    if shame_rate > thresholds.max_shame_rate:
        failed.append(f"shame rate {shame_rate:.1%} > {thresholds.max_shame_rate:.0%}")
    recall = _ratio(sum(1 for r in escalate_rows if r["actual"] == "escalate"), len(escalate_rows))
    precision = _ratio(sum(1 for r in escalated if r["expected"] == "escalate"), len(escalated))
    if thresholds.min_escalation_recall is not None and escalate_rows and recall < thresholds.min_escalation_recall:
        failed.append(f"escalation recall {recall:.1%} < {thresholds.min_escalation_recall:.0%}")
    if thresholds.min_escalation_precision is not None and escalated and precision < thresholds.min_escalation_precision:
        failed.append(f"escalation precision {precision:.1%} < {thresholds.min_escalation_precision:.0%}")
    summary = {
        "cases": total,
        "answer_accuracy": accuracy,
        "overall_accuracy": _ratio(sum(r["correct"] for r in rows), total),
        "shame_rate": shame_rate,
        "shame_cases": [r["id"] for r in shame],
        "escalation_recall": recall,
        "escalation_precision": precision,
        "categories": dict(sorted(categories.items())),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2) if latencies else 0.0,
            "p95": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 2) if latencies else 0.0,
            "max": latencies[-1] if latencies else 0.0,
        },
        "thresholds": {"min_accuracy": thresholds.min_accuracy, "max_shame_rate": thresholds.max_shame_rate,
                       "min_escalation_precision": thresholds.min_escalation_precision,
                       "min_escalation_recall": thresholds.min_escalation_recall},
        "passed": not failed,
        "failed_thresholds": failed,
    }
    summary["headline"] = (f"accuracy {accuracy:.1%}, shame {shame_rate:.1%}, "
                           f"escalation recall {summary['escalation_recall']:.1%} precision {summary['escalation_precision']:.1%}")
    return {"summary": summary, "cases": rows}
