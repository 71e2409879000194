"""Streaming readers and writers of the bulk cleaning job (CSV, Parquet, JSONL).

Input is read in chunks of exactly ``chunk_rows`` rows (the last one shorter), so
that memory stays flat whatever the file size and the chunk boundaries of a
resumed run are those of the first. Every cell of a CSV or JSONL file is read
as text (``"00501"`` stays ``"00501"``); Parquet columns keep their types.
Bytes that are not UTF-8 become U+FFFD ("Reykjav\\ufffdk"), which the worker
reports as ``bad_encoding``. Errors::

    AddressError
    └── CleanJobError                      the bulk job cannot go on
        ├── CleanInputError (ValueError)   unreadable input, unknown format, missing column
        ├── CleanOutputError (OSError)     output, chunk or checkpoint not writable (disk full)
        └── ResumeError (ValueError)       left-over or mismatched checkpoint state
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from address._files import write_atomically
from address.errors import AddressError

__all__ = [
    "FORMATS",
    "OUTPUT_COLUMNS",
    "SUGGESTION_COLUMNS",
    "CleanInputError",
    "CleanJobError",
    "CleanOutputError",
    "FileFormat",
    "InputChunk",
    "ResumeError",
    "assemble",
    "count_rows",
    "file_format",
    "output_schema",
    "read_chunks",
    "write_json_atomically",
    "write_output",
    "write_parquet_atomically",
]

FileFormat = Literal["csv", "parquet", "jsonl"]
FORMATS: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl"}
"""File extension -> format, for input and output alike."""

SUGGESTION_COLUMNS = 3
"""How many ``suggestion_N`` columns the output has."""

OUTPUT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("standardized", pa.string()),
    ("verdict", pa.string()),
    ("confidence", pa.float64()),
    ("reasons", pa.string()),
    ("match_id", pa.string()),
    ("match_address", pa.string()),
    *((f"suggestion_{n}", pa.string()) for n in range(1, SUGGESTION_COLUMNS + 1)),
    ("components", pa.string()),
    ("extras", pa.string()),
    ("coverage", pa.string()),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("precision", pa.string()),
    ("error", pa.string()),
)
"""Columns the job appends to every input row, with their Arrow types."""

_BLOCK = 1 << 20  # bytes read at a time when counting lines


class CleanJobError(AddressError):
    """The bulk cleaning job cannot go on."""


class CleanInputError(CleanJobError, ValueError):
    """The input or output file cannot be used: unknown format, unreadable, missing column."""


class CleanOutputError(CleanJobError, OSError):
    """A chunk file, the checkpoint, the output or its summary cannot be written (disk
    full, read-only folder). Chunks already checkpointed are kept for ``--resume``."""


class ResumeError(CleanJobError, ValueError):
    """Checkpoint state of another job, or left-over state without ``--resume``."""


@dataclass(frozen=True, slots=True)
class InputChunk:
    """Rows ``[number * chunk_rows, ...)`` of the input.

    ``read_errors[i]`` says why row ``i`` could not be read at all (a JSONL line
    that is not a JSON object); its cells are then null.
    """

    number: int
    table: pa.Table
    read_errors: tuple[str | None, ...]


def file_format(path: Path) -> FileFormat:
    """The format of ``orders.csv`` / ``orders.parquet`` / ``orders.jsonl``, by extension.

    Raises:
        CleanInputError: any other extension.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CleanInputError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(FORMATS)}"
        )
    return fmt


def output_schema(input_schema: pa.Schema) -> pa.Schema:
    """The input's columns followed by :data:`OUTPUT_COLUMNS`.

    Raises:
        CleanInputError: the input already has a column of that name.
    """
    clash = sorted(set(input_schema.names) & {name for name, _ in OUTPUT_COLUMNS})
    if clash:
        raise CleanInputError(f"the input already has output column(s) {clash}; rename them")
    return pa.schema([*input_schema, *(pa.field(n, t) for n, t in OUTPUT_COLUMNS)])


def count_rows(path: Path) -> int:
    """Rows in the file: exact for Parquet; for CSV and JSONL the number of line
    breaks (an estimate for the progress bar: quoted line breaks count too)."""
    fmt = file_format(path)
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    lines += last != b"\n"
    return max(0, lines - (fmt == "csv"))


