"""Parsing JSON from outside callers without letting the body break the process or the database.

`json.loads` alone is not enough for bodies we store:
- deep nesting raises `RecursionError` (an uncaught 500) or builds values Postgres refuses;
- `NaN`, `Infinity` and numbers like `1e400` (parsed as infinity) are not JSON for Postgres;
- a `\\ud800` escape decodes to a lone surrogate that cannot be encoded as UTF-8, and `\\u0000`
  is refused by Postgres text and jsonb columns.

`loads_safe` raises `UnsafeJSON` (a ValueError) for anything that cannot be stored and returns
the value with every string normalised (lone surrogates -> U+FFFD, NUL removed), keys included.
The walk only visits containers and strings, so a flat webhook body costs a few microseconds.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


class UnsafeJSON(ValueError):
    """The body is not JSON we can store; `str(exc)` says why (safe to show the caller)."""


def _refuse_constant(name: str) -> Any:
    raise UnsafeJSON(f"{name} is not a JSON number")


_decoder = json.JSONDecoder(parse_constant=_refuse_constant)


def text_clean(value: str) -> str:
    """`value` with lone surrogates replaced by U+FFFD and NUL characters removed."""
    if _UNSAFE_TEXT.search(value) is None:
        return value
    return _SURROGATES.sub("\ufffd", value.replace("\x00", ""))


def _clean(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return text_clean(value)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise UnsafeJSON(f"nested deeper than {MAX_DEPTH} levels")
        return {text_clean(k): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise UnsafeJSON(f"nested deeper than {MAX_DEPTH} levels")
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise UnsafeJSON("number out of range")
    return value


def loads_safe(body: bytes | str) -> Any:
    """Decode a UTF-8 JSON body into storable values. Raises UnsafeJSON, never anything else."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
    except UnicodeDecodeError:
        raise UnsafeJSON("body is not UTF-8") from None
    try:
        value = _decoder.decode(text)
    except UnsafeJSON:
        raise
    except RecursionError:
        raise UnsafeJSON(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        raise UnsafeJSON(f"body is not JSON: {getattr(exc, 'msg', exc)}") from None
    return _clean(value, 0)


def storable_text(body: bytes) -> str:
    """Raw bytes as text a Postgres text column accepts (invalid UTF-8 replaced, NUL shown as `\\0`)."""
    return _SURROGATES.sub("\ufffd", body.decode("utf-8", errors="replace")).replace("\x00", "\\0")
