"""Measuring a load run: the inputs, locust, the server's memory, and the judges."""

from __future__ import annotations

import argparse
import json
import math
import os
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

from api.server_process import ServerProcess

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
P99_LIMIT_MS = 100.0
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


def tree_rss_mb(pid: int) -> tuple[float, list[float]]:
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
            self.samples.append((time.time(), tree_rss_mb(self.pid)[0]))
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
        total, workers = tree_rss_mb(server.pid)
        worker_mb = max(workers) if workers else total
    available_mb = psutil.virtual_memory().available / 2**20
    fit = max(1, int((available_mb - reserve_gb * 1024) // worker_mb))
    return {
        "worker_rss_mb": round(worker_mb, 0),
        "available_mb": round(available_mb, 0),
        "reserve_gb": reserve_gb,
        "fit": fit,
    }


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
