"""The feedback loop over HTTP: verify answers carry a location, a verification id, the
address's delivery history and risk; ``POST /v1/feedback`` records outcomes, and a
delivered address is known-good at the next request. Real libpostal, the shipped
classifier, a real index over a few Reykjavík addresses with their points."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from address.standardize import format_address_line
from api.app import create_app
from api.feedback import caller_fingerprint
from api.settings import ServiceSettings
from api.verification_ids import SECRET_FILE_NAME, VerificationClaims, VerificationIds
from index.reference import COMPONENT_COLUMNS, POINT_COLUMNS, REFERENCE_COLUMNS

pytestmark = pytest.mark.usefixtures("libpostal")

LAUGAVEGUR_12B = "Laugavegur 12b, 101 Reykjavík"
NEW_HOUSE = "Laugavegur 20, 101 Reykjavík"
"""On a street the index holds, but not itself: ``house_number_not_found`` until delivered."""
NEW_HOUSE_POINT = {"lat": 64.14544, "lon": -21.9292}

_REYKJAVIK = {"road": "Laugavegur", "postcode": "101", "city": "Reykjavík"}
_ROWS: list[tuple[dict[str, str], float | None, float | None]] = [
    ({**_REYKJAVIK, "house_number": "10"}, 64.14553, -21.9306),
    ({**_REYKJAVIK, "house_number": "12"}, 64.14551, -21.9303),
    ({**_REYKJAVIK, "house_number": "12b"}, 64.1455, -21.9301),
    ({**_REYKJAVIK, "house_number": "14"}, 64.14548, -21.9298),
    ({**_REYKJAVIK, "house_number": "16"}, 64.14546, -21.9295),
    ({**_REYKJAVIK, "road": "Suðurgata", "house_number": "10"}, 64.144, -21.944),
]


@pytest.fixture(scope="module")
def reykjavik_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index over six Reykjavík addresses with their points and one in Anamosa
    without one (placed at its postcode's centre)."""
    from index.config import IndexConfig
    from index.store import build_index

    rows: list[dict[str, Any]] = [
        {
            "id": f"is-test-{i}",
            "address": format_address_line(components, "IS"),
            "country": "IS",
            **{name: components.get(name) for name in COMPONENT_COLUMNS},
            "source": "test",
            "lat": lat,
            "lon": lon,
            "completeness": "authoritative",
        }
        for i, (components, lat, lon) in enumerate(_ROWS)
    ]
    linn = {"house_number": "4570", "road": "Frozen Hill Rd", "city": "Anamosa"}
    rows.append(
        {
            "id": "us-test-0",
            "address": "4570 Frozen Hill Rd, Anamosa, IA 52205",
            "country": "US",
            **{name: linn.get(name) for name in COMPONENT_COLUMNS},
            "state": "IA",
            "postcode": "52205",
            "source": "test",
            "lat": None,
            "lon": None,
            "completeness": "authoritative",
        }
    )
    frame = pd.DataFrame(rows, columns=list(REFERENCE_COLUMNS))
    strings = [c for c in REFERENCE_COLUMNS if c not in POINT_COLUMNS]
    frame = frame.astype(dict.fromkeys(strings, "string") | dict.fromkeys(POINT_COLUMNS, "float64"))
    out = tmp_path_factory.mktemp("reykjavik-index") / "index"
    return build_index(frame, out, IndexConfig(show_progress=False))


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "outcomes.sqlite3"


@pytest.fixture(scope="module")
def service(reykjavik_index: Path, feedback_db: Path, libpostal: None) -> Iterator[TestClient]:
    """The real app over the Reykjavík index and a fresh feedback database."""
    config = ServiceSettings(
        index_path=reykjavik_index,
        feedback_path=feedback_db,
        rate_limit_per_second=1e6,
        rate_limit_burst=10**6,
    )
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        yield client


