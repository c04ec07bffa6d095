"""Knowledge learned from hand-overs: suggestion rows (propose, accept, reject) and paused items.

Writes go through the same services as any KB edit (`knowledge.services.kb_item_save`: content
hash, audit `kb.draft_edited`, history), into the tenant's open draft (`kb_draft_open`). Every
decision is a guarded status change (pending → accepted | rejected) so a double press decides
once; each is audited (`kb.suggestion_*`)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record
from knowledge import learning
from knowledge import text as T
from knowledge.choices import SuggestionKind, SuggestionStatus, VersionStatus
from knowledge.models import KnowledgeItem, KnowledgeItemPause, KnowledgeSuggestion, KnowledgeVersion
from knowledge.selectors import kb_version_stable
from tenants.models import Client

logger = logging.getLogger(__name__)

MAX_PHRASINGS = 20


@dataclass(frozen=True)
class Proposal:
    suggestion: KnowledgeSuggestion | None
    created: bool = False
    skipped: str = ""  # why nothing was proposed (reason, personal content, no facts, already known)


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _main_question(questions: Sequence[str], reply: str = "") -> tuple[str, list[str]]:
    """The customer's question the reply answers best (most content words in common, then most
    content), and the other messages that share content with the reply (a burst's "и сколько по
    времени" the reply does not answer is not a phrasing of it). Greetings and "ок" carry none."""
    cleaned = [q for q in (_clean(q) for q in questions) if q]
    with_content = [q for q in cleaned if learning.content_roots(q)]
    if not with_content:
        return "", []
    answered = learning.content_roots(reply)

    def rank(question: str) -> tuple[int, int]:
        roots = learning.content_roots(question)
        return len(roots & answered), len(roots)

    # A burst's statements ("я в Самал поеду на машине", "дочке 6 лет") are the customer's situation;
    # the question is the message that asks ("парковка есть?"): it names what the reply is about.
    asking = [q for q in with_content if learning.asks(q)]
    main = max(asking or with_content, key=rank)
    # A burst may name its topic in a message of its own and ask about it in the next ("линзы цветные",
    # "однодневные есть?"): the asking message alone is elliptical, and as the learned question it would claim the
    # neighbouring topic's questions ("однодневки сколько стоят" is about daily lenses, not coloured ones). A message
    # that only names a thing (`learning.names_topic`) the reply is about joins the question, in the burst's order.
    if asking:
        topics = [q for q in with_content if q != main and learning.names_topic(q)
                  and learning.content_roots(q) & answered and not learning.content_roots(q) <= learning.content_roots(main)]
        if topics:
            main = " ".join(q for q in with_content if q == main or q in topics)
    # The burst's other messages are other questions ("и педикюр?"), not phrasings of this one:
    # phrasings come from other customers asking the same thing (the count).
    return main, []


def _phrasings(item: KnowledgeItem) -> set[str]:
    return {learning.meaning_key(q) for q in [item.question, *item.alt_questions]}


def _matching_item(version: KnowledgeVersion | None, question: str, reply: str) -> KnowledgeItem | None:
    """The item of `version` whose answer states the reply's facts, the closest in question words first."""
    if version is None:
        return None
    asked = learning.content_roots(question)
    best: tuple[int, int, KnowledgeItem] | None = None
    for item in KnowledgeItem.objects.filter(version=version).order_by("position", "id"):
        if not learning.same_facts(reply, item.answer):
            continue
        overlap = len(asked & learning.content_roots(" ".join([item.question, *item.alt_questions, item.answer])))
        rank = (overlap, -item.position, item)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _same_text(a: str, b: str) -> bool:
    return " ".join(T.words(T.fold(a))) == " ".join(T.words(T.fold(b)))


def _duplicate_of(tenant: Client, kind: str, key: str, reply: str, target: str) -> KnowledgeSuggestion | None:
    reply_facts = learning.facts(reply)
    open_rows = (KnowledgeSuggestion.objects.for_tenant(tenant)
                 .filter(status__in=[SuggestionStatus.PENDING, SuggestionStatus.ACCEPTED], kind=kind)
                 .filter(Q(version__isnull=True) | Q(version__status=VersionStatus.DRAFT))
                 .order_by("created_at", "id"))
    if kind == SuggestionKind.ALT_QUESTION:
        open_rows = open_rows.filter(target_external_id=target)
    for row in open_rows:
        # Same question and the same answer: a different answer to similar words is another fact.
        if not learning.same_answer(reply, row.answer):
            continue  # similar words, another answer: another fact
        if learning.same_meaning(row.meaning_key, key):
            return row
        # Different words, the same facts stated: the same question asked another way (the same
        # numbers, or the manager's very text: two items with one answer would split every later
        # question between them).
        if kind == SuggestionKind.NEW_ITEM and (reply_facts.numbers or _same_text(reply, row.answer)):
            return row
    return None


@transaction.atomic
def kb_suggestion_propose(
    *,
    tenant: Client,
    questions: Sequence[str],
    reply: str,
    reason: str = "",
    conversation_id: int | None = None,
    customer_name: str = "",
    version: KnowledgeVersion | None = None,
) -> Proposal:
    """Propose what a manager's `reply` to the customer's `questions` teaches (see module doc of
    `knowledge.learning`): an alternative phrasing of the item of `version` (default: the
    stable one) that states the same facts, a new item, or nothing. The same question again
    (by meaning) counts on the existing pending/accepted row. Idempotent per conversation: a
    conversation already counted on the row is not counted twice. Audited `kb.suggestion_proposed`."""
    reply = _clean(reply)
    if reason in learning.PERSONAL_REASONS:
        return Proposal(None, skipped=f"reason {reason}")
    personal = learning.personal_reason(reply, customer_name=customer_name)
    if personal:
        return Proposal(None, skipped=personal)
    question, others = _main_question(questions, reply)
    if not question:
        return Proposal(None, skipped="no question")
    if learning.facts(reply).empty:
        return Proposal(None, skipped="no facts in the reply")
    version = version or kb_version_stable(tenant)
    item = _matching_item(version, question, reply)
    key = learning.meaning_key(question)
    if item is not None:
        if key in _phrasings(item):
            return Proposal(None, skipped=f"already a phrasing of {item.external_id}")
        kind, target = SuggestionKind.ALT_QUESTION, item.external_id
    else:
        kind, target = SuggestionKind.NEW_ITEM, ""
    existing = _duplicate_of(tenant, kind, key, reply, target)
    if existing is not None:
        existing = KnowledgeSuggestion.objects.select_for_update().get(pk=existing.pk)
        if conversation_id is not None and conversation_id in existing.conversation_ids:
            return Proposal(existing, skipped="already counted")
        phrasings = list(existing.phrasings)
        for phrasing in [question, *others]:
            if phrasing != existing.question and phrasing not in phrasings and len(phrasings) < MAX_PHRASINGS:
                phrasings.append(phrasing)
        existing.count = F("count") + 1
        existing.phrasings = phrasings
        if conversation_id is not None:
            existing.conversation_ids = [*existing.conversation_ids, conversation_id]
        existing.save(update_fields=["count", "phrasings", "conversation_ids", "updated_at"])
        existing.refresh_from_db()
        return Proposal(existing, skipped="counted on an existing suggestion")
    suggestion = KnowledgeSuggestion.objects.create(
        tenant=tenant, conversation_id=conversation_id, conversation_ids=[conversation_id] if conversation_id is not None else [],
        kind=kind, question=question, phrasings=others[:MAX_PHRASINGS], answer=reply, target_external_id=target,
        tags=learning.guess_tags(question, reply), meaning_key=key, reason=reason[:32],
    )
    audit_record(actor=Actor.system("learning"), action="kb.suggestion_proposed", tenant=tenant, obj=suggestion,
                 payload={"kind": kind, "target": target, "conversation_id": conversation_id})
    return Proposal(suggestion, created=True)


def kb_draft_open(*, actor: Actor, tenant: Client) -> KnowledgeVersion:
    """The tenant's open draft: its newest draft made after the stable version, or a new clone of
    the stable version (audited by the services that create it)."""
    from knowledge.services import kb_version_clone

    stable = kb_version_stable(tenant)
    drafts = KnowledgeVersion.objects.for_tenant(tenant).filter(status=VersionStatus.DRAFT).order_by("-number")
    if stable is not None:
        drafts = drafts.filter(number__gt=stable.number)
    draft = drafts.first()
    if draft is not None:
        return draft
    if stable is None:
        raise ApplicationError(_("%(tenant)s has no knowledge base version to add to.") % {"tenant": tenant.slug}, status=409)
    return kb_version_clone(actor=actor, version=stable)


def _unique_id(version: KnowledgeVersion, base: str) -> str:
    taken = set(KnowledgeItem.objects.filter(version=version, external_id__startswith=base).values_list("external_id", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@transaction.atomic
def kb_suggestion_accept(
    *, actor: Actor, suggestion_id: int, answer: str | None = None, question: str | None = None, tenant: Client | None = None,
) -> tuple[KnowledgeSuggestion, bool]:
    """Write a pending suggestion into the tenant's open draft (`kb_draft_open`) through
    `kb_item_save`; `answer`/`question` replace the proposed text (a manager's correction).
    Returns (suggestion, changed): a suggestion already decided is returned unchanged (a second
    press does nothing). `tenant` restricts the lookup (an operator's or a chat's tenant).
    Audited `kb.suggestion_accepted`."""
    from knowledge.services import kb_item_save

    rows = KnowledgeSuggestion.objects.select_for_update().select_related("tenant")
    if tenant is not None:
        rows = rows.for_tenant(tenant)
    suggestion = rows.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise ApplicationError(_("Suggestion %(id)s not found.") % {"id": suggestion_id}, status=404)
    if suggestion.status != SuggestionStatus.PENDING:
        return suggestion, False
    answer_text = _clean(answer) if answer is not None else suggestion.answer
    question_text = _clean(question) if question is not None else suggestion.question
    if not answer_text or not question_text:
        raise ApplicationError(_("The question and the answer must not be empty."))
    if answer is not None:
        personal = learning.personal_reason(answer_text)
        if personal:
            raise ApplicationError(_("This text is about one customer (%(why)s); it cannot go into the knowledge base.")
                                   % {"why": personal})
    draft = kb_draft_open(actor=actor, tenant=suggestion.tenant)
    target = KnowledgeItem.objects.filter(version=draft, external_id=suggestion.target_external_id).first() \
        if suggestion.kind == SuggestionKind.ALT_QUESTION and answer is None else None
    phrasings = [question_text, *[p for p in suggestion.phrasings if p != question_text]]
    # A Kazakh, English or transliterated question also in the KB's language (see learning.russian_phrasing).
    rendered = [r for r in (learning.russian_phrasing(p, answer_text) for p in phrasings) if r]
    phrasings = list(dict.fromkeys([*phrasings, *rendered]))
    if target is not None:
        known = _phrasings(target)
        alts = list(target.alt_questions) + [p for p in phrasings if learning.meaning_key(p) not in known]
        item = kb_item_save(actor=actor, version=draft, external_id=target.external_id, question=target.question,
                            answer=target.answer, tags=target.tags, alt_questions=list(dict.fromkeys(alts)), item=target)
    else:
        # What the manager's answer is about as a whole: the labels of its parts (learning.answer_parts)
        # or the label it opens with (learning.answer_topic).
        parts = learning.answer_parts(answer_text, question_text)
        if parts:
            phrasings.append(parts)
        topic = learning.answer_topic(answer_text, question_text)
        if topic and learning.meaning_key(topic) not in {learning.meaning_key(p) for p in phrasings}:
            phrasings.append(topic)
        external_id = _unique_id(draft, f"learned-{learning.slug_for(question_text)}"[:180])
        item = kb_item_save(actor=actor, version=draft, external_id=external_id, question=question_text, answer=answer_text,
                            tags=suggestion.tags or learning.guess_tags(question_text, answer_text), alt_questions=phrasings[1:])
    updated = KnowledgeSuggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.PENDING).update(
        status=SuggestionStatus.ACCEPTED, version=draft, item_external_id=item.external_id, decided_at=timezone.now(),
        decided_by=actor.label[:150], answer=answer_text, question=question_text,
    )
    if updated != 1:  # pragma: no cover - the row is locked above
        raise ApplicationError("The suggestion changed while accepting it; try again.", status=409)
    suggestion.refresh_from_db()
    audit_record(actor=actor, action="kb.suggestion_accepted", tenant=suggestion.tenant_id, obj=suggestion,
                 payload={"version": draft.number, "item": item.external_id, "kind": suggestion.kind,
                          "edited": answer is not None or question is not None})
    return suggestion, True


@transaction.atomic
def kb_suggestion_reject(*, actor: Actor, suggestion_id: int, tenant: Client | None = None) -> tuple[KnowledgeSuggestion, bool]:
    """Reject a pending suggestion (a second press does nothing). Audited `kb.suggestion_rejected`."""
    rows = KnowledgeSuggestion.objects.all()
    if tenant is not None:
        rows = rows.for_tenant(tenant)
    suggestion = rows.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise ApplicationError(_("Suggestion %(id)s not found.") % {"id": suggestion_id}, status=404)
    updated = KnowledgeSuggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.PENDING).update(
        status=SuggestionStatus.REJECTED, decided_at=timezone.now(), decided_by=actor.label[:150]
    )
    suggestion.refresh_from_db()
    if updated:
        audit_record(actor=actor, action="kb.suggestion_rejected", tenant=suggestion.tenant_id, obj=suggestion, payload={})
    return suggestion, bool(updated)


# --- reads -----------------------------------------------------------------------------------
def kb_suggestions_for(tenant: Any, *, status: str | None = None) -> QuerySet[KnowledgeSuggestion]:
    rows = KnowledgeSuggestion.objects.for_tenant(tenant)
    return rows.filter(status=status) if status else rows


def kb_draft_learned(tenant: Any) -> tuple[KnowledgeVersion | None, int]:
    """The open draft holding accepted suggestions, and how many (None, 0 when there is none)."""
    stable = kb_version_stable(tenant)
    rows = KnowledgeSuggestion.objects.for_tenant(tenant).filter(status=SuggestionStatus.ACCEPTED, version__status=VersionStatus.DRAFT)
    if stable is not None:
        rows = rows.filter(version__number__gt=stable.number)
    latest = rows.order_by("-version__number").select_related("version").first()
    if latest is None:
        return None, 0
    return latest.version, rows.filter(version=latest.version).count()


# --- paused items ----------------------------------------------------------------------------
def item_content_sha(item: KnowledgeItem) -> str:
    return hashlib.sha256(f"{item.question}\n{item.answer}".encode()).hexdigest()


def kb_item_pause(*, actor: Actor, tenant: Client, external_id: str, reason: str = "", marks: int = 0,
                  version: KnowledgeVersion | None = None) -> tuple[KnowledgeItemPause, bool]:
    """Stop the bot answering from item `external_id` (of `version`, default stable) until an
    operator lifts the pause or the item's question/answer change. Idempotent: an active pause
    is returned (False). Audited `kb.item_paused`."""
    version = version or kb_version_stable(tenant)
    item = KnowledgeItem.objects.filter(version=version, external_id=external_id).first() if version else None
    if item is None:
        raise ApplicationError(_("%(tenant)s serves no item '%(item)s'.") % {"tenant": tenant.slug, "item": external_id}, status=404)
    active = KnowledgeItemPause.objects.for_tenant(tenant).filter(external_id=external_id, resolved_at__isnull=True).first()
    if active is not None and active.content_sha256 == item_content_sha(item):
        return active, False
    with transaction.atomic():
        if active is not None:  # the item was edited since: that pause is over, this one is new
            KnowledgeItemPause.objects.filter(pk=active.pk).update(resolved_at=timezone.now(), resolved_by="item edited")
        try:
            with transaction.atomic():
                pause = KnowledgeItemPause.objects.create(tenant=tenant, external_id=external_id, content_sha256=item_content_sha(item),
                                                          reason=reason[:2000], marks=marks, paused_by=actor.label[:150])
        except IntegrityError:
            return KnowledgeItemPause.objects.get(tenant=tenant, external_id=external_id, resolved_at__isnull=True), False
        audit_record(actor=actor, action="kb.item_paused", tenant=tenant, obj=pause,
                     payload={"item": external_id, "marks": marks, "reason": reason[:200]})
    return pause, True


def kb_item_unpause(*, actor: Actor, pause_id: int, tenant: Client | None = None) -> bool:
    """Lift a pause (the bot answers from the item again). Idempotent. Audited `kb.item_unpaused`."""
    rows = KnowledgeItemPause.objects.all() if tenant is None else KnowledgeItemPause.objects.for_tenant(tenant)
    pause = rows.filter(pk=pause_id).first()
    if pause is None:
        raise ApplicationError(_("Pause %(id)s not found.") % {"id": pause_id}, status=404)
    updated = KnowledgeItemPause.objects.filter(pk=pause.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor.label[:150])
    if updated:
        audit_record(actor=actor, action="kb.item_unpaused", tenant=pause.tenant_id, obj=pause, payload={"item": pause.external_id})
    return bool(updated)


def kb_paused_items(tenant: Any, version: KnowledgeVersion | None) -> set[str]:
    """External ids of `version` the bot must not answer from now (active pauses whose item still
    has the paused content; an edited item is answered from again)."""
    if version is None:
        return set()
    pauses = {p.external_id: p.content_sha256 for p in KnowledgeItemPause.objects.for_tenant(tenant).filter(resolved_at__isnull=True)}
    if not pauses:
        return set()
    items = KnowledgeItem.objects.filter(version=version, external_id__in=list(pauses))
    return {i.external_id for i in items if item_content_sha(i) == pauses[i.external_id]}


def kb_pauses_active(tenant: Any) -> QuerySet[KnowledgeItemPause]:
    return KnowledgeItemPause.objects.for_tenant(tenant).filter(resolved_at__isnull=True)


def recent_since(days: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)
