"""Bring your own data: one-line known-good addresses become reference rows with
components, and ``addr serve --index DIR`` serves DIR.

The end-to-end test builds an index of real Hamilton County, Ohio addresses (outside the
default data) with ``addr index build``, serves it with ``addr serve --index``, adds
addresses with ``addr index add``, and verifies every one of them over HTTP.
"""

from __future__ import annotations

import csv
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.server_process import ServerProcess
from api.settings import ServiceSettings, get_service_settings
from index.user_files import SKIP_REASONS, load_reference_file

HAMILTON = Path(__file__).resolve().parents[2] / "shared/datasets/us_oh_hamilton_voters.txt"
# A Hamilton line: "3359 QUEEN CITY AVE CINCINNATI OH 45238" (house number first), in one of
# the county's towns named here, so that street and town can be told apart.
HAMILTON_LINE = re.compile(
    r"^(?P<street>\d\S* .+?) (?P<town>CINCINNATI|HARRISON|CLEVES|LOVELAND|NORTH BEND) "
    r"OH (?P<postcode>\d{5})$"
)
# Addresses taken from each town, and how many of them are added after the build.
PER_TOWN = {"CINCINNATI": 32, "HARRISON": 3, "CLEVES": 3, "LOVELAND": 3, "NORTH BEND": 3}
ADDED = 4
# Share of the index's own addresses that must verify valid at premise granularity.
PREMISE_SHARE = 0.99
# Requests per second a test client may send without 429s.
SERVER_ENV = {"ADDR_RATE_LIMIT_PER_SECOND": "100000", "ADDR_RATE_LIMIT_BURST": "100000"}


