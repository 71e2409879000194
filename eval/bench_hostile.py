"""Careless and hostile clients against the real service, measured.

1. **Dropped batches**: three batches of 1,000 addresses whose client hangs up
   50 ms after sending; the server's CPU spent on them, beside the CPU one such
   batch costs when its client waits for the answer.
2. **The first requests after ready**: the first 20 verifies after ``/readyz``
   said 200 against the steady p99 of the next 200, over ``--starts`` fresh
   starts of the server.
3. **Slow sockets** under the default limits: seconds until the server closes an
   idle connection, headers that never finish, a body shorter than its
   Content-Length, an unterminated chunked body and an idle keep-alive.

Verify inputs are ``eval.bench_service.make_inputs``'s: a third known-good
addresses, a third corrupted ones, a third outside the data (the classifier).
One server (``addr serve``, 1 worker, default data) per start, on loopback.

Run (2 cores, about 6 minutes)::

    .venv/bin/python -m eval.bench_hostile

Writes ``eval/results/hostile.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil

from api.server_process import ServerProcess

RESULTS = Path(__file__).resolve().parent / "results"
# The rate limit is lifted: one client address sends every request here.
SERVER_ENV = {
    "ADDR_LOG_LEVEL": "INFO",
    "ADDR_RATE_LIMIT_PER_SECOND": "1000000",
    "ADDR_RATE_LIMIT_BURST": "1000000",
}
DROPPED_CPU_LIMIT_S = 2.0
"""Target: server CPU spent on three dropped 1,000-address batches."""
FIRST_TO_STEADY_LIMIT = 2.0
"""Target: p99 of the first 20 verifies after ready, as a multiple of the steady p99."""


def verify_texts(rows: pd.DataFrame, n: int, seed: int) -> list[str]:
    """``n`` verify inputs from known-good ``rows``: exact, corrupted and outside."""
    from eval.bench_service import make_inputs

    made = make_inputs(
        rows, argparse.Namespace(seed=seed, streams=2, verify=n, batch_size=1, batches=1)
    )
    return [text for _, text in made["verify"]]


def raw_request(path: str, body: bytes) -> bytes:
    """An HTTP/1.1 POST of a JSON ``body``, as bytes for a raw socket."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far (all its threads)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def wait_until_idle(pid: int, timeout: float = 120.0) -> float:
    """The process's CPU seconds once it uses under 0.05 s in a second."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            return now
        before = now
    raise TimeoutError(f"process {pid} still busy after {timeout} s")


def drop_batches(port: int, bodies: list[bytes], after: float = 0.05) -> None:
    """Send each batch on its own connection and close them all ``after`` seconds later,
    without reading a byte."""
    sockets = []
    for body in bodies:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(raw_request("/v1/verify/batch", body))
        sockets.append(sock)
    time.sleep(after)
    for sock in sockets:
        sock.close()


def closed_within(sock: socket.socket, seconds: float) -> tuple[float | None, bytes]:
    """Seconds until the server closed ``sock`` (None: still open after ``seconds``),
    and what it sent."""
    started = time.monotonic()
    sock.settimeout(0.1)
    got = b""
    while time.monotonic() - started < seconds:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started, got
        if not chunk:
            return time.monotonic() - started, got
        got += chunk
    return None, got


# What each slow client sends before it stalls.
SLOW_CLIENTS: dict[str, bytes] = {
    "idle connection": b"",
    "headers never finished": b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
    "body shorter than its Content-Length": raw_request(
        "/v1/verify", b'{"address": "4570 Frozen Hill Rd"}'
    )[:-5],
    "unterminated chunked body": b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n"
    b'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"add\r\n',
    "idle keep-alive": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
}


def slow_sockets(port: int, patience: float) -> dict[str, dict[str, Any]]:
    """Each slow client at once; when the server closed it and with what status."""

    def one(sent: bytes) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(sent)
            seconds, answer = closed_within(sock, patience)
        statuses = [int(line.split()[1]) for line in answer.split(b"\r\n") if line[:5] == b"HTTP/"]
        return {
            "closed_after_s": None if seconds is None else round(seconds, 2),
            "statuses": statuses,
        }

    with ThreadPoolExecutor(len(SLOW_CLIENTS)) as pool:
        futures = {name: pool.submit(one, sent) for name, sent in SLOW_CLIENTS.items()}
        return {name: future.result() for name, future in futures.items()}


def first_after_ready(server: ServerProcess, texts: list[str]) -> dict[str, Any]:
    """Latency of the first 20 verifies after ready and of the 200 after them."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        ms = []
        for text in texts[:220]:
            started = time.perf_counter()
            client.post("/v1/verify", json={"address": text}).raise_for_status()
            ms.append((time.perf_counter() - started) * 1000)
    first, steady = np.asarray(ms[:20]), np.asarray(ms[20:])
    first_p99, steady_p99 = float(np.percentile(first, 99)), float(np.percentile(steady, 99))
    return {
        "first20_p50_ms": round(float(np.median(first)), 1),
        "first20_p99_ms": round(first_p99, 1),
        "first20_max_ms": round(float(first.max()), 1),
        "steady_p50_ms": round(float(np.median(steady)), 1),
        "steady_p99_ms": round(steady_p99, 1),
        "ratio": round(first_p99 / steady_p99, 2),
        "ready_seconds": round(server.ready_seconds, 1),
    }


def log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    """The server's JSON log lines so far (other lines skipped)."""
    lines = []
    for line in server.log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return lines


