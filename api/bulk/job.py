"""The bulk cleaning job: chunking, checkpoint manifest, resume, summary.

:func:`run_clean` streams the input in chunks of ``chunk_rows`` rows, hands each
to an engine (:mod:`api.bulk.engines`) and writes each chunk's output to
``<output>.parts/chunk-NNNNNN.parquet`` (temporary file, then atomic rename),
then records it in ``<output>.parts/manifest.json`` (likewise atomic). A run
killed at any point (``kill -9`` included) is continued with ``resume=True``:
chunks in the manifest are kept, the rest are done again, so every input row
reaches the output exactly once. At the end the chunk files are joined, in
input order, into the output (atomically) and ``<output>.summary.json`` and
``<output>.summary.png`` are written beside it; the ``.parts`` folder is removed.

Output columns: every input column unchanged, then ``standardized``,
``verdict`` (``valid`` / ``invalid`` / ``uncertain``), ``confidence``,
``reasons`` (``;``-joined codes: ``address.model.Reason`` values, or for rows
rejected before verification one :class:`~api.bulk.worker.InputProblem` value),
``match_id``, ``match_address``, ``suggestion_1..3``, ``components`` (a JSON
object under libpostal's labels), ``extras`` (a JSON object of what the text held
besides the address: ``{"phone": "555-0134"}``), ``coverage`` (``covered``, or
``outside`` when no known-good data could judge it) and ``error`` (why a row was
not verified). With ``--components`` the columns are read as a form's fields
(:class:`address.fields.AddressFields`), as ``POST /v1/verify`` reads them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from address.errors import UnknownCountryError
from address.fields import AddressFields
from address.rules import address_format
from address.settings import get_settings
from address.standardize import format_address_line
from api.bulk.engines import Engine, EngineName, make_engine
from api.bulk.io import (
    OUTPUT_COLUMNS,
    CleanInputError,
    InputChunk,
    ResumeError,
    assemble,
    count_rows,
    file_format,
    output_schema,
    publish,
    read_chunks,
    write_parquet_atomically,
    writing,
)
from api.bulk.worker import ChunkResult, ChunkTask, InputProblem, ResourceSpec, StageStats

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

COMPONENT_LABELS: Mapping[str, str] = {
    "number": "house_number",
    "street": "road",
    "unit": "unit",
    "city": "city",
    "region": "state",
    "postcode": "postcode",
    "country": "country",
}
"""OpenAddresses input column -> libpostal label, for ``--components``."""
MANIFEST_VERSION = 1
_MANIFEST = "manifest.json"
_COUNTRY_CODE_LENGTH = 2


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """One bulk cleaning job (``addr clean``).

    Example:
        ``CleanConfig(Path("orders.csv"), Path("clean.parquet"), column="address")``
        cleans rows such as ``address="4570 Frozen Hil Rd, Anamosa IA"``.
    """

    input: Path
    """CSV, Parquet or JSONL file (by extension)."""
    output: Path
    """CSV, Parquet or JSONL file to write (by extension); replaced atomically."""
    column: str | None = None
    """Column holding the address text; default ``address`` unless ``components`` is given."""
    components: tuple[str, ...] = ()
    """OpenAddresses column names (:data:`COMPONENT_LABELS`) to build the text from, in order."""
    country: str | None = None
    """ISO alpha-2 country of every row; else each row's ``country`` component, else detected."""
    index_dir: Path | None = None
    """Address index folder; default the ``index_dir`` setting."""
    adapter_dir: Path | None = None
    """Classifier adapter; default the ``adapter_path`` setting or the committed one."""
    use_classifier: bool = True
    """Ask the classifier about the cases rules and index leave open."""
    engine: EngineName = "local"
    """``local`` (process pool) or ``dask``."""
    workers: int = 1
    """Worker processes (~3 GB each); ``1`` with ``local`` runs in this process."""
    scheduler: str | None = None
    """Dask scheduler address (``tcp://10.0.0.5:8786``); none: a ``LocalCluster``."""
    chunk_rows: int = 1000
    """Rows per chunk: the unit of work, of checkpointing and of redoing after a crash."""
    resume: bool = False
    """Continue from the checkpoint of an interrupted run of the same job."""
    threads: int | None = None
    """torch/FAISS threads per worker; default cores / workers (1 on Dask)."""
    progress: bool | None = None
    """Progress bar; default: when stderr is a terminal (else a log line every ``log_every_s``)."""
    log_every_s: float = 30.0
    """Seconds between progress log lines when there is no bar."""

    def __post_init__(self) -> None:
        file_format(self.input)
        file_format(self.output)
        if self.column is not None and self.components:
            raise CleanInputError("give either an address column or component columns, not both")
        unknown = [c for c in self.components if c.lower() not in COMPONENT_LABELS]
        if unknown:
            raise CleanInputError(
                f"unknown component column(s) {unknown}; use {', '.join(COMPONENT_LABELS)}"
            )
        if self.workers < 1 or self.chunk_rows < 1:
            raise CleanInputError("workers and chunk_rows must be at least 1")
        if self.scheduler and self.engine != "dask":
            raise CleanInputError("--scheduler needs --engine dask")
        if self.input.resolve() == self.output.resolve():
            raise CleanInputError("the output must not be the input file")

    @property
    def address_column(self) -> str | None:
        """The column read as address text, ``None`` in components mode."""
        return None if self.components else (self.column or "address")


