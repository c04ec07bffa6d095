"""What a manager's answer to an escalated question teaches the knowledge base: pure text logic,
no database. `knowledge.suggestions` turns the verdicts into suggestion rows.

- `personal_reason`: why a reply must never become knowledge (the customer's name, a specific
  date, a personal promise), or "" when it is general;
- `facts`: the numbers/times and content stems a text states;
- `same_facts`: whether a reply states the facts of an existing item (then the customer only
  phrased the question differently: an alternative phrasing), or facts the item lacks;
- `meaning_key` / `same_meaning`: two customers asking the same thing in (nearly) the same words,
  so five customers make one suggestion with a count of five.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge import kazakh, semantics
from knowledge import text as T
from knowledge import translit as latin

# Reasons whose hand-overs are never knowledge: the manager answered one person's situation.
PERSONAL_REASONS = frozenset({"booking", "complaint", "toxic", "injection", "non_text", "delivery_failed", "manager_requested"})

_MONTHS = (
    "январ", "феврал", "март", "апрел", "ма[яй]", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр",
)
_SPECIFIC_DATE = re.compile(
    r"(?<!\d)\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?(?!\d)"  # 15.03, 15/03/2026
    r"|(?<!\d)\d{1,2}\s*(?:-?го\s+)?(?:" + "|".join(_MONTHS) + r")"  # 15 марта
    r"|\b(?:сегодня|завтра|послезавтра|вчера)\b",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b(?:перезвон\w*|позвон\w* вам|напиш(?!ет\b|ут\b)\w* вам|запиш\w* вас|записал\w*|забронир\w*|ваш\w* запис\w*|для вас"
    r"|вам (?:сделаем|сделают|вернем|вернём|пришлем|пришлём)"
    r"|верн\w* (?:вам )?деньги|компенсир\w*|ваш заказ|ваш\w* мастер|я (?:лично|уточню|узнаю|передам|посмотрю|проверю)"
    r"|уточн\w* и (?:напиш|перезвон|сообщ)\w*)",
    re.IGNORECASE,
)


_RELATIVE_DAY = re.compile(r"\b(?:сегодня|завтра|послезавтра|вчера)\b")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[./](\d{1,2})")
# "индекс 1.6", "1.5 — 32 000 ₸": a decimal, not the 1st of June (a date writes its month with two digits: "1.06").
_DECIMAL = re.compile(r"\d{1,2}\.\d(?![\d./])")
_UNTIL = re.compile(r"(?:\bдо|\bпо)\s*$")


def _personal_date(folded: str) -> bool:
    """The reply names one customer's day: "сегодня"/"завтра", or a single date that is not a
    limit ("Запишем на 15.03", "ждём 16 декабря"). A calendar is the business's knowledge: two or
    more dates ("1–2 января и 21–23 марта закрыты; 8 марта работаем до 15:00" — a holiday schedule),
    or a date an offer runs until ("Акции до 30 сентября"). "77/8" is a building number, not a date."""
    if _RELATIVE_DAY.search(folded):
        return True
    dates = []
    for match in _SPECIFIC_DATE.finditer(folded):
        numeric = _NUMERIC_DATE.match(match.group(0))
        if numeric and not (1 <= int(numeric.group(1)) <= 31 and 1 <= int(numeric.group(2)) <= 12):
            continue
        if _DECIMAL.fullmatch(match.group(0)):
            continue
        dates.append(match)
    if len({m.group(0) for m in dates}) != 1:
        return False
    return not all(_UNTIL.search(folded[:m.start()]) for m in dates)


def personal_reason(reply: str, *, customer_name: str = "") -> str:
    """Why `reply` is about one customer and must not become knowledge ("" when it is general)."""
    folded = T.fold(reply)
    for part in (customer_name or "").split():
        part = T.fold(part.strip(".,!?"))
        if len(part) >= 3 and re.search(rf"(?<![a-zа-я]){re.escape(part)}", folded):
            return "customer_name"
    if _personal_date(folded):
        return "specific_date"
    if _PROMISE.search(folded):
        return "personal_promise"
    return ""


@dataclass(frozen=True)
class Facts:
    numbers: frozenset[str]
    terms: frozenset[str]  # content roots (no filler words)

    @property
    def empty(self) -> bool:
        """Nothing to learn: no number and fewer than two content words ("Хорошо, ждём вас!")."""
        return not self.numbers and len(self.terms) < 2


def content_roots(text: str) -> set[str]:
    roots = set()
    for word in T.words(T.normalize(text)):
        if word.isdigit() or len(word) < 3 or T.is_filler(word):
            continue
        roots.add(T.root(T.stem(word)))
    return roots


def facts(text: str) -> Facts:
    return Facts(numbers=frozenset(T.numbers_in(text)), terms=frozenset(content_roots(text)))


_PERCENT = re.compile(r"(\d+)\s*%")
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})(?!\d)")


def typed_numbers(text: str) -> set[str]:
    """The numbers a text states with what they measure: clock times, percentages and quantities
    with their unit ("15:00", "15 %" and "15 минут" are three different facts)."""
    folded = T.fold(text)
    typed = {f"{int(h)}:{m}" for h, m in _CLOCK.findall(folded)}
    typed |= {f"{int(n)}%" for n in _PERCENT.findall(folded)}
    typed |= {f"{n} {unit}" for n, unit in T.quantity_units(folded).items()}
    return typed


def same_facts(reply: str, item_answer: str) -> bool:
    """The reply states what the item already says: every number/time of the reply is in the item,
    each with what it measures (a 15 % discount is not the 15:00 of a schedule), and most of the
    reply's content words are the item's too: equal numbers about other things are other facts (a
    sedation that costs what an anaesthesia costs, "up to 12 children" and "12 lessons"). Only a
    short reply that is mostly two or more typed values ("open 10:00 to 21:00") stands on its
    numbers. With no number to compare, the reply must also restate most of the item."""
    mine, theirs = facts(reply), facts(item_answer)
    if mine.empty:
        return False
    common = len(mine.terms & theirs.terms)
    if mine.numbers:
        typed = typed_numbers(reply)
        if not typed <= typed_numbers(item_answer) or not mine.numbers <= theirs.numbers:
            return False
        if not mine.terms or common >= 0.5 * len(mine.terms):
            return True
        return len(typed) >= 2 and len(mine.terms) <= 3
    # Words alone: most of the reply's words are the item's, and the reply restates most of the item
    # (a short reply whose words all occur in a broad overview item states a relation the overview lacks:
    # "ballet only in the centre" against a list of styles and a list of studios).
    return common >= max(1, round(0.6 * len(mine.terms))) and common >= 0.5 * len(theirs.terms)


def same_answer(a: str, b: str) -> bool:
    """Two replies state the same facts: the same numbers/times and mostly the same content words."""
    fa, fb = facts(a), facts(b)
    if fa.numbers != fb.numbers:
        return False
    union = fa.terms | fb.terms
    return not union or len(fa.terms & fb.terms) / len(union) >= 0.6


def meaning_key(question: str) -> str:
    """A stable key of what the question asks (sorted content roots, asks-price/hours marks)."""
    normalized = T.normalize(question)
    marks = [m for m, hit in (("#price", T.asks_price(normalized)), ("#hours", T.asks_hours(normalized))) if hit]
    return " ".join(sorted(content_roots(question)) + marks)[:500]


def similarity(key_a: str, key_b: str) -> float:
    a, b = set(key_a.split()), set(key_b.split())
    if not a or not b:
        return 1.0 if key_a == key_b else 0.0
    return len(a & b) / len(a | b)


def same_meaning(key_a: str, key_b: str, *, threshold: float = 0.5) -> bool:
    return similarity(key_a, key_b) >= threshold


_INTERROGATIVES = frozenset(T.words(T.fold(
    "сколько скока скоко сколко где когда как какой какая какое какие каких каком какую кто кому чем что почему зачем куда "
    "откуда можно ли есть нужно надо бывает бывают работаете делаете принимаете "
    "what how where when who which do does is are can "
    "канша кай кашан кандай калай кимге бар ма ме ба бе па пе")))


def asks(message: str) -> bool:
    """The message asks something (a question mark, a question word or an aspect cue), as opposed
    to a statement of the customer's situation ("я в Самал поеду на машине")."""
    if "?" in message:
        return True
    normalized = T.normalize(message)
    if T.asks_price(normalized) or T.asks_hours(normalized) or T.aspects_asked(normalized)[0]:
        return True
    return any(w in _INTERROGATIVES or (w.isascii() and T.translit(w) in _INTERROGATIVES) for w in T.words(normalized))


