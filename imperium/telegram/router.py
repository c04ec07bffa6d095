"""The update router: small handler classes, tried in priority order, first match wins.

    @register_handler
    class ManagerReplyHandler(UpdateHandler):
        name = "manager_reply"
        priority = 30            # built-ins: callbacks 10, commands 20; lower runs first
        def matches(self, update: IncomingUpdate) -> bool: ...
        def process(self, update: IncomingUpdate) -> str: ...   # a short outcome for the update row

`process` runs in a Celery task, once per stored update, and must be idempotent: after a worker
crash or a retryable error (IntegrationError with permanent=False, e.g. a 429) the same update is
processed again; any other exception marks it failed (an ErrorLog). Handler modules are imported
by `imperium/telegram/handlers/`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from imperium.telegram.updates import IncomingUpdate

logger = logging.getLogger(__name__)


class UpdateHandler:
    name: str = ""
    priority: int = 100

    def matches(self, update: IncomingUpdate) -> bool:
        raise NotImplementedError

    def process(self, update: IncomingUpdate) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class DispatchResult:
    handler: str
    outcome: str


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: list[UpdateHandler] = []

    def register(self, handler: UpdateHandler) -> UpdateHandler:
        if not handler.name:
            raise ValueError(f"{type(handler).__name__} needs a name")
        # Re-registering a name (module reloaded in tests) replaces the old instance.
        self._handlers = [h for h in self._handlers if h.name != handler.name]
        self._handlers.append(handler)
        self._handlers.sort(key=lambda h: (h.priority, h.name))
        return handler

    def unregister(self, name: str) -> None:
        self._handlers = [h for h in self._handlers if h.name != name]

    @property
    def handlers(self) -> list[UpdateHandler]:
        return list(self._handlers)

    def dispatch(self, update: IncomingUpdate) -> DispatchResult:
        # Managers and the CEO read Russian: what services say while handling the update (a refusal,
        # a stale request) comes in TELEGRAM_LANGUAGE (locale/), the admin and the CLI stay English.
        with translation.override(settings.TELEGRAM_LANGUAGE):
            for handler in self._handlers:
                if handler.matches(update):
                    return DispatchResult(handler=handler.name, outcome=(handler.process(update) or "")[:200])
        return DispatchResult(handler="", outcome="ignored: no handler matches")


registry = HandlerRegistry()


def register_handler(cls: type[UpdateHandler]) -> type[UpdateHandler]:
    """Class decorator: instantiate and register a handler."""
    registry.register(cls())
    return cls
