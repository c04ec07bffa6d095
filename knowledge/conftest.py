from __future__ import annotations

from pathlib import Path

import pytest

EVAL_DIR = Path(__file__).resolve().parent / "fixtures" / "eval"


@pytest.fixture(autouse=True)
def _fresh_knowledge_caches():
    """Each test starts with an empty process index and snapshot cache (ids are reused
    between rolled-back tests)."""
    from knowledge.index import reset_index
    from knowledge.retrieval import clear_caches

    reset_index()
    clear_caches()
    yield
    reset_index()
    clear_caches()


@pytest.fixture
def lotus_kb() -> str:
    return (EVAL_DIR / "lotus-beauty" / "kb.jsonl").read_text(encoding="utf-8")


@pytest.fixture
def smile_kb() -> str:
    return (EVAL_DIR / "smile-dent" / "kb.jsonl").read_text(encoding="utf-8")