def names_topic(message: str) -> bool:
    """The message only names a thing ("линзы цветные", "возврат", "маникюр гель-лак"): it does not ask, and it has no
    verb and no number (not the customer's situation: "я в Самал поеду на машине", "дочке 6 лет")."""
    if asks(message) or re.search(r"\d", message):
        return False
    words = T.words(T.normalize(message))
    return bool(words) and len(words) <= 4 and not any(semantics.is_verb_form(w) for w in words)


_LABEL = re.compile(r"^\s*((?:[^:;—–\-.!?()\d]|(?<=\w)-(?=\w)){3,80}?)\s*(?::|\s[—–-]\s)")
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")
TOPIC_WORDS = 6
_LIST_LABEL = re.compile(r"(?:^|[.;!?]\s+)(?:[^\s:;.!?\d]+\s+){0,2}[^\s:;.!?\d]+:")


def answer_topic(answer: str, question: str = "") -> str:
    """The label the manager's answer opens with, what it is about: "Форма: …", "Пробное занятие —
    1 000 ₸…" → "Форма", "Пробное занятие" (one to four words, no number). "" when there is none,
    and when the answer is a list of labelled parts ("Центр: …; Юго-Восток: …"): its first label
    names one part, not the topic. The customer's question names only what one customer asked;
    the label is the business's name for the whole answer (as its own question would be). A list
    of parts may label them with dashes too ("На Абая — платная парковка…. На Орбите — …"): when
    those labels are variants of what `question` asks (`answer_parts`), the first is a branch, not
    the topic; as the learned item's phrasing it answered "где вы на Абая?"."""
    match = _LABEL.match(_PARENTHETICAL.sub("", answer or ""))
    if not match or len(_LIST_LABEL.findall(answer)) > 1:
        return ""
    if question and answer_parts(answer) and not answer_parts(answer, question):
        return ""
    label = _name_part(match.group(1).strip())
    return label if 1 <= len(content_roots(label)) <= TOPIC_WORDS and len(T.words(T.normalize(label))) <= 8 else ""