@dataclass(frozen=True, slots=True)
class CleanSummary:
    """What a finished job did; also written to ``<output>.summary.json``."""

    output: Path
    rows: int
    verdicts: dict[str, int]
    reasons: dict[str, int]
    errors: int
    rows_this_run: int
    elapsed_s: float
    rows_per_s: float
    rows_per_s_after_load: float | None
    classified: int
    stage_seconds: dict[str, float]
    workers: int
    chunks: int
    resumed_chunks: int
    worker_peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        payload = asdict(self)
        payload["output"] = str(self.output)
        return payload


def parts_dir(output: Path) -> Path:
    """Folder of chunk files and manifest: ``clean.parquet`` -> ``clean.parquet.parts``."""
    return output.with_name(output.name + ".parts")


def summary_paths(output: Path) -> tuple[Path, Path]:
    """``<output>.summary.json`` and ``<output>.summary.png``."""
    return output.with_name(output.name + ".summary.json"), output.with_name(
        output.name + ".summary.png"
    )


# ------------------------------------------------------------------ manifest


def _write_json_atomically(payload: Mapping[str, Any], path: Path) -> None:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with writing(Path(name), path):
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, indent=1)
        publish(Path(name), path)


def _whole(part: Path, rows: int) -> bool:
    """Whether a chunk file is there and holds ``rows`` rows."""
    try:
        return part.is_file() and pq.ParquetFile(part).metadata.num_rows == rows
    except (OSError, pa.ArrowException):
        return False


def _job_identity(config: CleanConfig, index_dir: Path) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    stat = config.input.stat()
    return {
        "input": str(config.input.resolve()),
        "input_size": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns,
        "column": config.address_column,
        "components": list(config.components),
        "country": config.country,
        "chunk_rows": config.chunk_rows,
        "index_dir": str(index_dir.resolve()),
        "adapter_dir": str(config.adapter_dir) if config.adapter_dir else None,
        "use_classifier": config.use_classifier,
    }


@dataclass
class _Manifest:
    """Checkpoint of a job: its identity and the chunks already written."""

    path: Path
    job: dict[str, Any]
    chunks: dict[int, dict[str, Any]] = field(default_factory=dict)
    total_chunks: int | None = None

    def save(self) -> None:
        _write_json_atomically(
            {
                "version": MANIFEST_VERSION,
                "job": self.job,
                "total_chunks": self.total_chunks,
                "chunks": {str(n): entry for n, entry in sorted(self.chunks.items())},
            },
            self.path,
        )

    @classmethod
    def open(cls, folder: Path, job: dict[str, Any], resume: bool) -> _Manifest:
        path = folder / _MANIFEST
        if not path.is_file():
            if folder.exists() and any(folder.iterdir()) and not resume:
                raise ResumeError(f"{folder} holds a previous run; pass --resume or delete it")
            folder.mkdir(parents=True, exist_ok=True)
            manifest = cls(path, job)
            manifest.save()
            return manifest
        if not resume:
            raise ResumeError(
                f"{folder} holds an unfinished run; pass --resume to continue it, or delete it"
            )
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResumeError(f"{path} is unreadable: {exc}") from exc
        if saved.get("version") != MANIFEST_VERSION:
            raise ResumeError(f"{path} is of manifest version {saved.get('version')}")
        changed = sorted(k for k in job if saved["job"].get(k) != job[k])
        if changed:
            raise ResumeError(
                f"cannot resume: {', '.join(changed)} differ from the interrupted run; "
                f"delete {folder} to start again"
            )
        chunks = {}
        for number, entry in saved["chunks"].items():
            # A chunk counts only if its file is there, whole: else it is done again.
            if _whole(folder / entry["file"], entry["rows"]):
                chunks[int(number)] = entry
        return cls(path, job, chunks, saved.get("total_chunks"))


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


