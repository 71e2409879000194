"""Locations: register points, street estimates, centroids, user files' coordinates,
old index folders, courier points and the nearby look-up, over real Iceland rows."""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from address.errors import ReferenceDataError
from address.gazetteer import locality_centroid, postcode_centroid
from address.libpostal import parse
from address.model import ParsedAddress
from address.paths import data_paths
from address.verification import Precision
from index.config import IndexConfig
from index.locate import distance_km
from index.reference import Completeness, fetch_default_reference, read_reference
from index.search import AddressIndex
from index.store import build_index, load_index
from index.user_files import load_reference_file

STREETS = ("Laugavegur", "Grettisgata", "Skólavörðustígur")
HIDDEN = "Laugavegur 13, 101 Reykjavík"  # not in the index: between 12/12b and 15
NO_POINT = "Laugavegur 19, 101 Reykjavík"  # in the index, its point removed


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(distance_km(*(np.array([v]) for v in (a[0], a[1], b[0], b[1])))[0]) * 1000


# ------------------------------------------------------------------ no index needed


def test_gazetteer_centroids() -> None:
    reykjavik = postcode_centroid("IS", "101")
    assert reykjavik is not None
    assert _metres(reykjavik, (64.1466, -21.9426)) < 10_000
    anamosa = locality_centroid("US", "anamosa")
    assert anamosa is not None and _metres(anamosa, (42.108, -91.285)) < 10_000
    assert postcode_centroid("IS", "999") is None
    assert locality_centroid("IS", "Nowhere Town") is None


CSV = """ID,Street,Number,Country,Postcode,Latitude,LNG
good,Laugavegur,12b,IS,101,64.14597,-21.93096
text,Laugavegur,15,IS,101,north,-21.93
range,Laugavegur,17,IS,101,64.1,-200
zero,Laugavegur,18,IS,101,0,0
swapped_range,Frozen Hill Rd,4570,US,52205,-91.2851,42.1078
swapped_far,Laugavegur,19,IS,101,-21.9298,64.1459
half,Laugavegur,20,IS,101,64.1459,
none,Laugavegur,21,IS,101,,
"""


def test_bad_coordinates_are_dropped_counted_and_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "deliveries.csv"
    path.write_text(CSV, encoding="utf-8")
    dropped: Counter[str] = Counter()
    with caplog.at_level(logging.WARNING, logger="index.user_files"):
        frame = load_reference_file(path, completeness="Observed", dropped_points=dropped)
    assert dropped == {"not_a_number": 2, "out_of_range": 1, "zero": 1, "swapped": 2}
    warnings = [r for r in caplog.records if "dropped coordinates" in r.getMessage()]
    assert len(warnings) == 1
    assert len(frame) == 8  # every row stays
    points = frame.set_index("id")[["lat", "lon"]]
    assert tuple(points.loc["good"]) == (64.14597, -21.93096)
    assert points.drop(index="good").isna().all().all()
    assert set(frame["completeness"]) == {"observed"}


def test_unknown_completeness_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shops.csv"
    path.write_text('address\n"4570 Frozen Hill Rd, Anamosa, IA 52205"\n', encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="authoritative, observed"):
        load_reference_file(path, completeness="complete")


# ------------------------------------------------------------- a real Iceland index


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The default table, built into a temporary folder (~10 s) when the installed one is
    absent or from before coordinates."""
    try:
        return read_reference(data_paths().reference)
    except ReferenceDataError:
        out = tmp_path_factory.mktemp("reference") / "default.parquet"
        return read_reference(fetch_default_reference(out, progress=False))


@pytest.fixture(scope="module")
def rows(register: pd.DataFrame) -> pd.DataFrame:
    """Three streets of 101 Reykjavík from the register, less Laugavegur 13, with
    Laugavegur 19's point removed, and a street of 101 without any point."""
    frame = register.loc[
        register["road"].isin(STREETS) & (register["postcode"] == "101")
    ].reset_index(drop=True)
    frame = frame.loc[frame["address"] != HIDDEN].reset_index(drop=True)
    frame.loc[frame["address"] == NO_POINT, ["lat", "lon"]] = math.nan
    unknown = frame.iloc[[0]].assign(
        id="test-tilraun",
        address="Tilraunagata 1, 101 Reykjavík",
        road="Tilraunagata",
        house_number="1",
        lat=math.nan,
        lon=math.nan,
    )
    return pd.concat([frame, unknown], ignore_index=True)


