"""Talking to the servers under test: verify, post events, and the mid-stream crash."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from typing import Any

import httpx
import psutil

from api.server_process import ServerProcess
from eval.feedback.stream import Order, courier_point

CRASH_BATCH = 10
"""Events per ``{"events": [...]}`` post of the crash round's batching thread."""


def verify(client: httpx.Client, text: str) -> dict[str, Any]:
    """One ``/v1/verify`` of a US address; what the benchmark reads of the answer."""
    start = time.perf_counter()
    response = client.post("/v1/verify", json={"address": text, "country": "US"})
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"POST /v1/verify {text!r}: {response.status_code} {response.text}")
    body = response.json()
    return {
        "seconds": seconds,
        "verdict": body["verdict"],
        "granularity": body["granularity"],
        "reasons": body["reasons"],
        "risk": body.get("delivery_risk"),
        "verification_id": body.get("verification_id"),
        "location": body.get("location"),
        "body": body,
    }


def event(order: Order, answer: dict[str, Any], seed: int) -> dict[str, Any]:
    """The feedback event of an order, for the feedback server's answer to its verify."""
    body: dict[str, Any] = {
        "verification_id": answer["verification_id"],
        "outcome": order.outcome,
        "event_id": order.event_id,
    }
    if order.reason:
        body["reason"] = order.reason
    point = answer["location"]
    if order.outcome == "delivered" and point and point.get("precision") == "premise":
        body["location"] = courier_point(point["lat"], point["lon"], seed, order.index)
    return body


class Ledger:
    """Events the feedback server acknowledged, its answers' statuses, and what it
    answered against the contract."""

    def __init__(self) -> None:
        self.acknowledged: set[str] = set()
        self.statuses: Counter[str] = Counter()
        self.known_good_added = 0
        self.with_location = 0
        self.off_contract: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def post(self, client: httpx.Client, events: list[dict[str, Any]]) -> tuple[float, int]:
        """Post ``events`` (one as the body, more in ``events``); seconds it took and the
        known-good addresses the answer says it added.

        Raises ``httpx.TransportError`` when no answer came.
        """
        body = events[0] if len(events) == 1 else {"events": events}
        start = time.perf_counter()
        response = client.post("/v1/feedback", json=body)
        seconds = time.perf_counter() - start
        with self.lock:
            try:
                answer = response.json()
                results = answer["results"]
                ids = [r["event_id"] for r in results]
                if response.status_code != 200 or ids != [e["event_id"] for e in events]:
                    raise ValueError("results do not name the events sent, in order")
            except (ValueError, KeyError, TypeError) as error:
                self.off_contract.append(
                    {
                        "request": body,
                        "status": response.status_code,
                        "response": response.text[:2000],
                        "problem": str(error),
                    }
                )
                return seconds, 0
            self.acknowledged.update(ids)
            self.statuses.update(r["status"] for r in results)
            self.with_location += sum("location" in e for e in events)
            added = int(answer["known_good_added"])
            self.known_good_added += added
        return seconds, added


def kill_tree(server: ServerProcess) -> int:
    """SIGKILL the server and every process under it; how many were killed."""
    root = psutil.Process(server.pid)
    tree = [root, *root.children(recursive=True)]
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(tree, timeout=10)
    server.stop()
    return len(tree)


def crash_round(
    server: ServerProcess, events: list[dict[str, Any]], ledger: Ledger
) -> tuple[list[dict[str, Any]], int]:
    """Post ``events`` from two threads and kill the server once half are acknowledged;
    returns the events that got no answer and how many were acknowledged."""
    work: queue.Queue[list[dict[str, Any]]] = queue.Queue()
    half = len(events) // 2
    singles, batched = events[:half], events[half:]
    for n in range(max(len(singles), len(batched))):
        if n < len(singles):
            work.put([singles[n]])
        if n % CRASH_BATCH == 0 and n < len(batched):
            work.put(batched[n : n + CRASH_BATCH])
    unanswered: list[dict[str, Any]] = []

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while True:
                try:
                    chunk = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    ledger.post(client, chunk)
                except httpx.TransportError:
                    with ledger.lock:
                        unanswered.extend(chunk)

    ids = {e["event_id"] for e in events}
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    while len(ledger.acknowledged & ids) < half and any(t.is_alive() for t in threads):
        time.sleep(0.005)
    kill_tree(server)
    for thread in threads:
        thread.join()
    while not work.empty():
        unanswered.extend(work.get_nowait())
    return unanswered, len(ledger.acknowledged & ids)