def _verify(service: TestClient, address: str) -> dict[str, Any]:
    answer = service.post("/v1/verify", json={"address": address, "country": "IS"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _feedback(service: TestClient, body: dict[str, Any], code: int = 200) -> dict[str, Any]:
    answer = service.post("/v1/feedback", json=body)
    assert answer.status_code == code, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_verify_carries_location_id_history_and_risk(service: TestClient) -> None:
    body = _verify(service, LAUGAVEGUR_12B)
    assert body["verdict"] == "valid" and body["granularity"] == "premise", body
    here = {"lat": 64.1455, "lon": -21.9301, "precision": "premise"}
    assert body["location"] == here
    assert body["match"]["location"] == here
    assert body["delivery_history"] == {
        "delivered": 0,
        "failed": 0,
        "not_received": 0,
        "last": None,
    }
    assert 0 <= body["delivery_risk"] <= 1
    assert isinstance(body["verification_id"], str) and "." in body["verification_id"]
    assert set(body["verification_id"]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    )

    batch = service.post(
        "/v1/verify/batch", json={"addresses": [LAUGAVEGUR_12B, "x" * 600, "Laugavegur 14"]}
    ).json()["results"]
    assert batch[0]["verification_id"] and batch[2]["verification_id"]
    assert batch[1]["field"] == "addresses[1]"
    assert batch[0]["location"] == here

    found = service.get("/v1/autocomplete", params={"q": "Laugavegur 12", "country": "IS"})
    suggestion = next(s for s in found.json()["suggestions"] if s["address"] == LAUGAVEGUR_12B)
    assert suggestion["location"] == here
    pointless = service.post("/v1/verify", json={"address": "4570 Frozen Hill Rd, Anamosa IA"})
    assert pointless.json()["location"]["precision"] == "postcode"  # 52205's centre


def test_feedback_by_verification_id_shows_in_the_history(service: TestClient) -> None:
    verification_id = _verify(service, "Laugavegur 14, 101 Reykjavík")["verification_id"]
    event = {"verification_id": verification_id, "outcome": "failed", "event_id": "by-id-1"}
    assert _feedback(service, {**event, "reason": "nobody home"}) == {
        "accepted": 1,
        "duplicates": 0,
        "known_good_added": 0,
        "results": [{"event_id": "by-id-1", "status": "accepted"}],
    }
    again = _feedback(service, event)
    assert again["duplicates"] == 1 and again["accepted"] == 0
    assert again["results"] == [{"event_id": "by-id-1", "status": "duplicate"}]

    body = _verify(service, "Laugavegur 14, 101 Reykjavík")
    assert body["delivery_history"] == {
        "delivered": 0,
        "failed": 1,
        "not_received": 0,
        "last": "failed",
    }


def test_feedback_by_address_in_a_batch(service: TestClient, feedback_db: Path) -> None:
    answer = _feedback(
        service,
        {
            "events": [
                {"address": "Laugavegur 16, 101 Reykjavík", "outcome": "not_received"},
                {
                    "address": {"lines": ["Laugavegur 16"], "postcode": "101"},
                    "country": "IS",
                    "outcome": "failed",
                },
            ]
        },
    )
    assert answer["accepted"] == 2 and [r["status"] for r in answer["results"]] == ["accepted"] * 2
    assert all(len(r["event_id"]) == 32 for r in answer["results"])  # made up when not sent
    history = _verify(service, "Laugavegur 16, 101 Reykjavík")["delivery_history"]
    assert (history["not_received"], history["failed"]) == (1, 1)
    with sqlite3.connect(feedback_db) as db:
        callers = {row[0] for row in db.execute("SELECT caller FROM events")}
    assert callers == {"testclient"}  # no keys configured: the client address


def test_a_delivered_address_is_known_good_at_the_next_request(service: TestClient) -> None:
    before = _verify(service, NEW_HOUSE)
    assert before["verdict"] == "uncertain" and before["reasons"] == ["house_number_not_found"]
    answer = _feedback(
        service, {"address": NEW_HOUSE, "outcome": "delivered", "location": NEW_HOUSE_POINT}
    )
    assert answer["known_good_added"] == 1

    after = _verify(service, NEW_HOUSE)
    assert after["verdict"] == "valid" and after["granularity"] == "premise", after
    assert after["location"] == {**NEW_HOUSE_POINT, "precision": "premise"}
    assert after["delivery_history"]["last"] == "delivered"
    near = service.get("/v1/nearby", params=NEW_HOUSE_POINT).json()["points"]
    assert NEW_HOUSE in [p["address"] for p in near]

    invalid = _feedback(service, {"address": "Laugavegur, 101 Reykjavík", "outcome": "delivered"})
    assert invalid["accepted"] == 1 and invalid["known_good_added"] == 0


def test_a_changed_or_foreign_verification_id_is_422(service: TestClient) -> None:
    verification_id = _verify(service, LAUGAVEGUR_12B)["verification_id"]
    payload, signature = verification_id.split(".")
    changed = ("A" if payload[5] != "A" else "B").join([payload[:5], payload[6:]])
    foreign = VerificationIds(b"s" * 32).sign(
        VerificationClaims("IS|laugavegur 12b 101 reykjavik", LAUGAVEGUR_12B, "IS", "valid", None)
    )
    for token in (f"{changed}.{signature}", foreign, "not-a-token", f"{payload}."):
        body = _feedback(service, {"verification_id": token, "outcome": "delivered"}, 422)
        assert body["field"] == "verification_id", body
        assert body["type"] == "InvalidVerificationIdError"
    listed = {"events": [{"address": LAUGAVEGUR_12B, "outcome": "failed"}]}
    listed["events"].append({"verification_id": foreign, "outcome": "failed"})
    assert _feedback(service, listed, 422)["field"] == "events[1].verification_id"


_ONE = {"address": LAUGAVEGUR_12B, "outcome": "failed"}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"address": LAUGAVEGUR_12B, "outcome": "lost"}, "outcome"),
        ({"address": LAUGAVEGUR_12B}, "outcome"),
        ({"outcome": "delivered"}, "address"),
        ({"address": LAUGAVEGUR_12B, "verification_id": "x.y", "outcome": "failed"}, "address"),
        ({**_ONE, "location": {"lat": 0, "lon": 0}}, "location"),
        ({**_ONE, "location": {"lat": 91, "lon": 1}}, "location.lat"),
        ({**_ONE, "reason": "r" * 201}, "reason"),
        ({**_ONE, "event_id": "e" * 129}, "event_id"),
        ({"address": "x" * 600, "outcome": "failed"}, "address"),
        ({"events": [_ONE], "outcome": "failed"}, "outcome"),
        ({"events": [_ONE] * 1001}, "events"),
        ({"events": []}, "events"),
    ],
)  # fmt: skip
def test_a_bad_event_is_422_naming_the_field(
    service: TestClient, event: dict[str, Any], field: str
) -> None:
    body = _feedback(service, event, 422)
    assert body["field"] == field, body
    assert set(body) == {"error", "type", "field"}


