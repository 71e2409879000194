"""Each package's public names are explicit and importable (ruff RUF022 keeps them sorted)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["address"])
def test_all_names_exist(package: str) -> None:
    module = importlib.import_module(package)
    names = module.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), name
