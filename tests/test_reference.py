"""Reference data: user files in every format, the errors, and the real default table."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import index.reference as reference
from address.errors import ReferenceDataError
from address.paths import data_paths
from address.standardize import format_address_line
from index.reference import REFERENCE_COLUMNS, fetch_default_reference, read_reference
from index.user_files import build_reference, load_reference_file

DATA = Path(__file__).parent / "data" / "reference"
ADDRESSES_ONLY = DATA / "addresses_only.csv"
COMPONENTS = DATA / "openaddresses_components.csv"
DEPOTS = DATA / "depots.jsonl"
NO_USABLE_COLUMNS = DATA / "no_usable_columns.csv"


def _row(frame: pd.DataFrame, id_: str) -> dict[str, object]:
    rows = frame.loc[frame["id"] == id_]
    assert len(rows) == 1, f"expected one row with id {id_!r}, found {len(rows)}"
    return {str(k): (None if pd.isna(v) else v) for k, v in rows.iloc[0].to_dict().items()}


def _assert_schema(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == REFERENCE_COLUMNS
    for column in ("id", "address", "country", "source"):
        assert frame[column].notna().all(), column
    assert frame["id"].is_unique


# ------------------------------------------------------------------ formatting


def test_format_us_address_line() -> None:
    components = {
        "house_number": "412",
        "road": "3rd St S",
        "unit": "Unit C",
        "city": "Coggon",
        "state": "IA",
        "postcode": "52218",
    }
    assert format_address_line(components, "US") == "412 3rd St S Unit C, Coggon, IA 52218"


def test_format_icelandic_address_line_puts_number_after_street() -> None:
    components = {
        "road": "Laugavegur",
        "house_number": "12b",
        "postcode": "101",
        "city": "Reykjavík",
    }
    assert format_address_line(components, "IS") == "Laugavegur 12b, 101 Reykjavík"


def test_format_leaves_out_missing_parts() -> None:
    assert format_address_line({"road": "Dalsel", "postcode": "109"}, "IS") == "Dalsel, 109"
    assert format_address_line({"road": "Paris Rd", "house_number": None}, "US") == "Paris Rd"
    assert format_address_line({}, "US") == ""


# ------------------------------------------------------------------ user files


def test_csv_with_address_only_keeps_text_and_parses_components(libpostal: None) -> None:
    skipped: Counter[str] = Counter()
    frame = load_reference_file(ADDRESSES_ONLY, skipped=skipped)
    _assert_schema(frame)
    # The blank fourth row is dropped and counted; ids count file rows, so they stay stable.
    assert skipped == {"empty": 1}
    assert list(frame["id"]) == [
        "addresses_only-1",
        "addresses_only-2",
        "addresses_only-3",
        "addresses_only-5",
    ]
    first = _row(frame, "addresses_only-1")
    assert first["address"] == "4570 Frozen Hill Rd, Anamosa, IA 52205"
    # libpostal's components, in the case the line writes them (tests/test_own_data.py).
    assert first["road"] == "Frozen Hill Rd"
    assert frame["road"].notna().all()
    assert set(frame["country"]) == {"US"}
    assert set(frame["source"]) == {"addresses_only.csv"}


def test_csv_with_openaddresses_components_maps_and_formats() -> None:
    frame = load_reference_file(COMPONENTS)
    _assert_schema(frame)
    first = _row(frame, "openaddresses_components-1")
    assert first["house_number"] == "4570"
    assert first["road"] == "Frozen Hill Rd"
    assert first["state"] == "IA"
    assert first["postcode"] == "52205"
    assert first["address"] == "4570 Frozen Hill Rd, Anamosa, IA 52205"
    assert _row(frame, "openaddresses_components-2")["unit"] == "Unit C"
    # CITY is empty in the third row: DISTRICT stands in for it.
    third = _row(frame, "openaddresses_components-3")
    assert third["city"] == "Coggon"
    assert third["address"] == "123 1/2 E Main St, Coggon, IA 52218"


def test_country_argument_fills_rows_without_country() -> None:
    assert set(load_reference_file(COMPONENTS, country="us")["country"]) == {"US"}
    assert set(load_reference_file(ADDRESSES_ONLY)["country"]) == {"US"}  # the default country


def test_parquet_with_numeric_columns(tmp_path: Path) -> None:
    source = pd.read_csv(COMPONENTS, dtype=str)
    source["POSTCODE"] = source["POSTCODE"].astype(int)  # typed the way a tool would
    parquet = tmp_path / "linn.parquet"
    source.to_parquet(parquet, index=False)

    frame = load_reference_file(parquet)
    _assert_schema(frame)
    row = _row(frame, "linn-4")
    assert row["postcode"] == "52403"
    assert row["address"] == "400 Fairway Ter SE, Cedar Rapids, IA 52403"
    assert set(frame["source"]) == {"linn.parquet"}


def test_jsonl_with_ids_address_and_components() -> None:
    frame = load_reference_file(DEPOTS)
    _assert_schema(frame)
    assert set(frame["id"]) == {"depot-reykjavik", "depot-kopavogur", "depot-cedar-rapids"}
    reykjavik = _row(frame, "depot-reykjavik")
    assert reykjavik["address"] == "Laugavegur 12b, 101 Reykjavík"  # the given text, kept
    assert reykjavik["country"] == "IS"  # "is" upper-cased
    assert reykjavik["house_number"] == "12b"
    assert reykjavik["road"] == "Laugavegur"
    assert reykjavik["postcode"] == "101"  # a JSON number, as text
    assert _row(frame, "depot-kopavogur")["house_number"] == "2"
    # A null address is formatted from the components, in the row's own country's style.
    assert _row(frame, "depot-cedar-rapids")["address"] == "730 33rd Ave SW, Cedar Rapids, IA 52404"


def test_build_reference_combines_files_and_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "ref" / "custom.parquet"
    assert build_reference([ADDRESSES_ONLY, COMPONENTS, DEPOTS], out) == out
    frame = read_reference(out)
    _assert_schema(frame)
    assert len(frame) == 4 + 4 + 3
    assert set(frame["source"]) == {ADDRESSES_ONLY.name, COMPONENTS.name, DEPOTS.name}
    assert [p.name for p in out.parent.iterdir()] == ["custom.parquet"]  # no temp file left
    assert pq.read_schema(out).equals(reference.REFERENCE_SCHEMA, check_metadata=False)


def test_existing_default_table_is_not_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = build_reference([DEPOTS], tmp_path / "default.parquet")

    def no_download(*args: object, **kwargs: object) -> list[Path]:
        raise AssertionError("an existing table must not be downloaded again")

    monkeypatch.setattr(reference, "pip_download", no_download)
    assert fetch_default_reference(out, progress=False) == out
    assert len(read_reference(out)) == 3


# ---------------------------------------------------------------------- errors


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "addresses.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ReferenceDataError, match=r"unsupported .*\.xlsx"):
        load_reference_file(path)


def test_file_without_address_or_components_is_refused() -> None:
    with pytest.raises(ReferenceDataError, match="neither an 'address' column"):
        load_reference_file(NO_USABLE_COLUMNS)


def test_missing_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="not found"):
        load_reference_file(tmp_path / "absent.csv")
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"not parquet at all")
    with pytest.raises(ReferenceDataError, match="cannot read"):
        load_reference_file(corrupt)
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"address": "4570 Frozen Hill Rd, Anamosa, IA 52205"}\n[1, 2]\n')
    with pytest.raises(ReferenceDataError, match="line 2"):
        load_reference_file(bad_json)


def test_invalid_country_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usa.jsonl"
    record = {"address": "4570 Frozen Hill Rd, Anamosa, IA 52205", "country": "USA"}
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(ReferenceDataError, match="USA"):
        load_reference_file(path)


def test_duplicate_ids_across_files_are_named(tmp_path: Path) -> None:
    copy = tmp_path / "depots_copy.jsonl"
    copy.write_text(DEPOTS.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "ref.parquet"
    with pytest.raises(ReferenceDataError, match="depot-reykjavik"):
        build_reference([DEPOTS, copy], out)
    assert not out.exists()


def test_duplicate_ids_within_a_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(
        'id,address\nhq,"4570 Frozen Hill Rd, Anamosa, IA 52205"\n'
        'hq,"730 33rd Ave SW, Cedar Rapids, IA 52404"\n'
    )
    with pytest.raises(ReferenceDataError, match="'hq'"):
        load_reference_file(path)


def test_table_from_before_coordinates_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = build_reference([DEPOTS], tmp_path / "default.parquet")
    old = pq.read_table(out).drop_columns(["lat", "lon", "completeness"])
    pq.write_table(old, out)
    with pytest.raises(
        ReferenceDataError, match=r"missing columns \['lat', 'lon', 'completeness'\]"
    ):
        read_reference(out)

    def download(*args: object, **kwargs: object) -> list[Path]:
        raise ReferenceDataError("downloading again")

    monkeypatch.setattr(reference, "pip_download", download)
    with pytest.raises(ReferenceDataError, match="downloading again"):
        fetch_default_reference(out, progress=False)


def test_columns_of_the_wrong_type_are_refused(tmp_path: Path) -> None:
    out = build_reference([DEPOTS], tmp_path / "ref.parquet")
    table = pq.read_table(out)
    as_text = table.set_column(
        table.schema.get_field_index("lat"), "lat", table.column("lat").cast(pa.string())
    )
    pq.write_table(as_text, out)
    with pytest.raises(ReferenceDataError, match="lat: string, not double"):
        read_reference(out)
    unknown = table.set_column(
        table.schema.get_field_index("completeness"),
        "completeness",
        pa.array(["complete"] * table.num_rows),
    )
    pq.write_table(unknown, out)
    with pytest.raises(ReferenceDataError, match="'complete'"):
        read_reference(out)


def test_read_reference_refuses_missing_and_foreign_tables(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="not found"):
        read_reference(tmp_path / "absent.parquet")
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"address": ["4570 Frozen Hill Rd, Anamosa, IA 52205"]}), foreign)
    with pytest.raises(ReferenceDataError, match="missing columns"):
        read_reference(foreign)


# ----------------------------------------------------------- real default data


@pytest.fixture(scope="module")
def default_table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    try:
        return read_reference(data_paths().reference)
    except ReferenceDataError:  # absent, or from before coordinates: build a fresh one
        out = tmp_path_factory.mktemp("reference") / "default.parquet"
        return read_reference(fetch_default_reference(out, progress=False))


@pytest.mark.slow
def test_default_reference_has_the_real_data(default_table: pd.DataFrame) -> None:
    frame = default_table
    _assert_schema(frame)
    linn = frame.loc[frame["source"] == "openaddresses-us-ia-linn"]
    iceland = frame.loc[frame["source"] == "registers-iceland"]
    assert len(linn) == pytest.approx(95_000, rel=0.01)
    assert len(iceland) == pytest.approx(139_000, rel=0.01)
    assert iceland["house_number"].notna().sum() == pytest.approx(115_000, rel=0.01)
    assert set(linn["country"]) == {"US"}
    assert set(iceland["country"]) == {"IS"}
    assert linn["id"].str.fullmatch(r"us-ia-linn-\d{6}").all()
    assert iceland["id"].str.fullmatch(r"is-\d+").all()
    assert frame["road"].notna().all()

    first = _row(frame, "us-ia-linn-000001")
    assert first["address"] == "4570 Frozen Hill Rd, Anamosa, IA 52205"
    assert (first["house_number"], first["road"], first["city"]) == (
        "4570",
        "Frozen Hill Rd",
        "Anamosa",
    )
    laugavegur = frame.loc[frame["address"] == "Laugavegur 12b, 101 Reykjavík"]
    assert len(laugavegur) == 1
    assert laugavegur.iloc[0]["postcode"] == "101"
    assert (laugavegur.iloc[0]["lat"], laugavegur.iloc[0]["lon"]) == pytest.approx(
        (64.14597, -21.93096), abs=1e-4
    )
    assert linn["lat"].isna().all() and iceland["lat"].notna().all()
    assert set(frame["completeness"]) == {"authoritative"}
