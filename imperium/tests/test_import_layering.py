"""The import layering (docs/ARCHITECTURE.md) beyond what `lint-imports` checks on its own.

`make test` runs `lint-imports` with the contracts in pyproject.toml; these tests make sure the
contracts see every app and that no two apps import each other in a circle, entry points included.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import grimp
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
NOT_LAYERED = {"tests", "testing", "migrations", "conftest"}


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _project_packages() -> set[str]:
    tops = {config.name.split(".")[0] for config in apps.get_app_configs()}
    return {top for top in tops if (ROOT / top / "__init__.py").is_file()}


def _room(module: str) -> str:
    """The app a module belongs to; imperium/ holds three: the base, the Telegram entry points, the wiring."""
    parts = module.split(".")
    if parts[0] == "imperium" and len(parts) > 1 and parts[1] in ("core", "telegram"):
        return ".".join(parts[:2])
    return parts[0]


def _cross_app_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules (tests, test helpers and migrations left out) that span two apps."""
    modules = sorted(m for m in graph.modules if not NOT_LAYERED & set(m.split(".")))
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            groups.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(modules)))
    try:
        for module in modules:
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return [group for group in groups if len({_room(m) for m in group}) > 1]


def test_the_contracts_cover_every_project_app():
    config = _config()
    apps_ = _project_packages() - {"imperium"}
    contracts = {contract["id"]: contract for contract in config["contracts"]}
    layered = {name.strip(" ()") for layer in contracts["layers"]["layers"] for name in layer.replace("|", ":").split(":")}
    assert _project_packages() <= set(config["root_packages"]), "add the new app to [tool.importlinter] root_packages"
    assert apps_ <= layered, "give the new app its place in the layers contract"
    assert apps_ <= set(contracts["domain-not-entry-points"]["source_modules"]), "add the new app to the forbidden contract's sources"


def test_no_two_apps_import_each_other_in_a_circle():
    graph = grimp.build_graph(*_config()["root_packages"], cache_dir=None)
    assert _cross_app_cycles(graph) == []


def test_the_cycle_check_finds_a_circle_between_apps():
    graph = grimp.ImportGraph()
    for module in ("tenants.services", "knowledge.services", "knowledge.selectors", "tenants.tests.test_x"):
        graph.add_module(module)
    graph.add_import(importer="tenants.services", imported="knowledge.selectors")
    graph.add_import(importer="knowledge.selectors", imported="knowledge.services")
    graph.add_import(importer="knowledge.services", imported="tenants.services")
    graph.add_import(importer="tenants.tests.test_x", imported="knowledge.services")
    assert _cross_app_cycles(graph) == [["knowledge.selectors", "knowledge.services", "tenants.services"]]
    graph.remove_import(importer="knowledge.services", imported="tenants.services")
    assert _cross_app_cycles(graph) == []
