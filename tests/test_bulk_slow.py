"""Bulk cleaning job with the real components: libpostal, the small index, the classifier.

Each process that verifies loads ~3-4 GB and takes ~30 s to start, so worker
counts stay at 1-2 and the inputs at a few dozen to a few hundred rows.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_bulk import DATA, OUTPUT_NAMES, read_output

from api.bulk import CleanConfig, run_clean
from api.bulk.job import parts_dir, summary_paths
from api.server_process import free_port

pytestmark = pytest.mark.slow

COMPONENTS = ("number", "street", "city", "region", "postcode", "country")
# Compared exactly between engines; the confidence only to float noise (thread counts differ).
EXACT_COLUMNS = [n for n in OUTPUT_NAMES if n != "confidence"]


def clean(source: Path, out: Path, index: Path, **options: Any) -> pd.DataFrame:
    config = CleanConfig(source, out, index_dir=index, progress=False, **options)
    summary = run_clean(config)
    result = read_output(out)
    assert summary.rows == len(result)
    return result


@pytest.fixture(scope="module")
def csv_result(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("bulk") / "out.csv"
    return clean(DATA / "addresses.csv", out, built_index, chunk_rows=8)


def test_known_addresses_are_valid_and_broken_ones_are_not(csv_result: pd.DataFrame) -> None:
    known = csv_result[csv_result["kind"] == "known"]
    assert (known["verdict"] == "valid").all(), known[["address", "verdict", "reasons"]]
    assert (known["match_id"] == known["ref"]).all()
    by_kind = csv_result.set_index("kind")
    assert "missing_house_number" in by_kind.loc["no_number", "reasons"].tolist()[0]
    assert by_kind.loc["typo", "verdict"] != "valid"
    assert by_kind.loc["typo", "suggestion_1"] == "2902 Brookfield Dr, Marion, IA 52302"
    assert by_kind.loc["not_an_address", "verdict"] == "invalid"
    assert json.loads(csv_result["components"][0])["road"] == "fir tree dr ne"
    assert (csv_result["error"] == "").all()


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_every_format_gives_the_same_answers(
    fmt: str, csv_result: pd.DataFrame, built_index: Path, tmp_path: Path
) -> None:
    result = clean(DATA / f"addresses.{fmt}", tmp_path / f"out.{fmt}", built_index, chunk_rows=8)
    pd.testing.assert_frame_equal(result, csv_result)


def test_component_columns_give_the_answers_of_the_address_column(
    csv_result: pd.DataFrame, built_index: Path, tmp_path: Path
) -> None:
    result = clean(
        DATA / "addresses.csv", tmp_path / "out.parquet", built_index, components=COMPONENTS
    )
    known = result["kind"] == "known"
    assert (result.loc[known, "verdict"] == "valid").all()
    assert (result.loc[known, "match_id"] == csv_result.loc[known, "match_id"]).all()


def test_bad_rows_are_reported_and_never_stop_the_job(built_index: Path, tmp_path: Path) -> None:
    lines = [
        b"id,address",
        b"1,",
        b'2,"\x00\x00\x00\x00\x00\x00"',
        b'3,"' + bytes(range(0x80, 0xA0)) + b'\x01\x02\x03"',
        b'4,"4570 Frozen Hill Rd ' + b"x" * 100_000 + b'"',
        b'5,"' + "Stóragerði 22, 108 Reykjavík".encode("latin-1") + b'"',
        '6,"Stóragerði 22,\x00 108 Reykjavík"'.encode(),
        '7,"Stóragerði 22, 108 Reykjavík"'.encode(),
    ]
    source = tmp_path / "bad.csv"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = clean(source, tmp_path / "out.jsonl", built_index, chunk_rows=3)
    assert list(result["id"]) == ["1", "2", "3", "4", "5", "6", "7"]
    assert list(result["verdict"][:5]) == ["invalid"] * 5
    expected = ["empty_input", "binary_data", "binary_data", "too_long", "bad_encoding"]
    assert list(result["reasons"][:5]) == expected
    assert (result["error"][:5] != "").all()
    # The stray NUL is cleaned away, as by the API; the row is the good one's twin.
    assert result["verdict"][5] == result["verdict"][6] == "valid"


# ---------------------------------------------------------------- resume after kill -9


def _bigger_input(path: Path, copies: int) -> pd.DataFrame:
    base = pd.read_csv(DATA / "addresses.csv", dtype=str, keep_default_na=False)
    frame = pd.concat([base] * copies, ignore_index=True)
    frame["row"] = [str(n) for n in range(1, len(frame) + 1)]
    frame.to_csv(path, index=False)
    return frame


def _command(source: Path, out: Path, index: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "api.bulk.cli",
        str(source),
        "--out",
        str(out),
        "--index",
        str(index),
        "--chunk-rows",
        "10",
        *extra,
    ]


def _done_chunks(out: Path) -> int:
    try:
        return len(json.loads((parts_dir(out) / "manifest.json").read_text())["chunks"])
    except (OSError, ValueError, KeyError):
        return 0


def test_resume_after_kill_9_gives_every_row_exactly_once(
    built_index: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    frame = _bigger_input(source, copies=10)  # 300 rows, 30 chunks
    out = tmp_path / "out.parquet"
    job = subprocess.Popen(
        _command(source, out, built_index), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while _done_chunks(out) < 3 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    job.send_signal(signal.SIGKILL)
    job.wait()
    killed_after = _done_chunks(out)
    assert job.returncode == -signal.SIGKILL
    assert 3 <= killed_after < 30, "the job must die mid-run"
    assert not out.exists()

    resumed = subprocess.run(
        _command(source, out, built_index, "--resume"), capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads(resumed.stdout)
    assert summary["resumed_chunks"] == killed_after
    assert summary["rows"] == 300
    assert summary["rows_this_run"] == 300 - 10 * killed_after
    result = read_output(out)
    pd.testing.assert_frame_equal(result[frame.columns], frame)
    assert result["verdict"].ne("").all()
    assert json.loads(summary_paths(out)[0].read_text())["rows"] == 300


# ---------------------------------------------------------------- Dask


@pytest.fixture
def dask_cluster() -> Iterator[str]:
    """A real scheduler and two single-threaded workers, each its own process, on loopback."""
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [
        [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
    ] * 2
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
        )
        for command in commands
    ]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_dask_engine_gives_the_local_engine_output(
    dask_cluster: str, csv_result: pd.DataFrame, built_index: Path, tmp_path: Path
) -> None:
    config = CleanConfig(
        DATA / "addresses.csv",
        tmp_path / "out.csv",
        index_dir=built_index,
        engine="dask",
        scheduler=dask_cluster,
        chunk_rows=8,
        progress=False,
    )
    summary = run_clean(config)
    result = read_output(tmp_path / "out.csv")
    assert summary.workers == 2
    assert len({pid for pid in summary.worker_peak_rss_mb}) == 2, "both workers took chunks"
    pd.testing.assert_frame_equal(result[EXACT_COLUMNS], csv_result[EXACT_COLUMNS])
    confidence = pd.to_numeric(result["confidence"]) - pd.to_numeric(csv_result["confidence"])
    assert confidence.abs().max() < 1e-3


def test_local_process_pool_gives_the_in_process_output(
    csv_result: pd.DataFrame, built_index: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    summary = run_clean(
        CleanConfig(
            DATA / "addresses.csv",
            out,
            index_dir=built_index,
            workers=2,
            chunk_rows=8,
            progress=False,
        )
    )
    assert summary.workers == 2
    assert summary.stage_seconds["load"] > 0, "the pool's workers load once, at start"
    result = read_output(out)
    pd.testing.assert_frame_equal(result[EXACT_COLUMNS], csv_result[EXACT_COLUMNS])
    confidence = pd.to_numeric(result["confidence"]) - pd.to_numeric(csv_result["confidence"])
    assert confidence.abs().max() < 1e-3
