"""Bulk cleaning job, fast part: readers, screening, manifest and resume logic.

The partition function is replaced by a stand-in (no libpostal, index or model),
so these tests check the job's bookkeeping; ``test_bulk_slow.py`` runs the real one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from address.normalize import normalize
from api.bulk import CleanConfig, CleanInputError, InputProblem, ResumeError, run_clean
from api.bulk.cli import clean
from api.bulk.engines import InProcessEngine
from api.bulk.io import OUTPUT_COLUMNS, count_rows, output_schema, read_chunks
from api.bulk.job import parts_dir, summary_paths
from api.bulk.worker import ChunkResult, ChunkTask, Rejected, ResourceSpec, screen

DATA = Path(__file__).resolve().parent / "data" / "bulk"
FORMATS = ("csv", "parquet", "jsonl")
OUTPUT_NAMES = [name for name, _ in OUTPUT_COLUMNS]


def read_output(path: Path) -> pd.DataFrame:
    """Any output file as a frame of text (nulls as "", confidence as ``repr(float)``)."""
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        if path.suffix == ".parquet":
            frame = pq.read_table(path).to_pandas()
        else:
            frame = pd.read_json(path, lines=True, dtype=False, precise_float=True)
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
    if "confidence" in frame:
        frame["confidence"] = [v and repr(float(v)) for v in frame["confidence"]]
    return frame


def fake_clean(task: ChunkTask, spec: ResourceSpec) -> ChunkResult:
    """Stand-in partition function: screens like the real one, "verifies" by upper-casing
    (a row of fields, by upper-casing the line it makes)."""
    columns: dict[str, list[Any]] = {name: [] for name in OUTPUT_NAMES}
    for text in task.texts:
        screened = screen(text)
        row: dict[str, Any] = dict.fromkeys(OUTPUT_NAMES)
        if isinstance(screened, Rejected):
            row.update(verdict="invalid", reasons=screened.problem.value, error=screened.message)
        else:
            row.update(
                standardized=screened.text().upper(), verdict="valid", confidence=1.0, reasons=""
            )
        for name in OUTPUT_NAMES:
            columns[name].append(row[name])
    return ChunkResult(task.number, columns)


class CrashAfter:
    """Runs ``limit`` chunks, then dies the way a killed process would (mid-run)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0

    def __call__(self, task: ChunkTask, spec: ResourceSpec) -> ChunkResult:
        if self.seen >= self.limit:
            raise KeyboardInterrupt("killed")
        self.seen += 1
        return fake_clean(task, spec)


def engine(process: Any = fake_clean) -> InProcessEngine:
    return InProcessEngine(ResourceSpec(index_dir=Path("unused")), process)


# ---------------------------------------------------------------- readers


@pytest.mark.parametrize("fmt", FORMATS)
def test_readers_stream_exact_chunks_in_every_format(fmt: str) -> None:
    chunks = list(read_chunks(DATA / f"addresses.{fmt}", 7))
    assert [c.number for c in chunks] == [0, 1, 2, 3, 4]
    assert [c.table.num_rows for c in chunks] == [7, 7, 7, 7, 2]
    first = chunks[0].table.to_pylist()[0]
    assert first["address"] == "3701 Fir Tree Dr NE, Cedar Rapids, IA 52402"
    assert first["row"] == "1"
    assert count_rows(DATA / f"addresses.{fmt}") == 30


def test_csv_bytes_that_are_not_utf8_are_marked(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"address\n" + "Stóragerði 22, 108 Reykjavík".encode("latin-1") + b"\n")
    (chunk,) = read_chunks(path, 10)
    text = chunk.table.column("address")[0].as_py()
    assert "\ufffd" in text
    screened = screen(text)
    assert isinstance(screened, Rejected)
    assert screened.problem is InputProblem.BAD_ENCODING


