"""Single-row INSERT and UPDATE with their SQL built once per process, for the reply pipeline's
per-turn writes (a turn, its trace, its outbound message, the status changes that guard them).

Django builds the SQL of every `Model.objects.create()` and `QuerySet.update()` again each time;
for these short statements that costs more CPU than the database spends on them. These helpers
cache the statement text per model, column set and database vendor and prepare each value with
the field's own `pre_save` / `get_db_prep_save` / `get_db_prep_value` (so JSON, encrypted and
date-time fields are stored exactly as the ORM stores them). Statements still go through
Django's cursor wrapper (query logging and `assertNumQueries` see them).

What they do not do: send `pre_save` / `post_save` signals — so they refuse a model that has
receivers for either (connect one to a pipeline model and its writes must go back to the ORM) —
or accept expressions (`F()`); conditions are equality or `IS NULL` only.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)

_sql_cache: dict[tuple[Any, ...], str] = {}
_lock = threading.Lock()


def _cached(key: tuple[Any, ...], build: Any) -> str:
    sql = _sql_cache.get(key)
    if sql is None:
        sql = build()
        with _lock:
            _sql_cache[key] = sql
    return sql


def _refuse_signalled(model: type[Model]) -> None:
    """A save receiver would be skipped silently: refuse instead (cheap: Django caches receivers per sender)."""
    for name, signal in (("pre_save", pre_save), ("post_save", post_save)):
        if signal.has_listeners(model):
            raise ImproperlyConfigured(
                f"{model._meta.label} has {name} receivers, which row_insert/row_update would skip: write it with the ORM"
            )


def row_insert(model: type[M], *, using: str = "default", **values: Any) -> M:
    """`model.objects.create(**values)` without signals: the instance, with its primary key set.

    Every concrete field is written (defaults and `auto_now_add` included), as the ORM does.
    Refuses a model with `pre_save`/`post_save` receivers (ImproperlyConfigured)."""
    _refuse_signalled(model)
    connection = connections[using]
    obj = model(**values)
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if not (f.primary_key and getattr(obj, f.attname) is None)]
    returning = connection.features.can_return_columns_from_insert

    def build() -> str:
        quote = connection.ops.quote_name
        # Identifiers come from the model's meta, quoted; every value is a parameter.
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        return f"{sql} RETURNING {quote(pk.column)}" if returning else sql

    sql = _cached(("insert", model, tuple(f.attname for f in fields), connection.vendor), build)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        new_pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    if getattr(obj, pk.attname) is None:
        setattr(obj, pk.attname, new_pk)
    obj._state.adding = False
    obj._state.db = using
    return obj


def row_update(model: type[Model], where: dict[str, Any], values: dict[str, Any], *, using: str = "default") -> int:
    """`model.objects.filter(**where).update(**values)` for plain values: the number of rows
    changed. `where` keys are field attnames compared with `=`, or with `IS NULL` for None.
    Refuses a model with `pre_save`/`post_save` receivers (ImproperlyConfigured)."""
    _refuse_signalled(model)
    connection = connections[using]
    meta = model._meta
    set_fields = [meta.get_field(name) for name in values]
    where_fields = [(meta.get_field(name), where[name] is None) for name in where]

    def build() -> str:
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in set_fields)
        conditions = " AND ".join(f"{quote(f.column)} IS NULL" if is_null else f"{quote(f.column)} = %s" for f, is_null in where_fields)
        return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608 (quoted meta identifiers)

    key = ("update", model, tuple(values), tuple((f.attname, is_null) for f, is_null in where_fields), connection.vendor)
    sql = _cached(key, build)
    params = [f.get_db_prep_save(values[f.name] if f.name in values else values[f.attname], connection) for f in set_fields]
    params += [f.get_db_prep_value(where[name], connection) for (f, is_null), name in zip(where_fields, where, strict=True) if not is_null]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
