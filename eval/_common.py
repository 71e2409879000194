"""Helpers shared by the evaluation scripts: paths, provenance, timing, output."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "eval" / "results"
DATASETS = REPO.parent / "shared" / "datasets"


def log(message: str) -> None:
    """A timestamped progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def now_utc() -> str:
    """The current time in UTC, to the second, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded to two decimals."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """CPU count, Python version and platform of this machine."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def git_commit() -> str | None:
    """The checked-out commit, with ``+dirty`` when tracked files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+dirty" if dirty else "")) or None


def write_json(path: Path, data: Any, *, ensure_ascii: bool = True) -> None:
    """``data`` as indented JSON with a final newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")


def latency_percentiles(seconds: Sequence[float], digits: int = 3) -> dict[str, float]:
    """p50, p95 and p99 of durations in seconds, as milliseconds."""
    ms = np.asarray(seconds) * 1000
    return {f"p{p}": round(float(np.percentile(ms, p)), digits) for p in (50, 95, 99)}


def timed_calls(
    call: Callable[[str], list[str]], texts: Sequence[str]
) -> tuple[list[list[str]], list[float]]:
    """Each text's answer and the seconds its call took, one call at a time."""
    found, seconds = [], []
    for text in texts:
        start = time.perf_counter()
        found.append(call(text))
        seconds.append(time.perf_counter() - start)
    return found, seconds


def only_value(values: Iterable[str]) -> str | None:
    """The single distinct non-empty value (stripped), else None (none or several)."""
    found = {v.strip() for v in values if v and v.strip()}
    return found.pop() if len(found) == 1 else None


def met(flag: bool | None) -> str:
    """A target's cell: met, missed or not measured."""
    return {True: "met", False: "**missed**", None: "—"}[flag]


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, dpi: int = 110) -> None:
    """Lay out, write and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