def test_jsonl_lines_that_are_no_object_become_unreadable_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"address": "Sandalda 4b, 850 Hella"}\n[1, 2]\n{not json\n{"zip": 52205}\n')
    (chunk,) = read_chunks(path, 10)
    assert chunk.table.column_names == ["address", "zip"]
    assert chunk.table.column("zip").to_pylist() == [None, None, None, "52205"]
    assert chunk.read_errors[0] is None and chunk.read_errors[3] is None
    assert "not a JSON object" in str(chunk.read_errors[1])
    assert "not JSON" in str(chunk.read_errors[2])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", InputProblem.EMPTY_INPUT),
        ("  \t ,, ", InputProblem.EMPTY_INPUT),
        ("\x00" * 12, InputProblem.BINARY_DATA),
        ("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", InputProblem.BINARY_DATA),
        ("4570 Frozen Hill Rd " + "x" * 100_000, InputProblem.TOO_LONG),
        ("Reykjav\ufffdk", InputProblem.BAD_ENCODING),
    ],
)
def test_screen_rejects_rows_that_are_no_address_text(text: str, problem: InputProblem) -> None:
    screened = screen(text)
    assert isinstance(screened, Rejected)
    assert screened.problem is problem


def test_screen_cleans_a_stray_nul_like_the_api_does() -> None:
    screened = screen("4570 Frozen Hill Rd,\x00 Anamosa IA")
    assert not isinstance(screened, Rejected)
    assert screened.text() == "4570 Frozen Hill Rd, Anamosa IA"