@pytest.fixture(scope="module")
def built(rows: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("location") / "index"
    return build_index(rows, out, IndexConfig(show_progress=False))


@pytest.fixture
def located(built: Path, libpostal: None) -> AddressIndex:
    return load_index(built)


def _point(register: pd.DataFrame, address: str) -> tuple[float, float]:
    row = register.loc[register["address"] == address].iloc[0]
    return float(row["lat"]), float(row["lon"])


@pytest.mark.slow
def test_register_rows_have_points_and_completeness(register: pd.DataFrame) -> None:
    iceland = register.loc[register["country"] == "IS"]
    linn = register.loc[register["country"] == "US"]
    assert iceland["lat"].notna().mean() > 0.99
    assert iceland["lat"].between(63, 67).all() and iceland["lon"].between(-25, -13).all()
    assert linn["lat"].isna().all()  # usaddress's training data has no coordinates
    assert set(register["completeness"]) == {Completeness.AUTHORITATIVE.value}


@pytest.mark.slow
def test_indexed_register_address_is_at_its_own_point(
    located: AddressIndex, register: pd.DataFrame
) -> None:
    address = "Laugavegur 12b, 101 Reykjavík"
    (best,) = located.search(address, k=1)
    assert best.address == address
    assert best.completeness == "authoritative"
    assert best.location is not None and best.location.precision is Precision.PREMISE
    here = (best.location.lat, best.location.lon)
    assert _metres(here, _point(register, address)) < 100
    for candidate in located.autocomplete("Grettisgata", k=5):
        assert candidate.location is not None
        assert candidate.location.precision is Precision.PREMISE


@pytest.mark.slow
def test_missing_number_lies_between_its_neighbours(
    located: AddressIndex, register: pd.DataFrame
) -> None:
    found = located.locate(parse(HIDDEN, "IS"), "IS")
    assert found is not None and found.precision is Precision.STREET
    low = _point(register, "Laugavegur 12, 101 Reykjavík")
    high = _point(register, "Laugavegur 15, 101 Reykjavík")
    for axis, value in enumerate((found.lat, found.lon)):
        lo, hi = sorted((low[axis], high[axis]))
        assert lo - 1e-4 <= value <= hi + 1e-4
    # A row without a point of its own is placed the same way.
    (row,) = located.search(NO_POINT, k=1)
    assert row.address == NO_POINT
    assert row.location is not None and row.location.precision is Precision.STREET
    assert _metres((row.location.lat, row.location.lon), _point(register, NO_POINT)) < 100


@pytest.mark.slow
def test_unknown_street_gets_the_postcode_centroid(
    located: AddressIndex, register: pd.DataFrame
) -> None:
    centre = _point(register, "Laugavegur 12b, 101 Reykjavík")
    found = located.locate(parse("Nowhere Lane 5, 101 Reykjavík", "IS"), "IS")
    assert found is not None and found.precision is Precision.POSTCODE
    assert _metres((found.lat, found.lon), centre) < 25_000
    (row,) = located.search("Tilraunagata 1, 101 Reykjavík", k=1)
    assert row.location is not None and row.location.precision is Precision.POSTCODE
    town = located.locate(ParsedAddress(road="nowhere lane", city="reykjavík"), None)
    assert town is not None and town.precision is Precision.LOCALITY
    assert located.locate(ParsedAddress(road="nowhere lane"), "IS") is None


@pytest.mark.slow
def test_courier_point_and_nearby(located: AddressIndex, built: Path, tmp_path: Path) -> None:
    assert located.set_location("test-tilraun", 64.1440, -21.9270)
    assert not located.set_location("no-such-id", 64.1440, -21.9270)
    with pytest.raises(ValueError, match="WGS84"):
        located.set_location("test-tilraun", 164.0, -21.9270)
    (row,) = located.search("Tilraunagata 1, 101 Reykjavík", k=1)
    assert row.location is not None
    assert (row.location.lat, row.location.lon, row.location.precision) == (
        64.1440,
        -21.9270,
        Precision.PREMISE,
    )
    near = located.nearby(64.1440, -21.9270, k=10, radius_m=300)
    assert near[0][:2] == ("test-tilraun", "Tilraunagata 1, 101 Reykjavík")
    distances = [_metres((64.1440, -21.9270), (lat, lon)) for _, _, lat, lon in near]
    assert distances == sorted(distances) and distances[-1] <= 300
    assert len(near) == 10
    assert located.nearby(0.0, 0.0) == []
    located.save(tmp_path / "saved")
    again = load_index(tmp_path / "saved")
    assert again.nearby(64.1440, -21.9270, k=1)[0][0] == "test-tilraun"


@pytest.mark.slow
def test_index_folder_from_before_locations_loads(
    built: Path, tmp_path: Path, libpostal: None
) -> None:
    import faiss

    from index._files import ROWS, VECTORS, read_manifest, save_index

    old_rows = pd.read_parquet(built / ROWS).drop(columns=["lat", "lon", "completeness"])
    vectors = faiss.read_index(str(built / VECTORS))
    old = save_index(vectors, old_rows, read_manifest(built), tmp_path / "old")
    loaded = load_index(old)
    (best,) = loaded.search("Laugavegur 12b, 101 Reykjavík", k=1)
    assert best.completeness == "authoritative"
    assert best.location is not None and best.location.precision is Precision.POSTCODE
    assert loaded.nearby(64.14597, -21.93096) == []
