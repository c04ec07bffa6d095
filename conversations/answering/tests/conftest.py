"""The brain's tests use the knowledge app's fixtures (fresh process index, the eval KBs)."""

from knowledge.conftest import _fresh_knowledge_caches, lotus_kb, smile_kb  # noqa: F401
