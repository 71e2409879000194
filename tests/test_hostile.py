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
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest

from api.server_process import ServerProcess

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
}
DROPPED_CPU_LIMIT_S = 2.0
"""Server CPU allowed for three 1,000-address batches whose client hung up at once."""
KNOWN = "4570 Frozen Hill Rd, Anamosa, IA 52205"
# 29 characters that NFKC turns into 522 (U+FDFA is 18 characters long once decomposed).
BOMB = "\ufdfa" * 29


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(SERVER_ENV, ready_timeout=600) as running:
        yield running


def _log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for line in server.log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return lines


def _verify_inputs(reference_sample: pd.DataFrame, n: int, seed: int) -> list[str]:
    """Distinct addresses that take every path: as they are, with a typo in the street
    (the dense path), and with an unknown number and street (the classifier)."""
    rng = np.random.default_rng(seed)
    rows = reference_sample[reference_sample["house_number"].notna()]
    texts = []
    for i in range(n):
        row = rows.iloc[int(rng.integers(len(rows)))]
        address = str(row["address"])
        kind = i % 3
        if kind == 1:
            cut = len(address) // 3
            address = address[:cut] + address[cut + 1 :]
        elif kind == 2:
            address = f"{rng.integers(10, 99999)} Zq{i}x Street, {row['city'] or ''}"
        texts.append(f"{address} #{i}" if kind == 0 else address)
    return texts


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _wait_until_idle(pid: int, timeout: float = 60.0) -> float:
    """The server's CPU seconds once it uses under 0.05 s a second."""
    deadline = time.monotonic() + timeout
    before = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _cpu_seconds(pid)
        if now - before < 0.05:
            return now
        before = now
    raise AssertionError(f"the server was still busy after {timeout} s")


def _raw_request(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed ``sock`` within ``seconds``, and what it sent."""
    sock.settimeout(0.25)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, got
        if not chunk:
            return True, got
        got += chunk
    return False, got


# ----------------------------------------------------------- the first requests


def test_first_verifies_after_ready_are_as_fast_as_later_ones(
    server: ServerProcess, reference_sample: pd.DataFrame
) -> None:
    """The first 20 verifies after /readyz said 200: p99 within 2x the steady p99; the
    embedding model and the classifier loaded once, before ready."""
    texts = _verify_inputs(reference_sample, 120, seed=1)
    with httpx.Client(base_url=server.url, timeout=60) as client:

        def timed(text: str) -> float:
            started = time.perf_counter()
            answer = client.post("/v1/verify", json={"address": text})
            assert answer.status_code == 200, answer.text
            return (time.perf_counter() - started) * 1000

        first = [timed(t) for t in texts[:20]]
        steady = [timed(t) for t in texts[20:]]
    first_p99, steady_p99 = np.percentile(first, 99), np.percentile(steady, 99)
    assert first_p99 <= 2 * steady_p99, (first, steady_p99)
    events = [line.get("event") for line in _log_lines(server)]
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
        json.dumps({"addresses": _verify_inputs(reference_sample, 1000, seed=10 + n)}).encode()
        for n in range(3)
    ]
    start_cpu = _wait_until_idle(server.pid)
    sockets = []
    for body in bodies:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(_raw_request("/v1/verify/batch", body))
        sockets.append(sock)
    time.sleep(0.05)
    for sock in sockets:
        sock.close()
    spent = _wait_until_idle(server.pid) - start_cpu
    assert spent <= DROPPED_CPU_LIMIT_S, f"{spent:.2f} s of CPU on dropped batches"
    batches = [
        line
        for line in _log_lines(server)
        if line.get("event") == "request" and line.get("route") == "/v1/verify/batch"
    ]
    assert [b["status"] for b in batches[-3:]] == [499, 499, 499]
    assert all(b["detail"] == "client closed" for b in batches[-3:])
    answer = httpx.post(f"{server.url}/v1/verify", json={"address": KNOWN}, timeout=60)
    assert answer.status_code == 200
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert "addr_work_stopped_total 3.0" in metrics
    assert "addr_queue_depth" in metrics and "addr_queue_wait_seconds_bucket" in metrics


# -------------------------------------------------------------- slow sockets


@pytest.mark.parametrize(
    ("case", "sent", "limit"),
    [
        ("idle connection", b"", HEADER_TIMEOUT_S),
        ("headers never finished", b"GET /healthz HTTP/1.1\r\nHost: x\r\n", HEADER_TIMEOUT_S),
        (
            "body shorter than its Content-Length",
            _raw_request("/v1/verify", b'{"address": "12 Main"}')[:-5],
            BODY_TIMEOUT_S,
        ),
        (
            "unterminated chunked body",
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"add\r\n',
            BODY_TIMEOUT_S,
        ),
    ],
)
def test_slow_sockets_are_closed_with_408(
    server: ServerProcess, case: str, sent: bytes, limit: float
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(sent)
        closed, answer = _closed_within(sock, limit + 2)
    assert closed, f"{case}: still open after {limit + 2} s"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["type"] == "RequestTimeout"


def test_idle_keep_alive_is_closed(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        closed, answer = _closed_within(sock, KEEP_ALIVE_S + 2)
    assert answer.startswith(b"HTTP/1.1 200")
    assert closed


def test_headers_over_16_kib_are_431_in_the_error_shape(server: ServerProcess) -> None:
    answer = httpx.get(f"{server.url}/healthz", headers={"X-Big": "a" * 100_000}, timeout=10)
    assert answer.status_code == 431
    assert set(answer.json()) == {"error", "type", "field"}
    fits = httpx.get(f"{server.url}/healthz", headers={"X-Big": "a" * 15_000}, timeout=10)
    assert fits.status_code == 200


def test_protocol_errors_are_400_in_the_error_shape(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        closed, answer = _closed_within(sock, 5)
    assert closed and answer.startswith(b"HTTP/1.1 400")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body == {"error": body["error"], "type": "BadRequest", "field": None}


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
    routes = {line.get("route") for line in _log_lines(server) if line.get("event") == "request"}
    assert {"/static", "/docs", "/openapi.json", "/"} <= routes
