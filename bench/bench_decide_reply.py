"""Benchmark of `decide_reply` in embedded mode (hashing embeddings, in-process index,
extractive composer): p50/p95 per turn for a 50-item and a 5,000-item knowledge base.

    .venv/bin/python bench/bench_decide_reply.py [--turns 400] [--json]

Uses a throw-away SQLite database under a temporary VAR_DIR. The 50-item KB is the public
Lotus Beauty set plus one item; the 5,000-item KB adds generated items (services × options ×
branches with their own prices) so that retrieval has realistic near-duplicates to sift.
Questions are the public cases' messages (hits, misses, bursts), cycled. The peak resident
memory of the process (what one worker holds with the brain and both KBs loaded) is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="imperium-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")
    os.environ.setdefault("LOG_LEVEL", "error")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


SERVICES = ["маникюр", "педикюр", "стрижка", "окрашивание", "укладка", "массаж", "пилинг", "чистка", "ламинирование",
            "наращивание", "коррекция", "шугаринг", "депиляция", "макияж", "кератин", "ботокс", "тонирование", "химзавивка",
            "обертывание", "мезотерапия", "биоревитализация", "плетение", "дизайн", "покрытие", "снятие", "полировка",
            "отбеливание", "пломбирование", "имплантация", "протезирование", "консультация", "диагностика", "рентген"]
OPTIONS = ["классический", "аппаратный", "комбинированный", "японский", "европейский", "детский", "мужской", "экспресс",
           "премиум", "лечебный", "spa", "горячий", "холодный", "вечерний", "свадебный", "короткий", "длинный", "средний",
           "лазерный", "ультразвуковой", "ручной", "глубокий", "поверхностный", "двойной", "зимний", "летний"]
PARTS = ["рук", "ног", "лица", "спины", "шеи", "волос", "бровей", "ресниц", "губ", "зубов", "ногтей", "кожи", "головы"]
BRANCHES = ["Центр", "Самал", "Алатау", "Есиль", "Байконур", "Медеу", "Ауэзов", "Турксиб", "Бостандык", "Наурызбай"]


def generated_items(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    items, seen = [], set()
    while len(items) < count:
        service, option, part, branch = rng.choice(SERVICES), rng.choice(OPTIONS), rng.choice(PARTS), rng.choice(BRANCHES)
        key = (service, option, part, branch)
        if key in seen:
            continue
        seen.add(key)
        price = rng.randrange(20, 400) * 100
        minutes = rng.choice([30, 45, 60, 90, 120])
        items.append({
            "id": f"gen-{len(items)}",
            "question": f"Сколько стоит {option} {service} {part} в филиале {branch}?",
            "answer": f"{option.capitalize()} {service} {part} в филиале {branch} — {price:,} ₸, длится {minutes} минут. "
                      f"Запись через администратора.".replace(",", " "),
            "tags": ["generated", branch.lower()],
        })
    return items


def run(turns: int, sizes: tuple[int, ...] = (50, 5000)) -> dict:
    from conversations.answering.brain import decide_reply
    from imperium.core.actors import Actor
    from knowledge.services import kb_import
    from tenants.services import client_onboard

    eval_dir = ROOT / "knowledge" / "fixtures" / "eval" / "lotus-beauty"
    lotus = [json.loads(line) for line in (eval_dir / "kb.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [json.loads(line) for line in (eval_dir / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    actor = Actor.system("bench")
    results = {}
    for size in sizes:
        items = lotus + generated_items(size - len(lotus))
        label = f"{size} items"
        tenant = client_onboard(actor=actor, slug=f"bench-{len(items)}", name=label).client
        content = "\n".join(json.dumps(i, ensure_ascii=False) for i in items)
        started = time.perf_counter()
        version = kb_import(actor=actor, tenant=tenant, file_name="kb.jsonl", content=content, index=False)
        import_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        decide_reply(tenant, None, ["Сколько стоит маникюр?"], kb_version=version)  # builds this process's index
        build_ms = (time.perf_counter() - started) * 1000
        timings, faq_timings, cpu_timings = [], [], []
        for turn in range(turns):
            case = cases[turn % len(cases)]
            started, cpu_started = time.perf_counter(), time.process_time()
            decide_reply(tenant, None, case["messages"], kb_version=version)
            elapsed = (time.perf_counter() - started) * 1000
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
            timings.append(elapsed)
            if case["category"] == "faq":  # the full path: retrieval, evidence, composer, reply gate
                faq_timings.append(elapsed)
        timings.sort()
        faq_timings.sort()
        cpu_timings.sort()
        results[label] = {
            "items": len(items), "turns": turns, "import_ms": round(import_ms, 1), "first_call_with_index_build_ms": round(build_ms, 1),
            "p50_ms": round(statistics.median(timings), 2), "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max_ms": round(timings[-1], 2), "faq_p95_ms": round(faq_timings[int(len(faq_timings) * 0.95) - 1], 2),
            # CPU time of this process per turn: what the turn costs, whatever else runs on the machine.
            "cpu_p50_ms": round(statistics.median(cpu_timings), 2), "cpu_p95_ms": round(cpu_timings[int(len(cpu_timings) * 0.95) - 1], 2),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--index", choices=("memory", "qdrant-local"), default="memory", help="embedded index to measure")
    args = parser.parse_args()
    os.environ["KNOWLEDGE_INDEX"] = args.index
    _setup()
    results = run(args.turns)
    results["process"] = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"peak resident memory of this process: {results.pop('process')['peak_rss_mb']} MB")
    for label, row in results.items():
        print(f"{label:>10}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms (answer path p95 {row['faq_p95_ms']} ms), "
              f"max {row['max_ms']} ms; CPU p50 {row['cpu_p50_ms']} ms, p95 {row['cpu_p95_ms']} ms "
              f"({row['turns']} turns; import {row['import_ms']} ms; "
              f"first call incl. index build {row['first_call_with_index_build_ms']} ms)")


if __name__ == "__main__":
    main()
