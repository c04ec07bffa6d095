"""Inline-button presses: a registry of callback actions and the handler that runs them
(how to add one: docs/TELEGRAM.md "Buttons (callback data)"; data format `<action>:<arg>...` ≤ 64 bytes,
`imperium.core.botapi.callback_data`).

What the handler guarantees around `CallbackAction.handle`: a press (keyed by Telegram's callback
query id) runs at most once to success and is always answered; refusals are audited; an exception
marks the press failed and propagates (retryable IntegrationError → the update is retried). A
worker can die after the service committed and before the press row says done, so actions must
still be guarded state changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from imperium.core.actors import Actor
from imperium.core.botapi.callback_data import CallbackDataError, callback_data_parse
from imperium.core.services import audit_record
from imperium.telegram import texts
from imperium.telegram.allowlist import allowed_user_get, allowlist_seed_from_settings
from imperium.telegram.choices import PressStatus, UpdateKind
from imperium.telegram.messaging import answer_callback
from imperium.telegram.models import TelegramAllowedUser, TelegramCallbackPress, TelegramUpdate
from imperium.telegram.router import UpdateHandler, register_handler
from imperium.telegram.updates import IncomingUpdate, TelegramUser

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackAnswer:
    text: str = texts.CALLBACK_DONE
    show_alert: bool = False


@dataclass
class ButtonPress:
    update: IncomingUpdate
    action: str
    args: list[str]
    user: TelegramUser
    allowed_user: TelegramAllowedUser | None
    actor: Actor
    row: TelegramCallbackPress

    @property
    def chat_id(self) -> int | None:
        return self.update.chat_id

    @property
    def message_id(self) -> int | None:
        return self.update.message_id

    @property
    def message(self) -> dict[str, Any] | None:
        """The message the button is on (None when Telegram no longer sends it)."""
        return self.update.message

    @property
    def message_text(self) -> str:
        return self.update.text


class CallbackAction:
    action: str = ""
    requires_allowlist: bool = True

    def authorize(self, press: ButtonPress) -> bool:
        return press.allowed_user is not None or not self.requires_allowlist

    def handle(self, press: ButtonPress) -> CallbackAnswer:
        raise NotImplementedError


CALLBACK_ACTIONS: dict[str, CallbackAction] = {}


def register_callback_action(cls: type[CallbackAction]) -> type[CallbackAction]:
    """Class decorator: register a button action under `cls.action`."""
    if not cls.action:
        raise ValueError(f"{cls.__name__} needs an action name")
    CALLBACK_ACTIONS[cls.action] = cls()
    return cls


def unregister_callback_action(action: str) -> None:
    CALLBACK_ACTIONS.pop(action, None)


def _press_claim(update: IncomingUpdate) -> tuple[TelegramCallbackPress, bool]:
    sender = update.sender
    assert sender is not None  # a callback_query always has 'from' (checked when parsed)
    defaults = dict(
        update=TelegramUpdate.objects.filter(update_id=update.update_id).first(),
        data=update.callback_data[:64], action=update.callback_data.split(":", 1)[0][:40], from_user_id=sender.id,
        from_label=sender.label[:150], chat_id=update.chat_id, message_id=update.message_id,
    )
    try:
        with transaction.atomic():
            return TelegramCallbackPress.objects.create(callback_query_id=update.callback_query_id, **defaults), True
    except IntegrityError:
        return TelegramCallbackPress.objects.get(callback_query_id=update.callback_query_id), False


def _finish(row: TelegramCallbackPress, status: str, answer: CallbackAnswer, error: str = "") -> None:
    TelegramCallbackPress.objects.filter(pk=row.pk).update(status=status, answer_text=answer.text[:200], error=error[:2000])
    answer_callback(row.callback_query_id, answer.text, show_alert=answer.show_alert)


@register_handler
class CallbackQueryHandler(UpdateHandler):
    name = "callback_query"
    priority = 10

    def matches(self, update: IncomingUpdate) -> bool:
        return update.kind == UpdateKind.CALLBACK_QUERY

    def process(self, update: IncomingUpdate) -> str:
        row, created = _press_claim(update)
        if not created and row.status == PressStatus.DONE:
            answer_callback(row.callback_query_id, row.answer_text)
            return "duplicate press: answered again"
        sender = update.sender
        assert sender is not None
        try:
            action_name, args = callback_data_parse(update.callback_data)
        except CallbackDataError:
            action_name, args = "", []
        action = CALLBACK_ACTIONS.get(action_name)
        if action is None:
            _finish(row, PressStatus.DONE, CallbackAnswer(texts.CALLBACK_STALE))
            return f"unknown button {update.callback_data[:64]!r}"
        allowlist_seed_from_settings()
        allowed = allowed_user_get(sender.id)
        actor = Actor.telegram(sender.id, sender.label)
        press = ButtonPress(update=update, action=action_name, args=args, user=sender, allowed_user=allowed, actor=actor, row=row)
        if not action.authorize(press):
            audit_record(
                actor=actor, action="telegram.callback_refused",
                payload={"data": update.callback_data[:64], "chat_id": update.chat_id, "message_id": update.message_id},
            )
            _finish(row, PressStatus.DONE, CallbackAnswer(texts.CALLBACK_FORBIDDEN, show_alert=True))
            return f"{action_name}: refused"
        try:
            answer = action.handle(press)
        except Exception as exc:
            _finish(row, PressStatus.FAILED, CallbackAnswer(texts.CALLBACK_FAILED, show_alert=True), f"{type(exc).__name__}: {exc}")
            raise
        _finish(row, PressStatus.DONE, answer)
        return f"{action_name}: done"
