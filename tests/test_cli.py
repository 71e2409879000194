"""The `addr` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ADDR = [sys.executable, "-m", "api.cli"]


def _addr(
    *args: str | bytes, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*ADDR, *args], capture_output=True, env={**os.environ, **(env or {})}, timeout=120
    )


@pytest.mark.slow
def test_parse_prints_components() -> None:
    result = _addr("parse", "Flat 3, 12 Baker St, London NW1 6XE")
    assert result.returncode == 0, result.stderr
    components = json.loads(result.stdout)
    assert components["house_number"] == "12"
    assert components["road"] == "baker st"
    assert components["postcode"] == "nw1 6xe"
    assert components["unit"] == "flat 3"


@pytest.mark.slow
def test_invalid_utf8_argument_is_handled() -> None:
    result = _addr("parse", b"\xff\xfe12 Main St, Springfield")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["house_number"] == "12"


@pytest.mark.parametrize(
    ("text", "error"), [("   ", "EmptyAddressError"), ("x" * 10_000, "AddressTooLongError")]
)
def test_bad_input_is_a_json_error_with_exit_2(text: str, error: str) -> None:
    result = _addr("normalize", text)
    assert result.returncode == 2
    assert json.loads(result.stderr)["type"] == error


def test_missing_data_names_the_fix(tmp_path: Path) -> None:
    result = _addr("parse", "12 Baker St", env={"ADDR_LIBPOSTAL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    error = json.loads(result.stderr)
    assert error["type"] == "DataNotReadyError"
    assert "make setup" in error["error"]
    assert b"Traceback" not in result.stderr


def test_expand_prints_variants() -> None:
    result = _addr("expand", "123 Main St")
    assert result.returncode == 0, result.stderr
    assert "123 main street" in json.loads(result.stdout)


@pytest.mark.parametrize("command", ["build", "add"])
def test_index_commands_refuse_an_unknown_completeness(command: str, tmp_path: Path) -> None:
    rows = tmp_path / "shops.csv"
    rows.write_text("address\n4570 Frozen Hill Rd, Anamosa, IA 52205\n", encoding="utf-8")
    target = ["--out", str(tmp_path / "idx")] if command == "build" else [str(rows)]
    inputs = ["--input", str(rows)] if command == "build" else []
    result = _addr("index", command, *inputs, *target, "--completeness", "complete")
    assert result.returncode == 2
    assert b"authoritative" in result.stderr and b"observed" in result.stderr
