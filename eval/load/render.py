"""Load test results as Markdown and charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from eval._common import pyplot, save_figure
from eval.load.measure import DROPPED, P99_LIMIT_MS


def _windows(frame: pd.DataFrame, seconds: int = 10) -> pd.DataFrame:
    """Each row's ``window``: the start of its ``seconds``-long slice of the run."""
    start = frame["time"].min()
    return frame.assign(window=((frame["time"] - start) // seconds * seconds).astype(int))


def plot(frame: pd.DataFrame, memory: list[tuple[float, float]], path: Path) -> None:
    plt = pyplot()
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
    save_figure(fig, path)


def careless_plot(frame: pd.DataFrame, seconds: int, path: Path) -> None:
    plt = pyplot()
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
    save_figure(fig, path)


def _kind_cells(name: str, k: dict[str, Any]) -> str:
    """A request kind's cells of a latency table: name, n, errors, p50, p95, p99, max."""
    cells = [k["n"], k["errors"], k["p50"], k["p95"], k["p99"], k["max"]]
    return " | ".join(map(str, [name, *cells])) + " |"


def careless_markdown(r: dict[str, Any], plot: str) -> str:
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


def markdown(r: dict[str, Any]) -> str:
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
