"""Managers' notices: messages about conversations in the tenant's managers' chat (where each one
goes and how Telegram failures are handled: docs/TELEGRAM.md "Manager hand-over").

The notifier (`imperium.telegram.notifier.TelegramNotifier`, CONVERSATION_NOTIFIER) writes one
`ConversationNotice` per event and returns, so the pipeline makes no network call and inside a
caller's transaction only rows are written. After commit `telegram.notices_flush` hands the
conversation's waiting notices, in order, to the Telegram outbox (`incidents.alerts`), creating the
conversation's forum topic first when it needs one; `telegram.notices_sweep` retries what waits.
A worker dying right after createForumTopic leaves an empty topic behind; it never loses a notice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from conversations.choices import ConversationState, EscalationStatus
from conversations.models import Conversation, Escalation, OutboundMessage
from conversations.selectors import conversation_last_bot_answer, recent_messages
from imperium.core.botapi.callback_data import callback_data_build
from imperium.core.botapi.client import TelegramError, get_client
from imperium.core.botapi.keyboards import InlineButton, inline_keyboard
from imperium.telegram import texts
from imperium.telegram.choices import NoticeKind, NoticeStatus, TopicStatus
from imperium.telegram.models import ConversationNotice, ConversationTopic

logger = logging.getLogger(__name__)

TAKE_ACTION = "conversation.take_over"
RETURN_ACTION = "conversation.return_to_bot"
CLOSE_ACTION = "conversation.close"
WRONG_ACTION = "conversation.wrong"

TOPIC_CLAIM = timedelta(seconds=60)  # longer than a createForumTopic call can take
TOPIC_MAX_ATTEMPTS = 8  # with the backoff below: about an hour of Telegram outage
BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 600
SWEEP_GRACE = timedelta(seconds=20)  # fresh notices belong to the task queued on commit
SWEEP_BATCH = 200
FORUM_CACHE_SECONDS = 600
RECENT_MESSAGES = 10
MESSAGE_PREVIEW_CHARS = 500


@dataclass(frozen=True)
class Destination:
    chat_id: int | None  # None: the tenant has no chat (CEO chat fallback)
    topic_id: int | None
    in_topic: bool  # the conversation's own forum topic


class TopicBusy(Exception):
    """Another worker is creating this conversation's topic right now."""


# --- writing ------------------------------------------------------------------------------
def notice_write(
    *,
    conversation: Conversation,
    kind: str,
    key: str,
    escalation: Escalation | None = None,
    inbound_message: Any = None,
    with_buttons: bool = False,
    context: dict[str, Any] | None = None,
) -> ConversationNotice:
    """Record a notice for the tenant's managers and, after commit, queue its flush.

    Idempotent by `key` (e.g. `esc:<id>`): a repeated notifier call returns the first notice.
    No network call here; safe inside the caller's transaction (it commits or rolls back with it).
    """
    existing = ConversationNotice.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            notice = ConversationNotice.objects.create(
                tenant_id=conversation.tenant_id, conversation=conversation, escalation=escalation, inbound_message=inbound_message,
                kind=kind, key=key, with_buttons=with_buttons, text="", context=context or {},
            )
    except IntegrityError:  # the same event notified twice at once
        return ConversationNotice.objects.get(key=key)
    conversation_id = conversation.pk
    transaction.on_commit(lambda: _schedule_flush(conversation_id, 0), robust=True)
    return notice


def _schedule_flush(conversation_id: int, delay: float) -> None:
    from imperium.core.queueing import task_enqueue

    try:
        task_enqueue("telegram.notices_flush", (conversation_id,), countdown=delay if delay > 0 else None)
    except Exception:  # broker down: the notices are rows, the sweep flushes them
        logger.exception("could not queue the notice flush of conversation %s; the sweep will", conversation_id)


