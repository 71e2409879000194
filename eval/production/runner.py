"""One run: prepare the addresses, start both workers, ask every request, count."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval._common import REPO, git_commit, load_average, log, machine, now_utc
from eval.production.addresses import Address
from eval.production.cases import make_requests
from eval.production.figures import figures, target_rows
from eval.production.workers import ENTRY_POINT, Worker, pythonpath, unpack_tree

NAME = "production"
SEED = 4711
BASELINE_REV = "360ff93"
SIDES = ("new", "baseline")


def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Measure both sides on the same requests; returns the results as JSON-ready data."""
    from tqdm import tqdm

    from address.settings import get_settings

    started = time.perf_counter()
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="addr-production-") as tmp:
        workdir = Path(tmp)
        trees = {
            "new": REPO if args.new is None else unpack_tree(args.new, workdir / "new"),
            "baseline": unpack_tree(BASELINE_REV, workdir / "baseline"),
        }
        log(f"reading held-out rows and building the small index ({trees['new']})")
        subprocess.run(
            [
                sys.executable,
                str(ENTRY_POINT),
                "prepare",
                "--workdir",
                tmp,
                "--datasets",
                str(args.datasets),
                "--seed",
                str(args.seed),
                "--covered-rows",
                str(args.covered_rows),
                "--outside-rows",
                str(args.outside_rows),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": pythonpath(trees["new"])},
            check=True,
        )
        prepared = json.loads((workdir / "addresses.json").read_text(encoding="utf-8"))
        addresses = [Address(**a) for a in prepared["addresses"]]
        requests = make_requests(addresses, args)
        indexes = {"covered": workdir / "covered", "default": get_settings().index_dir}
        workers = {
            side: Worker(side, tree, indexes, workdir / f"{side}.log")
            for side, tree in trees.items()
        }
        try:
            infos = {side: w.wait_ready() for side, w in workers.items()}
            log("workers ready: " + json.dumps(infos))
            answers: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
            for i, request in enumerate(tqdm(requests, desc="requests", unit="case")):
                for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                    answers[side].append(workers[side].ask(request))
        finally:
            for w in workers.values():
                w.close()
    results = {side: figures(requests, answers[side]) for side in SIDES}
    new_code = "the checked-out code" if args.new is None else f"the code at revision `{args.new}`"
    return {
        "date": now_utc(),
        "command": command,
        "git_commit": git_commit(),
        "machine": {
            **machine(),
            "load_average_start": load_start,
            "load_average_end": load_average(),
        },
        "seconds": round(time.perf_counter() - started, 1),
        "seed": args.seed,
        "sizes": {
            k: getattr(args, k)
            for k in (
                "covered_rows",
                "outside_rows",
                "noisy",
                "structured",
                "plain",
                "own",
                "misspelt",
            )
        },
        "split": "held out: int(hashlib.sha1(t.encode()).hexdigest(), 16) % 10 >= 5 on each "
        "row's address text; rows below 5 are the dev split and are not read",
        "sides": {
            "new": {"code": new_code, **infos["new"]},
            "baseline": {"code": f"revision {BASELINE_REV}", **infos["baseline"]},
        },
        "datasets": prepared["datasets"],
        "reference_skipped": prepared["reference_skipped"],
        "index": prepared["index"],
        "requests": {
            "total": len(requests),
            "by_case": dict(Counter(r.case for r in requests)),
        },
        "figures": results,
        "targets_rows": target_rows(results["new"], results["baseline"]),
    }