def test_nearby_answers_the_known_points_around(service: TestClient) -> None:
    near = service.get("/v1/nearby", params={"lat": 64.1455, "lon": -21.9301, "limit": 10})
    assert near.status_code == 200, near.text
    addresses = [p["address"] for p in near.json()["points"]]
    assert LAUGAVEGUR_12B in addresses and "Suðurgata 10, 101 Reykjavík" not in addresses
    bad = service.get("/v1/nearby", params={"lat": 95, "lon": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "lat"


def test_readyz_names_the_feedback_store(service: TestClient, feedback_db: Path) -> None:
    assert service.get("/readyz").json()["components"]["feedback"] is True
    secret = feedback_db.parent / SECRET_FILE_NAME
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_bytes()) == 32


def test_feedback_needs_a_key_when_keys_are_configured(tmp_path: Path) -> None:
    config = ServiceSettings(
        index_path=Path("/nonexistent/index"),
        feedback_path=tmp_path / "outcomes.sqlite3",
        api_keys=["k1"],
    )
    event = {"address": LAUGAVEGUR_12B, "outcome": "delivered"}
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        assert client.post("/v1/feedback", json=event).status_code == 401
        wrong = client.post("/v1/feedback", json=event, headers={"X-API-Key": "k2"})
        assert wrong.status_code == 401
        right = client.post("/v1/feedback", json=event, headers={"X-API-Key": "k1"})
        assert right.status_code == 503  # past the key; the index is missing
    assert caller_fingerprint("k1", keyed=True) == hashlib.sha256(b"k1").hexdigest()[:16]


def test_feedback_costs_one_token_per_event(tmp_path: Path) -> None:
    config = ServiceSettings(
        index_path=Path("/nonexistent/index"),
        feedback_path=tmp_path / "outcomes.sqlite3",
        rate_limit_per_second=0.01,
        rate_limit_burst=5,
    )
    events = {"events": [{"address": LAUGAVEGUR_12B, "outcome": "failed"}] * 5}
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        assert client.post("/v1/feedback", json=events).status_code == 503
        assert client.post("/v1/feedback", json=events["events"][0]).status_code == 429


def test_import_and_revoke_from_the_command_line(
    fresh_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from api.cli import app

    fresh_settings.setenv("ADDR_FEEDBACK_PATH", str(tmp_path / "outcomes.sqlite3"))
    events = tmp_path / "events.csv"
    events.write_text(
        "address,country,outcome,lat,lon\n"
        f'"{LAUGAVEGUR_12B}",IS,delivered,64.1455,-21.9301\n'
        '"Suðurgata 10, 101 Reykjavík",IS,failed,,\n'
        "nowhere,IS,lost,,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    imported = runner.invoke(app, ["feedback", "import", str(events), "--no-resume"])
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert (report["rows"], report["accepted"], report["skipped"]) == (
        3,
        2,
        {"unknown outcome": 1},
    )
    revoked = runner.invoke(app, ["feedback", "revoke", "--caller", "import:events.csv"])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout) == {"caller": "import:events.csv", "removed": 2}


@pytest.mark.slow
def test_a_delivery_is_seen_by_every_worker_of_a_multi_worker_server(
    reykjavik_index: Path, tmp_path: Path
) -> None:
    """Two worker processes, a fresh connection per request (so both answer): the
    delivered address is ``valid`` at ``premise``, at the courier's point, in each."""
    import httpx

    from api.server_process import ServerProcess

    house = "Laugavegur 18, 101 Reykjavík"
    point = {"lat": 64.14545, "lon": -21.92935}
    env = {
        "ADDR_INDEX_PATH": str(reykjavik_index),
        "ADDR_FEEDBACK_PATH": str(tmp_path / "outcomes.sqlite3"),
        "ADDR_RATE_LIMIT_PER_SECOND": "1000000",
        "ADDR_RATE_LIMIT_BURST": "1000000",
        "ADDR_LOG_LEVEL": "WARNING",
    }
    with ServerProcess(env, workers=2, ready_timeout=600) as server:

        def verify_once() -> dict[str, Any]:
            with httpx.Client(base_url=server.url, timeout=60) as fresh:
                answer = fresh.post("/v1/verify", json={"address": house, "country": "IS"})
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        before = verify_once()
        assert before["granularity"] != "premise"
        with httpx.Client(base_url=server.url, timeout=60) as client:
            sent = client.post(
                "/v1/feedback",
                json={
                    "verification_id": before["verification_id"],
                    "outcome": "delivered",
                    "location": point,
                    "event_id": "parcel-18",
                },
            )
        assert sent.status_code == 200, sent.text
        assert sent.json()["known_good_added"] == 1
        answers = [verify_once() for _ in range(12)]
    for answer in answers:
        assert answer["verdict"] == "valid", answer
        assert answer["granularity"] == "premise"
        assert answer["location"] == {**point, "precision": "premise"}
        assert answer["delivery_history"]["delivered"] == 1


def test_repeated_failures_hold_a_valid_address_back(service: TestClient) -> None:
    address = "Laugavegur 16, 101 Reykjavík"
    first = _verify(service, address)
    assert first["verdict"] == "valid" and first["delivery_risk"] < 0.5
    for attempt in range(8):
        event = {"verification_id": first["verification_id"], "outcome": "failed"}
        _feedback(service, {**event, "event_id": f"fail-16-{attempt}"})
        body = _verify(service, address)
        if body["delivery_risk"] >= 0.5:
            break
    assert body["delivery_risk"] >= 0.5, body["delivery_risk"]
    assert (body["verdict"], body["next_action"]) == ("uncertain", "confirm")
    assert body["reasons"][-1] == "delivery_failed"
    assert body["match"] is not None and body["granularity"] == "premise"