# --- flushing -----------------------------------------------------------------------------
def notices_flush(*, conversation_id: int, now: datetime | None = None) -> int:
    """Queue the conversation's waiting notices (oldest first) into the Telegram outbox.

    Each notice is claimed (waiting → queued) in one transaction with its outbox row, so
    concurrent flushes never queue one twice. When its topic cannot be created now (Telegram
    down), the notices wait with a backoff and a retry is scheduled. Returns how many were queued.
    """
    now = now or timezone.now()
    waiting = list(ConversationNotice.objects.filter(conversation_id=conversation_id, status=NoticeStatus.WAITING).order_by("id"))
    # Something must be due (a new notice, or the backoff of older ones has passed); once the
    # destination is known, the older ones go too, in order.
    if not any(n.next_attempt_at <= now + timedelta(seconds=1) for n in waiting):
        return 0
    conversation = Conversation.objects.select_related("tenant__settings").get(pk=conversation_id)
    try:
        destination = destination_resolve(conversation, now=now)
    except TopicBusy:
        _postpone(waiting, now=now, delay=5.0, error="the topic is being created by another worker", count=False)
        _schedule_flush(conversation_id, 5.0)
        return 0
    except TelegramError as exc:
        attempts = max(n.attempts for n in waiting) + 1
        delay = max(1.0, float(exc.retry_after) if exc.retry_after is not None else _backoff(attempts))
        _postpone(waiting, now=now, delay=delay, error=str(exc))
        logger.warning("notices of conversation %s wait %.0fs for their topic: %s", conversation_id, delay, exc)
        _schedule_flush(conversation_id, delay)
        return 0
    queued = 0
    for notice in waiting:
        if _queue(notice, conversation, destination, now=now):
            queued += 1
    return queued