def _counts(table: pa.Table) -> dict[str, dict[str, int]]:
    verdicts = Counter(v or "error" for v in table.column("verdict").to_pylist())
    reasons: Counter[str] = Counter()
    for value in table.column("reasons").to_pylist():
        reasons.update(code for code in (value or "").split(";") if code)
    errors = sum(v is not None for v in table.column("error").to_pylist())
    return {"verdicts": dict(verdicts), "reasons": dict(reasons), "errors": {"rows": errors}}


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


# ------------------------------------------------------------------ summary


def _sum_counts(entries: Mapping[int, Mapping[str, Any]], key: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for entry in entries.values():
        total.update(entry["counts"][key])
    return dict(total.most_common())


def _chart(summary: CleanSummary, path: Path) -> None:
    """Bar charts of verdicts and reasons (skipped, with a warning, without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no %s", path.name)
        return
    reasons = list(summary.reasons.items())[:15]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2]}
    )
    left.barh(list(summary.verdicts), list(summary.verdicts.values()), color="#4c72b0")
    left.set_title(f"verdicts ({summary.rows} rows)")
    right.barh([r for r, _ in reasons], [n for _, n in reasons], color="#dd8452")
    right.set_title("reasons")
    for axis in (left, right):
        axis.invert_yaxis()
        axis.set_xlabel("rows")
    figure.tight_layout()
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        with writing(Path(name), path):
            figure.savefig(name, dpi=100)
            publish(Path(name), path)
    finally:
        plt.close(figure)


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
    started = time.monotonic()
    if config.country:
        address_format(config.country)
    settings = get_settings()
    index_dir = config.index_dir or settings.index_dir
    folder = parts_dir(config.output)
    manifest = _Manifest.open(folder, _job_identity(config, index_dir), config.resume)
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
    first_result: float | None = None
    rows_after_first = 0
    rows_this_run = 0
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
                    "counts": _counts(table),
                    "stats": asdict(result.stats),
                }
                manifest.save()
                rows_this_run += table.num_rows
                if first_result is None:
                    first_result = time.monotonic()
                else:
                    rows_after_first += table.num_rows
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

    stats = [StageStats(**e["stats"]) for e in manifest.chunks.values()]
    peak: dict[str, float] = {}
    for s in (s for s in stats if s.pid):
        peak[str(s.pid)] = max(peak.get(str(s.pid), 0.0), round(s.peak_rss_mb, 1))
    elapsed = finished - started
    summary = CleanSummary(
        output=config.output,
        rows=sum(e["rows"] for e in manifest.chunks.values()),
        verdicts=_sum_counts(manifest.chunks, "verdicts"),
        reasons=_sum_counts(manifest.chunks, "reasons"),
        errors=_sum_counts(manifest.chunks, "errors").get("rows", 0),
        rows_this_run=rows_this_run,
        elapsed_s=round(elapsed, 2),
        rows_per_s=round(rows_this_run / elapsed, 2) if elapsed > 0 else 0.0,
        rows_per_s_after_load=(
            round(rows_after_first / (finished - first_result), 2)
            if first_result is not None and rows_after_first and finished > first_result
            else None
        ),
        classified=sum(s.classified for s in stats),
        stage_seconds={
            stage: round(sum(getattr(s, f"{stage}_s") for s in stats), 3)
            for stage in ("screen", "search", "verify", "classify", "load")
        },
        workers=workers,
        chunks=run.chunks,
        resumed_chunks=resumed,
        worker_peak_rss_mb=peak,
    )
    summary_json, summary_png = summary_paths(config.output)
    _write_json_atomically(summary.to_json(), summary_json)
    _chart(summary, summary_png)
    shutil.rmtree(folder, ignore_errors=True)
    return summary
