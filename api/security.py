"""Per-key budgets: the rate limit (charged per address), the per-key concurrency
limit with its queue, watching for clients that hang up, and the request body limit."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from api.errors import BusyError, ClientClosedError

__all__ = [
    "BodySizeLimit",
    "ClientWatch",
    "ConcurrencyLimiter",
    "RateLimiter",
]

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
    """A token bucket per caller: ``rate`` addresses a second, bursts up to ``burst``.

    A request costs one token per address it carries (a batch of 300 costs 300),
    so a caller's budget bounds the work it can ask for, not only its requests.
    ``RateLimiter(50, 100).acquire("key-1", cost=300)`` returns 0.0 when the bucket
    holds ``min(cost, burst)`` tokens and takes the whole cost (the bucket may go
    into debt, which later requests wait out); else the seconds to wait (for
    ``Retry-After``).
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
        """Drop callers whose bucket has refilled (debts included): forgetting them
        changes nothing."""
        idle = [
            caller
            for caller, bucket in self._buckets.items()
            if now - bucket.updated >= (self.burst - bucket.tokens) / self.rate
        ]
        for caller in idle:
            del self._buckets[caller]
        if len(self._buckets) >= self.max_callers:  # all busy: drop the longest idle
            for caller, _ in sorted(self._buckets.items(), key=lambda cb: cb[1].updated)[
                : len(self._buckets) // 2
            ]:
                del self._buckets[caller]

    def acquire(self, caller: str, cost: int = 1) -> float:
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= self.max_callers:
                self._forget_full_buckets(now)
            bucket = self._buckets.setdefault(caller, _Bucket(float(self.burst), now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            needed = min(cost, self.burst)
            if bucket.tokens >= needed:
                bucket.tokens -= cost
                return 0.0
            return (needed - bucket.tokens) / self.rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))


class ConcurrencyLimiter:
    """At most ``per_caller`` requests of one caller in progress; the rest queue.

    A queued request waits at most ``max_wait`` seconds (then
    :class:`BusyError`), and leaves the queue at once when ``gone`` (its
    client hanging up) finishes first. ``waiting`` and ``in_progress`` are the
    worker's totals, for ``/metrics``.

    Example:
        >>> async with limiter.slot("key-1", gone=watch.task) as waited:
        ...     await run_in_threadpool(verify_batch, ["4570 Frozen Hill Rd, Anamosa"], ...)
    """

    def __init__(self, per_caller: int, max_wait: float) -> None:
        self.per_caller = per_caller
        self.max_wait = max_wait
        self.waiting = 0
        self.in_progress = 0
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, caller: str, gone: asyncio.Future[Any]) -> AsyncIterator[float]:
        """Hold one of ``caller``'s slots for the block; yields the seconds waited.

        Raises:
            BusyError: no slot came free within ``max_wait``.
            ClientClosedError: ``gone`` finished while the request waited.
        """
        semaphore, users = self._slots.setdefault(caller, (asyncio.Semaphore(self.per_caller), [0]))
        users[0] += 1
        started = time.perf_counter()
        acquired = False
        try:
            if not semaphore.locked():
                await semaphore.acquire()
                acquired = True
            else:
                acquired = await self._queue(semaphore, gone)
            waited = time.perf_counter() - started
            if not acquired:
                if gone.done():
                    raise ClientClosedError("the client went away while its request was queued")
                raise BusyError(waited, retry_after=RateLimiter.retry_after_header(self.max_wait))
            self.in_progress += 1
            try:
                yield waited
            finally:
                self.in_progress -= 1
        finally:
            if acquired:
                semaphore.release()
            users[0] -= 1
            if users[0] == 0:
                del self._slots[caller]

    async def _queue(self, semaphore: asyncio.Semaphore, gone: asyncio.Future[Any]) -> bool:
        """Wait for ``semaphore``; False when ``gone`` or ``max_wait`` came first. However
        the wait ends (cancelled too), a permit not handed on is never kept."""
        self.waiting += 1
        acquiring = asyncio.ensure_future(semaphore.acquire())
        granted = False
        try:
            await asyncio.wait(
                {acquiring, gone}, timeout=self.max_wait, return_when=asyncio.FIRST_COMPLETED
            )
            granted = acquiring.done() and not acquiring.cancelled() and not gone.done()
            return granted
        finally:
            self.waiting -= 1
            if not granted:
                if not acquiring.done():
                    acquiring.cancel()  # asyncio gives back a permit granted meanwhile
                elif not acquiring.cancelled() and acquiring.exception() is None:
                    semaphore.release()


class ClientWatch:
    """Watches a request's ASGI channel for the client hanging up.

    ``task`` finishes when the server reports ``http.disconnect``; ``event`` is set
    at the same moment, for work running in a thread to poll between addresses.
    Start it only once the body has been read, and ``close()`` it before answering.
    """

    def __init__(self, receive: Receive) -> None:
        self.event = threading.Event()
        self.task: asyncio.Task[None] = asyncio.create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.event.set()

    @property
    def gone(self) -> bool:
        return self.event.is_set()

    def close(self) -> None:
        self.task.cancel()


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
