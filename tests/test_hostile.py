"""Careless and hostile clients against the real service (``addr serve``, uvicorn, the
default data): batches whose client hangs up, slow sockets, the first requests after
``/readyz`` says ready, and normalization bombs.

One server for the module; the first test measures the first requests it answers,
so it stays first.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest

from api.server_process import ServerProcess
from eval.bench_hostile import (
    DROPPED_CPU_LIMIT_S,
    FIRST_TO_STEADY_LIMIT,
    SLOW_CLIENTS,
    closed_within,
    drop_batches,
    first_after_ready,
    log_lines,
    verify_texts,
    wait_until_idle,
)

pytestmark = pytest.mark.slow

HEADER_TIMEOUT_S = 2
BODY_TIMEOUT_S = 2
KEEP_ALIVE_S = 2
SERVER_ENV = {
    "ADDR_LOG_LEVEL": "INFO",
    "ADDR_RATE_LIMIT_PER_SECOND": "1000000",
    "ADDR_RATE_LIMIT_BURST": "1000000",
    "ADDR_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_S),
    "ADDR_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_S),
    "ADDR_KEEP_ALIVE_TIMEOUT_SECONDS": str(KEEP_ALIVE_S),
    "ADDR_MAX_CONCURRENT_PER_KEY": "2",
    "ADDR_QUEUE_TIMEOUT_SECONDS": "1",
}
KNOWN = "4570 Frozen Hill Rd, Anamosa, IA 52205"
# 29 characters that NFKC turns into 522 (U+FDFA is 18 characters long once decomposed).
BOMB = "\ufdfa" * 29


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(SERVER_ENV, ready_timeout=600) as running:
        yield running


# ----------------------------------------------------------- the first requests


def test_first_verifies_after_ready_are_as_fast_as_later_ones(
    server: ServerProcess, reference_sample: pd.DataFrame
) -> None:
    """The first 20 verifies after /readyz said 200: p99 within 2x the steady p99 of the
    next 200; the embedding model and the classifier loaded once, before ready."""
    timing = first_after_ready(server, verify_texts(reference_sample, 220, seed=1))
    assert timing["ratio"] <= FIRST_TO_STEADY_LIMIT, timing
    events = [line.get("event") for line in log_lines(server)]
    assert events.count("embedding model loaded") == 1
    assert events.count("classifier loaded") == 1
    ready_at = events.index("ready")
    assert events.index("embedding model loaded") < ready_at


# -------------------------------------------------------------- hanging up


def test_dropped_batches_stop_within_a_slice(
    server: ServerProcess, reference_sample: pd.DataFrame
) -> None:
    """Three 1,000-address batches whose client closes its socket 50 ms after sending:
    the server spends at most 2 s of CPU on them, logs each as 499, and serves on."""
    bodies = [
        json.dumps({"addresses": verify_texts(reference_sample, 1000, seed=10 + n)}).encode()
        for n in range(3)
    ]
    start_cpu = wait_until_idle(server.pid)
    drop_batches(server.port, bodies)
    spent = wait_until_idle(server.pid) - start_cpu
    assert spent <= DROPPED_CPU_LIMIT_S, f"{spent:.2f} s of CPU on dropped batches"
    batches = [
        line
        for line in log_lines(server)
        if line.get("event") == "request" and line.get("route") == "/v1/verify/batch"
    ]
    assert [b["status"] for b in batches[-3:]] == [499, 499, 499]
    assert all(b["detail"] == "client closed" for b in batches[-3:])
    answer = httpx.post(f"{server.url}/v1/verify", json={"address": KNOWN}, timeout=60)
    assert answer.status_code == 200
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert "addr_work_stopped_total 3.0" in metrics
    assert "addr_queue_depth" in metrics and "addr_queue_wait_seconds_bucket" in metrics


def test_a_callers_full_queue_is_429_with_retry_after(
    server: ServerProcess, reference_sample: pd.DataFrame
) -> None:
    """Two slots per caller here: while two batches are worked on (600 addresses each,
    a few seconds), a third request waits its 1 s in the queue and gets 429 BusyError
    with Retry-After; the batches finish."""
    bodies = [{"addresses": verify_texts(reference_sample, 600, seed=30 + n)} for n in range(2)]
    with httpx.Client(base_url=server.url, timeout=120) as client, ThreadPoolExecutor(2) as pool:
        batches = [pool.submit(client.post, "/v1/verify/batch", json=body) for body in bodies]
        time.sleep(0.5)
        queued = client.post("/v1/verify", json={"address": KNOWN})
        assert [b.result().status_code for b in batches] == [200, 200]
        metrics = client.get("/metrics").text
    assert queued.status_code == 429, queued.text
    assert queued.json()["type"] == "BusyError"
    assert queued.headers["Retry-After"] == "1"
    waits = next(r for r in metrics.splitlines() if r.startswith("addr_queue_wait_seconds_sum"))
    assert float(waits.split()[-1]) >= 1.0


# -------------------------------------------------------------- slow sockets


@pytest.mark.parametrize(
    ("case", "limit"),
    [
        ("idle connection", HEADER_TIMEOUT_S),
        ("headers never finished", HEADER_TIMEOUT_S),
        ("body shorter than its Content-Length", BODY_TIMEOUT_S),
        ("unterminated chunked body", BODY_TIMEOUT_S),
    ],
)
def test_slow_sockets_are_closed_with_408(server: ServerProcess, case: str, limit: float) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(SLOW_CLIENTS[case])
        closed, answer = closed_within(sock, limit + 2)
    assert closed is not None, f"{case}: still open after {limit + 2} s"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["type"] == "RequestTimeout"


def test_idle_keep_alive_is_closed(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(SLOW_CLIENTS["idle keep-alive"])
        closed, answer = closed_within(sock, KEEP_ALIVE_S + 2)
    assert answer.startswith(b"HTTP/1.1 200")
    assert closed is not None


def test_headers_over_16_kib_are_431_in_the_error_shape(server: ServerProcess) -> None:
    answer = httpx.get(f"{server.url}/healthz", headers={"X-Big": "a" * 100_000}, timeout=10)
    assert answer.status_code == 431
    assert set(answer.json()) == {"error", "type", "field"}
    fits = httpx.get(f"{server.url}/healthz", headers={"X-Big": "a" * 15_000}, timeout=10)
    assert fits.status_code == 200


def test_protocol_errors_are_400_in_the_error_shape(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        closed, answer = closed_within(sock, 5)
    assert closed is not None and answer.startswith(b"HTTP/1.1 400")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body == {"error": body["error"], "type": "BadRequest", "field": None}


def test_rejected_connections_are_counted_in_metrics(server: ServerProcess) -> None:
    def bad_requests() -> float:
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
        line = next(
            row
            for row in text.splitlines()
            if row.startswith('addr_connections_rejected_total{kind="bad_request"}')
        )
        return float(line.split()[-1])

    before = bad_requests()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        closed_within(sock, 5)
    assert bad_requests() == before + 1
    assert "addr_connections_open" in httpx.get(f"{server.url}/metrics", timeout=10).text


# ------------------------------------------------------ normalization bombs


def test_normalization_bombs_are_field_named_422s(server: ServerProcess) -> None:
    """29 characters that normalize to 522: refused naming the field; in a batch only
    that entry fails, in its place, and its siblings are verified."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        one = client.post("/v1/verify", json={"address": BOMB})
        assert one.status_code == 422
        assert one.json()["field"] == "address"
        assert one.json()["type"] == "AddressTooLongError"
        typed = client.get("/v1/autocomplete", params={"q": BOMB})
        assert typed.status_code == 422 and typed.json()["field"] == "q"
        batch = client.post("/v1/verify/batch", json={"addresses": [KNOWN, BOMB, KNOWN]})
    assert batch.status_code == 200
    first, bomb, last = batch.json()["results"]
    assert bomb["field"] == "addresses[1]" and bomb["type"] == "AddressTooLongError"
    assert first["verdict"] == last["verdict"] == "valid"


def test_every_route_is_named_in_the_access_log(server: ServerProcess) -> None:
    for path in ("/static/checkout.css", "/docs", "/openapi.json", "/"):
        assert httpx.get(f"{server.url}{path}", timeout=30).status_code == 200
    wanted = {"/static", "/docs", "/openapi.json", "/"}
    deadline = time.monotonic() + 10  # a request is logged just after its answer is sent
    while True:
        lines = log_lines(server)
        routes = {line.get("route") for line in lines if line.get("event") == "request"}
        if wanted <= routes or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert wanted <= routes
