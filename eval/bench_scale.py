"""The index at scale: Hamilton County (242k, HNSW) and a synthetic 2M (IVF-PQ).

For each set: write its reference file (:mod:`eval.scale_data`), build the
index with ``addr index build`` in its own process (wall time and peak memory
of that process), then run :mod:`eval.bench_index` on it (accuracy on
corrupted held-out rows, latency, memory of a process serving it, and the
rapidfuzz brute-force baseline on a subset of the same queries).

Run (2 cores; the 2M build embeds ~2M addresses, about an hour)::

    .venv/bin/python -m eval.bench_scale --sets hamilton synthetic2m

Writes ``eval/results/index_scale.md`` and ``.json``, and per set
``eval/results/index_benchmark_<set>.md``/``.json``. Built indexes and their
reference files go to ``--workdir`` (default ``<data dir>/scale``); an index
already there is reused with ``--reuse`` (its build figures come from its
manifest).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ADDR = [sys.executable, "-m", "api.cli"]
# Per set: how to make its reference file, the FAISS kind, and bench_index options.
SETS: dict[str, dict[str, Any]] = {
    # The default reference rows, as `make setup` builds them: the build-time target.
    "default": {
        "data": ["sample", "--rows", "100000000"],
        "kind": "hnsw",
        "bench": ["--queries", "1400", "--baseline-queries", "100"],
    },
    # The same 30k default rows embedded by the int8 (default) and the fp32 model.
    "sample30k-int8": {
        "data": ["sample", "--rows", "30000"],
        "file": "sample30k",
        "kind": "hnsw",
        "build": ["--quantize"],
        "bench": ["--queries", "1400", "--baseline-queries", "100"],
    },
    "sample30k-fp32": {
        "data": ["sample", "--rows", "30000"],
        "file": "sample30k",
        "kind": "hnsw",
        "build": ["--no-quantize"],
        "bench": ["--queries", "1400", "--baseline-queries", "100"],
    },
    "hamilton": {
        "data": ["hamilton"],
        "kind": "hnsw",
        "bench": ["--queries", "1400", "--baseline-queries", "200"],
    },
    "synthetic2m": {
        "data": ["synthetic", "--rows", "2000000"],
        "kind": "ivfpq",
        "bench": ["--queries", "700", "--baseline-queries", "40"],
    },
}


def _run(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def _folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def measure(name: str, workdir: Path, reuse: bool) -> dict[str, Any]:
    """Build (or reuse) one set's index and benchmark it."""
    spec = SETS[name]
    source = workdir / f"{spec.get('file', name)}.csv"
    index_dir = workdir / f"idx-{name}"
    if not source.exists():
        _run([sys.executable, "-m", "eval.scale_data", *spec["data"], "--out", str(source)])
    if not (reuse and (index_dir / "manifest.json").exists()):
        _run(
            [*ADDR, "index", "build", "--input", str(source), "--out", str(index_dir),
             "--kind", spec["kind"], *spec.get("build", [])]
        )  # fmt: skip
    load_after_build = [round(x, 1) for x in os.getloadavg()]
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    stem = f"index_benchmark_{name}"
    _run(
        [sys.executable, "-m", "eval.bench_index", "--index", str(index_dir), "--split",
         "report", "--name", stem, *spec["bench"]]
    )  # fmt: skip
    bench = json.loads((RESULTS / f"{stem}.json").read_text(encoding="utf-8"))
    build = manifest["build"]
    return {
        "rows": manifest["live"],
        "faiss": manifest["faiss"],
        "quantized_model": manifest["model"]["quantized"],
        "load_average_after_build": load_after_build,
        "build_seconds": build.get("total_seconds"),
        "embed_rows_per_s": build.get("embed_rows_per_s"),
        "build_peak_rss_mb": build.get("process_peak_rss_mb"),
        "disk_mb": _folder_mb(index_dir),
        "vectors_mb": round((index_dir / "vectors.faiss").stat().st_size / 2**20, 1),
        "serving_rss_mb": bench["memory"]["max_rss_mb"],
        "search": {k: bench["search"][k] for k in ("n", "top1", "top5", "latency_ms")},
        "autocomplete": {
            "recall_at_5_50": bench["autocomplete"]["by_prefix"]["50%"]["recall_at_5"],
            "latency_ms": bench["autocomplete"]["latency_ms"],
        },
        "baseline": {
            k: bench["baseline"][k]
            for k in ("n", "top1", "top5", "latency_ms", "speedup_median", "top1_difference")
        },
        "details": f"{stem}.md",
    }


