"""Reads for the owner's reports: the unanswered-questions report and the daily digest numbers.

Every number is computed from the database here, tenant-scoped, so the admin page, the Telegram
digest and the test comparing them with the rows all read the same thing.

- `unanswered_questions`: customer questions the bot escalated in a period, grouped by meaning
  (`knowledge.learning.meaning_key`; a question with no word it keeps, «Где вы?», is grouped with the
  same words, never dropped), with counts, the reasons, and whether a knowledge suggestion already
  covers them;
- `digest_numbers`: conversations, share answered by the bot, hand-overs by reason, time to the
  first human reply (median, p90), SLA breaches, hand-overs closed without a reply, delivery
  failures, top unanswered, suggestions waiting, "wrong answer" marks. The SLA is "a human within
  the tenant's `escalation_sla_minutes`" (`HandoverWait.breached`): a reply later than that, a
  closure without a reply later than that, or no reply and no closure yet past that.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from conversations.choices import EscalationReason, OutboundKind, OutboundStatus, TurnStatus
from conversations.models import Escalation, InboundMessage, OutboundMessage, Turn, WrongAnswerMark
from knowledge import learning
from knowledge.choices import SuggestionStatus
from knowledge.models import KnowledgeSuggestion

# Hand-overs that are not questions the knowledge base could answer.
NOT_QUESTIONS = frozenset({EscalationReason.NON_TEXT, EscalationReason.DELIVERY_FAILED, EscalationReason.DEPENDENCY_DOWN})


@dataclass
class UnansweredGroup:
    question: str  # the first customer's words
    count: int
    reasons: dict[str, int]
    key: str
    examples: list[str] = field(default_factory=list)
    suggestion_id: int | None = None
    suggestion_status: str = ""

    @property
    def reason(self) -> str:
        return max(self.reasons.items(), key=lambda kv: (kv[1], kv[0]))[0] if self.reasons else ""

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reason": self.reason}


def _escalated_questions(tenant: Any, since: datetime, until: datetime) -> list[tuple[str, str]]:
    """(question text, reason) per escalation in the period that came from a customer's turn."""
    escalations = list(
        Escalation.objects.for_tenant(tenant).filter(created_at__gte=since, created_at__lt=until, turn__isnull=False)
        .exclude(reason__in=NOT_QUESTIONS).values_list("turn_id", "reason").order_by("created_at", "id")
    )
    texts: dict[int, list[str]] = {}
    for turn_id, text in (InboundMessage.objects.for_tenant(tenant).filter(turn_id__in=[t for t, _ in escalations])
                          .exclude(text="").order_by("received_at", "id").values_list("turn_id", "text")):
        texts.setdefault(turn_id, []).append(text.strip())
    return [(" ".join(texts[turn_id]), reason) for turn_id, reason in escalations if texts.get(turn_id)]


# A question with no meaningful word left after `meaning_key` («Где вы?», «Есть ли wi-fi?») is still a
# question a customer waited on: it is grouped with the same words instead of being dropped.
_VERBATIM = "="


def _group_key(text: str) -> str:
    key = learning.meaning_key(text)
    if key:
        return key
    words = re.findall(r"\w+", text.lower())
    return _VERBATIM + " ".join(words) if words else ""


def _same_group(a: str, b: str) -> bool:
    if a.startswith(_VERBATIM) or b.startswith(_VERBATIM):
        return a == b
    return learning.same_meaning(a, b)


