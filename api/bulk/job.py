"""The bulk cleaning job's run: rows to texts, chunks in and out, progress.

:func:`run_clean` streams the input in chunks of ``chunk_rows`` rows, hands each
to an engine (:mod:`api.bulk.engines`) and writes each chunk's output to
``<output>.parts/chunk-NNNNNN.parquet`` (temporary file, then atomic rename),
then records it in ``<output>.parts/manifest.json`` (likewise atomic,
:mod:`api.bulk.checkpoint`). A run
killed at any point (``kill -9`` included) is continued with ``resume=True``:
chunks in the manifest are kept, the rest are done again, so every input row
reaches the output exactly once. At the end the chunk files are joined, in
input order, into the output (atomically) and ``<output>.summary.json`` and
``<output>.summary.png`` are written beside it (:mod:`api.bulk.report`); the
``.parts`` folder is removed.

Output columns: every input column unchanged, then ``standardized``,
``verdict`` (``valid`` / ``invalid`` / ``uncertain``), ``confidence``,
``reasons`` (``;``-joined codes: ``address.model.Reason`` values, or for rows
rejected before verification one :class:`~api.bulk.worker.InputProblem` value),
``match_id``, ``match_address``, ``suggestion_1..3``, ``components`` (a JSON
object under libpostal's labels), ``extras`` (a JSON object of what the text held
besides the address: ``{"phone": "555-0134"}``), ``coverage`` (``covered``, or
``outside`` when no known-good data could judge it), ``lat``, ``lon`` and
``precision`` (where the address is: ``premise``, ``street``, ``postcode`` or
``locality``; empty when nothing places it) and ``error`` (why a row was not
verified). With ``--components`` the columns are read as a form's fields
(:class:`address.fields.AddressFields`), as ``POST /v1/verify`` reads them.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from address.errors import UnknownCountryError
from address.fields import AddressFields
from address.rules import address_format
from address.settings import get_settings
from address.standardize import format_address_line
from api.bulk.checkpoint import MANIFEST_VERSION, Manifest, job_identity, parts_dir
from api.bulk.config import COMPONENT_LABELS, CleanConfig
from api.bulk.engines import Engine, make_engine
from api.bulk.io import (
    OUTPUT_COLUMNS,
    CleanInputError,
    InputChunk,
    ResumeError,
    assemble,
    count_rows,
    output_schema,
    read_chunks,
    write_parquet_atomically,
)
from api.bulk.report import (
    CleanSummary,
    Throughput,
    chunk_counts,
    summarize,
    summary_paths,
    write_report,
)
from api.bulk.worker import ChunkResult, ChunkTask, InputProblem, ResourceSpec

__all__ = [
    "COMPONENT_LABELS",
    "MANIFEST_VERSION",
    "CleanConfig",
    "CleanSummary",
    "parts_dir",
    "run_clean",
    "summary_paths",
]

logger = logging.getLogger(__name__)

_COUNTRY_CODE_LENGTH = 2


# ------------------------------------------------------------------ rows -> texts


def _column(table: pa.Table, name: str) -> list[Any]:
    folded = {c.lower(): c for c in table.column_names}
    found = name if name in table.column_names else folded.get(name.lower())
    if found is not None:
        values: list[Any] = table.column(found).to_pylist()
        return values
    raise CleanInputError(f"the input has no column {name!r}; it has {table.column_names}")


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


class _Texts:
    """Address text and country hint of each row, per the job's column choice."""

    def __init__(self, config: CleanConfig) -> None:
        self._config = config
        self._default_country = (config.country or get_settings().default_country or "US").upper()
        self._known: dict[str, bool] = {}

    def _is_country(self, code: str) -> bool:
        if code not in self._known:
            try:
                address_format(code)
                self._known[code] = len(code) == _COUNTRY_CODE_LENGTH and code.isalpha()
            except UnknownCountryError:
                self._known[code] = False
        return self._known[code]

    def __call__(
        self, table: pa.Table
    ) -> tuple[tuple[str | AddressFields, ...], tuple[str | None, ...]]:
        config = self._config
        if config.address_column is not None:
            texts = tuple(_text(v) for v in _column(table, config.address_column))
            return texts, (config.country,) * len(texts)
        values = {COMPONENT_LABELS[c.lower()]: _column(table, c) for c in config.components}
        rows_out: list[str | AddressFields] = []
        countries: list[str | None] = []
        for row in range(table.num_rows):
            parts = {label: _text(column[row]) for label, column in values.items()}
            own = parts.get("country", "").upper()
            hint = config.country or (own if own and self._is_country(own) else None)
            street = {k: parts[k] for k in ("house_number", "road") if parts.get(k)}
            line = format_address_line(street, hint or self._default_country)
            lines = tuple(p for p in (line, parts.get("unit", "")) if p)
            # A row without street or unit is verified as its text (a missing street is
            # then a verdict of its own, not an unreadable row).
            rows_out.append(
                AddressFields(
                    lines=lines,
                    locality=parts.get("city"),
                    region=parts.get("state"),
                    postcode=parts.get("postcode"),
                    country=hint,
                )
                if lines
                else format_address_line(parts, hint or self._default_country)
            )
            countries.append(hint)
        return tuple(rows_out), tuple(countries)


# ------------------------------------------------------------------ chunk output


