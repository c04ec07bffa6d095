"""Parse KB files: JSONL (one item a line, see eval README) or Markdown (`## question`
headings, the text under each one is its answer; long documents are chunked).

All-or-nothing: the first bad line raises `KBParseError` naming its line number."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from imperium.core.exceptions import ApplicationError

MAX_ANSWER_CHARS = 1500  # a longer Markdown section is split into parts of about this size


class KBParseError(ApplicationError):
    pass


@dataclass
class ParsedItem:
    external_id: str
    question: str
    answer: str
    tags: list[str] = field(default_factory=list)
    alt_questions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.external_id, "question": self.question, "answer": self.answer, "tags": self.tags,
                "alt_questions": self.alt_questions}


def detect_kind(file_name: str, content: str) -> str:
    lowered = file_name.lower()
    if lowered.endswith((".md", ".markdown", ".txt")):
        return "markdown"
    if lowered.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    return "jsonl" if content.lstrip().startswith("{") else "markdown"


def _string_list(value: object, line: int, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KBParseError(f"line {line}: '{name}' must be a list of strings.", {"line": line})
    return [v.strip() for v in value if v.strip()]


def parse_jsonl(content: str) -> list[ParsedItem]:
    items: list[ParsedItem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KBParseError(f"line {number}: not valid JSON ({exc.msg}); nothing was imported.", {"line": number}) from None
        if not isinstance(data, dict):
            raise KBParseError(f"line {number}: expected a JSON object; nothing was imported.", {"line": number})
        missing = [key for key in ("id", "question", "answer") if not isinstance(data.get(key), str) or not data[key].strip()]
        if missing:
            raise KBParseError(f"line {number}: missing or empty {', '.join(missing)}; nothing was imported.", {"line": number})
        external_id = data["id"].strip()
        if len(external_id) > 200:
            raise KBParseError(f"line {number}: id longer than 200 characters.", {"line": number})
        if external_id in seen:
            raise KBParseError(f"line {number}: duplicate id '{external_id}' (first on line {seen[external_id]}).", {"line": number})
        seen[external_id] = number
        items.append(
            ParsedItem(
                external_id=external_id,
                question=data["question"].strip(),
                answer=data["answer"].strip(),
                tags=_string_list(data.get("tags"), number, "tags"),
                alt_questions=_string_list(data.get("alt_questions"), number, "alt_questions"),
            )
        )
    if not items:
        raise KBParseError("the file has no items; nothing was imported.")
    return items


def _slug(text: str) -> str:
    slug = re.sub(r"[^0-9a-zа-яё]+", "-", text.lower()).strip("-")
    return slug[:60] or "item"


def _chunks(text: str, limit: int = MAX_ANSWER_CHARS) -> list[str]:
    if len(text) <= limit:
        return [text]
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        sentences = re.split(r"(?<=[.!?])\s+", paragraph)
        current = ""
        for sentence in sentences:
            if current and len(current) + len(sentence) + 1 > limit:
                pieces.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}".strip()
        if current:
            pieces.append(current)
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) + 2 > limit:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n\n{piece}".strip()
    if current:
        chunks.append(current)
    return chunks


def parse_markdown(content: str) -> list[ParsedItem]:
    """`## Question` starts an item; text until the next heading is the answer. An optional
    `Tags: a, b` line and `Also: other phrasing | another` line are read as metadata."""
    items: list[ParsedItem] = []
    question: str | None = None
    heading_line = 0
    body: list[str] = []
    used: set[str] = set()

    def flush() -> None:
        if question is None:
            return
        tags: list[str] = []
        alts: list[str] = []
        lines = []
        for line in body:
            lowered = line.strip().lower()
            if lowered.startswith(("tags:", "теги:")):
                tags = [t.strip() for t in line.split(":", 1)[1].split(",") if t.strip()]
            elif lowered.startswith(("also:", "ещё:", "еще:")):
                alts = [t.strip() for t in line.split(":", 1)[1].split("|") if t.strip()]
            else:
                lines.append(line)
        answer = "\n".join(lines).strip()
        if not answer:
            raise KBParseError(f"line {heading_line}: heading '{question}' has no answer text; nothing was imported.",
                               {"line": heading_line})
        base = _slug(question)
        for index, chunk in enumerate(_chunks(answer), start=1):
            external_id = base if index == 1 else f"{base}-{index}"
            suffix = 2
            while external_id in used:
                external_id = f"{base}-{index}-{suffix}"
                suffix += 1
            used.add(external_id)
            items.append(ParsedItem(external_id=external_id, question=question, answer=chunk, tags=tags, alt_questions=alts))

    for number, line in enumerate(content.splitlines(), start=1):
        match = re.match(r"^#{2,3}\s+(.+?)\s*#*\s*$", line)
        if match:
            flush()
            question, heading_line, body = match.group(1).strip(), number, []
        elif question is not None:
            body.append(line)
    flush()
    if not items:
        raise KBParseError("no '## question' headings found; nothing was imported.")
    return items


def parse_kb(file_name: str, content: str, kind: str | None = None) -> tuple[str, list[ParsedItem]]:
    kind = kind or detect_kind(file_name, content)
    return kind, (parse_markdown(content) if kind == "markdown" else parse_jsonl(content))
