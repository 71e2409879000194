"""The report of a bulk cleaning job: :class:`CleanSummary`, and its files
``<output>.summary.json`` and ``<output>.summary.png`` (bar charts of verdicts and
reasons) written beside the output.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from api.bulk.io import write_json_atomically, write_output
from api.bulk.worker import StageStats

__all__ = [
    "CleanSummary",
    "Throughput",
    "chunk_counts",
    "summarize",
    "summary_paths",
    "write_report",
]

# The job's messages go through one logger, whichever of its modules writes them.
logger = logging.getLogger("api.bulk.job")

_STAGES = ("screen", "search", "verify", "classify", "load")


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


def summary_paths(output: Path) -> tuple[Path, Path]:
    """``<output>.summary.json`` and ``<output>.summary.png``."""
    return output.with_name(output.name + ".summary.json"), output.with_name(
        output.name + ".summary.png"
    )


@dataclass
class Throughput:
    """Rows this run cleaned and when: the first result marks the end of loading."""

    started: float = field(default_factory=time.monotonic)
    rows: int = 0
    first_result: float | None = None
    rows_after_first: int = 0

    def add(self, rows: int) -> None:
        """Count a chunk of ``rows`` rows just cleaned."""
        self.rows += rows
        if self.first_result is None:
            self.first_result = time.monotonic()
        else:
            self.rows_after_first += rows


def chunk_counts(table: pa.Table) -> dict[str, dict[str, int]]:
    """Verdicts, reasons and error rows of one chunk's output, for its manifest entry."""
    verdicts = Counter(v or "error" for v in table.column("verdict").to_pylist())
    reasons: Counter[str] = Counter()
    for value in table.column("reasons").to_pylist():
        reasons.update(code for code in (value or "").split(";") if code)
    errors = sum(v is not None for v in table.column("error").to_pylist())
    return {"verdicts": dict(verdicts), "reasons": dict(reasons), "errors": {"rows": errors}}


def _sum_counts(entries: Mapping[int, Mapping[str, Any]], key: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for entry in entries.values():
        total.update(entry["counts"][key])
    return dict(total.most_common())


def summarize(
    output: Path,
    chunks: Mapping[int, Mapping[str, Any]],
    throughput: Throughput,
    finished: float,
    *,
    workers: int,
    total_chunks: int,
    resumed_chunks: int,
) -> CleanSummary:
    """The summary of a job from its manifest's chunk entries and this run's throughput."""
    stats = [StageStats(**e["stats"]) for e in chunks.values()]
    peak: dict[str, float] = {}
    for s in (s for s in stats if s.pid):
        peak[str(s.pid)] = max(peak.get(str(s.pid), 0.0), round(s.peak_rss_mb, 1))
    elapsed = finished - throughput.started
    first_result = throughput.first_result
    return CleanSummary(
        output=output,
        rows=sum(e["rows"] for e in chunks.values()),
        verdicts=_sum_counts(chunks, "verdicts"),
        reasons=_sum_counts(chunks, "reasons"),
        errors=_sum_counts(chunks, "errors").get("rows", 0),
        rows_this_run=throughput.rows,
        elapsed_s=round(elapsed, 2),
        rows_per_s=round(throughput.rows / elapsed, 2) if elapsed > 0 else 0.0,
        rows_per_s_after_load=(
            round(throughput.rows_after_first / (finished - first_result), 2)
            if first_result is not None and throughput.rows_after_first and finished > first_result
            else None
        ),
        classified=sum(s.classified for s in stats),
        stage_seconds={
            stage: round(sum(getattr(s, f"{stage}_s") for s in stats), 3) for stage in _STAGES
        },
        workers=workers,
        chunks=total_chunks,
        resumed_chunks=resumed_chunks,
        worker_peak_rss_mb=peak,
    )


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
    try:
        write_output(path, lambda temporary: figure.savefig(temporary, dpi=100), suffix=".png")
    finally:
        plt.close(figure)


def write_report(summary: CleanSummary) -> None:
    """Write ``<output>.summary.json`` and ``<output>.summary.png`` (atomically)."""
    summary_json, summary_png = summary_paths(summary.output)
    write_json_atomically(summary.to_json(), summary_json)
    _chart(summary, summary_png)
