"""kb_eval --tenant S --cases FILE [--kb-version N] [--json] → accuracy, shame rate,
escalation precision/recall, per-category table; exit 1 below the release thresholds.

Contract: docs/CONTRACTS.md "Command line".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from knowledge.evaluation import Thresholds, load_cases, run_eval
from knowledge.selectors import kb_version_default, kb_version_get
from tenants.selectors import client_get_by_slug


def release_thresholds(tenant: Any) -> Thresholds:
    """The release thresholds: the `eval` section of the stable release (what promotion needs)."""
    from releases.selectors import eval_thresholds_for

    return Thresholds.from_mapping(eval_thresholds_for(tenant))


class Command(BaseCommand):
    help = "Score the answer brain on a cases file; exit 1 below the release thresholds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--cases", required=True, help="JSONL cases file (shared eval format)")
        parser.add_argument("--kb-version", type=int, default=None)
        parser.add_argument("--json", action="store_true", help="print the summary and every case as JSON")
        parser.add_argument("--min-accuracy", type=float, default=None, help="override the release's eval.min_accuracy")
        parser.add_argument("--max-shame", type=float, default=None, help="override the release's eval.max_shame_rate")
        parser.add_argument("--save-cases", action="store_true",
                            help="store these cases as the tenant's evaluation set (promotion then requires a passing run)")
        parser.add_argument("--record", action="store_true", help="record the run on the KB version (used by kb_promote)")

    def handle(self, *args: Any, **options: Any) -> None:
        from conversations.answering.brain import decide_reply
        from knowledge.services import kb_eval_run_record, kb_eval_set_save

        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        version = kb_version_get(tenant, options["kb_version"]) if options["kb_version"] is not None else kb_version_default(tenant)
        if version is None:
            raise CommandError(f"{tenant.slug} has no KB version{' ' + str(options['kb_version']) if options['kb_version'] else ''}.")
        try:
            cases = load_cases(Path(options["cases"]).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {options['cases']}: {exc}") from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        thresholds = release_thresholds(tenant)
        if options["min_accuracy"] is not None:
            thresholds.min_accuracy = options["min_accuracy"]
        if options["max_shame"] is not None:
            thresholds.max_shame_rate = options["max_shame"]
        from releases.selectors import release_for_tenant

        release = release_for_tenant(tenant)
        result = run_eval(cases, lambda messages: decide_reply(tenant, None, messages, kb_version=version, release=release),
                          thresholds=thresholds)
        summary = {"tenant": tenant.slug, "kb_version": version.number, "release": release.version, **result["summary"]}
        if options["save_cases"]:
            kb_eval_set_save(actor=Actor.system("kb_eval"), tenant=tenant, cases=cases)
        if options["record"] or options["save_cases"]:
            kb_eval_run_record(version=version, summary=summary, passed=summary["passed"])
        if options["json"]:
            self.stdout.write(json.dumps({"summary": summary, "cases": result["cases"]}, ensure_ascii=False, indent=1))
        else:
            self._table(summary, result["cases"], int(options["verbosity"]))
        if not summary["passed"]:
            sys.exit(1)

    def _table(self, summary: dict[str, Any], rows: list[dict[str, Any]], verbosity: int = 1) -> None:
        w = self.stdout.write
        w(f"{summary['tenant']} KB v{summary['kb_version']}: {summary['cases']} cases")
        w(f"  answer accuracy      {summary['answer_accuracy']:.1%}")
        w(f"  shame rate           {summary['shame_rate']:.1%}  {summary['shame_cases'] or ''}")
        w(f"  escalation recall    {summary['escalation_recall']:.1%}")
        w(f"  escalation precision {summary['escalation_precision']:.1%}")
        latency = summary["latency_ms"]
        w(f"  latency ms           p50 {latency['p50']}  p95 {latency['p95']}  max {latency['max']}")
        w(f"  {'category':<12} {'cases':>5} {'correct':>7} {'accuracy':>8} {'shame':>5}")
        for name, cat in summary["categories"].items():
            w(f"  {name:<12} {cat['cases']:>5} {cat['correct']:>7} {cat['accuracy']:>8.1%} {cat['shame']:>5}")
        wrong = [r for r in rows if not r["correct"]]
        if wrong and verbosity >= 2:
            w("  misses:")
            for r in wrong:
                w(f"    {r['id']} [{r['category']}] expected {r['expected']} got {r['actual']} ({r['gate']})")
        w("PASSED" if summary["passed"] else "FAILED: " + "; ".join(summary["failed_thresholds"]))