def _output_table(chunk: InputChunk, result: ChunkResult, schema: pa.Schema) -> pa.Table:
    columns = {name: list(values) for name, values in result.columns.items()}
    for row, problem in enumerate(chunk.read_errors):
        if problem is not None:
            for name, _ in OUTPUT_COLUMNS:
                columns[name][row] = None
            columns["verdict"][row] = "invalid"
            columns["reasons"][row] = InputProblem.UNREADABLE_ROW.value
            columns["error"][row] = f"{InputProblem.UNREADABLE_ROW.value}: {problem}"
    table = chunk.table
    for name, kind in OUTPUT_COLUMNS:
        table = table.append_column(pa.field(name, kind), pa.array(columns[name], kind))
    return table.cast(schema)


# ------------------------------------------------------------------ progress


class _Progress:
    """A tqdm bar on a terminal; otherwise a log line every ``every`` seconds."""

    def __init__(self, total: int, done: int, bar: bool, every: float) -> None:
        from tqdm import tqdm

        self._total, self._done, self._every = total, done, every
        self._start = self._last = time.monotonic()
        self._start_done = done
        self._bar = (
            tqdm(total=total, initial=done, unit=" rows", smoothing=0.05, dynamic_ncols=True)
            if bar
            else None
        )

    def update(self, rows: int) -> None:
        self._done += rows
        if self._bar is not None:
            self._bar.update(rows)
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            rate = (self._done - self._start_done) / max(now - self._start, 1e-9)
            left = max(self._total - self._done, 0)
            eta = f"{left / rate:.0f} s" if rate > 0 else "unknown"
            logger.info(
                "cleaned %d of ~%d rows (%.1f rows/s, ETA %s)",
                self._done,
                self._total,
                rate,
                eta,
                extra={"rows_done": self._done, "rows_total": self._total},
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ------------------------------------------------------------------ the job


@dataclass
class _Run:
    """Mutable state of one run, shared by the task generator and the result loop."""

    schema: pa.Schema | None = None
    held: dict[int, InputChunk] = field(default_factory=dict)
    chunks: int = 0


def run_clean(config: CleanConfig, *, engine: Engine | None = None) -> CleanSummary:
    """Clean a file of addresses; resumable; returns the summary.

    Example:
        >>> run_clean(CleanConfig(Path("orders.csv"), Path("clean.parquet"), workers=2))
        CleanSummary(rows=100000, verdicts={"valid": 61234, ...}, rows_per_s=312.5, ...)

    Args:
        config: the job.
        engine: where chunks run; default :func:`api.bulk.engines.make_engine` for
            the config (tests and benchmarks pass their own).

    Raises:
        CleanInputError: unreadable input, missing column, output column clash.
        ResumeError: left-over checkpoint without ``resume``, or of another job.
        CleanOutputError: a chunk, the checkpoint or the output cannot be written (disk
            full); whole chunks are kept, and ``resume=True`` continues from them.
        UnknownCountryError: ``country`` is not a code with address rules.
        DataNotReadyError, IndexNotReadyError: a worker cannot load its resources.
    """
    throughput = Throughput()
    if config.country:
        address_format(config.country)
    settings = get_settings()
    index_dir = config.index_dir or settings.index_dir
    folder = parts_dir(config.output)
    manifest = Manifest.open(folder, job_identity(config, index_dir), config.resume)
    resumed = len(manifest.chunks)
    done_rows = sum(e["rows"] for e in manifest.chunks.values())
    workers = config.workers
    threads = config.threads or (
        1 if config.engine == "dask" else max(1, (os.cpu_count() or 1) // workers)
    )
    spec = ResourceSpec(
        index_dir=index_dir.resolve(),
        adapter_dir=config.adapter_dir or settings.adapter_path,
        use_classifier=config.use_classifier,
        threads=threads,
        data=settings.data_paths(),
        default_country=settings.default_country,
        max_length=settings.max_address_length,
    )
    texts_of = _Texts(config)
    run = _Run()

    def tasks() -> Iterator[ChunkTask]:
        for chunk in read_chunks(config.input, config.chunk_rows):
            if run.schema is None:
                run.schema = output_schema(chunk.table.schema)
            run.chunks = chunk.number + 1
            if chunk.number in manifest.chunks:
                continue
            texts, countries = texts_of(chunk.table)
            run.held[chunk.number] = chunk
            yield ChunkTask(chunk.number, texts, countries)

    bar = config.progress if config.progress is not None else sys.stderr.isatty()
    progress = _Progress(count_rows(config.input), done_rows, bar, config.log_every_s)
    try:
        with engine or make_engine(config.engine, spec, workers, config.scheduler) as running:
            workers = running.workers
            for result in running.run(tasks()):
                chunk = run.held.pop(result.number)
                assert run.schema is not None
                table = _output_table(chunk, result, run.schema)
                name = f"chunk-{result.number:06d}.parquet"
                write_parquet_atomically(table, folder / name)
                manifest.chunks[result.number] = {
                    "file": name,
                    "rows": table.num_rows,
                    "counts": chunk_counts(table),
                    "stats": asdict(result.stats),
                }
                manifest.save()
                throughput.add(table.num_rows)
                progress.update(table.num_rows)
    finally:
        progress.close()
    manifest.total_chunks = run.chunks
    manifest.save()
    missing = sorted(set(range(run.chunks)) - set(manifest.chunks))
    if missing:
        raise ResumeError(f"chunks {missing[:10]} were not written; run again with --resume")

    schema = run.schema or output_schema(pa.schema([]))
    parts = [folder / manifest.chunks[n]["file"] for n in range(run.chunks)]
    assemble(parts, config.output, schema)
    finished = time.monotonic()

    summary = summarize(
        config.output,
        manifest.chunks,
        throughput,
        finished,
        workers=workers,
        total_chunks=run.chunks,
        resumed_chunks=resumed,
    )
    write_report(summary)
    shutil.rmtree(folder, ignore_errors=True)
    return summary