def notices_sweep(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Beat job: flush every conversation with a waiting notice that is due (its task was lost,
    or Telegram was down). Returns the conversation ids flushed."""
    now = now or timezone.now()
    conversation_ids = list(
        ConversationNotice.objects.filter(status=NoticeStatus.WAITING, next_attempt_at__lte=now - SWEEP_GRACE)
        .order_by("next_attempt_at", "id").values_list("conversation_id", flat=True).distinct()[:limit]
    )
    flushed = []
    for conversation_id in dict.fromkeys(conversation_ids):
        try:
            notices_flush(conversation_id=conversation_id, now=now)
        except Exception:  # one broken conversation must not stop the others
            logger.exception("flushing the notices of conversation %s failed", conversation_id)
            continue
        flushed.append(conversation_id)
    return flushed


def _postpone(notices: list[ConversationNotice], *, now: datetime, delay: float, error: str, count: bool = True) -> None:
    fields: dict[str, Any] = {"next_attempt_at": now + timedelta(seconds=delay), "last_error": error[:2000]}
    if count:
        fields["attempts"] = F("attempts") + 1
    ConversationNotice.objects.filter(pk__in=[n.pk for n in notices], status=NoticeStatus.WAITING).update(**fields)


def _backoff(attempts: int) -> float:
    return float(min(BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1), BACKOFF_MAX_SECONDS))


def _queue(notice: ConversationNotice, conversation: Conversation, destination: Destination, *, now: datetime) -> bool:
    from incidents.alerts import telegram_message_enqueue, tenant_notify

    text = notice_render(notice, conversation, destination)
    markup = conversation_keyboard(conversation) if notice.with_buttons and destination.chat_id is not None else None
    if notice.kind == NoticeKind.BOT_ANSWER:
        markup = answer_keyboard(notice.context.get("turn")) if destination.chat_id is not None else None
    reply_to = None
    if destination.chat_id is not None and (
        notice.kind == NoticeKind.REMINDER
        or (notice.kind in (NoticeKind.CUSTOMER_MESSAGE, NoticeKind.BOT_ANSWER) and not destination.in_topic)
    ):
        reply_to = escalation_card_message_id(conversation, chat_id=destination.chat_id)
    with transaction.atomic():
        claimed = ConversationNotice.objects.filter(pk=notice.pk, status=NoticeStatus.WAITING).update(
            status=NoticeStatus.QUEUED, queued_at=now, text=text, chat_id=destination.chat_id, topic_id=destination.topic_id,
            last_error="",
        )
        if claimed != 1:
            return False
        key = f"tg-notice:{notice.pk}"
        if destination.chat_id is None:
            alert = tenant_notify(tenant=conversation.tenant, text=text, key=key, title=notice.get_kind_display())
        else:
            alert = telegram_message_enqueue(
                chat_id=destination.chat_id, topic_id=destination.topic_id, text=text, tenant=conversation.tenant, key=key,
                reply_markup=markup, reply_to_message_id=reply_to, title=notice.get_kind_display(),
            )
        if alert is None:
            raise RuntimeError(f"the Telegram outbox row for notice {notice.pk} could not be written")
        ConversationNotice.objects.filter(pk=notice.pk).update(alert=alert)
    notice.status, notice.text, notice.alert = NoticeStatus.QUEUED, text, alert
    return True


# --- where to --------------------------------------------------------------------------------
def destination_resolve(conversation: Conversation, *, now: datetime | None = None) -> Destination:
    """Where the conversation's notices go now (see the module docstring). May create the
    conversation's forum topic; raises a retryable TelegramError while Telegram is down, and
    TopicBusy while another worker creates the topic."""
    now = now or timezone.now()
    tenant_settings = conversation.tenant.settings
    chat_id = tenant_settings.telegram_chat_id
    if not chat_id:
        return Destination(chat_id=None, topic_id=None, in_topic=False)
    shared = Destination(chat_id=chat_id, topic_id=tenant_settings.telegram_topic_id or None, in_topic=False)
    if not settings.TELEGRAM_TOPIC_PER_CONVERSATION or not get_client().configured:
        return shared
    topic = ConversationTopic.objects.filter(conversation=conversation).first()
    if topic is None:
        try:
            with transaction.atomic():
                topic = ConversationTopic.objects.create(tenant_id=conversation.tenant_id, conversation=conversation, chat_id=chat_id)
        except IntegrityError:
            topic = ConversationTopic.objects.get(conversation=conversation)
    if topic.chat_id != chat_id:
        # The tenant moved to another chat: the old topic stays there, a new one is opened here.
        ConversationTopic.objects.filter(pk=topic.pk, chat_id=topic.chat_id).update(
            chat_id=chat_id, thread_id=None, status=TopicStatus.PENDING, attempts=0, claimed_until=None, last_error=""
        )
        topic.refresh_from_db()
    if topic.status == TopicStatus.CREATED and topic.thread_id:
        return Destination(chat_id=chat_id, topic_id=topic.thread_id, in_topic=True)
    if topic.status == TopicStatus.UNAVAILABLE:
        return shared
    return _topic_create(topic, conversation, now=now, fallback=shared)


def _topic_create(topic: ConversationTopic, conversation: Conversation, *, now: datetime, fallback: Destination) -> Destination:
    _raise_if_down()
    claimed = ConversationTopic.objects.filter(pk=topic.pk, status=TopicStatus.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(claimed_until=now + TOPIC_CLAIM, attempts=F("attempts") + 1)
    if claimed != 1:
        topic.refresh_from_db()
        if topic.status == TopicStatus.CREATED and topic.thread_id:
            return Destination(chat_id=topic.chat_id, topic_id=topic.thread_id, in_topic=True)
        if topic.status == TopicStatus.UNAVAILABLE:
            return fallback
        raise TopicBusy
    client = get_client()
    name = texts.render("conversation/topic_name", conversation=conversation)
    try:
        if not chat_is_forum(topic.chat_id):
            return _topic_unavailable(topic, "the chat is not a forum (topics are off)", fallback)
        result = client.create_forum_topic(chat_id=topic.chat_id, name=name)
    except TelegramError as exc:
        if exc.permanent:
            # E.g. the bot lacks "Manage topics": every conversation of this chat would fail alike.
            cache.set(_forum_cache_key(topic.chat_id), False, FORUM_CACHE_SECONDS)
            logger.warning("no topic for conversation %s in chat %s: %s", conversation.pk, topic.chat_id, exc)
            return _topic_unavailable(topic, str(exc), fallback)
        topic.refresh_from_db(fields=["attempts"])
        if topic.attempts >= TOPIC_MAX_ATTEMPTS:
            return _topic_unavailable(topic, f"gave up after {topic.attempts} attempts: {exc}", fallback)
        ConversationTopic.objects.filter(pk=topic.pk).update(claimed_until=None, last_error=str(exc)[:2000])
        _mark_down(exc)
        raise
    thread_id = int(result["message_thread_id"])
    ConversationTopic.objects.filter(pk=topic.pk).update(
        status=TopicStatus.CREATED, thread_id=thread_id, name=name[:128], claimed_until=None, last_error=""
    )
    logger.info("opened topic %s for conversation %s in chat %s", thread_id, conversation.pk, topic.chat_id)
    return Destination(chat_id=topic.chat_id, topic_id=thread_id, in_topic=True)


def _topic_unavailable(topic: ConversationTopic, reason: str, fallback: Destination) -> Destination:
    ConversationTopic.objects.filter(pk=topic.pk).update(status=TopicStatus.UNAVAILABLE, claimed_until=None, last_error=reason[:2000])
    return fallback


def _forum_cache_key(chat_id: int) -> str:
    return f"{settings.TELEGRAM_CACHE_KEY_PREFIX}:chat-is-forum:{chat_id}"


def _down_key() -> str:
    return f"{settings.TELEGRAM_CACHE_KEY_PREFIX}:notices:down-until"


def chat_is_forum(chat_id: int) -> bool:
    """Whether the chat has topics (getChat, remembered for 10 minutes). A chat Telegram does not
    know (400/403) is not a forum; a retryable failure raises."""
    key = _forum_cache_key(chat_id)
    known = cache.get(key)
    if known is not None:
        return bool(known)
    try:
        is_forum = bool(get_client().get_chat(chat_id=chat_id).get("is_forum"))
    except TelegramError as exc:
        if not exc.permanent:
            raise
        is_forum = False
    cache.set(key, is_forum, FORUM_CACHE_SECONDS)
    return is_forum


def _mark_down(exc: TelegramError) -> None:
    # Later notices (other conversations) skip the network until then instead of each waiting
    # for a timeout: the flush that failed has scheduled the retry.
    delay = float(exc.retry_after) if exc.retry_after is not None else BACKOFF_BASE_SECONDS
    cache.set(_down_key(), time.time() + delay, int(delay) + 1)


def _raise_if_down() -> None:
    until = cache.get(_down_key())
    if until is not None and until > time.time():
        raise TelegramError("Telegram was unavailable moments ago; waiting before the next call", permanent=False,
                            method="createForumTopic", retry_after=max(1.0, until - time.time()))


# --- what it says --------------------------------------------------------------------------
def _local(conversation: Conversation, when: datetime) -> datetime:
    try:
        zone = ZoneInfo(conversation.tenant.timezone)
    except Exception:  # a bad zone name must not block a notice
        zone = timezone.get_current_timezone()
    return timezone.localtime(when, zone)


def _message_preview(message: Any) -> str:
    if message.is_text:
        text = message.text.strip()
        return text if len(text) <= MESSAGE_PREVIEW_CHARS else text[: MESSAGE_PREVIEW_CHARS - 1] + "…"
    kind = texts.MESSAGE_TYPES.get(message.message_type, message.message_type)
    caption = f" {message.text.strip()}" if message.text.strip() else ""
    return f"[{kind}]{caption}"


def admin_conversation_url(conversation: Conversation) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("admin:conversations_conversation_change", args=[conversation.pk])


def notice_render(notice: ConversationNotice, conversation: Conversation, destination: Destination) -> str:
    """The notice's text as managers read it (Russian templates under templates/telegram/conversation/)."""
    in_topic = destination.in_topic
    if notice.kind == NoticeKind.ESCALATION:
        escalation = notice.escalation
        reason = escalation.reason if escalation is not None else "other"
        messages = [
            {"at": _local(conversation, m.received_at).strftime("%H:%M"), "text": _message_preview(m)}
            for m in recent_messages(conversation=conversation, limit=RECENT_MESSAGES)
        ]
        return texts.render(
            "conversation/escalation", tenant=conversation.tenant, conversation=conversation, in_topic=in_topic,
            reason=texts.ESCALATION_REASONS.get(reason, reason), messages=messages, url=admin_conversation_url(conversation),
        )
    if notice.kind == NoticeKind.CUSTOMER_MESSAGE:
        text = _message_preview(notice.inbound_message) if notice.inbound_message is not None else ""
        return texts.render("conversation/customer_message", conversation=conversation, in_topic=in_topic, text=text)
    if notice.kind == NoticeKind.BOT_ANSWER:
        text = (OutboundMessage.objects.for_tenant(conversation.tenant_id).filter(turn_id=notice.context.get("turn"), kind="reply")
                .values_list("text", flat=True).first() or "")
        return texts.render("conversation/bot_answer", conversation=conversation, in_topic=in_topic, text=text)
    return texts.render(
        "conversation/reminder", conversation=conversation, in_topic=in_topic, number=notice.context.get("number"),
        max=settings.ESCALATION_REMINDERS_MAX, waited=notice.context.get("waited_minutes"),
    )


def conversation_keyboard(conversation: Conversation) -> dict[str, Any] | None:
    """Buttons fitting the conversation's state now: «Взять» while it waits for a manager (or the
    bot has it), «Вернуть боту» while a manager holds it, «Закрыть» unless it is closed."""
    if conversation.state == ConversationState.CLOSED:
        return None
    waiting = Escalation.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation, status=EscalationStatus.OPEN).exists()
    row = []
    if conversation.state == ConversationState.BOT or waiting:
        row.append(InlineButton(texts.BUTTON_TAKE, callback_data_build(TAKE_ACTION, conversation.pk)))
    if conversation.state == ConversationState.HUMAN:
        row.append(InlineButton(texts.BUTTON_RETURN_TO_BOT, callback_data_build(RETURN_ACTION, conversation.pk)))
    row.append(InlineButton(texts.BUTTON_CLOSE, callback_data_build(CLOSE_ACTION, conversation.pk)))
    rows = [row]
    answered = conversation_last_bot_answer(conversation)
    if answered is not None:  # the bot answered before the hand-over: managers may say it was wrong
        rows.append([InlineButton(texts.BUTTON_WRONG_ANSWER, callback_data_build(WRONG_ACTION, answered.pk))])
    return inline_keyboard(rows)