def unanswered_questions(tenant: Any, *, since: datetime, until: datetime | None = None, limit: int | None = None
                         ) -> list[UnansweredGroup]:
    """Escalated customer questions of the period grouped by meaning, most asked first."""
    until = until or timezone.now()
    groups: list[UnansweredGroup] = []
    for text, reason in _escalated_questions(tenant, since, until):
        key = _group_key(text)
        if not key:
            continue
        group = next((g for g in groups if _same_group(g.key, key)), None)
        if group is None:
            groups.append(UnansweredGroup(question=text, count=1, reasons={reason: 1}, key=key))
            continue
        group.count += 1
        group.reasons[reason] = group.reasons.get(reason, 0) + 1
        if text != group.question and text not in group.examples and len(group.examples) < 3:
            group.examples.append(text)
    suggestions = list(KnowledgeSuggestion.objects.for_tenant(tenant).exclude(status=SuggestionStatus.MERGED)
                       .values_list("pk", "meaning_key", "status", "phrasings"))
    for group in groups:
        for pk, key, status, phrasings in suggestions:
            keys = [key, *(learning.meaning_key(p) for p in phrasings)]
            if not group.key.startswith(_VERBATIM) and any(learning.same_meaning(group.key, k) for k in keys if k):
                group.suggestion_id, group.suggestion_status = pk, status
                break
    groups.sort(key=lambda g: (-g.count, g.question))
    return groups[:limit] if limit else groups


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (None without values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class HandoverWait:
    """How long one hand-over waited for a human, from the rows."""

    escalation_id: int
    created_at: datetime
    sla_minutes: int
    reply_minutes: float | None  # to the first manager message in the conversation, None when none yet
    resolved_at: datetime | None  # closed or returned to the bot by a manager

    @property
    def closed_without_reply(self) -> bool:
        """A manager closed the hand-over (or gave it back to the bot) before any manager message
        in the chat: a phone call, a customer who wrote «уже не надо», spam, or a silent closure. The
        owner sees how many; it is neither a reply (not in the median/p90) nor, by itself, a breach."""
        if self.resolved_at is None:
            return False
        return self.reply_minutes is None or self.created_at + timedelta(minutes=self.reply_minutes) > self.resolved_at

    def waited_minutes(self, now: datetime) -> float:
        """How long the customer waited for a human: until the first manager message, or until a
        manager closed the hand-over without one (the wait ended then), or until `now` when
        neither happened yet."""
        if self.closed_without_reply:
            assert self.resolved_at is not None
            return (self.resolved_at - self.created_at).total_seconds() / 60
        if self.reply_minutes is not None:
            return self.reply_minutes
        return (now - self.created_at).total_seconds() / 60

    def breached(self, now: datetime) -> bool:
        """The SLA of the tenant ("a human within N minutes") was broken: the first manager message
        came later than N minutes, or there was none and the hand-over was closed later than N
        minutes after it opened, or it is still waiting past N minutes. A hand-over a manager
        closed within N minutes without writing is not a breach (someone handled it in time; the
        digest shows those closures on their own line)."""
        return self.waited_minutes(now) > self.sla_minutes


def first_human_reply_minutes(tenant: Any, *, since: datetime, until: datetime) -> list[HandoverWait]:
    """The wait of every escalation of the period (`HandoverWait`)."""
    sla = getattr(getattr(tenant, "settings", None), "escalation_sla_minutes", 15)
    rows = list(Escalation.objects.for_tenant(tenant).filter(created_at__gte=since, created_at__lt=until)
                .values_list("pk", "conversation_id", "created_at", "resolved_at").order_by("created_at", "id"))
    replies: dict[int, list[datetime]] = {}
    for conversation_id, created in (OutboundMessage.objects.for_tenant(tenant)
                                     .filter(kind=OutboundKind.MANAGER, conversation_id__in={c for _, c, _, _ in rows},
                                             created_at__gte=since)
                                     .values_list("conversation_id", "created_at").order_by("created_at")):
        replies.setdefault(conversation_id, []).append(created)
    out = []
    for pk, conversation_id, created, resolved in rows:
        first = next((r for r in replies.get(conversation_id, []) if r >= created), None)
        out.append(HandoverWait(escalation_id=pk, created_at=created, sla_minutes=sla, resolved_at=resolved,
                                reply_minutes=(first - created).total_seconds() / 60 if first else None))
    return out


def digest_numbers(tenant: Any, *, since: datetime, until: datetime, top: int = 5) -> dict[str, Any]:
    """The daily digest's numbers for one tenant over [since, until)."""
    now = timezone.now()
    conversations = (InboundMessage.objects.for_tenant(tenant).filter(received_at__gte=since, received_at__lt=until)
                     .values("conversation_id").distinct().count())
    turns = dict(Turn.objects.for_tenant(tenant).filter(created_at__gte=since, created_at__lt=until)
                 .values_list("status").annotate(n=Count("id")).order_by())
    answered, escalated = turns.get(TurnStatus.ANSWERED, 0), turns.get(TurnStatus.ESCALATED, 0)
    handovers = Counter(dict(Escalation.objects.for_tenant(tenant).filter(created_at__gte=since, created_at__lt=until)
                             .values_list("reason").annotate(n=Count("id")).order_by()))
    waits = first_human_reply_minutes(tenant, since=since, until=until)
    replied = [w.reply_minutes for w in waits if w.reply_minutes is not None and not w.closed_without_reply]
    return {
        "conversations": conversations,
        "turns_answered": answered,
        "turns_escalated": escalated,
        "answered_share": round(answered / (answered + escalated), 4) if answered + escalated else None,
        "handovers": sum(handovers.values()),
        "handovers_by_reason": dict(sorted(handovers.items(), key=lambda kv: (-kv[1], kv[0]))),
        "first_reply_median_min": _round(_percentile(replied, 0.5)),
        "first_reply_p90_min": _round(_percentile(replied, 0.9)),
        "replied": len(replied),
        "sla_breaches": sum(1 for w in waits if w.breached(now)),
        "closed_without_reply": sum(1 for w in waits if w.closed_without_reply),
        "delivery_failures": OutboundMessage.objects.for_tenant(tenant).filter(
            status=OutboundStatus.FAILED, created_at__gte=since, created_at__lt=until).count(),
        "top_unanswered": [g.as_dict() for g in unanswered_questions(tenant, since=since, until=until, limit=top)],
        "suggestions_waiting": KnowledgeSuggestion.objects.for_tenant(tenant).filter(status=SuggestionStatus.PENDING).count(),
        "wrong_answer_marks": WrongAnswerMark.objects.for_tenant(tenant).filter(created_at__gte=since, created_at__lt=until).count(),
    }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
