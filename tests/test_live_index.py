"""The live index: deliveries recorded by one worker are searched by another after its
next sync, over a real small index (real model, real FAISS) and a real store file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from address.verification import Precision
from index.feedback import FeedbackEvent, FeedbackStore, Outcome, delivery_key, known_good_id
from index.live import LiveIndex
from index.reference import COMPONENT_COLUMNS
from index.search import AddressIndex

ROWS = 300


@pytest.fixture(scope="module")
def reference_sample() -> pd.DataFrame:
    """600 real reference rows, half of them Icelandic, read as they are on disk (a table
    written before ``lat``/``lon``/``completeness`` existed gets them empty)."""
    from address.settings import get_settings
    from index.reference import REFERENCE_COLUMNS
    from index.rows import with_points

    table = get_settings().reference_table
    assert table.is_file(), f"{table} is missing; run `make setup`"
    frame = with_points(pd.read_parquet(table))
    picks = [frame[frame["country"] == c].sample(ROWS, random_state=5) for c in ("IS", "US")]
    mixed = pd.concat(picks).sample(frac=1.0, random_state=5)
    return mixed.loc[:, list(REFERENCE_COLUMNS)].reset_index(drop=True)


@pytest.fixture(scope="module")
def small_index(reference_sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index of 300 reference rows (the rest of the sample is not in it)."""
    from index.config import IndexConfig
    from index.store import build_index

    out = tmp_path_factory.mktemp("live") / "index"
    return build_index(reference_sample.head(ROWS), out, IndexConfig(show_progress=False))


def _worker(small_index: Path, store: FeedbackStore) -> LiveIndex:
    """What one worker process holds: its own loaded index and the shared store."""
    from index.store import load_index

    return LiveIndex(load_index(small_index), store)


def _absent_row(reference_sample: pd.DataFrame) -> pd.Series:
    """An Icelandic reference row that the small index lacks."""
    rest = reference_sample.iloc[ROWS:]
    return rest[(rest["country"] == "IS") & rest["road"].notna()].iloc[0]


def _delivered(row: pd.Series, lat: float, lon: float, **fields: Any) -> FeedbackEvent:
    parts = {c: str(row[c]) for c in COMPONENT_COLUMNS if pd.notna(row[c])}
    return FeedbackEvent(
        delivery_key(row["address"], row["country"]),
        row["address"],
        row["country"],
        Outcome.DELIVERED,
        lat=lat,
        lon=lon,
        verdict="uncertain",
        components=parts,
        **fields,
    )


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "outcomes.sqlite3")


def test_a_delivery_in_one_worker_is_found_by_another(
    small_index: Path, store: FeedbackStore, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    one, other = _worker(small_index, store), _worker(small_index, store)
    row = _absent_row(reference_sample)
    assert all(c.id != known_good_id(delivery_key(row["address"], "IS")) for c in
               other.search(row["address"], country="IS"))  # fmt: skip
    size = len(other)

    FeedbackStore(store.path).record([_delivered(row, 64.1455, -21.9301)])  # worker "one"

    assert other.sync() == 1 and other.sync() == 0
    best = other.search(row["address"], country="IS")[0]
    assert best.id == known_good_id(delivery_key(row["address"], "IS"))
    assert best.score >= 0.95 and best.completeness == "observed"
    assert best.location is not None and best.location.precision is Precision.PREMISE
    assert (best.location.lat, best.location.lon) == (64.1455, -21.9301)
    assert len(other) == size + 1
    other.fold()  # autocomplete reads the folded overlay (a background thread folds it)
    assert best.id in {c.id for c in other.autocomplete(row["address"][:12], k=40, country="IS")}
    assert best.id in {id_ for id_, *_ in other.nearby(64.1455, -21.9301, k=5)}
    assert one.sync() == 1  # the recording worker syncs like any other


def test_a_delivery_to_an_indexed_address_moves_its_point(
    small_index: Path, store: FeedbackStore, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    other = _worker(small_index, store)
    row = reference_sample.iloc[0]
    country = row["country"]
    store.record([_delivered(row, 42.0301, -91.6402, match_id=row["id"])])

    other.sync()

    best = other.search(row["address"], country=country)[0]
    assert best.id == row["id"] and best.location is not None
    assert (best.location.lat, best.location.lon, best.location.precision) == (
        42.0301,
        -91.6402,
        Precision.PREMISE,
    )
    assert len(other) == len(other.index)  # no new row


def test_a_restarted_worker_loads_every_delivered_address(
    small_index: Path, store: FeedbackStore, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    row = _absent_row(reference_sample)
    store.record([_delivered(row, 64.1455, -21.9301)])

    restarted = _worker(small_index, store)

    assert restarted.sync() == 0
    assert restarted.search(row["address"], country="IS")[0].id.startswith("delivery-")


def test_a_revoked_delivery_leaves_the_index(
    small_index: Path, store: FeedbackStore, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    row = _absent_row(reference_sample)
    store.record([_delivered(row, 64.1455, -21.9301, caller="leaked-key")])
    live = _worker(small_index, store)
    size = len(live)

    store.revoke("leaked-key")

    assert live.sync() == 1
    assert len(live) == size - 1
    assert all(not c.id.startswith("delivery-") for c in live.search(row["address"], k=10))


def test_an_unchanged_store_costs_one_cheap_read(small_index: Path, store: FeedbackStore) -> None:
    live = _worker(small_index, store)
    started = time.perf_counter()
    for _ in range(1000):
        live.sync()
    per_sync = (time.perf_counter() - started) / 1000
    print(f"no-op sync {per_sync * 1e6:.1f} µs")
    assert per_sync < 0.001


def test_without_a_store_it_is_the_index(
    small_index: Path, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    from index.store import load_index

    index: AddressIndex = load_index(small_index)
    live = LiveIndex(index, None)
    text = reference_sample.iloc[1]["address"]
    assert live.sync() == 0 and len(live) == len(index)
    assert live.search(text) == index.search(text)
    assert live.rows is index.rows


def test_a_delivery_is_found_alike_before_and_after_it_is_folded_in(
    small_index: Path, store: FeedbackStore, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    from index.store import load_index

    live = LiveIndex(load_index(small_index), store, background=False)
    row = _absent_row(reference_sample)
    store.record([_delivered(row, 64.1455, -21.9301)])
    live.sync()
    pending = live.search(row["address"], country="IS")
    live.fold()
    folded = live.search(row["address"], country="IS")
    assert pending[0].id == folded[0].id == known_good_id(delivery_key(row["address"], "IS"))
    assert (pending[0].score, pending[0].matched) == (folded[0].score, folded[0].matched)
    assert pending[0].location == folded[0].location
