"""Small helpers shared by the pipeline tests."""

from __future__ import annotations

from typing import Any

from conversations.answering.decision import Decision
from conversations.models import Conversation


class RecordingNotifier:
    """The notifier used by tests (CONVERSATION_NOTIFIER): remembers what managers were told."""

    escalations: list[Any] = []
    messages: list[Any] = []
    answers: list[Any] = []  # bot answers shown to the managers (turns)
    suggestions: list[Any] = []  # knowledge suggestion cards
    fail_next: int = 0

    @classmethod
    def reset(cls) -> None:
        cls.escalations, cls.messages, cls.answers, cls.suggestions, cls.fail_next = [], [], [], [], 0

    def _maybe_fail(self) -> None:
        if RecordingNotifier.fail_next:
            RecordingNotifier.fail_next -= 1
            raise ConnectionError("telegram is down")

    def escalation_opened(self, escalation: Any) -> None:
        self._maybe_fail()
        RecordingNotifier.escalations.append(escalation)

    def customer_message_while_human(self, inbound_message: Any) -> None:
        self._maybe_fail()
        RecordingNotifier.messages.append(inbound_message)

    def bot_answered(self, turn: Any) -> None:
        self._maybe_fail()
        RecordingNotifier.answers.append(turn.pk)

    def knowledge_suggestion(self, suggestion: Any) -> None:
        RecordingNotifier.suggestions.append(suggestion.pk)


class Answering:
    """A stand-in for `decide_reply` that answers (the real brain is another issue's)."""

    def __init__(self, text: str = "Маникюр стоит 5000 ₸.", *, action: str = "answer", reason: str = "", raises: Exception | None = None,
                 **fields: Any) -> None:
        self.text, self.action, self.reason, self.raises, self.fields = text, action, reason, raises, fields
        self.calls: list[dict[str, Any]] = []

    def __call__(self, tenant: Any, conversation: Any, messages: Any, *, kb_version: Any = None, release: Any = None) -> Decision:
        self.calls.append({"messages": list(messages), "kb_version": kb_version, "release": release, "conversation": conversation})
        if self.raises is not None:
            raise self.raises
        fields = {"confidence": 0.91, "sources": ["price-manicure"], "timings": {"rag_ms": 4.5, "llm_ms": 0.0, "qc_ms": 0.7},
                  "scores": {"top": 0.91}, "kb_version": 3, "release": "r1", **self.fields}
        return Decision(action=self.action, text=self.text if self.action == "answer" else "", reason=self.reason, **fields)


def conversation_of(tenant: Any, phone: str = "+77011234567") -> Conversation:
    from conversations.customers import customer_key

    return Conversation.objects.get(tenant=tenant, customer_key=customer_key(phone))


def conversation_new(tenant: Any, *, key: str = "k1", phone: str = "+77011234567") -> Conversation:
    """A conversation row made directly (no webhook), for tests of what happens after the claim."""
    from django.utils import timezone

    now = timezone.now()
    return Conversation.objects.create(tenant=tenant, customer_key=key, customer_phone=phone,
                                       customer_phone_masked=f"{phone[:5]}•••{phone[-4:]}", created_at=now, updated_at=now)
