"""Imports flow one way: address ← index ← api; no module imports itself back, none is
over 500 lines, only entry points read settings, and nothing heavy loads at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# package -> top-level packages it must never import
FORBIDDEN = {
    "address": {"index", "api", "finetune", "eval"},
    "index": {"api", "finetune", "eval"},
    "finetune": {"api", "eval"},
    "api": {"eval"},
}
# api may reach finetune only through its inference wrapper and its CLI.
API_ALLOWED_FINETUNE = {"finetune", "finetune.classifier", "finetune.cli"}


PACKAGES = ("address", "index", "api", "finetune", "eval")
MAX_MODULE_LINES = 500
# Entry points: the only modules that read ADDR_* settings (the library takes parameters).
ENTRY_POINTS = ("api.", "eval.", "address.cli", "index.cli", "finetune.cli", "address.settings")


def _imports(path: Path, *, with_names: bool = False) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (``address.rules``
    for ``from address.rules import check``); ``with_names`` adds the names imported from
    each (``address.rules.check``), which may be submodules."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if with_names:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules() -> dict[str, Path]:
    """``address.rules`` -> its file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a package's ``__init__`` not counted as
    importing its own submodules, which Python loads first anyway)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {
            target
            for target in _imports(path, with_names=True)
            if target in modules and target != name and not target.startswith(f"{name}.")
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles_even_through_function_level_imports() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_module_is_over_500_lines() -> None:
    long = {
        name: lines
        for name, path in _modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_only_entry_points_read_settings() -> None:
    readers = sorted(
        name
        for name, path in _modules().items()
        if {"address.settings", "api.settings"} & _imports(path)
        and not name.startswith(ENTRY_POINTS)
    )
    assert readers == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
            if package == "api" and top == "finetune" and name not in API_ALLOWED_FINETUNE:
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_importing_the_library_loads_nothing_heavy() -> None:
    code = (
        "import sys, address, index, api.app;"
        "print(sorted({'torch', 'faiss', 'sentence_transformers', 'transformers'}"
        " & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
