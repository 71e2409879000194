"""API keys, per-key rate limits and the request body limit."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BodySizeLimit", "RateLimiter"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per caller: ``rate`` requests a second, bursts up to ``burst``.

    ``RateLimiter(50, 100).acquire("key-1")`` returns 0.0 while the caller is
    within its budget, else the seconds to wait (for ``Retry-After``).
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    # Callers remembered before idle ones are forgotten (memory stays bounded
    # whatever the number of client addresses).
    max_callers = 10_000

    def _forget_full_buckets(self, now: float) -> None:
        """Drop callers whose bucket has refilled: forgetting them changes nothing."""
        refill = self.burst / self.rate
        idle = [c for c, b in self._buckets.items() if now - b.updated >= refill]
        for caller in idle:
            del self._buckets[caller]
        if len(self._buckets) >= self.max_callers:  # all busy: drop the longest idle
            for caller, _ in sorted(self._buckets.items(), key=lambda cb: cb[1].updated)[
                : len(self._buckets) // 2
            ]:
                del self._buckets[caller]

    def acquire(self, caller: str) -> float:
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= self.max_callers:
                self._forget_full_buckets(now)
            bucket = self._buckets.setdefault(caller, _Bucket(float(self.burst), now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))


class BodySizeLimit:
    """ASGI middleware answering 413 for bodies over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        body = b'{"error": "request body too large", "type": "PayloadTooLarge", "field": "body"}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        # Read the whole body (at most max_bytes) before the app sees it: an error
        # raised while the app reads would reach FastAPI's body parser, which turns
        # every exception into a 400.
        body = bytearray()
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._reject(send)
                return
            more_body = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)
