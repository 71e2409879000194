"""Security properties: key guessing is rate limited, limiter memory is bounded,
and a real server's logs hold neither the addresses typed nor the query string."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import BusyError, ClientClosedError
from api.security import ConcurrencyLimiter, RateLimiter
from api.server_process import ServerProcess
from api.settings import ServiceSettings


def test_wrong_keys_are_rate_limited_like_requests() -> None:
    """Guessing keys from one address runs out of budget: 401, 401, then 429."""
    config = ServiceSettings(
        index_path=Path("/nonexistent/index"),
        api_keys=["secret-1"],
        rate_limit_per_second=0.1,
        rate_limit_burst=2,
    )
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        answers = [
            client.get("/v1/autocomplete?q=abc", headers={"X-API-Key": f"guess-{n}"}).status_code
            for n in range(4)
        ]
    assert answers[:2] == [401, 401]
    assert answers[2:] == [429, 429]


def test_the_limiter_forgets_idle_callers_and_stays_bounded() -> None:
    """50,000 different client addresses never hold more than ``max_callers`` buckets."""
    now = [0.0]
    limiter = RateLimiter(rate=10, burst=5, clock=lambda: now[0])
    limiter.max_callers = 1000
    for n in range(50_000):
        now[0] += 0.001
        limiter.acquire(f"10.0.{n // 256}.{n % 256}")
        assert len(limiter._buckets) <= limiter.max_callers
    # A caller still within its refill window keeps its spent budget.
    for _ in range(5):
        limiter.acquire("busy")
    assert limiter.acquire("busy") > 0


@pytest.mark.slow
def test_served_logs_are_json_with_the_route_and_no_address(built_index: Path) -> None:
    """`addr serve --workers 2`: every line is JSON; a request is logged by route and
    status, while the typed text ("Þórunnartún 2, 105 Reykjavík") and the query
    string appear nowhere."""
    typed = "Þórunnartún 2 zqxj"
    env = {"ADDR_INDEX_PATH": str(built_index), "ADDR_LOG_LEVEL": "INFO"}
    with ServerProcess(env, workers=2, ready_timeout=300) as server:
        for _ in range(4):  # reach both workers
            answer = httpx.get(f"{server.url}/v1/autocomplete", params={"q": typed}, timeout=30)
            assert answer.status_code == 200
        verify = httpx.post(f"{server.url}/v1/verify", json={"address": typed}, timeout=60)
        assert verify.status_code == 200
    log = server.log.read_text(encoding="utf-8")
    lines = []
    for line in filter(str.strip, log.splitlines()):
        if "resource_tracker" in line:
            continue  # Python's own helper process, after the workers have gone
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line[:300]!r}")
    requests = [r for r in lines if r.get("event") == "request"]
    assert {r["route"] for r in requests} >= {"/v1/autocomplete", "/v1/verify"}
    assert all(isinstance(r["status"], int) and r["ms"] >= 0 for r in requests)
    assert "zqxj" not in log and "Þórunnartún" not in log
    assert "q=" not in log and "%C3%9E" not in log.upper()


def test_a_batch_costs_one_token_per_address() -> None:
    """A full bucket admits a batch bigger than the burst and goes into debt; the next
    request waits the debt out."""
    now = [0.0]
    limiter = RateLimiter(rate=10, burst=100, clock=lambda: now[0])
    assert limiter.acquire("key", cost=300) == 0.0
    assert limiter.acquire("key") == pytest.approx((1 + 200) / 10)
    now[0] += 20.1
    assert limiter.acquire("key") == 0.0
    # A batch needs the burst's worth of tokens (or its own size, if smaller).
    assert limiter.acquire("other", cost=60) == 0.0
    assert limiter.acquire("other", cost=60) == pytest.approx((60 - 40) / 10)


def test_batches_are_charged_per_address_over_http() -> None:
    config = ServiceSettings(
        index_path=Path("/nonexistent/index"), rate_limit_per_second=1, rate_limit_burst=100
    )
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        batch = client.post("/v1/verify/batch", json={"addresses": ["12 Main St"] * 100})
        assert batch.status_code == 503  # charged 100, then not ready
        one = client.post("/v1/verify", json={"address": "12 Main St"})
        assert one.status_code == 429
        assert int(one.headers["Retry-After"]) >= 1


def test_a_keys_requests_beyond_its_slots_queue_then_give_up() -> None:
    """Two slots per caller: a third request waits for one, a fourth gives up after the
    queue's wait with BusyError, one whose client hangs up leaves the queue at once; the
    queue's depth is back to 0 afterwards."""

    async def scenario() -> None:
        limiter = ConcurrencyLimiter(per_caller=2, max_wait=0.3)
        never = asyncio.get_running_loop().create_future()
        release = asyncio.Event()
        waits: list[float] = []

        async def hold() -> None:
            async with limiter.slot("key", never) as waited:
                waits.append(waited)
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]
        await asyncio.sleep(0.01)
        assert limiter.in_progress == 2
        with pytest.raises(BusyError):
            async with limiter.slot("key", never):
                pass
        gone = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.05, gone.set_result, None)
        started = time.perf_counter()
        with pytest.raises(ClientClosedError):
            async with limiter.slot("key", gone):
                pass
        assert time.perf_counter() - started < 0.25
        queued = asyncio.create_task(hold())
        await asyncio.sleep(0.05)
        assert limiter.waiting == 1
        async with limiter.slot("another key", never):  # other callers are not held up
            pass
        release.set()
        await asyncio.gather(*holders, queued)
        assert waits[-1] > 0.04
        assert (limiter.waiting, limiter.in_progress, limiter._slots) == (0, 0, {})

    asyncio.run(scenario())


def test_a_queued_request_cancelled_keeps_no_slot() -> None:
    """One slot: a queued request cancelled (its task torn down) must not keep the permit
    it may have been granted meanwhile; the next queued request gets the slot at once."""

    async def scenario() -> None:
        limiter = ConcurrencyLimiter(per_caller=1, max_wait=5)
        never = asyncio.get_running_loop().create_future()
        release = asyncio.Event()

        async def hold() -> None:
            async with limiter.slot("key", never):
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        doomed = asyncio.create_task(hold())
        waiting = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        assert limiter.waiting == 2
        release.set()  # the permit goes to the first in the queue ...
        doomed.cancel()  # ... which is torn down before it runs
        started = time.perf_counter()
        await asyncio.gather(holder, waiting)
        assert doomed.cancelled()
        assert time.perf_counter() - started < 1.0  # not the 5 s queue limit
        assert (limiter.waiting, limiter.in_progress, limiter._slots) == (0, 0, {})

    asyncio.run(scenario())