def _write_lines(path: Path, lines: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # a blank cell stays a row
        writer.writerow(["address"])
        writer.writerows([line] for line in lines)
    return path


# ------------------------------------------------------------- one-line reference rows


def test_one_line_rows_get_components_and_unparseable_rows_are_counted(
    tmp_path: Path, libpostal: None
) -> None:
    lines = [
        "1952 Florida Avenue, Baker, LA 70714",
        "4570 Frozen Hill Rd, Anamosa, IA 52205",
        "412 3rd St S Unit C, Coggon, IA 52218",
        "Anamosa, IA 52205",  # a town, no street
        " \t ",  # blank
        "\x00\x01",  # nothing once normalized
        "4570 Frozen Hill Rd " * 40,  # over the 512-character limit
    ]
    skipped: Counter[str] = Counter()
    frame = load_reference_file(_write_lines(tmp_path / "mine.csv", lines), skipped=skipped)

    assert skipped == {"no_road": 1, "empty": 2, "too_long": 1}
    assert set(skipped) <= set(SKIP_REASONS)
    assert list(frame["id"]) == ["mine-1", "mine-2", "mine-3"]  # file rows, stable
    first = frame.iloc[0].to_dict()
    assert first["address"] == "1952 Florida Avenue, Baker, LA 70714"  # kept as given
    expected = {
        "house_number": "1952",
        "road": "Florida Avenue",
        "city": "Baker",
        "state": "LA",
        "postcode": "70714",
    }
    assert {k: first[k] for k in expected} == expected
    assert frame.iloc[2]["unit"] == "Unit C"
    assert frame["road"].notna().all()


def test_components_given_in_columns_win_over_the_parse(tmp_path: Path, libpostal: None) -> None:
    path = tmp_path / "partial.jsonl"
    record = {"address": "1952 Florida Avenue, Baker, LA 70714", "postcode": "70704"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (row,) = load_reference_file(path, country="US").to_dict("records")
    assert row["postcode"] == "70704"  # the labelled field is trusted over the parse
    assert (row["road"], row["house_number"], row["city"]) == ("Florida Avenue", "1952", "Baker")


def test_rows_with_components_do_not_load_libpostal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import address.libpostal

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("libpostal must not be needed for rows with a road")

    monkeypatch.setattr(address.libpostal, "parse", no_parse)
    path = tmp_path / "linn.csv"
    path.write_text("number,street,city,region,postcode\n4570,Frozen Hill Rd,Anamosa,IA,52205\n")
    frame = load_reference_file(path, country="US")
    assert frame["address"].tolist() == ["4570 Frozen Hill Rd, Anamosa, IA 52205"]


# ------------------------------------------------------------------- addr serve --index


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_hands_its_index_option_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The settings the app reads, in this process (one worker) and in a freshly started
    worker process, name the ``--index`` folder, even when they were read before."""
    import uvicorn

    import api.logs
    from api.cli import app

    for name in ("ADDR_INDEX_PATH", "TQDM_DISABLE", "MALLOC_ARENA_MAX"):
        # `serve` sets these; setting first makes monkeypatch restore them afterwards.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    get_service_settings.cache_clear()
    assert get_service_settings().index_dir != tmp_path  # read and cached before `serve` runs
    seen: dict[str, Any] = {}

    def fake_run(target: str, **options: Any) -> None:
        seen["in_process"] = get_service_settings().index_dir  # what create_app() reads
        seen["new_worker"] = ServiceSettings().index_dir  # what a spawned worker reads
        seen["workers"] = options["workers"]

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(api.logs, "configure_logging", lambda level: None)
    try:
        result = CliRunner().invoke(
            app, ["serve", "--index", str(tmp_path), "--workers", str(workers)]
        )
    finally:
        get_service_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert seen == {"in_process": tmp_path, "new_worker": tmp_path, "workers": workers}


# ------------------------------------------------------------------------- end to end


def _hamilton_addresses() -> list[str]:
    """Real Hamilton County addresses as one line each, ``3359 QUEEN CITY AVE, CINCINNATI,
    OH 45238``, evenly spread over the file, in a seeded random order."""
    if not HAMILTON.is_file():
        pytest.skip(f"{HAMILTON} is absent (the shared datasets are not checked out)")
    by_town: dict[str, list[str]] = {town: [] for town in PER_TOWN}
    with HAMILTON.open(encoding="utf-8") as lines:
        for line in dict.fromkeys(line.strip() for line in lines):
            if found := HAMILTON_LINE.match(line):
                street, town, postcode = found.group("street", "town", "postcode")
                by_town[town].append(f"{street}, {town}, OH {postcode}")
    picked = []
    for town, count in PER_TOWN.items():
        addresses = by_town[town]
        step = len(addresses) // count
        picked += addresses[step // 2 :: step][:count]
    random.Random(7).shuffle(picked)
    return picked


def _addr(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _verify_all(server: ServerProcess, addresses: list[str]) -> dict[str, dict[str, Any]]:
    """``POST /v1/verify`` for each address, each on a new connection (so that every
    worker answers some)."""
    answers = {}
    for address in addresses:
        response = httpx.post(f"{server.url}/v1/verify", json={"address": address}, timeout=60)
        assert response.status_code == 200, response.text
        answers[address] = response.json()
    return answers


def _premise_share(answers: dict[str, dict[str, Any]]) -> float:
    exact = [
        a
        for address, a in answers.items()
        if a["verdict"] == "valid"
        and a["granularity"] == "premise"
        and a["match"] is not None
        and a["match"]["address"] == address
    ]
    return len(exact) / len(answers)


def _misses(answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        address: (a["verdict"], a["granularity"], a["reasons"], a["match"])
        for address, a in answers.items()
        if (a["verdict"], a["granularity"]) != ("valid", "premise")
    }


@pytest.mark.slow
def test_own_one_line_addresses_verify_at_premise_over_http(tmp_path: Path) -> None:
    addresses = _hamilton_addresses()
    built, added = addresses[:-ADDED], addresses[-ADDED:]
    index = tmp_path / "hamilton_index"

    summary = _addr(
        "index", "build", "--input", str(_write_lines(tmp_path / "own.csv", built)),
        "--out", str(index),
    )  # fmt: skip
    assert (summary["rows"], summary["skipped"]) == (len(built), {})

    with ServerProcess(SERVER_ENV, workers=1, index=index) as server:
        one_worker = _verify_all(server, built)
    share = _premise_share(one_worker)
    print(f"\nown data, 1 worker: {share:.3f} of {len(built)} valid at premise")
    assert share >= PREMISE_SHARE, _misses(one_worker)

    more = _write_lines(tmp_path / "more.csv", added)
    summary = _addr("index", "add", str(more), "--index", str(index))
    assert (summary["added"], summary["live"], summary["skipped"]) == (ADDED, len(addresses), {})

    with ServerProcess(SERVER_ENV, workers=2, index=index) as server:
        two_workers = _verify_all(server, addresses)
    share = _premise_share({a: two_workers[a] for a in built})
    print(f"own data, 2 workers: {share:.3f} of {len(built)} valid at premise")
    assert share >= PREMISE_SHARE, _misses(two_workers)
    new = {a: two_workers[a] for a in added}
    print(f"own data, added: {_premise_share(new):.3f} of {len(added)} valid at premise")
    assert _premise_share(new) == 1.0, _misses(new)
