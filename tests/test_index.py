"""The address index end to end: build, load, search, autocomplete, updates, refusals.

One small index (1,500 real rows of the default reference table plus every
"Þórunnartún" and some "Suðurgata" rows) is built once per session (~15 s).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from address.errors import IndexNotReadyError
from index.config import IndexConfig
from index.search import AddressIndex
from index.store import index_is_current, load_index

# Builds a real index with the real model once per session (~15 s on 2 quiet cores).
pytestmark = pytest.mark.slow


@pytest.fixture
def index_copy(built_index: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "copy"
    shutil.copytree(built_index, copy)
    yield copy


def _row(frame: pd.DataFrame, **where: str) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    return frame[mask].iloc[0]


def test_build_writes_a_complete_manifest(
    built_index: Path, reference_sample: pd.DataFrame
) -> None:
    manifest = json.loads((built_index / "manifest.json").read_text())
    assert manifest["count"] == len(reference_sample)
    assert manifest["model"]["fingerprint"].startswith("sha256:")
    assert manifest["faiss"]["type"] == "IndexHNSWFlat"
    assert set(manifest["files"]) == {"vectors.faiss", "rows.parquet"}
    assert "faiss-cpu" in manifest["build"]["versions"]
    assert not list(built_index.parent.glob(".small.*"))  # no temp folder left behind
    assert index_is_current(built_index, reference_sample, IndexConfig())


def test_exact_address_finds_itself(index: AddressIndex, reference_sample: pd.DataFrame) -> None:
    for _, row in reference_sample.sample(20, random_state=1).iterrows():
        top = index.search(row["address"], k=3)[0]
        assert top.id == row["id"], (row["address"], top)
        assert top.score >= 0.95
        assert top.components["road"] == row["road"]


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda a: a.replace("a", "", 1),  # a letter missing
        lambda a: a.lower().replace(",", ""),
        lambda a: a.replace(" Rd", " Road").replace(" St", " Street").replace(" Ave", " Avenue"),
    ],
)
def test_typo_or_abbreviation_finds_the_address(
    index: AddressIndex, reference_sample: pd.DataFrame, corrupt: object
) -> None:
    assert callable(corrupt)
    rows = reference_sample[reference_sample["house_number"].notna()].sample(10, random_state=2)
    for _, row in rows.iterrows():
        ids = [c.id for c in index.search(corrupt(row["address"]), k=3)]
        assert row["id"] in ids, (corrupt(row["address"]), ids)


def test_other_house_number_ranks_below_the_exact_one(
    index: AddressIndex, reference_sample: pd.DataFrame
) -> None:
    row = _row(reference_sample, road="Suðurgata")
    results = index.search(row["address"], k=5)
    assert results[0].id == row["id"]
    others = [c for c in results if c.components.get("house_number") != row["house_number"]]
    assert others and all(c.score < 0.8 for c in others)
    assert "house_number" not in others[0].matched


def test_icelandic_letters_match(index: AddressIndex, reference_sample: pd.DataFrame) -> None:
    row = _row(reference_sample, road="Þórunnartún")
    assert index.search(row["address"], k=1)[0].id == row["id"]
    ascii_query = row["address"].replace("Þ", "Th").replace("ó", "o").replace("ú", "u")
    assert index.search(ascii_query, k=3)[0].id == row["id"]
    assert any(c.components["road"] == "Þórunnartún" for c in index.autocomplete("Þórunnart"))
    assert any(c.components["road"] == "Suðurgata" for c in index.autocomplete("Suðurg"))


def test_search_batch_matches_search(index: AddressIndex, reference_sample: pd.DataFrame) -> None:
    queries = reference_sample["address"].head(4).tolist()
    assert index.search_batch(queries, k=2) == [index.search(q, k=2) for q in queries]


def test_country_filter(index: AddressIndex, reference_sample: pd.DataFrame) -> None:
    row = _row(reference_sample, road="Suðurgata")
    assert all(c.country == "US" for c in index.search(row["address"], k=3, country="US"))


@pytest.mark.parametrize("prefix", ["", "a", "4 ", "  "])
def test_short_prefix_gives_no_suggestions(index: AddressIndex, prefix: str) -> None:
    assert index.autocomplete(prefix) == []


def test_autocomplete_from_the_third_character(
    index: AddressIndex, reference_sample: pd.DataFrame
) -> None:
    row = reference_sample[reference_sample["country"] == "US"].iloc[0]
    typed = row["address"][: len(row["address"]) // 2 + 3]
    assert row["id"] in [c.id for c in index.autocomplete(typed, k=5)]
    street_first = f"{row['road']} {row['house_number']}"
    assert row["id"] in [c.id for c in index.autocomplete(street_first, k=5)]


def test_save_and_load_round_trip(index: AddressIndex, index_copy: Path, libpostal: None) -> None:
    again = load_index(index_copy)
    query = "Þórunnartún 2, 105 Reykjavík"
    assert again.search(query, k=3) == index.search(query, k=3)
    assert len(again) == len(index)


def test_add_and_delete_keep_ids_stable(
    index_copy: Path, reference_sample: pd.DataFrame, libpostal: None
) -> None:
    loaded = load_index(index_copy)
    victim = reference_sample.iloc[5]
    assert loaded.delete([victim["id"], "no-such-id"]) == 1
    assert victim["id"] not in [c.id for c in loaded.search(victim["address"], k=5)]
    new = pd.DataFrame(
        [
            {
                "id": "test-000001",
                "address": "Laugavegur 999, 101 Reykjavík",
                "country": "IS",
                "house_number": "999",
                "road": "Laugavegur",
                "unit": None,
                "postcode": "101",
                "city": "Reykjavík",
                "state": None,
                "source": "test",
            }
        ]
    )
    assert loaded.add(new) == 1
    assert loaded.search("Laugavegur 999, Reykjavík", k=1)[0].id == "test-000001"
    loaded.save()
    reloaded = load_index(index_copy)
    assert reloaded.search("Laugavegur 999, 101 Reykjavík", k=1)[0].id == "test-000001"
    assert victim["id"] not in [c.id for c in reloaded.search(victim["address"], k=5)]
    assert reloaded.autocomplete("Laugavegur 999")[0].id == "test-000001"
    survivor = reference_sample.iloc[6]
    assert reloaded.search(survivor["address"], k=1)[0].id == survivor["id"]


def test_missing_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReadyError, match="addr index build"):
        load_index(tmp_path / "nothing-here")


def test_truncated_faiss_file_is_refused(index_copy: Path) -> None:
    vectors = index_copy / "vectors.faiss"
    data = vectors.read_bytes()
    vectors.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexNotReadyError, match="truncated"):
        load_index(index_copy)


def test_corrupt_rows_are_refused(index_copy: Path) -> None:
    rows = index_copy / "rows.parquet"
    data = bytearray(rows.read_bytes())
    data[len(data) // 2] ^= 0xFF
    rows.write_bytes(bytes(data))
    with pytest.raises(IndexNotReadyError, match="checksum"):
        load_index(index_copy)


def test_other_model_fingerprint_is_refused(index_copy: Path) -> None:
    manifest_path = index_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"]["fingerprint"] = "sha256:" + "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexNotReadyError, match="model weights"):
        load_index(index_copy)


def test_dense_path_agrees_when_forced(index: AddressIndex, reference_sample: pd.DataFrame) -> None:
    from dataclasses import replace

    row = reference_sample.iloc[11]
    forced = replace(index.config, dense_below=1.01)
    saved, index.config = index.config, forced
    try:
        assert index.search(row["address"], k=1)[0].id == row["id"]
    finally:
        index.config = saved


def test_cli_prints_json_and_typed_errors(
    built_index: Path, reference_sample: pd.DataFrame, tmp_path: Path, libpostal: None
) -> None:
    import typer
    from typer.testing import CliRunner

    from index.cli import autocomplete, index_app, suggest

    app = typer.Typer()
    app.add_typer(index_app, name="index")
    app.command()(suggest)
    app.command()(autocomplete)
    runner = CliRunner()
    row = reference_sample.iloc[0]
    result = runner.invoke(app, ["suggest", row["address"], "--index", str(built_index)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == row["id"]
    result = runner.invoke(app, ["autocomplete", "ab", "--index", str(built_index)])
    assert json.loads(result.stdout) == []
    result = runner.invoke(app, ["suggest", "12 Baker St", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert json.loads(result.stderr)["type"] == "IndexNotReadyError"
    result = runner.invoke(app, ["suggest", "   ", "--index", str(built_index)])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["type"] == "EmptyAddressError"


def test_autocomplete_score_tells_a_typo_correction(index: AddressIndex) -> None:
    exact = index.autocomplete("Þórunnart", k=3)
    assert exact and all(c.score == 1.0 for c in exact)
    corrected = index.autocomplete("thorunart", k=3)  # one "n" missing
    assert corrected and all(c.components["road"] == "Þórunnartún" for c in corrected)
    assert all(c.score == 0.9 for c in corrected)


def test_autocomplete_narrowed_to_the_town(
    index: AddressIndex, reference_sample: pd.DataFrame
) -> None:
    row = _row(reference_sample, address="3701 Fir Tree Dr NE, Cedar Rapids, IA 52402")
    typed = "3701 fir"
    everywhere = index.autocomplete(typed[:3], k=50)
    assert {c.components["city"] for c in everywhere} > {"Cedar Rapids"}
    for town in ("Cedar Rapids", "cedar rapids", "Cedar Rapdis", "Cedar"):
        found = index.autocomplete(typed[:3], k=50, locality=town)
        assert found and {c.components["city"] for c in found} == {"Cedar Rapids"}, town
        assert [c.id for c in found] == [
            c.id for c in everywhere if c.components["city"] == "Cedar Rapids"
        ]
        assert index.autocomplete(typed, k=5, locality=town)[0].id == row["id"]
    assert index.autocomplete(typed, k=5, locality="Reykjavík") == []
    assert index.autocomplete("Suðurg", locality="reykjavik")  # folded like the rows
    assert index.autocomplete(typed, locality=" - ")[0].id == row["id"]  # nothing to narrow by


@pytest.mark.parametrize(
    ("postcode", "agreeing"),
    [("52402", "52402"), (" 524 02 ", "52402"), ("52402-1234", "52402"), ("524", "524")],
)
def test_autocomplete_narrowed_to_the_postcode(
    index: AddressIndex, postcode: str, agreeing: str
) -> None:
    found = index.autocomplete("3701", k=50, postcode=postcode)
    assert found and all(c.components["postcode"].startswith(agreeing) for c in found)
    assert "3701 Fir Tree Dr NE, Cedar Rapids, IA 52402" in [c.address for c in found]


def test_autocomplete_narrowing_is_strict(index: AddressIndex) -> None:
    assert index.autocomplete("3701 fir", postcode="52205") == []
    assert index.autocomplete("3701 fir", locality="Cedar Rapids", postcode="52205") == []
    assert index.autocomplete("3701 fir", locality="Cedar Rapids", postcode="52402")
