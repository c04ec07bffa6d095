"""Pipeline benchmark: turns per second of ONE Celery worker process, end to end.

N customers each send one message (coalescing window 0); their turn tasks wait in the Redis
broker; then a single worker process (`--concurrency 1`) runs them: claim, `decide_reply`
(whatever is installed: the placeholder escalates, the real brain answers), trace, outbound
message, delivery to a fake ChatFlow over HTTP, and the escalation notifications.

    python bench/pipeline_bench.py --turns 1000        (run through bench/run_pipeline.sh)

Reports turns/s (first claim to last delivery), processing latency per turn (claim to end of
delivery, coalescing wait excluded) and verifies exactly one message per turn at the gateway.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("BENCH_COALESCE_WINDOW", "0")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


CRM_QUESTIONS = [
    "Есть окошко завтра после обеда на маникюр?",
    "Хочу на педикюр послезавтра после 6",
    "можно на стрижку завтра утром?",
    "есть свободное время на коррекцию бровей послезавтра вечером?",
]


def _crm_setup(tenant, args):  # type: ignore[no-untyped-def]
    """With --crm-every: the bench tenant connected to a fake CRM answering in --crm-latency; the
    slot cache off (CRM_SLOT_CACHE_SECONDS=0) so every booking turn really calls it. Without it:
    the tenant's CRM is disconnected, so the plain runs stay what they were."""
    from crm.models import CrmService
    from crm.services import crm_connect, crm_disconnect
    from crm.testing.fake_crm import FakeCrm
    from imperium.core.actors import Actor

    actor = Actor.system("bench")
    if not args.crm_every:
        crm_disconnect(actor=actor, tenant=tenant)
        return {}, None
    fake_crm = FakeCrm(latency=args.crm_latency).start()
    crm_connect(actor=actor, tenant=tenant, kind="altegio", company_id=fake_crm.company_id, partner_token=fake_crm.partner_token,
                user_token=fake_crm.user_token, base_url=f"{fake_crm.url}/api/v1")
    for crm_id, words in {101: "маникюр", 104: "стрижка", 106: "брови, коррекция бровей"}.items():
        CrmService.objects.filter(tenant=tenant, crm_id=crm_id).update(keywords=words)
    print(f"CRM: 1 turn in {args.crm_every} is a booking question; fake CRM latency {args.crm_latency * 1000:.0f} ms per call")
    return {"CRM_SLOT_CACHE_SECONDS": "0"}, fake_crm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--queues", default="stable,default", help="queues the worker consumes (default: turns and notifications)")
    parser.add_argument("--pool", default="prefork", help="Celery pool of the one worker process (prefork: the production default)")
    parser.add_argument("--loglevel", default="WARNING", help="worker log level (INFO logs two lines per task)")
    parser.add_argument("--crm-every", type=int, default=0,
                        help="every N-th turn is a booking question answered live from the fake CRM (0: no CRM)")
    parser.add_argument("--crm-latency", type=float, default=0.05, help="seconds the fake CRM takes per call")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Max, Min

    import conversations.answering.brain as brain
    from conversations.models import MessageTrace, OutboundMessage, Turn
    from conversations.services import inbound_accept, payload_parse
    from conversations.testing.fake_chatflow import FakeChatFlow
    from conversations.testing.live import LiveWorker
    from tenants.models import Client

    tenant = Client.objects.select_related("settings").get(slug="bench-salon")
    fake = FakeChatFlow().start()
    from knowledge.selectors import kb_version_stable

    stable = kb_version_stable(tenant)
    texts = ["Здравствуйте! Сколько стоит маникюр с покрытием?"]
    cases = Path(__file__).resolve().parent.parent / "knowledge" / "fixtures" / "eval" / "lotus-beauty" / "cases.jsonl"
    if stable is not None and cases.is_file():
        # The public eval messages: answers, escalations (booking, complaints, off-topic...) alike.
        texts = [" ".join(json.loads(line)["messages"]) for line in cases.read_text(encoding="utf-8").splitlines() if line.strip()]
    crm_env, fake_crm = _crm_setup(tenant, args)
    print(f"decide_reply: {brain.decide_reply.__module__}; tenant KB: "
          f"{f'v{stable.number} (stable)' if stable else 'none'}; {len(texts)} distinct message(s) cycled")
    print(f"queueing {args.turns} turns (one message each, coalescing window {tenant.settings.coalesce_window_seconds}s) ...")
    run = f"{time.time():.0f}"
    for n in range(args.turns):
        text = texts[n % len(texts)]
        if args.crm_every and n % args.crm_every == 0:
            text = CRM_QUESTIONS[(n // args.crm_every) % len(CRM_QUESTIONS)]
        message = payload_parse({"message_id": f"wamid.pipe-{run}-{n}", "from": f"+7{7600000000 + n}", "type": "text", "text": text})
        inbound_accept(tenant=tenant, message=message)

    with tempfile.TemporaryDirectory() as tmp:
        worker = LiveWorker(Path(tmp), queues=args.queues, concurrency=1, pool=args.pool, loglevel=args.loglevel,
                            CELERY_BROKER_URL=settings.CELERY_BROKER_URL, CHATFLOW_BASE_URL=fake.url, LOG_LEVEL="warning", **crm_env)
        started = time.monotonic()
        worker.start(timeout=120)
        print(f"worker ready in {time.monotonic() - started:.1f}s; processing ...")
        deadline = time.monotonic() + args.timeout
        pause = threading.Event()
        while time.monotonic() < deadline:
            done = OutboundMessage.objects.filter(tenant=tenant, status="sent").count()
            if done >= args.turns:
                break
            pause.wait(0.5)
        worker.stop()
    fake.stop()
    crm_calls = len(fake_crm.calls()) if fake_crm is not None else 0
    if fake_crm is not None:
        fake_crm.stop()

    turns = Turn.objects.filter(tenant=tenant)
    span = turns.aggregate(first=Min("created_at"))["first"], OutboundMessage.objects.filter(tenant=tenant).aggregate(
        last=Max("sent_at"))["last"]
    traces = list(MessageTrace.objects.filter(tenant=tenant).values_list("total_ms", "decide_ms", "send_ms"))
    outcomes: dict[str, int] = {}
    for status, reason in turns.values_list("status", "reason"):
        key = f"{status}:{reason}" if reason else status
        outcomes[key] = outcomes.get(key, 0) + 1
    totals = [t for t, _, _ in traces if t is not None]
    decides = [d for _, d, _ in traces if d is not None]
    sends = [s for _, _, s in traces if s is not None]
    keys = [m.key for m in fake.messages]
    result = {
        "turns_expected": args.turns,
        "turns": turns.count(),
        "turns_finished": turns.exclude(status="processing").count(),
        "outbound_sent": OutboundMessage.objects.filter(tenant=tenant, status="sent").count(),
        "gateway_messages": len(keys),
        "gateway_distinct_keys": len(set(keys)),
        "gateway_repeats_dropped": sum(1 for r in fake.requests if r.outcome == "duplicate"),
        "seconds": round((span[1] - span[0]).total_seconds(), 2) if all(span) else None,
        "outcomes": dict(sorted(outcomes.items(), key=lambda kv: -kv[1])),
        "crm_every": args.crm_every, "crm_latency_ms": round(args.crm_latency * 1000) if args.crm_every else None, "crm_calls": crm_calls,
    }
    if result["seconds"]:
        result["turns_per_second"] = round(result["turns_finished"] / result["seconds"], 1)
    if totals:
        result.update(total_ms_p50=round(percentile(totals, 50), 1), total_ms_p95=round(percentile(totals, 95), 1),
                      total_ms_p99=round(percentile(totals, 99), 1), decide_ms_p95=round(percentile(decides, 95), 1),
                      send_ms_p95=round(percentile(sends, 95), 1), total_ms_mean=round(statistics.mean(totals), 1))
    ok = (result["turns"] == result["turns_finished"] == result["outbound_sent"] == result["gateway_messages"]
          == result["gateway_distinct_keys"] == args.turns)
    result["ok"] = ok
    print("RESULT " + json.dumps(result))
    print(f"\n {result.get('turns_per_second')} turns/s on one worker process; processing p50 {result.get('total_ms_p50')} ms, "
          f"p95 {result.get('total_ms_p95')} ms, p99 {result.get('total_ms_p99')} ms (claim to end of delivery)")
    print(f" turn outcomes: {result['outcomes']}; decide p95 {result.get('decide_ms_p95')} ms; CRM calls {crm_calls}")
    print(f" gateway: {result['gateway_messages']} messages for {args.turns} turns, "
          f"{result['gateway_distinct_keys']} distinct keys -> {'OK: exactly one per turn' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
