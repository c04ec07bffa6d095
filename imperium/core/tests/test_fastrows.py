"""The pipeline's precompiled reads and writes (imperium.core.prepared, imperium.core.fastrows) must store
and load exactly what the ORM does — on SQLite (no env) and on Postgres (CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from conversations.models import Conversation, ConversationEvent, MessageTrace, Turn
from conversations.tests.helpers import conversation_new
from imperium.core.fastrows import row_insert, row_update
from imperium.core.prepared import PreparedRead

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(tenant_a):
    return conversation_new(tenant_a)


def stored(obj: Model) -> dict:
    """Every column of the row as the ORM reads it back, without the primary key."""
    fresh = type(obj).objects.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in type(obj)._meta.concrete_fields if not f.primary_key}


def turn_values(conversation, **extra):
    now = timezone.now()
    return {"tenant_id": conversation.tenant_id, "conversation": conversation, "created_at": now, "claim_token": "tok",
            "lease_expires_at": now + timedelta(minutes=2), "message_count": 2, **extra}


def test_row_insert_stores_what_create_stores_defaults_json_and_datetimes_included(conversation, django_assert_num_queries):
    via_orm = Turn.objects.create(**turn_values(conversation))
    with django_assert_num_queries(1):
        fast = row_insert(Turn, **turn_values(conversation, created_at=via_orm.created_at, lease_expires_at=via_orm.lease_expires_at))
    assert fast.pk is not None and fast.pk != via_orm.pk
    assert fast._state.adding is False
    assert stored(fast) == stored(via_orm)

    trace = {"tenant_id": conversation.tenant_id, "conversation": conversation, "created_at": timezone.now(), "decision": "answer",
             "scores": {"top": 0.93, "items": ["price-manicure"]}, "sources": [{"id": "a", "score": 1.5}], "gate": [],
             "detail": {"text": "Маникюр — 5000 ₸", "nested": {"ok": True}}, "confidence": 0.75}
    orm_trace = MessageTrace.objects.create(turn=via_orm, **trace)
    fast_trace = row_insert(MessageTrace, turn=fast, **trace)
    assert stored(fast_trace) | {"turn_id": None} == stored(orm_trace) | {"turn_id": None}
    assert MessageTrace.objects.get(pk=fast_trace.pk).detail["nested"] == {"ok": True}


def test_row_insert_refuses_what_the_database_refuses(conversation):
    row_insert(MessageTrace, turn=Turn.objects.create(**turn_values(conversation)), tenant_id=conversation.tenant_id,
               conversation=conversation, created_at=timezone.now(), decision="answer")
    turn = Turn.objects.get()
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():  # one trace per turn
        row_insert(MessageTrace, turn=turn, tenant_id=conversation.tenant_id, conversation=conversation,
                   created_at=timezone.now(), decision="answer")
    assert MessageTrace.objects.count() == 1


def test_row_update_is_conditional_and_counts_rows(conversation, django_assert_num_queries):
    turn = Turn.objects.create(**turn_values(conversation))
    finished = timezone.now()
    # Wrong token: nothing changes.
    assert row_update(Turn, {"id": turn.pk, "status": "processing", "claim_token": "other"}, {"status": "answered"}) == 0
    with django_assert_num_queries(1):
        changed = row_update(Turn, {"id": turn.pk, "status": "processing", "claim_token": "tok"},
                             {"status": "answered", "finished_at": finished, "lease_expires_at": None, "kb_version": 3})
    assert changed == 1
    turn.refresh_from_db()
    assert (turn.status, turn.finished_at, turn.lease_expires_at, turn.kb_version) == ("answered", finished, None, 3)
    # The same statement again: its condition no longer holds.
    assert row_update(Turn, {"id": turn.pk, "status": "processing", "claim_token": "tok"}, {"status": "escalated"}) == 0


def test_row_update_matches_null_and_datetime_conditions(conversation):
    due = timezone.now().replace(microsecond=123456)
    Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=due)
    assert row_update(Conversation, {"id": conversation.pk, "reply_due_at": due + timedelta(seconds=1)}, {"reply_due_at": None}) == 0
    assert row_update(Conversation, {"id": conversation.pk, "reply_due_at": due}, {"reply_due_at": None, "dispatched_at": None}) == 1
    assert row_update(Conversation, {"id": conversation.pk, "reply_due_at": None}, {"state": "human"}) == 1
    conversation.refresh_from_db()
    assert (conversation.reply_due_at, conversation.state) == (None, "human")
    event = row_insert(ConversationEvent, tenant_id=conversation.tenant_id, conversation=conversation, created_at=due,
                       from_state="bot", to_state="human", source="system", actor_kind="system")
    assert ConversationEvent.objects.get(pk=event.pk).created_at == due


def _with_tenant(pk):
    rows = Conversation.objects.select_related("tenant__settings").defer("tenant__settings__webhook_secret").filter(pk=pk).order_by()
    return rows.select_for_update(skip_locked=True, of=("self",)) if connection.vendor == "postgresql" else rows


def test_prepared_read_loads_what_the_orm_loads_and_compiles_once(conversation, tenant_b, monkeypatch, django_assert_num_queries):
    read = PreparedRead(_with_tenant)
    compiles = []
    original = PreparedRead._compile
    monkeypatch.setattr(PreparedRead, "_compile", lambda self, using: compiles.append(using) or original(self, using))
    with transaction.atomic():
        with django_assert_num_queries(1):
            loaded = read.first(conversation.pk)
        with django_assert_num_queries(0):  # tenant and settings came with it
            assert loaded.tenant.settings.coalesce_window_seconds == conversation.tenant.settings.coalesce_window_seconds
        assert loaded.tenant.slug == "alpha" and loaded.customer_phone == "+77011234567"
        assert loaded.created_at == conversation.created_at
        assert "webhook_secret" in loaded.tenant.settings.get_deferred_fields()
        assert read.first(-5) is None
        assert read.all(conversation.pk) == [conversation]
    assert compiles == ["default"]


def test_prepared_read_refuses_a_queryset_whose_value_it_cannot_find(tenant_a):
    read = PreparedRead(lambda pk: Conversation.objects.filter(pk=1))
    with pytest.raises(ImproperlyConfigured):
        read.first(5)


@pytest.mark.parametrize("signal_name", ["pre_save", "post_save"])
def test_a_model_with_save_receivers_is_refused_not_silently_skipped(conversation, signal_name):
    from django.db.models import signals

    heard = []
    signal = getattr(signals, signal_name)

    def receiver(sender, instance, **kwargs):
        heard.append(instance)

    signal.connect(receiver, sender=Turn, weak=False)
    try:
        with pytest.raises(ImproperlyConfigured, match=f"conversations.Turn has {signal_name} receivers"):
            row_insert(Turn, **turn_values(conversation))
        with pytest.raises(ImproperlyConfigured, match=signal_name):
            row_update(Turn, {"conversation_id": conversation.pk}, {"claim_token": "other"})
        assert not Turn.objects.exists() and heard == []
    finally:
        signal.disconnect(receiver, sender=Turn)
    assert row_insert(Turn, **turn_values(conversation)).pk  # back to the fast path once nobody listens