def answer_keyboard(turn_id: Any) -> dict[str, Any] | None:
    """«❌ Бот ответил неверно» under a bot answer shown to the managers."""
    if not turn_id:
        return None
    return inline_keyboard([[InlineButton(texts.BUTTON_WRONG_ANSWER, callback_data_build(WRONG_ACTION, int(turn_id)))]])


def escalation_card_message_id(conversation: Conversation, *, chat_id: int) -> int | None:
    """Telegram message id of the conversation's latest escalation card in that chat, once sent."""
    return (
        ConversationNotice.objects.for_tenant(conversation.tenant_id)
        .filter(conversation=conversation, kind=NoticeKind.ESCALATION, alert__chat_id=str(chat_id), alert__sent_message_id__isnull=False)
        .order_by("-id").values_list("alert__sent_message_id", flat=True).first()
    )


def card_refresh(
    *, conversation: Conversation, chat_id: int, message_id: int, status_line: str, fallback_text: str = ""
) -> bool:
    """Edit a card (escalation or reminder) to its original text plus `status_line`, with the
    buttons of the conversation's state now. Cosmetic: a Telegram failure is logged, not raised
    (the state change it shows is already committed)."""
    from imperium.telegram.selectors import notice_for_message

    notice = notice_for_message(chat_id=chat_id, message_id=message_id)
    base = notice.text if notice is not None and notice.text else fallback_text
    text = f"{base}\n\n{status_line}".strip()
    try:
        get_client().edit_message_text(chat_id=chat_id, message_id=message_id, text=text, reply_markup=conversation_keyboard(conversation))
    except TelegramError as exc:
        logger.warning("could not update card %s in chat %s for conversation %s: %s", message_id, chat_id, conversation.pk, exc)
        return False
    return True


def status_line(kind: str, *, who: str, conversation: Conversation, by_reply: bool = False) -> str:
    # Formatted here: the template engine would show the time in UTC, managers read the tenant's.
    at = _local(conversation, timezone.now()).strftime("%H:%M")
    return texts.render(f"conversation/status_{kind}", who=who, at=at, by_reply=by_reply)