def _loads(server: ServerProcess) -> dict[str, int]:
    events = [line.get("event") for line in log_lines(server)]
    return {name: events.count(name) for name in ("embedding model loaded", "classifier loaded")}


def dropped_batches(server: ServerProcess, texts: list[str]) -> dict[str, Any]:
    """CPU on three dropped batches of 1,000, and on one batch of 1,000 answered."""
    bodies = [
        json.dumps({"addresses": texts[i * 1000 : (i + 1) * 1000]}).encode() for i in range(4)
    ]
    start = wait_until_idle(server.pid)
    drop_batches(server.port, bodies[:3])
    dropped = wait_until_idle(server.pid) - start
    start = wait_until_idle(server.pid)
    answer = httpx.post(
        f"{server.url}/v1/verify/batch", content=bodies[3], timeout=600,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    answer.raise_for_status()
    answered = wait_until_idle(server.pid) - start
    statuses = [
        line["status"]
        for line in log_lines(server)
        if line.get("event") == "request" and line.get("route") == "/v1/verify/batch"
    ]
    return {
        "dropped_cpu_s": round(dropped, 2),
        "answered_batch_cpu_s": round(answered, 2),
        "saved_share": round(1 - dropped / (3 * answered), 4),
        "logged_statuses": statuses,
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from address.settings import get_settings
    from index.reference import read_reference

    rows = read_reference(get_settings().reference_table)
    texts = verify_texts(rows, 4000 + 220, args.seed)
    load_before = os.getloadavg()
    starts = []
    with ServerProcess(SERVER_ENV, ready_timeout=600) as server:
        starts.append(first_after_ready(server, texts[4000:]) | _loads(server))
        drops = dropped_batches(server, texts[:4000])
        slow = slow_sockets(server.port, patience=args.patience)
    for start in range(1, args.starts):  # restarts, on the same machine
        with ServerProcess(SERVER_ENV, ready_timeout=600) as server:
            shuffled = texts[4000:][start:] + texts[4000:][:start]
            starts.append(first_after_ready(server, shuffled) | _loads(server))
    settings = get_settings()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m eval.bench_hostile " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "dropped": drops | {"target_cpu_s": DROPPED_CPU_LIMIT_S},
        "first_after_ready": starts,
        "slow_sockets": slow,
        "limits_s": {
            "header": settings.header_timeout_seconds,
            "body": settings.body_timeout_seconds,
            "keep_alive": settings.keep_alive_timeout_seconds,
        },
    }


def _markdown(r: dict[str, Any]) -> str:
    d, limits = r["dropped"], r["limits_s"]
    starts = [
        f"| {i + 1} | {s['ready_seconds']} | {s['first20_p50_ms']} | {s['first20_p99_ms']} | "
        f"{s['steady_p50_ms']} | {s['steady_p99_ms']} | {s['ratio']} | "
        f"{s['embedding model loaded']} / {s['classifier loaded']} |"
        for i, s in enumerate(r["first_after_ready"])
    ]
    slow = [
        f"| {name} | {v['closed_after_s'] if v['closed_after_s'] is not None else 'open'} | "
        f"{', '.join(map(str, v['statuses'])) or '—'} |"
        for name, v in r["slow_sockets"].items()
    ]
    worst = max(s["ratio"] for s in r["first_after_ready"])
    return "\n".join(
        [
            "# Hostile and careless clients",
            "",
            f"Command: `{r['command']}`  ",
            f"Date: {r['date']}  ",
            f"Machine: {r['machine']['cpus']} cores ({r['machine']['platform']}); client and "
            f"server on the same cores. Load average before {r['load_average_before']}, after "
            f"{r['load_average_after']}.",
            "",
            "## Batches whose client hangs up",
            "",
            f"Three batches of 1,000 addresses, each client closing its socket 50 ms after "
            f"sending: **{d['dropped_cpu_s']} s of server CPU** in all (target ≤ "
            f"{d['target_cpu_s']:g} s). One such batch answered to a client that waits costs "
            f"{d['answered_batch_cpu_s']} s, so the three would have cost about "
            f"{3 * d['answered_batch_cpu_s']:.0f} s; {d['saved_share']:.1%} of it was not "
            f"spent. Logged statuses of the batch route, in order: "
            f"{', '.join(map(str, d['logged_statuses']))} (499 = client closed).",
            "",
            "## The first verifies after ready",
            "",
            f"Worst start: the first 20 verifies' p99 is **{worst}×** the steady p99 "
            f"(target ≤ {FIRST_TO_STEADY_LIMIT:g}×).",
            "",
            "| start | ready after s | first 20 p50 ms | first 20 p99 ms | next 200 p50 ms | "
            "next 200 p99 ms | ratio of p99s | embedding / classifier loads |",
            "|---|---|---|---|---|---|---|---|",
            *starts,
            "",
            "## Slow sockets",
            "",
            f"Default limits: headers {limits['header']:g} s, body {limits['body']:g} s, idle "
            f"keep-alive {limits['keep_alive']:g} s. All five clients at once:",
            "",
            "| client | closed after s | statuses received |",
            "|---|---|---|",
            *slow,
            "",
        ]
    )


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=2, help="fresh server starts measured")
    parser.add_argument("--patience", type=float, default=30.0, help="seconds a slow client waits")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--out", type=Path, default=RESULTS / "hostile")
    args = parser.parse_args()
    results = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(_markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