def _markdown(r: dict[str, Any]) -> str:
    lines = [
        "# The index at scale",
        "",
        f"Command: `{r['command']}`  ",
        f"Date: {r['date']}; machine: {r['machine']['cpus']} cores, {r['machine']['platform']}.",
        "",
        "| set | rows | FAISS, embedding model | build | embed rows/s | build peak RSS | "
        "on disk (vectors) | FAISS bytes/address | "
        "serving RSS | search top-1 / top-5 | search p50 / p95 / p99 ms | "
        "autocomplete recall@5 at 50 % | autocomplete p95 ms | WRatio top-1 | speed-up |",
        "|---" * 15 + "|",
    ]
    for name, s in r["sets"].items():
        lat, base = s["search"]["latency_ms"], s["baseline"]
        build = f"{s['build_seconds'] / 60:.1f} min" if s["build_seconds"] else "?"
        peak = f"{s['build_peak_rss_mb'] / 1024:.1f} GB" if s["build_peak_rss_mb"] else "n/m"
        lines.append(
            f"| [{name}]({s['details']}) | {s['rows']:,} | {s['faiss']['type']}, "
            f"{'int8' if s.get('quantized_model', True) else 'fp32'} | {build} | "
            f"{s['embed_rows_per_s']} | {peak} | {s['disk_mb']:,} MB ({s['vectors_mb']:,}) | "
            f"{round(s['vectors_mb'] * 2**20 / s['rows']):,} | "
            f"{s['serving_rss_mb'] / 1024:.1f} GB | {s['search']['top1']:.3f} / "
            f"{s['search']['top5']:.3f} | {lat['p50']} / {lat['p95']} / {lat['p99']} | "
            f"{s['autocomplete']['recall_at_5_50']:.3f} | "
            f"{s['autocomplete']['latency_ms']['p95']} | {base['top1']:.3f} "
            f"(n={base['n']}) | {base['speedup_median']}x |"
        )
    lines += [
        "",
        "Load average (1/5/15 min) right after each build, a sign of other jobs on the "
        "2 cores: "
        + "; ".join(
            f"{name} {s.get('load_average_after_build', 'not recorded')}"
            for name, s in r["sets"].items()
        )
        + ".",
        "",
        "- *build*: `addr index build` wall time in its own process (reference file "
        "already written); *build peak RSS*: that process's peak (n/m: reused index "
        "built before the figure was recorded).",
        "- *serving RSS*: peak memory of the benchmark process holding the index, "
        "libpostal (~2 GB) and the embedding model.",
        "- Queries are corrupted rows of the held-out (`report`) half, as in "
        "`index_benchmark_default.md`; the brute-force baseline ran on an even "
        "subset of them (n in the WRatio column).",
        "- synthetic2m: the default reference rows plus rows made by giving a real street "
        "(with its town and postcode) a house number from another real address of the same "
        "country (`python -m eval.scale_data synthetic`).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=sorted(SETS))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse a built index")
    args = parser.parse_args()
    from address.settings import get_settings

    workdir = args.workdir or get_settings().data_dir / "scale"
    workdir.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "index_scale.json"
    previous = json.loads(path.read_text()) if path.exists() else {"sets": {}}
    sets = previous["sets"]
    for name in args.sets:
        sets[name] = measure(name, workdir, args.reuse)
    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m eval.bench_scale " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "sets": sets,
    }
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "index_scale.md").write_text(_markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