def test_output_columns_must_not_clash_with_input_columns() -> None:
    (chunk,) = read_chunks(DATA / "addresses.csv", 100)
    assert output_schema(chunk.table.schema).names[-len(OUTPUT_NAMES) :] == OUTPUT_NAMES
    with pytest.raises(CleanInputError, match="verdict"):
        output_schema(chunk.table.append_column("verdict", chunk.table.column("row")).schema)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"column": "address", "components": ("number",)},
        {"components": ("house",)},
        {"workers": 0},
        {"scheduler": "tcp://127.0.0.1:8786"},
    ],
)
def test_config_refuses_contradictions(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(CleanInputError):
        CleanConfig(DATA / "addresses.csv", tmp_path / "out.csv", **kwargs)


def test_config_refuses_unknown_extensions(tmp_path: Path) -> None:
    with pytest.raises(CleanInputError, match="unsupported"):
        CleanConfig(DATA / "addresses.csv", tmp_path / "out.xlsx")


# ---------------------------------------------------------------- the job


@pytest.mark.parametrize("fmt_in", FORMATS)
@pytest.mark.parametrize("fmt_out", FORMATS)
def test_every_row_once_in_order_with_input_columns_unchanged(
    tmp_path: Path, fmt_in: str, fmt_out: str
) -> None:
    out = tmp_path / f"out.{fmt_out}"
    config = CleanConfig(DATA / f"addresses.{fmt_in}", out, chunk_rows=4, progress=False)
    summary = run_clean(config, engine=engine())
    source = read_output(DATA / "addresses.csv")
    result = read_output(out)
    assert list(result.columns) == [*source.columns, *OUTPUT_NAMES]
    pd.testing.assert_frame_equal(result[source.columns], source)
    assert list(result["standardized"]) == [normalize(a).upper() for a in source["address"]]
    assert summary.rows == 30 and summary.chunks == 8
    assert not parts_dir(out).exists()
    summary_json, summary_png = summary_paths(out)
    assert json.loads(summary_json.read_text())["verdicts"] == {"valid": 30}
    assert summary_png.read_bytes()[:4] == b"\x89PNG"


def test_components_are_read_as_a_forms_fields(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    config = CleanConfig(
        DATA / "addresses.csv",
        out,
        components=("number", "street", "city", "region", "postcode", "country"),
        progress=False,
    )
    run_clean(config, engine=engine())
    result = read_output(out)
    assert result["standardized"][0] == "3701 FIR TREE DR NE, CEDAR RAPIDS, IA 52402"
    # Iceland's convention, picked from the row's own country column.
    assert result["standardized"][8] == "ÆGISBRAUT 17, 370 BÚÐARDALUR"


def test_a_missing_column_is_a_typed_error(tmp_path: Path) -> None:
    config = CleanConfig(DATA / "addresses.csv", tmp_path / "o.csv", column="street_address")
    with pytest.raises(CleanInputError, match="street_address"):
        run_clean(config, engine=engine())


def test_resume_after_a_crash_keeps_every_row_exactly_once(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    config = CleanConfig(DATA / "addresses.csv", out, chunk_rows=4, progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_clean(config, engine=engine(CrashAfter(3)))
    manifest = json.loads((parts_dir(out) / "manifest.json").read_text())
    assert sorted(manifest["chunks"]) == ["0", "1", "2"]
    assert not out.exists()
    # A chunk file that made it to disk but not into the manifest is simply done again.
    (parts_dir(out) / "chunk-000003.parquet").write_bytes(b"half a file")

    with pytest.raises(ResumeError, match="--resume"):
        run_clean(config, engine=engine())
    done = CrashAfter(100)
    summary = run_clean(
        CleanConfig(DATA / "addresses.csv", out, chunk_rows=4, resume=True, progress=False),
        engine=engine(done),
    )
    assert done.seen == 5  # chunks 3..7 only
    assert summary.resumed_chunks == 3 and summary.rows == 30 and summary.rows_this_run == 18
    result = read_output(out)
    assert list(result["row"]) == [str(n) for n in range(1, 31)]


def test_resume_refuses_another_job(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    config = CleanConfig(DATA / "addresses.csv", out, chunk_rows=4, progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_clean(config, engine=engine(CrashAfter(1)))
    other = CleanConfig(DATA / "addresses.csv", out, chunk_rows=5, resume=True, progress=False)
    with pytest.raises(ResumeError, match="chunk_rows"):
        run_clean(other, engine=engine())


def test_summary_counts_equal_the_output(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    rows = ['{"address": "Sandalda 4b, 850 Hella"}', '{"address": ""}', "[1]"]
    rows += ['{"address": "\\u0000\\u0001\\u0002\\u0003"}', '{"address": null}']
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.csv"
    summary = run_clean(CleanConfig(path, out, chunk_rows=2, progress=False), engine=engine())
    result = read_output(out)
    assert summary.verdicts == result["verdict"].value_counts().to_dict()
    reasons = result["reasons"].str.split(";").explode()
    assert summary.reasons == reasons[reasons != ""].value_counts().to_dict()
    assert summary.reasons == {"empty_input": 2, "unreadable_row": 1, "binary_data": 1}
    assert summary.errors == int((result["error"] != "").sum()) == 4


def test_without_a_terminal_progress_is_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = CleanConfig(
        DATA / "addresses.csv", tmp_path / "o.csv", chunk_rows=10, progress=False, log_every_s=0
    )
    with caplog.at_level(logging.INFO, logger="api.bulk.job"):
        run_clean(config, engine=engine())
    lines = [r.getMessage() for r in caplog.records if r.name == "api.bulk.job"]
    assert len(lines) == 3
    assert lines[-1].startswith("cleaned 30 of ~30 rows (") and "rows/s, ETA 0 s)" in lines[-1]


def test_cli_reports_bad_arguments_as_json_errors(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(clean)
    app.command("other")(lambda: None)  # two commands: `clean` is then a subcommand
    result = CliRunner().invoke(
        app, ["clean", str(DATA / "addresses.csv"), "--out", str(tmp_path / "o.xlsx")]
    )
    # address.cli.fail: exit 2 only for InvalidAddressInputError (bad address text), else 1.
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["type"] == "CleanInputError" and "unsupported" in error["error"]


def test_public_names_exist() -> None:
    import api.bulk

    assert api.bulk.__all__ == sorted(api.bulk.__all__)
    for name in api.bulk.__all__:
        assert hasattr(api.bulk, name), name
