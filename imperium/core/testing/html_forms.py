"""Re-submit an HTML form the way a browser would, for tests that post admin pages unchanged.

    data = form_data(response.content.decode(), form_id="knowledgeversion_form")
    client.post(url, data)

Collects what a browser sends for a form: named inputs (checkboxes and radios only when
checked; no submit, button, image or file inputs), textareas and the selected options of
selects (the first option of a single select when none is marked). Values are lists, as a
multi-valued POST needs; the Django test client accepts them as they are.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

_SKIPPED_INPUTS = {"submit", "button", "image", "file", "reset"}


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.found = False
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._textarea_text: list[str] = []
        self._select: str | None = None
        self._select_multiple = False
        self._select_options: list[tuple[str, bool]] = []
        self._option: dict[str, Any] | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if not self.found and (self.form_id is None or a.get("id") == self.form_id):
                self.in_form = self.found = True
            return
        if not self.in_form:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name")
            if not name or kind in _SKIPPED_INPUTS or "disabled" in a:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
                return
            self._add(name, a.get("value", ""))
        elif tag == "textarea" and a.get("name") and "disabled" not in a:
            self._textarea, self._textarea_text = a["name"], []
        elif tag == "select" and a.get("name") and "disabled" not in a:
            self._select, self._select_multiple, self._select_options = a["name"], "multiple" in a, []
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea_text.append(data)
        if self._option is not None:
            self._option["text"].append(data)

    def _close_option(self) -> None:
        if self._option is not None:
            value = self._option["value"] if self._option["value"] is not None else "".join(self._option["text"]).strip()
            self._select_options.append((value, self._option["selected"]))
            self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._textarea_text)
            # Browsers drop the one newline that follows <textarea>.
            self._add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None
        elif tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            chosen = [value for value, selected in self._select_options if selected]
            if not chosen and not self._select_multiple and self._select_options:
                chosen = [self._select_options[0][0]]
            for value in chosen:
                self._add(self._select, value)
            self._select = None


def form_data(html: str, form_id: str | None = None) -> dict[str, list[str]]:
    """The fields the form (the first one, or the one with this id) would post. Raises
    LookupError when the page has no such form."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    if not parser.found:
        raise LookupError(f"no <form{' id=' + form_id if form_id else ''}> on the page")
    return parser.data
