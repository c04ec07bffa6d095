"""GT (docs/EVAL.md): which things a customer names are the business's served things a general item answers of.
Invented business; no database needed."""

from __future__ import annotations

from knowledge import matching as M

DOCS = [
    M.ItemDoc("prices", "Сколько стоит ремонт обуви?",
              "Ремонт обуви: сапоги — замена молнии 5 000 ₸; кроссовки — подклейка 4 000 ₸; "
              "обувь гостей отеля «Сапожок» на Абая — 2 000 ₸."),
    M.ItemDoc("urgent", "Делаете срочный ремонт?", "Срочный ремонт — за 1 день, наценка 50 %."),
    M.ItemDoc("warranty", "Есть ли гарантия на ремонт?", "Гарантия на работу — 30 дней."),
    M.ItemDoc("limits", "Что вы не делаете?", "Кроссовки срочно не ремонтируем: клей сохнет сутки."),
    M.ItemDoc("address", "Где вы находитесь?", "Алматы, ул. Абая, 3."),
]


def _segment(snapshot: M.KBSnapshot, text: str) -> M.Segment:
    [segment] = snapshot.segments([text])
    return segment


def test_a_thing_is_served_when_a_price_list_names_it():
    snapshot = M.KBSnapshot(DOCS, relations=("materials",))
    assert [t.text for t in snapshot.servable(_segment(snapshot, "гарантия на сапоги есть"))] == ["сапоги"]
    # not priced anywhere; a person; a capitalized name; what something is for
    assert snapshot.servable(_segment(snapshot, "гарантия на велосипед есть")) == []
    assert snapshot.servable(_segment(snapshot, "гарантия для гостей есть")) == []
    assert snapshot.servable(_segment(snapshot, "на абая гарантия есть")) == []
    assert snapshot.servable(_segment(snapshot, "гарантия для сапог есть")) == []


def test_a_thing_named_where_the_business_refuses_what_is_asked_is_not_generalised():
    snapshot = M.KBSnapshot(DOCS, relations=("materials",))
    # «Кроссовки срочно не ремонтируем» refuses the urgency asked, not the warranty
    assert snapshot.general_reading(_segment(snapshot, "кроссовки срочно сделаете"), "urgent") is None
    reading, things = snapshot.general_reading(_segment(snapshot, "гарантия на кроссовки есть"), "warranty")
    assert [t.text for t in things] == ["кроссовки"]
    assert [t.text for t in reading.content] == ["гарантия"]


def test_a_learned_item_is_no_general_rule():
    # A learned item's question is one customer's wording («Отменить бронь можно?» answered «Как забронировать номер?»
    # in the alma-house replay once «номер» was read as a served thing): it never answers of a thing it does not name.
    learned = M.ItemDoc("learned-timing", "Сколько дней ремонт?", "Обычно 2 дня.", tags=("learned",))
    snapshot = M.KBSnapshot([*DOCS, learned], relations=("materials",))
    segment = _segment(snapshot, "сколько дней ремонт сапог")
    reading, things = snapshot.general_reading(segment, "learned-timing")
    assert not snapshot.general_item("learned-timing", reading, things)
    plain = M.KBSnapshot([*DOCS, M.ItemDoc("timing", "Сколько дней ремонт?", "Обычно 2 дня.")], relations=("materials",))
    reading, things = plain.general_reading(_segment(plain, "сколько дней ремонт сапог"), "timing")
    assert plain.general_item("timing", reading, things)
