"""Checkout traffic for the load test: keystroke streams, verifications, batches.

By request count: 80 % ``GET /v1/autocomplete`` (each simulated shopper types
an address one character at a time from the 3rd character on, e.g. ``730``,
``730 ``, ``730 3``, … ``730 33rd Ave SW, Cedar Rapids, IA 52404``), 15 %
``POST /v1/verify`` and 5 % ``POST /v1/verify/batch`` of ``BATCH_SIZE``
addresses. Every shopper sends ``LOAD_USER_RATE`` requests per second
(locust's ``constant_throughput``), so the offered rate is users x that rate.

Careless clients (``eval.load.run --careless``): a share ``LOAD_CARELESS_SHARE``
of the shoppers (default 0: none) send every batch as ``LOAD_CARELESS_BATCH``
addresses (default 200) on a fresh raw socket and hang up ``LOAD_DROP_AFTER``
seconds (default 0.05) after sending it, without reading the answer (recorded
as ``batch dropped``), then send the same addresses again and wait for the
answer (``batch retry``). Everything else they do like the other shoppers.

Inputs come from the JSON file named by ``LOAD_INPUTS`` (written by
``eval.load.run``); every request is recorded (time, name, milliseconds,
error, HTTP status; 0 for none) to the CSV file named by ``LOAD_EVENTS``.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import random
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import FastHttpUser, constant_throughput, events, task

INPUTS: dict[str, Any] = json.loads(Path(os.environ["LOAD_INPUTS"]).read_text(encoding="utf-8"))
USER_RATE = float(os.environ.get("LOAD_USER_RATE", "1"))
BATCH_SIZE = int(os.environ.get("LOAD_BATCH_SIZE", "20"))
CARELESS_SHARE = float(os.environ.get("LOAD_CARELESS_SHARE", "0"))
CARELESS_BATCH = int(os.environ.get("LOAD_CARELESS_BATCH", "200"))
DROP_AFTER = float(os.environ.get("LOAD_DROP_AFTER", "0.05"))
DROPPED = "batch dropped"  # eval.load.run counts these apart: neither errors nor goodput
_records: list[tuple[float, str, float, int, int]] = []
_started = itertools.count()


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    exception: BaseException | None,
    response: Any = None,
    **_: Any,
) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    _records.append((time.time(), name, response_time, 0 if exception is None else 1, status))


@events.quitting.add_listener
def _write(**_: Any) -> None:
    with Path(os.environ["LOAD_EVENTS"]).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["time", "name", "ms", "error", "status"])
        writer.writerows(_records)


class Shopper(FastHttpUser):
    """One checkout session after another, at a constant request rate."""

    wait_time = constant_throughput(USER_RATE)

    def on_start(self) -> None:
        self.rng = random.Random(id(self))
        self.prefixes: list[str] = []
        # floor(n x share) of the first n shoppers are careless, spread evenly.
        n = next(_started)
        self.careless = _floor(CARELESS_SHARE * (n + 1)) > _floor(CARELESS_SHARE * n)

    @task(80)
    def keystroke(self) -> None:
        if not self.prefixes:
            address = self.rng.choice(INPUTS["streams"])
            self.prefixes = [address[:end] for end in range(3, len(address) + 1)]
        prefix = self.prefixes.pop(0)
        self.client.get("/v1/autocomplete", params={"q": prefix, "limit": 5}, name="autocomplete")

    @task(15)
    def verify(self) -> None:
        self.client.post(
            "/v1/verify", json={"address": self.rng.choice(INPUTS["verify"])}, name="verify"
        )

    @task(5)
    def batch(self) -> None:
        if self.careless:
            self.careless_batch()
            return
        addresses = self.rng.sample(INPUTS["verify"], BATCH_SIZE)
        self.client.post("/v1/verify/batch", json={"addresses": addresses}, name="batch")

    def careless_batch(self) -> None:
        """Send a big batch, hang up before the answer, send it again and wait."""
        pool = INPUTS["verify"]
        addresses = (
            self.rng.sample(pool, CARELESS_BATCH)
            if len(pool) >= CARELESS_BATCH
            else self.rng.choices(pool, k=CARELESS_BATCH)
        )
        body = json.dumps({"addresses": addresses}).encode("utf-8")
        started = time.perf_counter()
        try:
            _send_and_hang_up(str(self.host), "/v1/verify/batch", body, DROP_AFTER)
            failed = 0
        except OSError:
            failed = 1
        ms = (time.perf_counter() - started) * 1000
        _records.append((time.time(), DROPPED, ms, failed, 0))
        self.client.post("/v1/verify/batch", json={"addresses": addresses}, name="batch retry")


def _floor(x: float) -> int:
    return math.floor(round(x, 9))  # 0.7 x 90 is 62.99999999999999


def _send_and_hang_up(host: str, path: str, body: bytes, after: float) -> None:
    """POST ``body`` on a new connection of its own and close it ``after`` seconds
    later, unread (gevent's patched socket and sleep: other shoppers run meanwhile)."""
    url = urlsplit(host)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=5) as s:
        s.sendall(head.encode("ascii") + body)
        time.sleep(after)
