"""Load run of the whole stack under a backlog, with a worker SIGKILLed in the middle.

    python bench/load_backlog.py --rate 100 --duration 120 --workers 1     (bench/run_backlog.sh; make bench-backlog)

What runs, all on loopback: a redis-server of its own (broker and cache, started and stopped here),
Postgres (DATABASE_URL: a database the run may empty), gunicorn serving the webhook, ONE Celery
worker with `--workers` processes (`--concurrency`, prefork) taking the turn and notice queues,
the outbox sweeper invoked here every `--sweep-seconds` (beat's job), and the fake ChatFlow. The
bench tenant has the public Lotus Beauty KB and the default coalescing window (3 s), so turn tasks
carry an ETA, as in production.

`--rate` messages per second, each from a new customer, are signed and POSTed to /webhook/<slug>
for `--duration` seconds; at `--kill-at` (a fraction of the duration) the worker's whole process
group is SIGKILLed and a new one started. Then the run waits (at most `--drain-timeout` seconds)
until every accepted message was answered or handed over.

Reports: accepted; lost (accepted, never answered nor handed over); doubled (customers with more
than one message at the gateway); turn tasks that found nothing to do (redundant) per turn; what
the sweeper queued again and how many manager re-notifies; reply latency (webhook POST → message
at the gateway) p50/p95/p99/max; turns per second per worker process. Exits 1 when anything was
lost or doubled. Bounded: at most rate × duration messages, and the drain timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second, each from a new customer")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (one worker, --concurrency N)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--kill-at", type=float, default=0.5, help="SIGKILL the worker at this fraction of the load (<0: never)")
    parser.add_argument("--sweep-seconds", type=float, default=5.0, help="outbox sweeper interval (beat's OUTBOX_SWEEP_SECONDS)")
    parser.add_argument("--drain-timeout", type=float, default=1200.0, help="most seconds to wait for the backlog after the load")
    parser.add_argument("--senders", type=int, default=16, help="HTTP client threads")
    parser.add_argument("--json", default="", help="also write the result to this file")
    args = parser.parse_args()
    if args.rate * args.duration > 50_000:
        raise SystemExit("bounded: at most 50,000 messages per run")

    from conversations.testing.live import LiveRedis

    var = Path(tempfile.mkdtemp(prefix="imperium-backlog-"))
    redis_server = LiveRedis(var).start()
    os.environ.update(REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url,
                      CONVERSATION_NOTIFIER="conversations.notifier.LoggingNotifier")
    web = worker = fake = None
    try:
        import django

        django.setup()
        result = _run(args, var, redis_server)
    finally:
        redis_server.stop()
        shutil.rmtree(var, ignore_errors=True)
    print("RESULT " + json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    del web, worker, fake
    sys.exit(0 if result["lost"] == 0 and result["doubled"] == 0 else 1)


def _run(args: argparse.Namespace, var: Path, redis_server) -> dict:  # type: ignore[no-untyped-def]
    import requests
    from django.db.models import Max, Min, Sum

    from conversations.models import Conversation, Escalation, Turn
    from conversations.services import outbox_sweep
    from conversations.signing import signed_headers
    from conversations.testing.fake_chatflow import FakeChatFlow
    from conversations.testing.live import LiveWeb, LiveWorker, worker_counter
    from tenants.models import Client

    tenant = Client.objects.select_related("settings").get(slug="bench-salon")
    texts = ["Здравствуйте! Сколько стоит маникюр с покрытием?"]
    cases = Path(__file__).resolve().parent.parent / "knowledge" / "fixtures" / "eval" / "lotus-beauty" / "cases.jsonl"
    if cases.is_file():
        texts = [" ".join(json.loads(line)["messages"]) for line in cases.read_text(encoding="utf-8").splitlines() if line.strip()]

    fake = FakeChatFlow().start()
    metrics_dir = var / "worker-metrics"
    metrics_dir.mkdir()
    common = dict(CELERY_BROKER_URL=redis_server.url, CHATFLOW_BASE_URL=fake.url, LOG_LEVEL="warning", LOG_FORMAT="text",
                  CONVERSATION_NOTIFIER="conversations.notifier.LoggingNotifier", DEBUG="false")
    web = LiveWeb(var / "web", workers=args.web_workers, PROMETHEUS_MULTIPROC_DIR=str(var / "web-metrics"), **common)
    (var / "web").mkdir()
    (var / "web-metrics").mkdir()

    def new_worker() -> LiveWorker:
        return LiveWorker(var / "worker", queues="stable,default", concurrency=args.workers, loglevel="WARNING",
                          PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), **common).start(timeout=180)

    (var / "worker").mkdir()
    print(f"machine: {os.cpu_count()} cores, load average {load_average()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    web.start(timeout=120)
    worker = new_worker()
    print(f"stack up: gunicorn {args.web_workers} workers, Celery worker with {args.workers} process(es), redis {redis_server.url}, "
          f"fake ChatFlow {fake.url}")

    # The sweeper: beat's job, invoked here on its schedule.
    sweeps: dict[str, int] = {}
    stop_sweeping = threading.Event()

    def sweeper() -> None:
        from django.db import connection

        while not stop_sweeping.wait(args.sweep_seconds):
            try:
                for key, value in outbox_sweep().as_dict().items():
                    sweeps[key] = sweeps.get(key, 0) + value
            except Exception as exc:  # a sweep that fails is retried at the next tick, as under beat
                print(f"sweep failed: {exc!r}")
        connection.close()

    sweep_thread = threading.Thread(target=sweeper, daemon=True)
    sweep_thread.start()

    total = int(args.rate * args.duration)
    sent_at: dict[str, float] = {}
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    secret = tenant.settings.webhook_secret
    url = f"{web.url}/webhook/{tenant.slug}"
    run = f"{time.time():.0f}"
    start = time.monotonic() + 1.0
    wall_start = time.time() + 1.0

    def sender(k: int) -> None:
        session = requests.Session()
        pause = threading.Event()
        for i in range(k, total, args.senders):
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                pause.wait(delay)
            phone = f"+7{7700000000 + i}"
            body = json.dumps({"message_id": f"wamid.load-{run}-{i}", "from": phone, "type": "text",
                               "text": texts[i % len(texts)]}, ensure_ascii=False).encode()
            headers = {**signed_headers(secret, body, msg_id=f"msg_{run}_{i}"), "Content-Type": "application/json"}
            posted = time.time()
            try:
                response = session.post(url, data=body, headers=headers, timeout=30)
                outcome = str(response.status_code)
                if response.status_code == 200:
                    outcome = response.json().get("status", outcome)
            except Exception as exc:
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "accepted":
                    sent_at[phone] = posted

    threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(args.senders)]
    for thread in threads:
        thread.start()
    kill_at = start + args.duration * args.kill_at if args.kill_at >= 0 else None
    killed_at = restarted_at = None
    pause = threading.Event()
    while any(t.is_alive() for t in threads):
        if kill_at is not None and killed_at is None and time.monotonic() >= kill_at:
            worker.kill()  # SIGKILL the worker's whole process group: what it held is lost with it
            killed_at = time.monotonic() - start
            print(f"t={killed_at:.0f}s worker SIGKILLed ({len(fake.messages)} replies so far); restarting")
            worker = new_worker()
            restarted_at = time.monotonic() - start
            print(f"t={restarted_at:.0f}s worker restarted")
        pause.wait(0.5)
    load_seconds = time.monotonic() - start
    accepted = len(sent_at)
    print(f"load done in {load_seconds:.0f}s: {outcomes}; load average {load_average()}; draining ...")

    tenant_conversations = Conversation.objects.filter(tenant=tenant)

    def silent_handovers() -> int:
        return Escalation.objects.filter(tenant=tenant, conversation__outbound_messages__isnull=True).values(
            "conversation").distinct().count()

    def settled() -> int:
        silent = silent_handovers()
        return len({_digits(m.to) for m in fake.messages}) + silent

    drain_deadline = time.monotonic() + args.drain_timeout
    last_report = time.monotonic()
    while settled() < accepted and time.monotonic() < drain_deadline:
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            print(f"  t={time.monotonic() - start:.0f}s {len(fake.messages)} replies of {accepted}; load average {load_average()}")
        pause.wait(2)
    drained_at = time.monotonic() - start
    stop_sweeping.set()
    sweep_thread.join(timeout=60)
    worker.stop()
    web.stop()
    fake.stop()

    per_phone: dict[str, list] = {}
    for message in fake.messages:
        per_phone.setdefault(_digits(message.to), []).append(message)
    sent_at = {_digits(phone): at for phone, at in sent_at.items()}
    latencies = [min(m.received_at for m in per_phone[p]) - t for p, t in sent_at.items() if p in per_phone]
    silent = silent_handovers()
    answered = sum(1 for p in sent_at if p in per_phone)
    turns = Turn.objects.filter(tenant=tenant)
    span = turns.aggregate(first=Min("created_at"), last=Max("finished_at"))
    busy = (span["last"] - span["first"]).total_seconds() if span["first"] and span["last"] else None
    redundant = worker_counter(metrics_dir, "imperium_turn_tasks", outcome="redundant")
    not_due = worker_counter(metrics_dir, "imperium_turn_tasks", outcome="not_due")
    escalations = Escalation.objects.filter(tenant=tenant)
    notify_runs = escalations.aggregate(runs=Sum("notify_attempts"))["runs"] or 0
    result = {
        "rate": args.rate, "duration": args.duration, "worker_processes": args.workers, "web_workers": args.web_workers,
        "sweep_seconds": args.sweep_seconds, "killed_at_s": killed_at, "restarted_at_s": restarted_at,
        "load_seconds": round(load_seconds, 1), "drained_at_s": round(drained_at, 1),
        "sent": total, "http_outcomes": outcomes, "accepted": accepted, "conversations": tenant_conversations.count(),
        "answered": answered, "handed_over_without_message": silent,
        "lost": max(0, accepted - answered - silent),
        "doubled": sum(1 for messages in per_phone.values() if len(messages) > 1),
        "gateway_messages": len(fake.messages), "gateway_repeats_dropped": sum(1 for r in fake.requests if r.outcome == "duplicate"),
        "turns": turns.count(), "turns_unfinished": turns.filter(status="processing").count(),
        "turn_tasks_redundant": int(redundant), "turn_tasks_not_due": int(not_due),
        "redundant_per_turn": round(redundant / max(1, turns.count()), 4),
        "sweeper": sweeps, "escalations": escalations.count(),
        "renotifies_queued": sweeps.get("escalations_renotified", 0) + sweeps.get("forwards_renotified", 0),
        "notify_runs_beyond_first": max(0, notify_runs - escalations.count()),
        "turns_per_second_per_process": round(turns.exclude(status="processing").count() / busy / args.workers, 2) if busy else None,
        "load_average_end": load_average(), "wall_start": wall_start,
    }
    if latencies:
        result.update({f"latency_{name}_s": round(value, 2) for name, value in (
            ("p50", percentile(latencies, 50)), ("p95", percentile(latencies, 95)), ("p99", percentile(latencies, 99)),
            ("max", max(latencies)))})
    print(f"\n accepted {accepted}, lost {result['lost']}, doubled {result['doubled']} "
          f"(answered {answered}, handed over without a message {silent})")
    print(f" turn tasks that found nothing to do: {int(redundant)} for {result['turns']} turns "
          f"({100 * result['redundant_per_turn']:.2f} %); sweeper queued again: {sweeps}")
    print(f" manager re-notifies queued by the sweeper: {result['renotifies_queued']}; notice runs beyond the first: "
          f"{result['notify_runs_beyond_first']} for {result['escalations']} escalations")
    print(f" reply latency p50 {result.get('latency_p50_s')} s, p95 {result.get('latency_p95_s')} s, p99 {result.get('latency_p99_s')} s, "
          f"max {result.get('latency_max_s')} s; {result['turns_per_second_per_process']} turns/s per worker process; "
          f"load average {load_average()}")
    return result


if __name__ == "__main__":
    main()
