"""The HTTP API with real libpostal, a real small index and the shipped classifier."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from address.model import Reason
from api.access import AccessLog
from api.app import create_app
from api.metrics import Metrics
from api.protocol import TIMEOUT_SCOPE_KEY
from api.schemas import ReasonCode
from api.settings import ServiceSettings

pytestmark = pytest.mark.usefixtures("libpostal")


def _not_ready_client(**overrides: object) -> TestClient:
    """An app whose index is missing: it never gets ready (cheap, no loading)."""
    config = ServiceSettings(index_path=Path("/nonexistent/index"), **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(load_in_background=False, settings=config))


def _known(frame: pd.DataFrame, country: str) -> pd.Series:
    rows = frame[(frame["country"] == country) & frame["house_number"].notna()]
    return rows.iloc[0]


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["components"] == {
        "libpostal": True,
        "gazetteer": True,
        "index": True,
        "embedding_model": True,
        "classifier": True,
        "feedback": True,
        "warm": True,
    }


def test_autocomplete_suggests_from_the_third_character(
    client: TestClient, reference_sample: pd.DataFrame
) -> None:
    row = _known(reference_sample, "US")
    prefix = row["address"][: max(3, len(row["address"]) // 2)]
    body = client.get("/v1/autocomplete", params={"q": prefix, "limit": 5}).json()
    assert row["id"] in [s["id"] for s in body["suggestions"]]
    first = body["suggestions"][0]
    assert set(first) == {"id", "address", "score", "components", "country", "location"}
    assert client.get("/v1/autocomplete", params={"q": "4"}).json() == {"suggestions": []}


def test_autocomplete_narrowed_by_town_and_postcode(client: TestClient) -> None:
    def addresses(**params: str) -> list[str]:
        answer = client.get("/v1/autocomplete", params={"q": "3701", "limit": 50, **params})
        assert answer.status_code == 200, answer.text
        return [s["address"] for s in answer.json()["suggestions"]]

    wanted = "3701 Fir Tree Dr NE, Cedar Rapids, IA 52402"
    assert any("Cedar Rapids" not in a for a in addresses())
    in_town = addresses(locality="Cedar Rapdis", postcode="524 02", country="US")
    assert wanted in in_town and all(a.endswith("Cedar Rapids, IA 52402") for a in in_town)
    assert addresses(locality="Anamosa", postcode="52402") == []
    too_long = client.get("/v1/autocomplete", params={"q": "3701", "locality": "x" * 101})
    assert too_long.status_code == 422
    assert too_long.json()["field"] == "locality"


def test_suggest_survives_a_typo(client: TestClient, reference_sample: pd.DataFrame) -> None:
    row = _known(reference_sample, "US")
    road = row["road"]
    typo = road[:2] + road[3:] if len(road) > 4 else road + "x"
    text = row["address"].replace(road, typo)
    body = client.post("/v1/suggest", json={"address": text, "limit": 3}).json()
    assert row["id"] in [s["id"] for s in body["suggestions"]]


def test_verify_known_address_is_valid(client: TestClient, reference_sample: pd.DataFrame) -> None:
    row = _known(reference_sample, "US")
    body = client.post("/v1/verify", json={"address": row["address"]}).json()
    assert body["verdict"] == "valid"
    assert body["granularity"] == "premise"
    assert body["next_action"] == "accept"
    assert body["match"]["id"] == row["id"]
    assert set(body) >= {
        "verdict", "confidence", "reasons", "granularity", "next_action", "standardized",
        "components", "component_checks", "match", "suggestions", "location",
        "verification_id", "delivery_history", "delivery_risk",
    }  # fmt: skip


def test_verify_icelandic_address(client: TestClient, reference_sample: pd.DataFrame) -> None:
    row = _known(reference_sample, "IS")
    body = client.post("/v1/verify", json={"address": row["address"], "country": "IS"}).json()
    assert body["verdict"] == "valid", body
    assert body["match"]["id"] == row["id"]
    point = {"lat": row["lat"], "lon": row["lon"], "precision": "premise"}
    assert body["location"] == body["match"]["location"] == point


def test_verify_garbage_is_invalid_with_a_reason(client: TestClient) -> None:
    body = client.post("/v1/verify", json={"address": "please call me before delivery"}).json()
    assert body["verdict"] == "invalid"
    assert body["next_action"] == "fix"
    assert body["reasons"]
    assert len(body["messages"]) == len(body["reasons"])


def test_verify_missing_house_number_asks_for_a_fix(
    client: TestClient, reference_sample: pd.DataFrame
) -> None:
    row = _known(reference_sample, "US")
    text = f"{row['road']}, {row['city']}, {row['state']} {row['postcode']}"
    body = client.post("/v1/verify", json={"address": text}).json()
    assert body["verdict"] == "invalid"
    assert "missing_house_number" in body["reasons"]
    assert "House number missing" in body["messages"]


def test_batch_keeps_input_order(client: TestClient, reference_sample: pd.DataFrame) -> None:
    rows = reference_sample.head(6)
    addresses = [*rows["address"], "asdf qwer zxcv"]
    body = client.post("/v1/verify/batch", json={"addresses": addresses}).json()
    assert len(body["results"]) == len(addresses)
    matched = [r["match"]["id"] if r["match"] else None for r in body["results"]]
    assert matched[:6] == list(rows["id"])
    assert body["results"][-1]["verdict"] != "valid"


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/v1/verify", {}, "address"),
        ("/v1/verify", {"address": 12}, "address"),
        ("/v1/verify", {"address": "12 Main St", "colour": "red"}, "colour"),
        ("/v1/verify", {"address": "x" * 600}, "address"),
        ("/v1/verify", {"address": "   "}, "address"),
        ("/v1/verify", {"address": "12 Main St", "country": "USA"}, "country"),
        ("/v1/verify", {"address": "12 Main St", "country": "ZZ"}, "country"),
        ("/v1/suggest", {"address": "12 Main St", "limit": 0}, "limit"),
        ("/v1/verify/batch", {"addresses": []}, "addresses"),
        ("/v1/verify/batch", {"addresses": ["12 Main St"] * 1001}, "addresses"),
    ],
)
def test_bad_requests_are_422_naming_the_field(
    client: TestClient, path: str, payload: dict[str, object], field: str
) -> None:
    response = client.post(path, json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_invalid_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/verify", content=b'{"address": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_long_prefix_is_422(client: TestClient) -> None:
    response = client.get("/v1/autocomplete", params={"q": "a" * 600})
    assert response.status_code == 422
    assert response.json()["field"] == "q"


def test_metrics_count_routes_and_verdicts(client: TestClient) -> None:
    client.post("/v1/verify", json={"address": "asdf qwer"})
    text = client.get("/metrics").text
    assert 'addr_request_seconds_bucket{le="0.002",route="/v1/verify"' in text
    assert "addr_verdicts_total" in text
    assert "addr_index_addresses" in text


def test_openapi_names_the_closed_sets_and_has_real_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["VerificationOut"]["properties"]
    reasons = schema["reasons"]["items"]["enum"]
    assert set(reasons) == {r.value for r in Reason} == set(ReasonCode.__args__)
    assert "Anamosa" in json.dumps(spec)
    assert client.get("/docs").status_code == 200


def test_checkout_page_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="address"' in page.text
    assert client.get("/static/checkout.js").status_code == 200


def test_not_ready_service_answers_503_with_the_reason() -> None:
    with _not_ready_client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "IndexNotReadyError" in ready.json()["error"]
        response = client.post("/v1/verify", json={"address": "12 Main St"})
        assert response.status_code == 503
        assert client.get("/healthz").status_code == 200


def test_api_keys_are_enforced() -> None:
    with _not_ready_client(api_keys=["secret-1"]) as client:
        assert client.post("/v1/verify", json={"address": "x"}).status_code == 401
        with_key = client.post(
            "/v1/verify", json={"address": "x"}, headers={"X-API-Key": "secret-1"}
        )
        assert with_key.status_code == 503  # past auth; the index is missing
        wrong = client.get("/v1/autocomplete?q=abc", headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401
        feedback = {"address": "Laugavegur 12b, 101 Reykjavík", "outcome": "delivered"}
        assert client.post("/v1/feedback", json=feedback).status_code == 401
        assert client.get("/v1/nearby?lat=64.1455&lon=-21.9301").status_code == 401


def test_rate_limit_answers_429_with_retry_after() -> None:
    with _not_ready_client(rate_limit_per_second=0.5, rate_limit_burst=2) as client:
        codes = [client.get("/v1/autocomplete?q=abc").status_code for _ in range(3)]
        assert codes[:2] == [503, 503]
        assert codes[2] == 429
        limited = client.get("/v1/autocomplete?q=abc")
        assert int(limited.headers["Retry-After"]) >= 1


def test_body_over_the_limit_is_413() -> None:
    with _not_ready_client(max_body_bytes=2048) as client:
        response = client.post("/v1/verify/batch", json={"addresses": ["12 Main St"] * 400})
        assert response.status_code == 413


def test_cors_allows_the_configured_origin_only() -> None:
    with _not_ready_client(cors_origins=["https://shop.example"]) as client:
        preflight = client.options(
            "/v1/autocomplete",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
        other = client.options(
            "/v1/autocomplete",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in other.headers


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=600), country=st.one_of(st.none(), st.text(max_size=3)))
def test_no_input_gives_a_500(client: TestClient, text: str, country: str | None) -> None:
    for response in (
        client.post("/v1/verify", json={"address": text, "country": country}),
        client.post("/v1/suggest", json={"address": text, "country": country}),
        client.get("/v1/autocomplete", params={"q": text}),
    ):
        assert response.status_code in (200, 422), response.text


def test_readyz_is_503_while_loading_then_200(built_index: Path) -> None:
    config = ServiceSettings(index_path=built_index)
    with TestClient(create_app(load_in_background=True, settings=config)) as client:
        loading = client.get("/readyz")  # the classifier takes seconds
        assert loading.status_code == 503
        assert loading.headers["Retry-After"] == "5"
        early = client.post("/v1/verify", json={"address": "12 Main St"})
        assert early.status_code == 503 and early.headers["Retry-After"] == "5"
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, client.get("/readyz").json()
            time.sleep(0.5)


def test_missing_adapter_leaves_the_service_not_ready(built_index: Path, tmp_path: Path) -> None:
    config = ServiceSettings(index_path=built_index, adapter_path=tmp_path / "no-adapter")
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "ClassifierNotReadyError" in ready.json()["error"]
        failed = client.post("/v1/verify", json={"address": "12 Main St"})
        assert failed.status_code == 503
        # Retrying will not help: no Retry-After once loading has failed.
        assert "Retry-After" not in ready.headers and "Retry-After" not in failed.headers


def test_a_bug_is_a_500_in_the_error_shape_and_logged_as_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(
        load_in_background=False, settings=ServiceSettings(index_path=Path("/nowhere"))
    )

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail of a bug")

    with (
        TestClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.INFO, logger="api.access"),
    ):
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal error",
        "type": "InternalServerError",
        "field": None,
    }
    logged = [r for r in caplog.records if r.name == "api.access" and r.getMessage() == "request"]
    assert [(r.route, r.status) for r in logged] == [("/boom", 500)]  # type: ignore[attr-defined]


def test_logs_carry_a_hash_never_the_address(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from api.logs import JsonFormatter, address_hash

    text = "4570 Frozen Hill Rd, Anamosa, IA 52205"
    with caplog.at_level("INFO", logger="api"):
        client.post("/v1/verify", json={"address": text})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "api"]
    assert lines
    assert all("Frozen" not in line for line in lines)
    assert any(address_hash(text) in line for line in lines)


def test_a_request_the_server_cut_off_is_logged_as_408(caplog: pytest.LogCaptureFixture) -> None:
    """api.protocol marks the scope when a body or request timeout cuts a request off;
    the access log then says 408 whatever the app had started to answer."""
    app = FastAPI()

    @app.post("/v1/verify")
    async def cut_off(request: Request) -> dict[str, str]:
        request.scope[TIMEOUT_SCOPE_KEY] = "request"  # as the protocol does, then closes
        return {}

    metrics = Metrics()
    app.add_middleware(AccessLog, metrics=metrics)
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="api.access"):
        client.post("/v1/verify", json={})
    logged = [r for r in caplog.records if r.name == "api.access" and r.getMessage() == "request"]
    assert [(r.route, r.status) for r in logged] == [("/v1/verify", 408)]  # type: ignore[attr-defined]
    assert 'addr_request_seconds_count{route="/v1/verify",status="408"} 1.0' in (
        metrics.render().decode()
    )
