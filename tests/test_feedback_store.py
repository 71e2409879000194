"""The delivery-outcome store: recording, known-good rows, history, revocation, the risk
model, durability under ``kill -9``, and the CSV import."""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from address.errors import EmptyAddressError
from index.feedback import (
    DeliveryHistory,
    FeedbackEvent,
    FeedbackStore,
    Outcome,
    RiskModel,
    delivery_key,
    import_events,
    known_good_id,
)

LAUGAVEGUR = "Laugavegur 12b, 101 Reykjavík"
PARTS = {"house_number": "12b", "road": "Laugavegur", "postcode": "101", "city": "Reykjavík"}
KEY = delivery_key(LAUGAVEGUR, "IS")
REPO = Path(__file__).resolve().parent.parent


def event(
    outcome: Outcome,
    address: str = LAUGAVEGUR,
    country: str | None = "IS",
    components: Mapping[str, str] = PARTS,
    **fields: Any,
) -> FeedbackEvent:
    """An outcome at ``address``, by default "Laugavegur 12b, 101 Reykjavík"."""
    key = delivery_key(address, country)
    return FeedbackEvent(key, address, country, outcome, components=components, **fields)


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback" / "outcomes.sqlite3")


def test_delivery_key_is_one_per_standardized_address() -> None:
    assert KEY == "IS|laugavegur 12b 101 reykjavik"
    assert delivery_key("LAUGAVEGUR 12B, 101 REYKJAVIK", "is") == KEY
    assert delivery_key(LAUGAVEGUR, None).startswith("|")


def test_a_delivery_makes_the_address_known_good_once(store: FeedbackStore) -> None:
    first = store.record([event(Outcome.DELIVERED, event_id="a", lat=64.1455, lon=-21.9301)])
    again = store.record([event(Outcome.DELIVERED, event_id="a", lat=1.0, lon=1.0)])
    other = store.record([event(Outcome.DELIVERED, event_id="b")])

    assert (first.accepted, first.duplicates, first.known_good_added) == (1, 0, 1)
    assert (again.accepted, again.duplicates, again.known_good_added) == (0, 1, 0)
    assert (other.accepted, other.known_good_added) == (1, 0)
    [row] = store.known_good_since(0)
    assert row.id == known_good_id(KEY) and row.id.startswith("delivery-") and len(row.id) == 25
    assert (row.address, row.country, row.match_id) == (LAUGAVEGUR, "IS", None)
    assert dict(row.components) == PARTS
    assert (row.lat, row.lon) == (64.1455, -21.9301)  # "b" carried no point: kept
    assert store.counts() == {"delivered": 2, "failed": 0, "not_received": 0, "known_good": 1}


def test_the_latest_located_delivery_places_the_address(store: FeedbackStore) -> None:
    store.record([event(Outcome.DELIVERED, lat=64.1455, lon=-21.9301, occurred_at=2000.0)])
    seq = store.last_known_good_seq()
    store.record([event(Outcome.DELIVERED, lat=64.0, lon=-21.0, occurred_at=1000.0)])
    assert store.last_known_good_seq() == seq  # an older point changes nothing
    store.record([event(Outcome.DELIVERED, lat=64.1456, lon=-21.9302, occurred_at=3000.0)])

    [row] = store.known_good_since(seq)
    assert (row.lat, row.lon) == (64.1456, -21.9302) and row.seq > seq
    assert store.known_good_since(store.last_known_good_seq()) == []


@pytest.mark.parametrize(
    "kind",
    [
        {"outcome": Outcome.FAILED},
        {"outcome": Outcome.NOT_RECEIVED},
        {"outcome": Outcome.DELIVERED, "verdict": "invalid"},
        {"outcome": Outcome.DELIVERED, "components": {"house_number": "12", "city": "Akureyri"}},
        {"outcome": Outcome.DELIVERED, "country": None},
    ],
)
def test_only_a_delivery_to_a_plausible_street_address_is_known_good(
    store: FeedbackStore, kind: dict[str, Any]
) -> None:
    outcome = kind.pop("outcome")
    assert store.record([event(outcome, **kind)]).known_good_added == 0
    assert store.known_good_since(0) == [] and store.last_known_good_seq() == 0


