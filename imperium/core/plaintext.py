"""Plain-text templates for messages people read in Telegram or WhatsApp.

Texts live in `<app>/templates/<app>/...txt` so wording (Russian) changes without touching code.
They are rendered without HTML autoescaping: Telegram messages are sent as plain text
(no parse_mode), so a customer's `<` or `&` must arrive as typed, not as `&lt;`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.template import Context, Engine

_BLANK_RUNS = re.compile(r"\n{3,}")


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return Engine(app_dirs=True, autoescape=False)


def render_plain(template_name: str, context: dict[str, Any] | None = None) -> str:
    """Render a text template: trailing spaces dropped, at most one blank line in a row."""
    text = _engine().get_template(template_name).render(Context(context or {}, autoescape=False))
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
