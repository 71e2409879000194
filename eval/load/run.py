"""Load test: the highest checkout request rate the service holds on this machine.

1. Starts one ``addr serve`` worker (default index, libpostal, classifier) to
   measure a warm worker's memory, and from it how many workers fit in this
   machine's available memory (keeping ``--reserve-gb`` free); then serves with
   that many (``--workers N`` overrides).
2. Steps the offered rate up (``--rates``, ``--step-seconds`` each) with the
   checkout mix of ``eval/load/locustfile.py`` (80 % autocomplete keystrokes,
   15 % verify, 5 % batches of 20) until a step fails: autocomplete p99 over
   100 ms, any error, or under 95 % of the offered rate delivered.
3. Runs the highest rate that held for ``--seconds`` (3 minutes), sampling the
   server's memory every 2 s, and reports latency percentiles over time and
   memory growth.

Run on loopback only (2 cores; locust shares them with the server)::

    .venv/bin/python -m eval.load.run

Writes ``eval/results/load_test.md``, ``.json`` and ``.png``.

Careless clients (``--careless``): does cancelling the work of clients that hang
up protect everyone else's? Starts one server (``--workers``, default 2), warms
it, then runs the clean mix above and the careless mix in turn (clean, careless,
clean, careless, … ``--rounds`` times, ``--seconds`` each) at the same offered
rate ``--rate``. In the careless mix ``--careless-share`` of the shoppers (10 %)
send every batch as ``--careless-batch`` addresses (200), hang up
``--drop-after`` seconds (0.05) after sending it without reading the answer,
and send it again at once, waiting this time. Reports per mix the goodput
(2xx answers per second among the requests that were waited for: everyone's,
the careless shoppers' retries included; the hung-up attempts count apart as
"dropped", neither errors nor goodput), errors, 5xx, dropped and p50/p95/p99 per
request kind, and goodput(careless) / goodput(clean); the target is at least
0.90 with no 5xx::

    .venv/bin/python -m eval.load.run --careless --rate 40 --seconds 60 --rounds 2

Writes ``eval/results/load_careless.md``, ``.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from api.schemas import BATCH_LIMIT
from api.server_process import ServerProcess
from eval._common import RESULTS, load_average, now_utc, write_json
from eval.load.measure import (
    SERVER_ENV,
    MemorySampler,
    judge,
    judge_goodput,
    run_locust,
    tree_rss_mb,
    workers_that_fit,
    write_inputs,
)
from eval.load.render import careless_markdown, careless_plot, markdown, plot

RATIO_TARGET = 0.90


def _provenance(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """Date, command, machine and load average before and now, for a report."""
    return {
        "date": now_utc(),
        "command": "python -m eval.load.run " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": load_average(),
    }


def bench(args: argparse.Namespace) -> tuple[dict[str, Any], pd.DataFrame, list[Any]]:
    """Size the workers, find the highest rate held, run it for ``args.seconds``."""
    inputs = Path(tempfile.mkstemp(prefix="load_inputs_", suffix=".json")[1])
    write_inputs(inputs, args.seed)
    sizing = workers_that_fit(args.reserve_gb, inputs, args.user_rate)
    workers = args.workers or sizing["fit"]
    load_before = os.getloadavg()
    steps: list[dict[str, Any]] = []
    with ServerProcess(SERVER_ENV, workers=workers) as server:
        run_locust(server.url, 10, 15, inputs, args.user_rate)  # warm every worker
        best = None
        for rate in args.rates:
            step = judge(run_locust(server.url, rate, args.step_seconds, inputs, args.user_rate),
                         rate)  # fmt: skip
            steps.append(step)
            print(json.dumps({k: step[k] for k in ("offered_per_s", "delivered_per_s", "held")}
                             | {"ac_p99": step["by_kind"].get("autocomplete", {}).get("p99")}),
                  flush=True)  # fmt: skip
            if not step["held"]:
                break
            best = rate
        if best is None:
            raise SystemExit(f"no rate held, not even {args.rates[0]}/s: {steps[-1]}")
        sampler = MemorySampler(server.pid)
        sampler.start()
        frame = run_locust(server.url, best, args.seconds, inputs, args.user_rate)
        memory = sampler.stop()
    inputs.unlink(missing_ok=True)
    final = judge(frame, best)
    mem = np.asarray([m for _, m in memory])
    minute = max(1, len(mem) // max(1, args.seconds // 60))
    results = {
        **_provenance(load_before),
        "sizing": sizing,
        "workers": workers,
        "user_rate": args.user_rate,
        "step_seconds": args.step_seconds,
        "steps": steps,
        "highest_rate_held": best,
        "final": final,
        "seconds": args.seconds,
        "memory": {
            "first_minute_mb": round(float(np.median(mem[:minute])), 0),
            "last_minute_mb": round(float(np.median(mem[-minute:])), 0),
            "growth_mb": round(float(np.median(mem[-minute:]) - np.median(mem[:minute])), 0),
            "slope_mb_per_min": round(
                float(np.polyfit([t - memory[0][0] for t, _ in memory], mem, 1)[0] * 60), 1
            ),
        },
    }
    return results, frame, memory


def careless(args: argparse.Namespace) -> tuple[dict[str, Any], pd.DataFrame]:
    """Clean and careless mixes in turn on one warm server, ``args.rounds`` times."""
    inputs = Path(tempfile.mkstemp(prefix="load_inputs_", suffix=".json")[1])
    write_inputs(inputs, args.seed)
    mixes = {
        "clean": {"LOAD_CARELESS_SHARE": "0"},
        "careless": {
            "LOAD_CARELESS_SHARE": str(args.careless_share),
            "LOAD_CARELESS_BATCH": str(args.careless_batch),
            "LOAD_DROP_AFTER": str(args.drop_after),
        },
    }
    load_before = os.getloadavg()
    frames: dict[str, list[pd.DataFrame]] = {mix: [] for mix in mixes}
    runs: list[dict[str, Any]] = []
    with ServerProcess(SERVER_ENV, workers=args.workers) as server:
        ready_s = server.ready_seconds
        run_locust(server.url, 10, 15, inputs, args.user_rate)  # warm every worker
        for round_ in range(args.rounds):
            for mix, env in mixes.items():
                frame = run_locust(server.url, args.rate, args.seconds, inputs, args.user_rate,
                                   env).assign(mix=mix, round=round_)  # fmt: skip
                frames[mix].append(frame)
                run = {"round": round_, "mix": mix, **judge_goodput([frame], args.rate)}
                runs.append(run)
                print(json.dumps({k: run[k] for k in ("round", "mix", "goodput_per_s",
                                  "errors", "status_5xx", "dropped")}), flush=True)  # fmt: skip
        rss_mb = tree_rss_mb(server.pid)[0]
    inputs.unlink(missing_ok=True)
    by_mix = {mix: judge_goodput(frames[mix], args.rate) for mix in mixes}
    ratio = by_mix["careless"]["goodput_per_s"] / max(by_mix["clean"]["goodput_per_s"], 1e-9)
    results = {
        **_provenance(load_before),
        "workers": args.workers,
        "server_ready_s": round(ready_s, 1),
        "server_rss_mb_at_end": round(rss_mb, 0),
        "user_rate": args.user_rate,
        "rate": args.rate,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "careless_share": args.careless_share,
        "careless_batch": args.careless_batch,
        "drop_after_s": args.drop_after,
        "mixes": by_mix,
        "goodput_ratio": round(ratio, 3),
        "target": {"goodput_ratio_min": RATIO_TARGET, "status_5xx": 0},
        "target_met": bool(
            ratio >= RATIO_TARGET and all(m["status_5xx"] == 0 for m in by_mix.values())
        ),
        "runs": runs,
    }
    return results, pd.concat([f for fs in frames.values() for f in fs])


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rates", type=float, nargs="+",
                        default=[20, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 170, 200,
                                 250, 300])  # fmt: skip
    parser.add_argument("--step-seconds", type=int, default=30)
    parser.add_argument(
        "--seconds",
        type=int,
        default=180,
        help="length of the final run (--careless: of each mix's run)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="default: as many as fit in memory (--careless: 2)",
    )
    parser.add_argument("--reserve-gb", type=float, default=3.0)
    parser.add_argument("--user-rate", type=float, default=2.0, help="requests/s per shopper")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default eval/results/load_test (--careless: load_careless)",
    )
    careless_mode = parser.add_argument_group("careless clients")
    careless_mode.add_argument(
        "--careless", action="store_true", help="compare the clean mix with the careless one"
    )
    careless_mode.add_argument(
        "--rate", type=float, default=40.0, help="offered requests/s of both mixes"
    )
    careless_mode.add_argument("--rounds", type=int, default=2, help="clean, careless pairs")
    careless_mode.add_argument(
        "--careless-share", type=float, default=0.1, help="share of the shoppers who are careless"
    )
    careless_mode.add_argument(
        "--careless-batch", type=int, default=200, help="addresses in a careless shopper's batch"
    )
    careless_mode.add_argument(
        "--drop-after",
        type=float,
        default=0.05,
        help="seconds from sending a careless batch to hanging up",
    )
    args = parser.parse_args()
    if args.careless:
        if not 1 <= args.careless_batch <= BATCH_LIMIT:
            parser.error(f"--careless-batch must be 1 to {BATCH_LIMIT}")
        args.workers = args.workers or 2
        out = args.out or RESULTS / "load_careless"
        out.parent.mkdir(parents=True, exist_ok=True)
        report, events = careless(args)
        write_json(out.with_suffix(".json"), report)
        out.with_suffix(".md").write_text(careless_markdown(report, out.stem + ".png"))
        careless_plot(events, args.seconds, out.with_suffix(".png"))
        print(careless_markdown(report, out.stem + ".png"))
        return
    args.out = args.out or RESULTS / "load_test"
    results, frame, memory = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out.with_suffix(".json"), results)
    args.out.with_suffix(".md").write_text(markdown(results))
    plot(frame, memory, args.out.with_suffix(".png"))
    print(markdown(results))


if __name__ == "__main__":
    main()