def _name_part(label: str) -> str:
    """The naming words of a label, before its first verb: "Бокс на Аль-Фараби работает" → "Бокс на
    Аль-Фараби", "Дизайн оплачивается дополнительно к покрытию" → "Дизайн" (what follows the verb is
    a statement about the topic, not its name: "покрытию" would make the design price claim every
    question about a coating)."""
    kept = []
    for word in label.split():
        if any(semantics.is_verb_form(w) for w in T.words(T.normalize(word))):
            # Before a verb, a phrase opening with a preposition is a circumstance ("На Рыскулова есть зона
            # отдыха", "С острой болью принимаем…"), not the subject the answer is about.
            return "" if kept and T.fold(kept[0]) in _PREPOSITIONS else " ".join(kept)
        kept.append(word)
    return " ".join(kept)


_PREPOSITIONS = frozenset("в во на с со у по для до от к ко за из при о об без через".split())


_PART_LABEL = re.compile(r"(?:^|[.;]\s+)([^:;,.!?()\d—–]{2,40}?)\s*(?::|\s[—–]\s)")
# An answer opening with two parallel labelled values in one sentence: "Заезд — с 14:00, выезд — до 12:00." (the
# answer is about check-in and check-out, while the customer asked about one of them).
_PAIRED = re.compile(r"\s*([А-ЯЁA-Z][^:;,.!?\d—–]{1,40}?)\s[—–]\s[^;,!?—–]+,\s+([^:;,.!?\d—–]{2,40}?)\s[—–]\s[^;,!?—–]+?(?:\.\s|\.?$)")


