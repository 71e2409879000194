"""Checkout traffic for the load test: keystroke streams, verifications, batches.

By request count: 80 % ``GET /v1/autocomplete`` (each simulated shopper types
an address one character at a time from the 3rd character on, e.g. ``730``,
``730 ``, ``730 3``, … ``730 33rd Ave SW, Cedar Rapids, IA 52404``), 15 %
``POST /v1/verify`` and 5 % ``POST /v1/verify/batch`` of ``BATCH_SIZE``
addresses. Every shopper sends ``LOAD_USER_RATE`` requests per second
(locust's ``constant_throughput``), so the offered rate is users x that rate.

Inputs come from the JSON file named by ``LOAD_INPUTS`` (written by
``eval.load.run``); every request is recorded (time, name, milliseconds,
error) to the CSV file named by ``LOAD_EVENTS``.
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant_throughput, events, task

INPUTS: dict[str, Any] = json.loads(Path(os.environ["LOAD_INPUTS"]).read_text(encoding="utf-8"))
USER_RATE = float(os.environ.get("LOAD_USER_RATE", "1"))
BATCH_SIZE = int(os.environ.get("LOAD_BATCH_SIZE", "20"))
_records: list[tuple[float, str, float, int]] = []


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    exception: BaseException | None,
    **_: Any,
) -> None:
    _records.append((time.time(), name, response_time, 0 if exception is None else 1))


@events.quitting.add_listener
def _write(**_: Any) -> None:
    with Path(os.environ["LOAD_EVENTS"]).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["time", "name", "ms", "error"])
        writer.writerows(_records)


class Shopper(FastHttpUser):
    """One checkout session after another, at a constant request rate."""

    wait_time = constant_throughput(USER_RATE)

    def on_start(self) -> None:
        self.rng = random.Random(id(self))
        self.prefixes: list[str] = []

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
        addresses = self.rng.sample(INPUTS["verify"], BATCH_SIZE)
        self.client.post("/v1/verify/batch", json={"addresses": addresses}, name="batch")
