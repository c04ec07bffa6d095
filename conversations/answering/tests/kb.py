"""A tenant's knowledge for a brain test: items (dicts or `ItemDoc`s) imported and promoted as the serving version."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from imperium.core.actors import Actor
from knowledge import services
from knowledge.matching import ItemDoc

ACTOR = Actor.system("test")


def kb_serve(tenant, items: Iterable[dict[str, Any] | ItemDoc]):
    rows = [{"id": i.external_id, "question": i.question, "answer": i.answer} if isinstance(i, ItemDoc) else i for i in items]
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    version = services.kb_import(actor=ACTOR, tenant=tenant, file_name="kb.jsonl", content=content)
    return services.kb_version_promote(actor=ACTOR, version=version)
