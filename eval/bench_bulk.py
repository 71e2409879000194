"""Throughput and memory of the bulk cleaning job (``addr clean``).

Two measurements, kept apart on purpose:

1. **Verification throughput** (``run``): a mixed file of real and broken
   addresses cleaned end to end by the real job (libpostal, the default index,
   the classifier cascade) with the local process pool: rows/s end to end and
   after the workers loaded, seconds per stage (screen, index search, verify =
   parse + rules + decision, classifier), how often the classifier ran, and
   each worker's peak memory.
2. **Reader/writer pipeline memory** (``pipeline``): the same job with the
   partition function replaced by a pass-through, on 100k and 1M rows, to show
   that the driver's memory stays flat with the input size. Verification is not
   part of it (a 1M-row verified run at ~300 rows/s would take about an hour).

Input rows: real addresses from the default reference table (which the default
index holds), real addresses from ``../shared/datasets`` when present (Hamilton
County OH voter addresses and UK addresses, which it does not hold), the same
broken (house number, locality or postcode dropped, a typo, cut off, lower case
without punctuation) and junk (empty, binary, 100 kB, not an address).

Run (2 cores, the default index built by ``make setup``)::

    .venv/bin/python -m eval.bench_bulk --rows 20000 --workers 2

Writes ``eval/results/bulk_benchmark.md``, ``.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
TARGET_ROWS_PER_S = 300.0

# Share of each kind of row in the mixed input.
MIX = {
    "reference": 0.50,
    "shared_real": 0.20,
    "broken": 0.25,
    "junk": 0.05,
}
CONTROL_CHARACTERS = [chr(c) for c in range(32) if chr(c) not in "\n\r"]
NOT_AN_ADDRESS = (
    "Please call me before noon",
    "leave at the back door",
    "asdf qwer zxcv",
    "N/A",
    "same as billing",
)


def _shared_real(rng: random.Random, count: int) -> list[str]:
    """Real addresses the default index does not hold; [] when ../shared is absent."""
    texts: list[str] = []
    hamilton = SHARED / "us_oh_hamilton_voters.txt"
    if hamilton.is_file():
        lines = hamilton.read_text(encoding="utf-8").splitlines()
        texts += rng.sample(lines, min(len(lines), count // 2))
    uk = SHARED / "uk_address_matching" / "pharmacy_addresses.tsv"
    if uk.is_file():
        frame = pd.read_csv(uk, sep="\t", dtype=str, keep_default_na=False)
        rows = frame.sample(min(len(frame), count - len(texts)), random_state=rng.randrange(1000))
        texts += [f"{t}, {p}" for t, p in zip(rows["text"], rows["postcode"], strict=True)]
    return texts


def _broken(address: str, rng: random.Random) -> str:
    parts = [p.strip() for p in address.split(",")]
    how = rng.choice(("no_number", "no_locality", "no_postcode", "typo", "cut", "lower"))
    if how == "no_number":
        words = parts[0].split()
        parts[0] = " ".join(w for w in words if not any(c.isdigit() for c in w)) or parts[0]
    elif how == "no_locality" and len(parts) > 1:
        parts = parts[:1]
    elif how == "no_postcode":
        parts = [
            " ".join(w for w in p.split() if not w.isdigit() or i == 0) for i, p in enumerate(parts)
        ]
    elif how == "typo":
        i = rng.randrange(1, max(2, len(parts[0]) - 1))
        parts[0] = parts[0][:i] + parts[0][i + 1 :]
    elif how == "cut":
        return address[: max(4, len(address) * 2 // 3)]
    else:
        return address.lower().replace(",", "")
    return ", ".join(p for p in parts if p)


def _junk(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return ""
    if kind == 1:
        # Control characters, but no line breaks: those end a CSV row where unquoted.
        return "".join(rng.choice(CONTROL_CHARACTERS) for _ in range(20))
    if kind == 2:
        return "4570 Frozen Hill Rd " + "x" * 100_000
    return rng.choice(NOT_AN_ADDRESS)


def make_input(rows: int, path: Path, seed: int = 7) -> dict[str, int]:
    """Write a mixed CSV of ``rows`` rows; returns how many of each kind."""
    from address.settings import get_settings
    from index.reference import read_reference

    rng = random.Random(seed)
    reference = read_reference(get_settings().reference_table)["address"]
    counts = {kind: int(rows * share) for kind, share in MIX.items()}
    shared = _shared_real(rng, counts["shared_real"])
    counts["reference"] += counts["shared_real"] - len(shared)
    counts["shared_real"] = len(shared)
    counts["reference"] += rows - sum(counts.values())
    texts = list(reference.sample(counts["reference"], random_state=seed, replace=True))
    texts += shared
    texts += [_broken(a, rng) for a in reference.sample(counts["broken"], random_state=seed + 1)]
    texts += [_junk(rng) for _ in range(counts["junk"])]
    kinds = [k for k, n in counts.items() for _ in range(n)]
    order = list(range(rows))
    rng.shuffle(order)
    pd.DataFrame(
        {
            "row": range(1, rows + 1),
            "kind": [kinds[i] for i in order],
            "address": [texts[i] for i in order],
        }
    ).to_csv(path, index=False)
    return counts


# ---------------------------------------------------------------- 2. pipeline memory


def _passthrough(task: Any, spec: Any) -> Any:
    """Stand-in partition function: every output column filled, no verification."""
    from api.bulk.io import OUTPUT_COLUMNS
    from api.bulk.worker import ChunkResult

    n = len(task.texts)
    columns: dict[str, list[Any]] = {name: [None] * n for name, _ in OUTPUT_COLUMNS}
    columns["standardized"] = list(task.texts)
    columns["verdict"] = ["valid"] * n
    columns["confidence"] = [1.0] * n
    columns["reasons"] = ["unknown_address"] * n
    columns["components"] = ['{"road": "frozen hill rd"}'] * n
    return ChunkResult(task.number, columns)


def pipeline_child(source: Path, out: Path, chunk_rows: int) -> None:
    """Run the job with the pass-through (in a child process, for its own peak RSS)."""
    from api.bulk import CleanConfig, run_clean
    from api.bulk.engines import InProcessEngine
    from api.bulk.worker import ResourceSpec

    engine = InProcessEngine(ResourceSpec(index_dir=Path("unused")), _passthrough)
    config = CleanConfig(source, out, chunk_rows=chunk_rows, progress=False)
    started = time.perf_counter()
    summary = run_clean(config, engine=engine)
    print(
        json.dumps(
            {
                "rows": summary.rows,
                "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def measure_pipeline(rows: int, workdir: Path, chunk_rows: int) -> dict[str, Any]:
    source = workdir / f"pipeline-{rows}.csv"
    base = pd.read_csv(workdir / "mixed.csv", dtype=str, keep_default_na=False)
    with source.open("w", encoding="utf-8", newline="") as handle:
        written = 0
        header = True
        while written < rows:
            part = base.head(rows - written).copy()
            part["row"] = range(written + 1, written + len(part) + 1)
            part.to_csv(handle, index=False, header=header)
            header = False
            written += len(part)
    out = workdir / f"pipeline-{rows}.parquet"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "eval.bench_bulk",
            "--pipeline-child",
            str(source),
            str(out),
            "--chunk-rows",
            str(chunk_rows),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    measured["input_mb"] = round(source.stat().st_size / 2**20, 1)
    measured["output_mb"] = round(out.stat().st_size / 2**20, 1)
    source.unlink()
    out.unlink()
    return measured


# ---------------------------------------------------------------- 1. throughput


def measure_throughput(
    source: Path, workdir: Path, workers: int, chunk_rows: int
) -> dict[str, Any]:
    from api.bulk import CleanConfig, run_clean

    out = workdir / "mixed-clean.parquet"
    config = CleanConfig(
        source, out, workers=workers, chunk_rows=chunk_rows, progress=False, log_every_s=60
    )
    summary = run_clean(config)
    stages = summary.stage_seconds
    work = sum(v for k, v in stages.items() if k != "load")
    frame = pd.read_parquet(out, columns=["kind", "verdict", "reasons", "error"])
    by_kind = (
        frame.groupby("kind")["verdict"]
        .value_counts()
        .unstack(fill_value=0)
        .to_dict(orient="index")
    )
    return {
        "summary": summary.to_json(),
        "per_row_ms": {
            k: round(1000 * v / summary.rows, 3) for k, v in stages.items() if k != "load"
        },
        "stage_share": {k: round(v / work, 3) for k, v in stages.items() if k != "load" and work},
        "verified_rows": int(frame["error"].isna().sum()),
        "classifier_share": round(summary.classified / max(1, summary.rows), 4),
        "verdicts_by_kind": by_kind,
    }


def measure_parse(source: Path, sample: int = 3000) -> dict[str, float]:
    """libpostal parse alone, in this process, on ``sample`` screened rows."""
    from address.libpostal import load, parse
    from api.bulk.worker import Rejected, screen

    load()
    texts = pd.read_csv(source, dtype=str, keep_default_na=False)["address"].head(sample * 2)
    clean = [t.text() for t in (screen(x) for x in texts) if not isinstance(t, Rejected)][:sample]
    started = time.perf_counter()
    for text in clean:
        parse(text)
    seconds = time.perf_counter() - started
    return {"rows": len(clean), "ms_per_row": round(1000 * seconds / len(clean), 3)}


# ---------------------------------------------------------------- report


def _chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    per_row = result["throughput"]["per_row_ms"]
    left.bar(list(per_row), list(per_row.values()), color="#4c72b0")
    left.set_ylabel("ms per input row in the workers")
    left.set_title("where a row's time goes")
    pipeline = result["pipeline"]
    right.bar(
        [f"{p['rows']:,}" for p in pipeline], [p["peak_rss_mb"] for p in pipeline], color="#55a868"
    )
    right.set_ylabel("peak RSS of the job process (MB)")
    right.set_xlabel("input rows (reader + writer, no verification)")
    right.set_title("memory stays flat")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _markdown(result: dict[str, Any]) -> str:
    t = result["throughput"]
    s = t["summary"]
    workers = s["workers"]
    steady = s["rows_per_s_after_load"] or s["rows_per_s"]
    rss = ", ".join(f"{r:,.0f}" for r in s["worker_peak_rss_mb"].values())
    load = s["stage_seconds"]["load"] / max(1, workers)
    met = "met" if steady >= TARGET_ROWS_PER_S else "**missed**"
    verdicts = sorted({v for d in t["verdicts_by_kind"].values() for v in d})
    lines = [
        "# Bulk cleaning job: throughput and memory",
        "",
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine']}"
        + (f"; load average {result['load_average']}." if "load_average" in result else "."),
        "",
        f"## Verification throughput: {s['rows']:,} mixed rows, {workers} workers, "
        f"chunks of {result['chunk_rows']}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| rows/s end to end (with ~{load:.0f} s of loading per worker) | {s['rows_per_s']:.1f} |",
        f"| rows/s after the workers loaded | {steady:.1f} |",
        f"| rows/s per core (after load) | {steady / result['cores']:.1f} |",
        f"| target: ≥ {TARGET_ROWS_PER_S:.0f} rows/s on 2 cores | {met} |",
        f"| classifier asked about | {s['classified']:,} rows "
        f"({100 * t['classifier_share']:.1f} % of all rows) |",
        f"| peak RSS per worker process (MB) | {rss} |",
        f"| libpostal parse alone | {result['parse']['ms_per_row']} ms/row |",
        "",
        "Time per input row inside the workers, summed over workers (wall time, so it",
        "includes waiting for a core the training run holds). *verify* = libpostal parse,",
        "country rules and the decision; *search* = its own parse, lexical look-up, MiniLM",
        "embedding (only when the lexical path is unsure), FAISS and re-ranking.",
        "",
        "| stage | ms/row | share |",
        "|---|---|---|",
    ]
    lines += [
        f"| {k} | {v} | {100 * t['stage_share'].get(k, 0):.0f} % |"
        for k, v in t["per_row_ms"].items()
    ]
    lines += ["", "Verdicts per kind of input row:", ""]
    lines += ["| kind | " + " | ".join(verdicts) + " |", "|---" * (len(verdicts) + 1) + "|"]
    lines += [
        f"| {k} | " + " | ".join(str(d.get(v, 0)) for v in verdicts) + " |"
        for k, d in t["verdicts_by_kind"].items()
    ]
    lines += [
        "",
        "## Reader/writer pipeline memory (no verification)",
        "",
        "The same job (chunking, chunk files, manifest, final assembly; CSV in, Parquet",
        "out) with the partition function replaced by a pass-through:",
        "",
        "| input rows | input MB | output MB | seconds | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {p['rows']:,} | {p['input_mb']} | {p['output_mb']} | {p['seconds']} "
        f"| {p['peak_rss_mb']} |"
        for p in result["pipeline"]
    ]
    lines += ["", "## What it means", "", *result["notes"], ""]
    return "\n".join(lines)


def _notes(rows: int, workers: int, summary: dict[str, Any]) -> list[str]:
    steady = summary["rows_per_s_after_load"] or summary["rows_per_s"]
    gb = max(summary["worker_peak_rss_mb"].values()) / 1024
    per_worker = steady / workers
    scope = (
        [
            f"- Measured on {rows:,} rows, not 100,000: 100k rows would take "
            f"~{100_000 / steady / 60:.0f} min on these 2 shared cores. The per-row figures "
            "are what a 100k run shows (extrapolated: per-row costs do not depend on the "
            "file size)."
        ]
        if rows < 100_000
        else [f"- Measured on the full {rows:,} rows."]
    )
    return [
        *scope,
        f"- Each worker holds libpostal (~2 GB), the memory-mapped index, MiniLM and the "
        f"classifier: ~{gb:.1f} GB at peak. A 24 GB machine fits {int(20 // gb)} workers by "
        "memory; only as many as it has cores add speed.",
        f"- 10M rows on one 2-core machine at {steady:.0f} rows/s: "
        f"~{10_000_000 / steady / 3600:.1f} h. On a 20-worker Dask cluster (1 core and "
        f"~{gb:.1f} GB per worker, ~{per_worker:.0f} rows/s each): "
        f"~{10_000_000 / (20 * per_worker) / 3600:.1f} h plus ~30 s of start-up; the driver's "
        f"reader/writer (pipeline table) is far faster than 20 x {per_worker:.0f} rows/s.",
        "- The driver's memory does not grow with the input: it holds at most",
        "  2 x workers chunks in flight.",
        "- *broken* rows are reference addresses with a part dropped, a typo, cut off or "
        "lower case without punctuation. Most of them are still one known-good address: "
        "a missing postcode or town, or lost commas, is `valid` with the full address as "
        "`standardized` (the match fills the gap); a corrected typo is `uncertain` with the "
        "fix as the first suggestion; a dropped house number or a cut-off text is "
        "`invalid`.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="mixed rows verified")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=500)
    parser.add_argument("--pipeline-rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--pipeline-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--render", action="store_true", help="rewrite the .md and .png from the .json only"
    )
    args = parser.parse_args()
    if args.render:
        result = json.loads((RESULTS / "bulk_benchmark.json").read_text())
        (RESULTS / "bulk_benchmark.md").write_text(_markdown(result))
        _chart(result, RESULTS / "bulk_benchmark.png")
        return
    if args.pipeline_child:
        pipeline_child(args.pipeline_child[0], args.pipeline_child[1], args.chunk_rows)
        return

    command = "python -m eval.bench_bulk " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as name:
        workdir = Path(name)
        source = workdir / "mixed.csv"
        mix = make_input(args.rows, source)
        pipeline = [measure_pipeline(rows, workdir, 1000) for rows in args.pipeline_rows]
        load_before = os.getloadavg()[0]
        throughput = measure_throughput(source, workdir, args.workers, args.chunk_rows)
        load_after = os.getloadavg()[0]
        parse = measure_parse(source)
    notes = _notes(args.rows, args.workers, throughput["summary"])
    result = {
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "cores": os.cpu_count() or 1,
        "load_average": f"{load_before:.1f} before, {load_after:.1f} after the verified run",
        "rows": args.rows,
        "chunk_rows": args.chunk_rows,
        "mix": mix,
        "throughput": throughput,
        "parse": parse,
        "pipeline": pipeline,
        "notes": notes,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bulk_benchmark.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False, default=str)
    )
    (RESULTS / "bulk_benchmark.md").write_text(_markdown(result))
    _chart(result, RESULTS / "bulk_benchmark.png")
    print(_markdown(result))


if __name__ == "__main__":
    main()
