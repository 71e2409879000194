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
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from api.schemas import BATCH_LIMIT
from api.server_process import ServerProcess

RESULTS = Path(__file__).resolve().parents[1] / "results"
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
P99_LIMIT_MS = 100.0
RATIO_TARGET = 0.90
DROPPED = "batch dropped"  # the locustfile's name for a careless shopper's hung-up batch
# One client address (locust on loopback) sends everything: its per-client budgets are
# lifted, or they would stand for the whole of a shop's traffic.
SERVER_ENV = {
    "ADDR_LOG_LEVEL": "WARNING",
    "ADDR_RATE_LIMIT_PER_SECOND": "100000",
    "ADDR_RATE_LIMIT_BURST": "100000",
    "ADDR_MAX_CONCURRENT_PER_KEY": "10000",
    "ADDR_MAX_CONNECTIONS_PER_CLIENT": "100000",
}


def write_inputs(path: Path, seed: int) -> None:
    """Keystroke addresses (reference rows, half US, half IS) and verify inputs (a
    third exact, a third corrupted, a third outside the reference data) as JSON."""
    from address.settings import get_settings
    from eval.bench_service import make_inputs
    from index.reference import read_reference

    rows = read_reference(get_settings().reference_table)
    made = make_inputs(
        rows, argparse.Namespace(seed=seed, streams=2, verify=600, batch_size=20, batches=1)
    )
    typed = rows[rows["house_number"].notna()].groupby("country").sample(200, random_state=seed)
    path.write_text(
        json.dumps(
            {"streams": typed["address"].tolist(), "verify": [t for _, t in made["verify"]]}
        ),
        encoding="utf-8",
    )


def _tree_rss_mb(pid: int) -> tuple[float, list[float]]:
    """Total resident memory of a process and its children, and each worker's."""
    try:
        root = psutil.Process(pid)
        children = root.children(recursive=True)
        workers = [c.memory_info().rss / 2**20 for c in children]
        return root.memory_info().rss / 2**20 + sum(workers), workers
    except psutil.Error:
        return float("nan"), []


class MemorySampler(threading.Thread):
    """Samples the server's resident memory every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), _tree_rss_mb(self.pid)[0]))
            self._stop_event.wait(self.interval)

    def stop(self) -> list[tuple[float, float]]:
        self._stop_event.set()
        self.join()
        return self.samples


def run_locust(
    url: str,
    rate: float,
    seconds: int,
    inputs: Path,
    user_rate: float,
    extra_env: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Offer ``rate`` requests/s for ``seconds``; every request as a row. ``extra_env``
    sets the locustfile's other ``LOAD_*`` knobs (e.g. the careless shoppers)."""
    users = max(1, math.ceil(rate / user_rate))
    events = Path(tempfile.mkstemp(prefix="load_events_", suffix=".csv")[1])
    env = {
        **os.environ,
        **(extra_env or {}),
        "LOAD_INPUTS": str(inputs),
        "LOAD_EVENTS": str(events),
        "LOAD_USER_RATE": str(rate / users),
    }
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
        "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
    ]  # fmt: skip
    subprocess.run(command, env=env, check=False, capture_output=True, timeout=seconds + 120)
    frame = pd.read_csv(events)
    events.unlink(missing_ok=True)
    return frame


def _steady(frame: pd.DataFrame, warmup: float) -> tuple[pd.DataFrame, float]:
    """The rows after a run's first ``warmup`` s, and the seconds they span."""
    start = frame["time"].min()
    steady = frame[frame["time"] >= start + warmup]
    return steady, max(steady["time"].max() - steady["time"].min(), 1e-9)