def test_a_delivery_to_an_indexed_address_records_its_row(store: FeedbackStore) -> None:
    store.record([event(Outcome.DELIVERED, match_id="is-10017508", lat=64.1, lon=-21.9)])
    [row] = store.known_good_since(0)
    assert row.match_id == "is-10017508" and (row.lat, row.lon) == (64.1, -21.9)


@pytest.mark.parametrize(("lat", "lon"), [(64.1, None), (None, -21.9), (91.0, 0.0), (0.0, 181.0)])
def test_a_batch_with_a_bad_point_is_refused_whole(
    store: FeedbackStore, lat: float | None, lon: float | None
) -> None:
    with pytest.raises(ValueError, match="WGS84"):
        store.record([event(Outcome.FAILED), event(Outcome.DELIVERED, lat=lat, lon=lon)])
    assert store.history([KEY]) == {}


def test_history_counts_outcomes_per_key(store: FeedbackStore) -> None:
    other = delivery_key("Suðurgata 3, 101 Reykjavík", "IS")
    store.record(
        [
            event(Outcome.DELIVERED, occurred_at=100.0),
            event(Outcome.DELIVERED, occurred_at=200.0),
            event(Outcome.FAILED, occurred_at=300.0, reason="no access"),
            event(Outcome.NOT_RECEIVED, occurred_at=250.0),
        ]
    )
    found = store.history([KEY, other])
    assert found == {KEY: DeliveryHistory(2, 1, 1, "failed", 300.0)}


def test_events_get_an_id_and_a_time(store: FeedbackStore) -> None:
    before = time.time()
    assert store.record([event(Outcome.FAILED), event(Outcome.FAILED)]).accepted == 2
    last_at = store.history([KEY])[KEY].last_at
    assert last_at is not None and before <= last_at <= time.time()


def test_revoke_drops_a_callers_events_and_what_only_they_made_known_good(
    store: FeedbackStore,
) -> None:
    suðurgata = "Suðurgata 3, 101 Reykjavík"
    parts = {**PARTS, "road": "Suðurgata", "house_number": "3"}
    store.record(
        [
            event(Outcome.DELIVERED, caller="bad"),
            event(Outcome.DELIVERED, caller="good"),
            event(Outcome.DELIVERED, address=suðurgata, components=parts, caller="bad"),
            event(Outcome.FAILED, address=suðurgata, components=parts, caller="bad"),
        ]
    )
    seq = store.last_known_good_seq()

    assert store.revoke("bad") == 3
    assert store.revoke("bad") == 0
    [dropped] = store.known_good_since(seq)
    assert dropped.deleted and dropped.address == suðurgata
    assert store.counts() == {"delivered": 1, "failed": 0, "not_received": 0, "known_good": 1}
    assert list(store.history([KEY, delivery_key(suðurgata, "IS")])) == [KEY]


def test_threads_and_a_second_store_share_the_file(store: FeedbackStore) -> None:
    def send(n: int) -> None:
        for i in range(25):
            store.record([event(Outcome.FAILED, event_id=f"{n}-{i}")])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other = FeedbackStore(store.path)
    assert other.history([KEY])[KEY].failed == 100


def test_one_event_records_fast(store: FeedbackStore) -> None:
    seconds = []
    for i in range(300):
        started = time.perf_counter()
        store.record([event(Outcome.DELIVERED, event_id=str(i), lat=64.1, lon=-21.9 + i / 1e4)])
        seconds.append(time.perf_counter() - started)
    p95 = float(np.percentile(seconds, 95))
    print(f"record p95 {p95 * 1e3:.2f} ms")
    assert p95 <= 0.005


