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