def answer_parts(answer: str, question: str = "") -> str:
    """The section labels of an answer that lists two or three labelled parts ("Хирург-имплантолог —
    …, принимает в обоих филиалах. Ортодонт — …, только на Левом берегу." → "Хирург-имплантолог,
    Ортодонт"): together they name the answer's topic, as the business's own question would ("Кто у
    вас хирург и ортодонт?"), while the customer's question names one part. Labels start with a
    capital letter (a section); lowercase list entries ("классический педикюр — 1 час; педикюр с
    покрытием — 2 часа") and longer lists are left out: as question words they would let a
    duration table claim every question about a service it lists. "" otherwise.

    Nor when the labels are variants of what the customer asked (`question`): what it asks is
    stated under two or more of them ("парковка есть?" — "Толе би: бесплатная парковка…; Самал:
    своей парковки нет…"). Such labels are branches or groups, not the topic; as question words
    they would let the parking item answer "где вы на Толе би?"."""
    found = [m for m in _PART_LABEL.finditer(answer or "")]
    kept = [m for m in found if 1 <= len(T.words(T.normalize(m.group(1).strip()))) <= 3
            and content_roots(m.group(1)) and m.group(1).strip()[0].isupper()]
    labels = [m.group(1).strip() for m in kept]
    if not labels and (pair := _PAIRED.match(_PARENTHETICAL.sub("", answer or ""))):
        # Not a circumstance ("…, у малышей — 2 500 ₸": who pays the other price, not a second topic).
        labels = [] if T.fold(pair.group(2).split()[0]) in _PREPOSITIONS else [pair.group(1).strip(), pair.group(2).strip()]
    if not 2 <= len(labels) <= 3:
        return ""
    # A section that only states a notice period ("Заказ — минимум за 5 дней.") is a condition of the answer's topic,
    # not a part of it: as a question word, "заказ" let the tiered-cake item answer "за сколько дней заказывать торт?".
    notice = {m.group(1).strip() for m in kept if _notice_only(_sentence_after(answer, m.end()))}
    if len([label for label in labels if label not in notice]) < 2:
        return ""
    labels = [label for label in labels if label not in notice]
    asked = content_roots(question)
    if asked:
        bodies = [answer[m.end():(found[i + 1].start() if i + 1 < len(found) else len(answer))] for i, m in enumerate(found)
                  if m in kept]
        if any(sum(1 for body in bodies if root in content_roots(body)) >= 2 for root in asked):
            return ""
    return ", ".join(dict.fromkeys(labels))


def _sentence_after(text: str, start: int) -> str:
    end = re.search(r"[.;!?](?:\s|$)", text[start:])
    return text[start:start + end.start()] if end else text[start:]


def _notice_only(body: str) -> bool:
    """The body states a notice period and nothing else ("минимум за 5 дней"): T.states_lead_time, at most the
    period's own words."""
    return T.states_lead_time(body) and len(content_roots(body)) <= 2


def guess_tags(question: str, answer: str) -> list[str]:
    normalized = T.normalize(question)
    tags = ["learned"]
    if T.asks_price(normalized) or T.has_money(answer):
        tags.append("price")
    if T.asks_hours(normalized) or T.has_clock_time(answer):
        tags.append("hours")
    return tags