def _by_kind(steady: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Count, errors and latency percentiles per request name."""
    kinds = {}
    for name, group in steady.groupby("name"):
        ms = group["ms"].to_numpy()
        kinds[str(name)] = {
            "n": len(group),
            "errors": int(group["error"].sum()),
            **{f"p{p}": round(float(np.percentile(ms, p)), 1) for p in (50, 95, 99)},
            "max": round(float(ms.max()), 1),
        }
    return kinds


def judge(frame: pd.DataFrame, rate: float, warmup: float = 5.0) -> dict[str, Any]:
    """Delivered rate, errors and per-kind percentiles after the first ``warmup`` s."""
    steady, span = _steady(frame, warmup)
    kinds = _by_kind(steady)
    delivered = len(steady) / span
    errors = int(frame["error"].sum())
    p99 = kinds.get("autocomplete", {}).get("p99", float("inf"))
    return {
        "offered_per_s": rate,
        "delivered_per_s": round(float(delivered), 1),
        "requests": len(frame),
        "errors": errors,
        "by_kind": kinds,
        "held": bool(errors == 0 and p99 <= P99_LIMIT_MS and delivered >= 0.95 * rate),
    }


def workers_that_fit(reserve_gb: float, inputs: Path, user_rate: float) -> dict[str, Any]:
    """One warm worker's memory, and how many such workers the free memory holds."""
    with ServerProcess(SERVER_ENV) as server:
        run_locust(server.url, 10, 20, inputs, user_rate)  # warm every path
        total, workers = _tree_rss_mb(server.pid)
        worker_mb = max(workers) if workers else total
    available_mb = psutil.virtual_memory().available / 2**20
    fit = max(1, int((available_mb - reserve_gb * 1024) // worker_mb))
    return {
        "worker_rss_mb": round(worker_mb, 0),
        "available_mb": round(available_mb, 0),
        "reserve_gb": reserve_gb,
        "fit": fit,
    }


def _provenance(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """Date, command, machine and load average before and now, for a report."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m eval.load.run " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
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


def judge_goodput(frames: list[pd.DataFrame], rate: float, warmup: float = 5.0) -> dict[str, Any]:
    """Goodput, errors, 5xx, dropped and per-kind percentiles of one or more runs of a
    mix, each run's first ``warmup`` s left out. Goodput and errors count the requests
    that were waited for; a careless shopper's hung-up attempts only count as dropped."""
    steadies, seconds = [], 0.0
    for frame in frames:
        steady, span = _steady(frame[frame["name"] != DROPPED], warmup)
        steadies.append(steady)
        seconds += span
    steady = pd.concat(steadies)
    every = pd.concat(frames)
    waited, dropped = every[every["name"] != DROPPED], every[every["name"] == DROPPED]
    good = int(steady["status"].between(200, 299).sum())
    return {
        "offered_per_s": rate,
        "seconds_measured": round(seconds, 1),
        "delivered_per_s": round(len(steady) / seconds, 1),
        "goodput_per_s": round(good / seconds, 1),
        "requests": len(waited),
        "errors": int(waited["error"].sum()),
        "status_5xx": int((waited["status"] >= 500).sum()),
        "dropped": len(dropped),
        "dropped_send_failures": int(dropped["error"].sum()),
        "by_kind": _by_kind(steady),
    }


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
        rss_mb = _tree_rss_mb(server.pid)[0]
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


def _windows(frame: pd.DataFrame, seconds: int = 10) -> pd.DataFrame:
    """Each row's ``window``: the start of its ``seconds``-long slice of the run."""
    start = frame["time"].min()
    return frame.assign(window=((frame["time"] - start) // seconds * seconds).astype(int))


def _plot(frame: pd.DataFrame, memory: list[tuple[float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = _windows(frame)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ac = frame[frame["name"] == "autocomplete"].groupby("window")["ms"]
    for p, style in ((50, "-"), (95, "--"), (99, ":")):
        axes[0].plot(ac.quantile(p / 100), style, label=f"p{p}", color="#4477aa")
    axes[0].axhline(P99_LIMIT_MS, color="#cc3311", linewidth=1, label="p99 limit")
    axes[0].set(title="autocomplete latency per 10 s", xlabel="s", ylabel="ms")
    for name, color in (("verify", "#228833"), ("batch", "#aa3377")):
        per = frame[frame["name"] == name].groupby("window")["ms"]
        axes[1].plot(per.quantile(0.5), "-", color=color, label=f"{name} p50")
        axes[1].plot(per.quantile(0.99), ":", color=color, label=f"{name} p99")
    axes[1].set(title="verify and batch (20) latency per 10 s", xlabel="s", ylabel="ms")
    axes[1].set_yscale("log")
    first = memory[0][1]
    axes[2].plot([t - memory[0][0] for t, _ in memory], [m - first for _, m in memory],
                 color="#222222")  # fmt: skip
    axes[2].set(
        title=f"server memory growth (all workers, from {first / 1024:.1f} GB)",
        xlabel="s",
        ylabel="MB",
    )
    axes[2].set_ylim(-100, 500)
    for ax in axes[:2]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _careless_plot(frame: pd.DataFrame, seconds: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"clean": "#4477aa", "careless": "#cc3311"}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    waited = []
    for round_ in sorted(frame["round"].unique()):
        for mix, color in colors.items():
            run = frame[(frame["round"] == round_) & (frame["mix"] == mix)]
            run = _windows(run[run["name"] != DROPPED])
            run = run[run["window"] + 10 <= seconds]  # whole windows only
            waited.append(run)
            good = run[run["status"].between(200, 299)].groupby("window").size() / 10
            axes[0].plot(good, "-" if round_ % 2 == 0 else "--", color=color,
                         label=f"{mix}, round {round_ + 1}")  # fmt: skip
    axes[0].set(title="goodput per 10 s (2xx answers waited for)", xlabel="s into the run",
                ylabel="requests/s")  # fmt: skip
    axes[0].set_ylim(bottom=0)
    pooled = pd.concat(waited)
    for mix, color in colors.items():
        for name, style in (("autocomplete", "-"), ("verify", "--")):
            per = pooled[(pooled["mix"] == mix) & (pooled["name"] == name)].groupby("window")
            axes[1].plot(per["ms"].quantile(0.99), style, color=color, label=f"{mix} {name}")
    axes[1].set(title="p99 latency per 10 s (all rounds)", xlabel="s into the run", ylabel="ms")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _kind_cells(name: str, k: dict[str, Any]) -> str:
    """A request kind's cells of a latency table: name, n, errors, p50, p95, p99, max."""
    cells = [k["n"], k["errors"], k["p50"], k["p95"], k["p99"], k["max"]]
    return " | ".join(map(str, [name, *cells])) + " |"


def _careless_markdown(r: dict[str, Any], plot: str) -> str:
    mixes = r["mixes"]
    totals = [
        f"| {mix} | {m['offered_per_s']:g} | {m['goodput_per_s']} | {m['delivered_per_s']} | "
        f"{m['errors']} | {m['status_5xx']} | {m['dropped']} |"
        for mix, m in mixes.items()
    ]
    kinds = [
        f"| {mix} | {_kind_cells(name, k)}"
        for mix, m in mixes.items()
        for name, k in sorted(m["by_kind"].items())
    ]
    runs = [
        f"| {run['round'] + 1} | {run['mix']} | {run['goodput_per_s']} | {run['errors']} | "
        f"{run['status_5xx']} | {run['dropped']} | "
        f"{run['by_kind'].get('autocomplete', {}).get('p99', '-')} |"
        for run in r["runs"]
    ]
    met = "met" if r["target_met"] else "not met"
    return "\n".join(
        [
            "# Load test: careless clients",
            "",
            *_provenance_lines(r),
            "",
            f"**Goodput with careless clients: {r['goodput_ratio']:.2f} of the clean mix's** "
            f"({mixes['careless']['goodput_per_s']} vs {mixes['clean']['goodput_per_s']} "
            f"requests/s) with {mixes['careless']['status_5xx']} × 5xx (clean mix: "
            f"{mixes['clean']['status_5xx']}); target at least "
            f"{r['target']['goodput_ratio_min']:.2f} with no 5xx: {met}.",
            "",
            f"One server, {r['workers']} uvicorn worker(s) (ready in {r['server_ready_s']} s), "
            f"warmed, then the clean and the careless mix in turn, {r['rounds']} round(s) of "
            f"{r['seconds']} s each, both offered {r['rate']:g} requests/s by shoppers of "
            f"{r['user_rate']:g} requests/s. The clean mix is the checkout mix (80 % "
            "autocomplete keystrokes, 15 % verify, 5 % batches of 20). In the careless mix "
            f"{r['careless_share'] * 100:g} % of the shoppers send every batch as "
            f"{r['careless_batch']} addresses, hang up {r['drop_after_s'] * 1000:g} ms after "
            "sending it without reading the answer (*dropped*), then send it again and wait "
            "(*batch retry*); the rest is the same.",
            "",
            "Goodput: 2xx answers per second among the requests waited for (everyone's, the "
            "retries included), each run's first 5 s left out. Dropped attempts are neither "
            "errors nor goodput.",
            "",
            "| mix | offered req/s | goodput req/s | answered req/s | errors | 5xx | dropped |",
            "|---|---|---|---|---|---|---|",
            *totals,
            "",
            "| mix | request | n | errors | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|---|",
            *kinds,
            "",
            f"![goodput and p99 latency per 10 s]({plot})",
            "",
            "## Runs, in the order they ran",
            "",
            "| round | mix | goodput req/s | errors | 5xx | dropped | autocomplete p99 ms |",
            "|---|---|---|---|---|---|---|",
            *runs,
            "",
            "The rate limiter is lifted for the test (one client address sends everything).",
            "",
        ]
    )


def _provenance_lines(r: dict[str, Any]) -> list[str]:
    return [
        f"Command: `{r['command']}`  ",
        f"Date: {r['date']}  ",
        f"Machine: {r['machine']['cpus']} cores, {r['machine']['memory_gb']} GB "
        f"({r['machine']['platform']}); the load generator (locust) runs on the same "
        f"cores. Load average before {r['load_average_before']}, after "
        f"{r['load_average_after']}.",
    ]


def _markdown(r: dict[str, Any]) -> str:
    f, s, m = r["final"], r["sizing"], r["memory"]
    rows = [f"| {_kind_cells(name, k)}" for name, k in sorted(f["by_kind"].items())]
    steps = [
        f"| {st['offered_per_s']} | {st['delivered_per_s']} | {st['errors']} | "
        f"{st['by_kind'].get('autocomplete', {}).get('p99', '-')} | "
        f"{'yes' if st['held'] else 'no'} |"
        for st in r["steps"]
    ]
    return "\n".join(
        [
            "# Load test: checkout traffic",
            "",
            *_provenance_lines(r),
            "",
            f"**Highest rate held: {r['highest_rate_held']} requests/s** for {r['seconds']} s "
            f"with {r['workers']} uvicorn workers: {f['delivered_per_s']} requests/s delivered, "
            f"{f['errors']} errors, autocomplete p99 "
            f"{f['by_kind'].get('autocomplete', {}).get('p99')} ms (limit {P99_LIMIT_MS:g}).",
            "",
            "Mix by request: 80 % autocomplete keystrokes, 15 % verify, 5 % batches of 20.",
            "",
            "| request | n | errors | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "![latency over time and memory](load_test.png)",
            "",
            "## Memory",
            "",
            f"One warm worker holds {s['worker_rss_mb']:.0f} MB; with {s['available_mb']:.0f} MB "
            f"available and {s['reserve_gb']} GB kept free, **{s['fit']} workers fit**; "
            f"{r['workers']} served.",
            f"Over the {r['seconds']} s run the server's total resident memory went from "
            f"{m['first_minute_mb']:.0f} MB (median of the first minute) to "
            f"{m['last_minute_mb']:.0f} MB (last minute): {m['growth_mb']:+.0f} MB, "
            f"trend {m['slope_mb_per_min']:+.1f} MB/min.",
            "",
            f"## Steps ({r['step_seconds']} s each, up until one failed)",
            "",
            "| offered req/s | delivered req/s | errors | autocomplete p99 ms | held |",
            "|---|---|---|---|---|",
            *steps,
            "",
            "A step holds when there are no errors, autocomplete p99 is at most 100 ms and at "
            "least 95 % of the offered rate is delivered. The rate limiter is lifted for the "
            "test (one client address sends everything).",
            "",
        ]
    )


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
        out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        out.with_suffix(".md").write_text(_careless_markdown(report, out.stem + ".png"))
        _careless_plot(events, args.seconds, out.with_suffix(".png"))
        print(_careless_markdown(report, out.stem + ".png"))
        return
    args.out = args.out or RESULTS / "load_test"
    results, frame, memory = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(_markdown(results))
    _plot(frame, memory, args.out.with_suffix(".png"))
    print(_markdown(results))


if __name__ == "__main__":
    main()