def _rebatch(tables: Iterator[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last one shorter) from tables of any size."""
    pending: list[pa.Table] = []
    held = 0
    for table in tables:
        pending.append(table)
        held += table.num_rows
        while held >= rows:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, rows).combine_chunks()
            rest = merged.slice(rows)
            pending, held = [rest], rest.num_rows
    if held:
        yield pa.concat_tables(pending).combine_chunks()


def _string_table(columns: Sequence[str], values: dict[str, list[str | None]]) -> pa.Table:
    return pa.table({name: pa.array(values[name], pa.string()) for name in columns})


def _csv_tables(path: Path, rows: int) -> Iterator[pa.Table]:
    import pandas as pd

    try:
        # Everything as text ("00501" stays); bytes that are not UTF-8 become U+FFFD.
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            encoding_errors="replace",
            chunksize=rows,
        )
        with reader:
            for frame in reader:
                names = [str(c) for c in frame.columns]
                yield _string_table(
                    names, {n: frame[c].tolist() for n, c in zip(names, frame.columns, strict=True)}
                )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise CleanInputError(f"cannot read {path}: {exc}") from exc


def _jsonl_cell(value: object) -> str | None:
    """A JSON value as text: ``52205`` -> ``"52205"``, objects and lists as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _jsonl_records(path: Path) -> Iterator[dict[str, Any] | str]:
    """Each non-blank line as a JSON object, or the reason it is not one."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            text = raw.decode("utf-8", "replace")
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield f"line {number} is not JSON: {exc.msg}"
                continue
            if not isinstance(record, dict):
                yield f"line {number} is not a JSON object"
                continue
            yield record


def _jsonl_chunks(path: Path, rows: int) -> Iterator[tuple[pa.Table, tuple[str | None, ...]]]:
    # One pass to learn every key (rows may differ), one to read: chunks share a schema.
    columns: dict[str, None] = {}
    for record in _jsonl_records(path):
        if isinstance(record, dict):
            columns.update(dict.fromkeys(str(k) for k in record))
    names = list(columns)
    batch: list[dict[str, Any] | str] = []

    def table_of(records: list[dict[str, Any] | str]) -> tuple[pa.Table, tuple[str | None, ...]]:
        values: dict[str, list[str | None]] = {n: [] for n in names}
        errors: list[str | None] = []
        for record in records:
            row = record if isinstance(record, dict) else {}
            for name in names:
                values[name].append(_jsonl_cell(row.get(name)))
            errors.append(None if isinstance(record, dict) else record)
        return _string_table(names, values), tuple(errors)

    for record in _jsonl_records(path):
        batch.append(record)
        if len(batch) == rows:
            yield table_of(batch)
            batch = []
    if batch:
        yield table_of(batch)


def read_chunks(path: Path, rows: int) -> Iterator[InputChunk]:
    """Stream the input as chunks of ``rows`` rows, numbered from 0.

    Example:
        ``read_chunks(Path("orders.csv"), 1000)`` yields ``InputChunk(0, table, ...)``
        whose first row may be ``{"address": "4570 Frozen Hill Rd, Anamosa, IA 52205"}``.

    Raises:
        CleanInputError: the file is missing, of an unknown format or unreadable.
    """
    fmt = file_format(path)
    if not path.is_file():
        raise CleanInputError(f"input file not found: {path}")
    if fmt == "jsonl":
        for number, (table, errors) in enumerate(_jsonl_chunks(path, rows)):
            yield InputChunk(number, table, errors)
        return
    if fmt == "csv":
        tables = _csv_tables(path, rows)
    else:
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise CleanInputError(f"cannot read {path}: {exc}") from exc
        tables = (pa.Table.from_batches([b]) for b in parquet.iter_batches(batch_size=rows))
    for number, table in enumerate(_rebatch(tables, rows)):
        yield InputChunk(number, table.replace_schema_metadata(None), (None,) * table.num_rows)


def write_output(path: Path, write: Callable[[Path], object], *, suffix: str = ".tmp") -> None:
    """Write ``path`` with ``write(temporary)`` and an atomic rename
    (:func:`address._files.write_atomically`); an ``OSError`` becomes
    :class:`CleanOutputError`, and no temporary file is left.

    Example: a full disk while writing ``clean.parquet`` raises ``CleanOutputError("cannot
    write clean.parquet: [Errno 28] No space left on device; ...")``.
    """
    try:
        write_atomically(path, write, suffix=suffix)
    except OSError as exc:
        raise CleanOutputError(
            f"cannot write {path}: {exc}; make room (or make the folder writable) and run "
            "again with --resume: chunks already written are kept"
        ) from exc


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` through a temporary file and an atomic rename.

    Raises:
        CleanOutputError: the file cannot be written (disk full); nothing is left behind.
    """
    write_output(path, lambda temporary: pq.write_table(table, temporary))


def write_json_atomically(payload: Mapping[str, Any], path: Path) -> None:
    """Write ``payload`` to ``path`` as indented JSON (non-ASCII kept), atomically.

    Raises:
        CleanOutputError: the file cannot be written (disk full); nothing is left behind.
    """

    def write(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, indent=1)

    write_output(path, write)


def _json_default(value: object) -> str:
    return str(value)


def assemble(parts: Sequence[Path], out: Path, schema: pa.Schema) -> Path:
    """Concatenate chunk files, in order, into the output file (atomically).

    Only one chunk is in memory at a time. CSV gets a header row; JSONL one
    object per line with non-ASCII kept ("Reykjavík").

    Raises:
        CleanOutputError: the output cannot be written (disk full); an older ``out`` is
            left as it was and no temporary file remains.
    """
    fmt = file_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(temporary: Path) -> None:
        if fmt == "parquet":
            with pq.ParquetWriter(temporary, schema) as parquet:
                for part in parts:
                    parquet.write_table(pq.read_table(part, schema=schema))
        elif fmt == "csv":
            import pyarrow.csv as pacsv

            with pacsv.CSVWriter(temporary, schema) as csv:
                for part in parts:
                    csv.write_table(pq.read_table(part, schema=schema))
        else:
            with temporary.open("w", encoding="utf-8") as jsonl:
                for part in parts:
                    for row in pq.read_table(part, schema=schema).to_pylist():
                        jsonl.write(json.dumps(row, ensure_ascii=False, default=_json_default))
                        jsonl.write("\n")

    write_output(out, write)
    return out
