"""Shared fixtures: real libpostal and a real small index, each made once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from address.paths import data_paths, use_data
from address.settings import get_settings
from api.settings import ServiceSettings, get_service_settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from finetune.classifier import Classifier
    from index.search import AddressIndex

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def libpostal() -> None:
    """Load libpostal's real data once (~7 s, ~2 GB); fails clearly if `make setup` never ran."""
    from address.libpostal import load

    load()


@pytest.fixture(autouse=True)
def _data_paths_restored() -> Iterator[None]:
    """Whatever data folders a test hands the library (``create_app(settings=...)``,
    ``get_settings()`` after a changed variable), the next test starts from the same."""
    before = data_paths()
    yield
    use_data(before)


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Let a test set ADDR_* variables; the settings caches are cleared before and after
    (a test reads them again with ``get_settings()`` once its variables are set)."""
    get_settings.cache_clear()
    get_service_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    get_service_settings.cache_clear()


SAMPLE_ROWS = 1500


@pytest.fixture(scope="session")
def reference_sample() -> pd.DataFrame:
    """1,500 real rows of the default reference table plus every "Þórunnartún" and
    some "Suðurgata" rows (fails, naming `make setup`, when the table is absent)."""
    from index.reference import read_reference

    table = get_settings().reference_table
    assert table.is_file(), f"{table} is missing; run `make setup`"
    frame = read_reference(table)
    sample = frame.sample(SAMPLE_ROWS, random_state=7)
    icelandic = frame[frame["road"].isin(["Þórunnartún", "Suðurgata"])].head(40)
    return pd.concat([sample, icelandic]).drop_duplicates("id").reset_index(drop=True)


@pytest.fixture(scope="session")
def built_index(reference_sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index (real model, real FAISS) over ``reference_sample``, built once (~15 s)."""
    from index.config import IndexConfig
    from index.store import build_index

    out = tmp_path_factory.mktemp("index") / "small"
    return build_index(reference_sample, out, IndexConfig(show_progress=False))


@pytest.fixture(scope="session")
def index(built_index: Path, libpostal: None) -> AddressIndex:
    """The small index, loaded once."""
    from index.store import load_index

    return load_index(built_index)


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The committed classifier adapter, loaded once (~20 s)."""
    from finetune.classifier import Classifier

    return Classifier.load()


@pytest.fixture(scope="session")
def client(
    built_index: Path, libpostal: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The real app over the small index, loaded once and without a rate or concurrency
    limit (the property tests send hundreds of requests), with its own feedback database."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    config = ServiceSettings(
        index_path=built_index,
        rate_limit_per_second=1e6,
        rate_limit_burst=10**6,
        max_concurrent_per_key=1000,
        feedback_path=tmp_path_factory.mktemp("feedback") / "outcomes.sqlite3",
    )
    app = create_app(load_in_background=False, settings=config)
    with TestClient(app) as test_client:
        yield test_client
