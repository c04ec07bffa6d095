"""The format of inline-button callback data: `<action>:<arg>[:<arg>...]`, at most 64 bytes.

- `action`: lower-case latin letters, digits, `_` and `.`, starting with a letter, ≤ 32
  characters, named like the write-risk actions (`alert.ack`, `conv.take`, `conv.close`).
- `args`: short strings without `:` (usually database ids). Never put secrets or personal
  data in them: Telegram stores callback data with the message, and every chat member's
  client receives it.

A base piece (imports no app), so services in any layer can build buttons.
"""

from __future__ import annotations

import re

MAX_BYTES = 64
SEPARATOR = ":"
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,31}$")


class CallbackDataError(ValueError):
    pass


def callback_data_build(action: str, *args: object) -> str:
    """'alert.ack', 42 -> 'alert.ack:42'. Raises CallbackDataError when it cannot be sent."""
    if not _ACTION.match(action):
        raise CallbackDataError(f"bad callback action {action!r}")
    parts = [str(arg) for arg in args]
    if any(SEPARATOR in part or not part for part in parts):
        raise CallbackDataError(f"callback args must be non-empty and free of {SEPARATOR!r}: {parts!r}")
    data = SEPARATOR.join([action, *parts])
    if len(data.encode()) > MAX_BYTES:
        raise CallbackDataError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def callback_data_parse(data: str) -> tuple[str, list[str]]:
    """'alert.ack:42' -> ('alert.ack', ['42']). Raises CallbackDataError for anything else."""
    if not data or len(data.encode()) > MAX_BYTES:
        raise CallbackDataError("empty or oversized callback data")
    action, *args = data.split(SEPARATOR)
    if not _ACTION.match(action) or any(not arg for arg in args):
        raise CallbackDataError(f"malformed callback data {data!r}")
    return action, args
