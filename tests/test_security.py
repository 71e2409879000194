"""Security properties: key guessing is rate limited, limiter memory is bounded,
and a real server's logs hold neither the addresses typed nor the query string."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from address.settings import Settings
from api.app import create_app
from api.security import RateLimiter
from api.server_process import ServerProcess


def test_wrong_keys_are_rate_limited_like_requests() -> None:
    """Guessing keys from one address runs out of budget: 401, 401, then 429."""
    config = Settings(
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
