"""Composers turn the chosen knowledge items into a reply.

- `extractive` (default): the items' answers, verbatim, joined; nothing invented.
- `openai`: a grounded prompt over the same items, then a verification call in which the
  model must quote the item it used and confirm it answers exactly what was asked. The
  offline quality gate still checks the result (grounding) and can veto it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from knowledge.text import fold


@dataclass
class Composition:
    text: str
    sources: list[str]
    ok: bool = True
    failure: str = ""  # "unsure" | "unverified" when ok is False
    llm_ms: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


class ExtractiveComposer:
    name = "extractive"

    def compose(self, *, messages: list[str], items: list[dict[str, str]], config: dict[str, Any], business: str = "") -> Composition:
        join = config["templates"]["join"]
        return Composition(text=join.join(item["answer"] for item in items), sources=[item["id"] for item in items])


def _snippets(items: list[dict[str, str]], config: dict[str, Any]) -> str:
    template = config["templates"]["llm_snippet"]
    return "\n\n".join(template.format(id=i["id"], question=i["question"], answer=i["answer"]) for i in items)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


class OpenAIComposer:
    name = "openai"

    def __init__(self, client: Any) -> None:
        self.client = client

    def compose(self, *, messages: list[str], items: list[dict[str, str]], config: dict[str, Any], business: str = "") -> Composition:
        templates = config["templates"]
        snippets = _snippets(items, config)
        customer = "\n".join(messages)
        started = time.perf_counter()
        draft = self.client.chat([
            {"role": "system", "content": templates["llm_system"].format(business=business)},
            {"role": "user", "content": templates["llm_user"].format(snippets=snippets, messages=customer)},
        ]).strip()
        ids = [i["id"] for i in items]
        if not draft or templates["unsure_marker"] in draft:
            return Composition(text="", sources=ids, ok=False, failure="unsure", llm_ms=_ms(started), detail={"draft": draft})
        reply = re.sub(r"\s*\[[^\]]+\]\s*$", "", draft).strip()  # the cited ids are for us, not the customer
        verdict_raw = self.client.chat([
            {"role": "system", "content": templates["llm_verify_system"]},
            {"role": "user", "content": templates["llm_verify_user"].format(snippets=snippets, messages=customer, reply=reply)},
        ], max_tokens=300)
        verdict = _parse_verdict(verdict_raw)
        by_id = {i["id"]: i for i in items}
        item = by_id.get(str(verdict.get("item_id", "")))
        quote = _norm(str(verdict.get("quote", "")))
        verified = bool(item) and bool(quote) and quote in _norm(item["answer"]) and verdict.get("answers_exactly") is True
        detail = {"draft": draft, "verdict": verdict}
        if not verified:
            return Composition(text="", sources=ids, ok=False, failure="unverified", llm_ms=_ms(started), detail=detail)
        return Composition(text=reply, sources=ids, llm_ms=_ms(started), detail=detail)


def _parse_verdict(raw: str) -> dict[str, Any]:
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if not match:
        return {}
    try:
        value = json.loads(match.group(0))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def composer_from_settings() -> ExtractiveComposer | OpenAIComposer:
    from django.conf import settings

    if settings.LLM_BACKEND == "openai":
        from conversations.answering.llm_client import llm_client_from_settings

        return OpenAIComposer(llm_client_from_settings())
    return ExtractiveComposer()
