"""Model reads compiled once per process, for the few statements every reply turn runs.

Django compiles a queryset to SQL each time it is evaluated. For the pipeline's per-turn reads
(the conversation with its tenant and settings, locked; its pending messages) that compile costs
more CPU than the query itself. `PreparedRead` compiles a queryset once per thread and database
alias, then runs the same SQL with a new value for its one varying parameter and turns the rows
into model instances the way Django's `ModelIterable` does (the same converters, the same
`select_related` population, deferred fields stay deferred). The statement still goes through
Django's cursor wrapper, so query logging and `assertNumQueries` see it.

    CONVERSATION_LOCKED = PreparedRead(lambda pk: Conversation.objects.select_related("tenant").filter(pk=pk))
    conversation = CONVERSATION_LOCKED.first(42)

Only for querysets whose SQL does not depend on the value (a primary or foreign key compared
with `=`): the builder is called once with a sentinel, which must appear exactly once among the
compiled parameters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

_SENTINEL = -7_340_211_993  # an id no row has; found by identity among the compiled parameters


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    position: int
    compiler: Any
    converters: dict[int, Any]
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    populators: list[Any]


class PreparedRead(Generic[M]):
    def __init__(self, build: Callable[[Any], QuerySet[M]]) -> None:
        self._build = build
        self._local = threading.local()

    def _compiled(self, using: str) -> _Compiled:
        cache: dict[tuple[str, int], _Compiled] = self._local.__dict__.setdefault("cache", {})
        connection = connections[using]
        key = (using, id(connection))
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = self._compile(using)
        return compiled

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(_SENTINEL).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # also sets compiler.select / klass_info
        positions = [i for i, value in enumerate(params) if value == _SENTINEL]
        if len(positions) != 1:
            raise ImproperlyConfigured(f"PreparedRead: the value must appear once among the parameters of {sql!r}")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql, params=tuple(params), position=positions[0], compiler=compiler,
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]), model=klass_info["model"],
            start=start, end=end, init_list=[f[0].target.attname for f in select[start:end]],
            populators=get_related_populators(klass_info, select, using),
        )

    def all(self, value: Any, *, using: str = "default") -> list[M]:
        compiled = self._compiled(using)
        params = list(compiled.params)
        params[compiled.position] = value
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Any = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        objects = []
        for row in rows:
            obj = compiled.model.from_db(using, compiled.init_list, row[compiled.start:compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects  # type: ignore[return-value]

    def first(self, value: Any, *, using: str = "default") -> M | None:
        objects = self.all(value, using=using)
        return objects[0] if objects else None


# --- server-side prepared statements (Postgres) ---------------------------------------------
_classes: tuple[Any, Any] | None = None
_NEVER_BY_COUNT = 2**31 - 1


def _postgres_classes() -> tuple[Any, Any]:
    """(a psycopg server-binding cursor that prepares every statement, the debug wrapper that logs
    it): built on first use, since the Postgres backend cannot be imported without psycopg."""
    global _classes
    if _classes is None:
        from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor
        from django.db.backends.utils import CursorWrapper

        class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
            def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None) -> Any:
                return super().execute(query, params, prepare=True, binary=binary)

        class PreparedDebugWrapper(CursorDebugWrapper):  # type: ignore[misc, valid-type]
            # psycopg keeps no "last query" for a prepared execution: log the statement as written.
            def execute(self, sql: Any, params: Any = None) -> Any:
                with self.debug_sql(sql, params):
                    return CursorWrapper.execute(self, sql, params)

        _classes = (PreparingCursor, PreparedDebugWrapper)
    return _classes


def server_prepared_cursor(using: str = "default") -> Any:
    """A Django cursor (a context manager, like `connection.cursor()`) whose statements are
    server-side prepared on Postgres: parsed and planned once per connection, then only bound and
    executed. For a hand-written statement run on every request, where planning costs Postgres
    more than executing (the webhook's accept). Django's error wrapping, execute wrappers and
    query logging apply as usual.

    psycopg keeps the prepared statements per connection and prepares again on a new one. Django
    switches them off by default for connection poolers in transaction mode;
    DATABASE_PREPARED_STATEMENTS=false does the same here. Elsewhere (SQLite, or switched off)
    this is `connection.cursor()`.
    """
    from django.conf import settings

    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django opens connections with psycopg's preparing off (None), which also ignores an
        # explicit `prepare=True`. A threshold no statement reaches turns it back on for explicit
        # requests only: Django's own cursors bind on the client and never prepare.
        raw.prepare_threshold = _NEVER_BY_COUNT
    preparing_cursor, debug_wrapper = _postgres_classes()
    cursor = preparing_cursor(raw)
    return debug_wrapper(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)