_WRITER = """
import sys
from index.feedback import FeedbackEvent, FeedbackStore, Outcome
store = FeedbackStore(__import__("pathlib").Path(sys.argv[1]))
for i in range(100000):
    store.record([FeedbackEvent("IS|k", "Laugavegur 12b", "IS", Outcome.FAILED, str(i))])
    print(i + 1, flush=True)
"""


def test_a_committed_event_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    committed = 0
    while committed < 300:
        committed = int(writer.stdout.readline())
    writer.kill()  # SIGKILL: no handler, no clean close of the database
    writer.wait()
    assert writer.returncode == -9
    assert FeedbackStore(path).counts()["failed"] >= committed


def _labelled_events(n: int) -> list[FeedbackEvent]:
    """Addresses that fail keep failing; valid verdicts mostly deliver."""
    rng = np.random.default_rng(3)
    events = []
    for i in range(n):
        address = f"Laugavegur {i % 60}, 101 Reykjavík"
        bad = i % 60 < 12
        verdict = "uncertain" if bad else "valid"
        fails = rng.random() < (0.7 if bad else 0.05)
        outcome = Outcome.FAILED if fails else Outcome.DELIVERED
        events.append(event(outcome, address=address, verdict=verdict, occurred_at=float(i)))
    return events


def test_prior_risk_follows_the_verdict_and_the_history() -> None:
    prior = RiskModel.prior()
    assert prior.version == 0
    assert prior.predict(None, "valid") == pytest.approx(0.03)
    assert prior.predict(None, "uncertain") == pytest.approx(0.15)
    assert prior.predict(None, "invalid") == pytest.approx(0.5)
    failed_twice = DeliveryHistory(0, 2, 0, "failed", 1.0)
    delivered_twice = DeliveryHistory(2, 0, 0, "delivered", 1.0)
    assert prior.predict(delivered_twice, "valid") < 0.03 < prior.predict(failed_twice, "valid")
    assert RiskModel.from_json(prior.to_json()).predict(failed_twice, None) == prior.predict(
        failed_twice, None
    )


def test_refit_learns_from_outcomes_and_every_store_uses_it(store: FeedbackStore) -> None:
    assert store.risk_model().version == 0
    store.record(_labelled_events(150))
    assert store.refit_risk() is None  # fewer than 200 events
    assert not store.refit_due()  # so no refit is due either
    store.record(_labelled_events(600)[150:])
    assert store.refit_due()

    model = store.refit_risk()

    assert model is not None and model.version == 1 and model.events == 600
    assert not store.refit_due()
    fresh = FeedbackStore(store.path).risk_model()
    assert fresh.version == 1 and fresh is not model
    assert store.risk_model() is store.risk_model()  # cached by version
    bad = DeliveryHistory(2, 6, 0, "failed", 1.0)
    good = DeliveryHistory(8, 0, 0, "delivered", 1.0)
    assert fresh.predict(bad, "uncertain") > 0.5 > 0.1 > fresh.predict(good, "valid")


def test_refit_needs_both_outcomes(store: FeedbackStore) -> None:
    store.record([event(Outcome.DELIVERED) for _ in range(250)])
    assert store.refit_risk() is None and store.risk_model().version == 0


# ---------------------------------------------------------------------- import


def _read(text: str, country: str | None) -> tuple[str, str | None, Mapping[str, str]]:
    """A stand-in for the CLI's reading: title case, the street is the first word."""
    if text.strip() == "!":
        raise EmptyAddressError("nothing to read")
    return text.title(), (country or "IS").upper(), {"road": text.split()[0]}


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    columns = ["address", "country", "outcome", "event_id", "lat", "lon", "occurred_at"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)


