"""Accuracy of suggest, autocomplete, verify and formatting on ``../shared/datasets``.

Each measure runs beside a plain baseline in the same run:

* **suggest** (``AddressIndex.search``) and **autocomplete** (``AddressIndex.autocomplete``)
  against brute-force ``rapidfuzz.process.extract(query, all_strings, scorer=fuzz.WRatio,
  limit=5)`` over the same index rows, on the same queries, with latencies of both;
* **verify** (``address.verify.verify`` with the default index and the shipped classifier,
  as the service wires them) against the rules-only verdict of ``address.rules``;
* **formatting** (``format_address_line`` and ``standardize``) against the expected
  per-country layout of the OpenCage address-formatting test cases.

Per dataset:

* ``fr_nl_pl_geocoder_tester_queries.csv``: a small index over the dataset's correct
  addresses (expected house number, street, city, postcode); the 939 ``fuzzy=True`` typo
  queries and a sample of the plain queries as written; autocomplete on the correct
  addresses.
* ``chicago_dedupe_messy_addresses.csv``: one canonical row per ``True Id`` (its most
  frequent spelling) indexed; every other distinct spelling is a query.
* ``de_osm_community_centres.csv`` and ``uk_address_matching/*.tsv`` (a seeded sample):
  the rows indexed, queried with ``eval.bench_index``'s corruptions (abbreviation and extra
  unit adapted to German and British spelling).
* ``us_oh_hamilton_voters.txt``: not built here; the figures of
  ``eval/results/index_benchmark_hamilton.json`` are read when that file exists.
* ``multi_address_formatting_testcases.csv``: formatting per country.
* UK, DE and FR real addresses plus ``eval.classifier_eval``'s negatives: verify.

Run (about 10-20 minutes on 2 shared cores; deterministic apart from latencies)::

    nice -n 15 .venv/bin/python -m eval.datasets_eval
    .venv/bin/python -m eval.datasets_eval --quick --only chicago --out /tmp/smoke

Writes ``eval/results/datasets_eval.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eval._common import (
    DATASETS,
    RESULTS,
    git_commit,
    load_average,
    log,
    machine,
    now_utc,
    write_json,
)
from eval.datasets_eval_formatting import eval_formatting
from eval.datasets_eval_render import NAME, write_report
from eval.datasets_eval_suggest import (
    CHICAGO,
    DE,
    FORMATTING,
    FR,
    HAMILTON,
    QUICK,
    UK,
    Sizes,
    eval_chicago,
    eval_de,
    eval_fr,
    eval_hamilton,
    eval_uk,
)
from eval.datasets_eval_verify import eval_verify

SEED = 20240
PARTS = {
    "fr": FR,
    "chicago": CHICAGO,
    "de": DE,
    "uk": UK,
    "hamilton": HAMILTON,
    "formatting": FORMATTING,
    "verify": "verify",
}


def _cpu_seconds() -> float:
    """CPU time of this process so far (user + system): what the run costs on shared cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Every part asked for, timed; returns the results as JSON-ready data."""
    from address.libpostal import load

    sizes = QUICK if args.quick else Sizes()
    parts = args.only or list(PARTS)
    started, cpu_start = time.perf_counter(), _cpu_seconds()
    load()
    datasets: dict[str, dict[str, Any]] = {}
    timing: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="addr-datasets-eval-") as tmp:
        workdir = Path(tmp)
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("fr", lambda: eval_fr(args.datasets, sizes, args.seed, workdir)),
            ("chicago", lambda: eval_chicago(args.datasets, sizes, args.seed, workdir)),
            ("de", lambda: eval_de(args.datasets, sizes, args.seed, workdir)),
            ("uk", lambda: eval_uk(args.datasets, sizes, args.seed, workdir)),
            ("hamilton", lambda: eval_hamilton(args.datasets)),
            ("formatting", lambda: eval_formatting(args.datasets, sizes, args.seed)),
        ]
        for part, step in steps:
            if part in parts:
                wall, cpu = time.perf_counter(), _cpu_seconds()
                entry = step()
                entry["seconds"] = round(time.perf_counter() - wall, 1)
                entry["cpu_seconds"] = round(_cpu_seconds() - cpu, 1)
                datasets[PARTS[part]] = entry
                log(
                    f"{PARTS[part]}: done in {entry['seconds']:.0f} s "
                    f"({entry['cpu_seconds']:.0f} s CPU)"
                )
    if "verify" in parts:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        for name, entry in eval_verify(args.datasets, sizes, args.seed).items():
            target = datasets.setdefault(name, {})
            target["verify"] = entry["verify"]
            target.setdefault("baseline", {})["verify"] = entry["baseline"]["verify"]
        timing["verify_seconds"] = round(time.perf_counter() - wall, 1)
        timing["verify_cpu_seconds"] = round(_cpu_seconds() - cpu, 1)
        log(
            f"verify: done in {timing['verify_seconds']:.0f} s "
            f"({timing['verify_cpu_seconds']:.0f} s CPU)"
        )
    return {
        "date": now_utc(),
        "command": command,
        "git_commit": git_commit(),
        "machine": {
            **machine(),
            "load_average_start": args.load_start,
            "load_average_end": load_average(),
        },
        "seed": args.seed,
        "quick": args.quick,
        "sizes": asdict(QUICK if args.quick else Sizes()),
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(_cpu_seconds() - cpu_start, 1),
        **timing,
        "datasets": datasets,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the datasets folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help="tiny samples: a smoke run")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(PARTS), help="run these parts only (default: all)"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the .md and .png from the .json already in --out",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        result = json.loads((args.out / f"{NAME}.json").read_text(encoding="utf-8"))
        write_report(result, args.out)
        return 0
    if not args.datasets.is_dir():
        print(f"{args.datasets} is absent: nothing to evaluate, no results written.")
        return 0
    # Model loads print progress bars and load reports; the log lines say what matters.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    args.load_start = load_average()
    command = "python -m eval.datasets_eval " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    result = run(args, command.strip())
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / f"{NAME}.json", result, ensure_ascii=False)
    write_report(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