_KAZAKH_ATTRIBUTIVE = ("дагы", "деги", "тагы", "теги")


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _snap(word: str, vocabulary: set[str]) -> str:
    """A transliterated word as the manager spelled it ("маникур" → "маникюр" when the answer says so)."""
    if len(word) < 5 or word in vocabulary:
        return word
    close = sorted(v for v in vocabulary if len(v) >= 5 and (_one_edit(v, word) or _one_edit(T.stem(v), T.stem(word))))
    return close[0] if close else word


def _latin_name(word: str, answer: str) -> str:
    """The Latin name of `answer` a Cyrillic word of the customer's sounds like ("макбук" → "macbook" when the answer
    writes "MacBook", "айфон" → "iphone"), or "" (as the query side's sound index reads a customer's word, BR)."""
    if len(word) < 4 or word.isascii():
        return ""
    skeletons = {latin.cyrillic_sound(probe) for probe in (word, T.stem(word))}
    for name in sorted(set(T.words(T.normalize(answer)))):
        if name.isascii() and name.isalpha() and len(name) >= 3 and any(
                skeleton in skeletons and latin.sound_consonants(skeleton) >= 2 for skeleton in latin.latin_sound(name)):
            return name
    return ""


def russian_phrasing(question: str, answer: str = "") -> str:
    """The customer's question in the knowledge base's language, or "" when it already is: a
    Latin transliteration ("skolko stoit manikur") written in Cyrillic, Kazakh and English words
    replaced by the Russian words the query side maps them to (the same lexicon), filler dropped.
    A learned item keeps the customer's words and gets this as an alternative phrasing, so a
    Russian paraphrase finds the item by its question (a Kazakh question alone is matched only
    through its answer, where a neighbouring item that mentions the topic can win). A
    transliterated word one edit away from a word of `answer` takes the answer's spelling."""
    normalized = T.normalize(question)
    vocabulary = set(T.words(T.normalize(answer)))
    lowered = question.lower()
    foreign = bool(re.search("[a-z]", lowered)) or bool(kazakh.KAZAKH_LETTERS & set(lowered)) or kazakh.looks_kazakh(lowered)
    source = set(T.words(T.fold(question))) if foreign else set(T.words(normalized))
    out: list[str] = []
    changed = False
    for word in T.words(normalized):
        rendered: str | None = word
        if word not in source and not word.isdigit() and not word.isascii():
            # read by `T.normalize` from Latin-script Russian, Kazakh or English ("banya est'" → «баня есть»)
            rendered = _snap(word, vocabulary)
            changed = True
        elif word.isascii() and not word.isdigit():
            english = T.ENGLISH.get(word, T.ENGLISH.get(T.stem(word), "?"))
            rendered = _snap(T.translit(word), vocabulary) if english == "?" else english
        elif not word.isascii():
            found, russian = T.kazakh_lookup(word)
            if found:
                rendered = russian
            elif len(word) > 7 and word.endswith(_KAZAKH_ATTRIBUTIVE):
                rendered = word[:-4]  # "самалдағы" (the one in Samal) → "самал"
            elif name := _latin_name(word, answer):
                rendered = name  # "аккумулятор макбук" of an answer writing "MacBook": the name as the business writes it
        changed = changed or rendered != word
        if rendered:
            out.append(rendered)
    phrasing = " ".join(out)
    return phrasing if changed and content_roots(phrasing) else ""


def slug_for(question: str, *, limit: int = 4) -> str:
    words = [w for w in T.words(T.normalize(question)) if not T.is_filler(w) and len(w) > 2]
    ascii_words = [re.sub(r"[^a-z0-9]", "", _latin(w)) for w in words][:limit]
    return "-".join(w for w in ascii_words if w) or "question"


_LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch",
    "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})


def _latin(word: str) -> str:
    return word.translate(_LATIN)