def test_import_counts_bad_rows_and_is_idempotent(store: FeedbackStore, tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    _write_csv(
        path,
        [
            {"address": LAUGAVEGUR, "country": "is", "outcome": "delivered", "lat": "64.1455",
             "lon": "-21.9301"},
            {"address": "Suðurgata 3, 101 Reykjavík", "outcome": "FAILED", "event_id": "x1"},
            {"address": "", "outcome": "delivered"},
            {"address": "Hverfisgata 4", "outcome": "lost"},
            {"address": "Hverfisgata 5", "outcome": "delivered", "lat": "95", "lon": "1"},
            {"address": "Hverfisgata 6", "outcome": "delivered", "lat": "64.1"},
            {"address": "Hverfisgata 7", "outcome": "delivered", "occurred_at": "yesterday"},
            {"address": "!", "outcome": "delivered"},
        ],
    )  # fmt: skip

    report = import_events(path, store, _read, progress=False)

    assert (report.rows, report.accepted, report.duplicates, report.known_good_added) == (
        8,
        2,
        0,
        1,
    )
    assert report.skipped == {
        "empty address": 1,
        "unknown outcome": 1,
        "bad coordinates": 2,
        "bad occurred_at": 1,
        "unreadable address": 1,
    }
    [row] = store.known_good_since(0)
    assert (row.address, row.lat) == (LAUGAVEGUR.title(), 64.1455)
    assert import_events(path, store, _read, progress=False).rows == 0  # all done already
    again = import_events(path, store, _read, progress=False, resume=False)
    assert (again.accepted, again.duplicates) == (0, 2)
    assert store.revoke("import:outcomes.csv") == 2


def test_an_interrupted_import_resumes_where_it_stopped(
    store: FeedbackStore, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    _write_csv(
        path,
        [{"address": f"Laugavegur {i}, 101 Reykjavík", "outcome": "delivered"} for i in range(50)],
    )
    seen = 0

    def stops_at_row_23(
        text: str, country: str | None
    ) -> tuple[str, str | None, Mapping[str, str]]:
        nonlocal seen
        seen += 1
        if seen == 23:
            raise KeyboardInterrupt
        return _read(text, country)

    with pytest.raises(KeyboardInterrupt):
        import_events(path, store, stops_at_row_23, progress=False, batch=10)
    assert store.counts()["delivered"] == 20  # two batches committed
    assert (tmp_path / "big.csv.import-checkpoint").is_file()

    resumed = import_events(path, store, _read, progress=False, batch=10)

    assert (resumed.rows, resumed.accepted, resumed.duplicates) == (30, 30, 0)
    assert store.counts()["delivered"] == 50
    with path.open("a", encoding="utf-8") as out:
        out.write("Laugavegur 99,IS,delivered,,,,\n")
    assert import_events(path, store, _read, progress=False).accepted == 1


def test_import_refuses_a_file_without_the_required_columns(
    store: FeedbackStore, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("street,status\nLaugavegur 12b,delivered\n", encoding="utf-8")
    with pytest.raises(ValueError, match="address, outcome"):
        import_events(path, store, _read, progress=False)


def test_failures_after_the_last_delivery_take_the_address_back(store: FeedbackStore) -> None:
    store.record([event(Outcome.DELIVERED, occurred_at=1000.0)])
    store.record([event(Outcome.NOT_RECEIVED, occurred_at=1500.0)])
    store.record([event(Outcome.FAILED, occurred_at=2000.0)])
    assert store.counts()["known_good"] == 1  # one failure, one theft: still found
    seq = store.last_known_good_seq()
    store.record([event(Outcome.FAILED, occurred_at=3000.0)])
    [withdrawn] = store.known_good_since(seq)
    assert withdrawn.deleted and store.counts()["known_good"] == 0
    again = store.record([event(Outcome.DELIVERED, occurred_at=4000.0)])
    assert again.known_good_added == 1 and store.counts()["known_good"] == 1


def test_a_batch_says_which_of_its_events_were_seen_before(store: FeedbackStore) -> None:
    store.record([event(Outcome.DELIVERED, event_id="old")])
    recorded = store.record(
        [
            event(Outcome.FAILED, event_id="old"),
            event(Outcome.FAILED, event_id="new"),
            event(Outcome.FAILED, event_id="new"),
        ]
    )
    assert (recorded.accepted, recorded.duplicates) == (1, 2)
    assert recorded.duplicate_at == frozenset({0, 2})
