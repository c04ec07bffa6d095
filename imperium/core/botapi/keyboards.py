"""Inline keyboards for Bot API messages: buttons as data, rendered to `InlineKeyboardMarkup` JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_CALLBACK_DATA_BYTES = 64


@dataclass(frozen=True)
class InlineButton:
    """One inline keyboard button. `callback_data` must fit Telegram's 64-byte limit."""

    text: str
    callback_data: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        if self.url:
            return {"text": self.text, "url": self.url}
        if len(self.callback_data.encode()) > MAX_CALLBACK_DATA_BYTES:
            raise ValueError(f"callback_data over {MAX_CALLBACK_DATA_BYTES} bytes: {self.callback_data!r}")
        return {"text": self.text, "callback_data": self.callback_data}


def inline_keyboard(rows: list[list[InlineButton]]) -> dict[str, Any]:
    """An `InlineKeyboardMarkup` object (JSON-ready dict) from rows of buttons."""
    return {"inline_keyboard": [[button.as_dict() for button in row] for row in rows]}
