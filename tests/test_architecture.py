"""Imports flow one way: address ← index ← api; nothing heavy at import time."""

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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


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
