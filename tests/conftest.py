"""Shared fixtures: real libpostal, loaded once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from address.settings import get_settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def libpostal() -> None:
    """Load libpostal's real data once (~7 s, ~2 GB); fails clearly if `make setup` never ran."""
    from address.libpostal import load

    load()


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Let a test set ADDR_* variables; the settings cache is cleared before and after."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
