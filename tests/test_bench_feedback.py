"""eval.bench_feedback's pure parts: the stream, the metrics, the database audit, the report."""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
from collections import Counter
from pathlib import Path

import httpx
import pytest

from eval.bench_feedback import summarize
from eval.feedback.client import Ledger, event
from eval.feedback.metrics import audit_db, oracle_auc, roc_auc, score, verdict_correct
from eval.feedback.render import markdown, plot
from eval.feedback.stream import (
    BAD,
    FAIL_P,
    GOOD,
    HOT,
    SHARES,
    Order,
    courier_point,
    make_customers,
    make_orders,
    postcode,
    split_sample,
)
from eval.production.addresses import held_out

STREETS = ("QUEEN CITY AVE CINCINNATI", "KREIS LN CINCINNATI", "DALY RD CINCINNATI")
LINES = [
    f"{n} {street} OH {45200 + n % 7}" for n in range(1, 1200) for street in STREETS[n % 3 :][:1]
]


def test_roc_auc_on_known_inputs() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert roc_auc([0.5] * 4, [False, True, False, True]) == 0.5
    # One positive under one negative of four pairs; a tie counts half.
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert roc_auc([0.1, 0.3, 0.3, 0.9], [False, False, True, True]) == 0.875
    assert roc_auc([0.1, 0.2], [True, True]) is None


def test_oracle_auc_matches_the_auc_of_true_probabilities() -> None:
    assert oracle_auc({"a": 0.5, "b": 0.5}, {"a": 0.0, "b": 1.0}) == 1.0
    # A large weighted sample scored by its true probability gives the same figure.
    scores, labels = [], []
    for kind, share in SHARES.items():
        n = round(share * 10_000)
        failed = round(n * FAIL_P[kind])
        scores += [FAIL_P[kind]] * n
        labels += [True] * failed + [False] * (n - failed)
    found = roc_auc(scores, labels)
    assert found is not None
    assert oracle_auc(SHARES) == pytest.approx(found, abs=1e-3)
    assert 0.9 < oracle_auc(SHARES) < 0.95


def test_split_is_seeded_disjoint_heldout_and_checks_covered_postcodes() -> None:
    first = split_sample(LINES, seed=3, reference=200, customers=100, check=50)
    assert first == split_sample(LINES, seed=3, reference=200, customers=100, check=50)
    assert first != split_sample(LINES, seed=4, reference=200, customers=100, check=50)
    chosen = first.reference + first.customers + first.check
    assert len(set(chosen)) == len(chosen) == 350
    assert all(held_out(line) for line in chosen)
    covered = {postcode(line) for line in first.reference}
    assert {postcode(line) for line in first.check} <= covered
    dev = split_sample(LINES, seed=3, reference=10, customers=10, check=10, split="dev")
    assert not any(held_out(line) for line in dev.reference)
    with pytest.raises(ValueError, match="needed"):
        split_sample(LINES, seed=3, reference=len(LINES), customers=1, check=1)


def test_customers_have_the_stated_shares_and_bad_texts_are_no_real_line() -> None:
    sources = LINES[:200]
    existing = set(LINES)
    postcodes = sorted({postcode(line) for line in LINES})
    made = make_customers(sources, seed=5, existing=existing, postcodes=postcodes)
    assert made == make_customers(sources, seed=5, existing=existing, postcodes=postcodes)
    truths = Counter(c.truth for c in made)
    assert truths == {GOOD: 150, BAD: 30, HOT: 20}
    assert Counter(c.made for c in made if c.truth == BAD) == {
        "wrong_number": 10,
        "wrong_postcode": 10,
        "cut": 10,
    }
    for customer in made:
        if customer.truth == BAD:
            assert customer.text not in existing
            assert customer.text != customer.source
        else:
            assert customer.text == customer.source


def test_orders_are_seeded_in_equal_rounds_with_outcomes_by_truth() -> None:
    postcodes = sorted({postcode(line) for line in LINES})
    customers = make_customers(LINES[:300], seed=1, existing=set(LINES), postcodes=postcodes)
    orders = make_orders(customers, orders=6000, rounds=10, seed=2)
    assert orders == make_orders(customers, orders=6000, rounds=10, seed=2)
    assert Counter(o.round for o in orders) == {r: 600 for r in range(10)}
    assert len({o.event_id for o in orders}) == 6000
    for kind in (GOOD, BAD, HOT):
        mine = [o for o in orders if customers[o.customer].truth == kind]
        share = sum(o.failed for o in mine) / len(mine)
        assert share == pytest.approx(FAIL_P[kind], abs=0.05)
    outcomes = {customers[o.customer].truth: o.outcome for o in orders if o.failed}
    assert outcomes == {GOOD: "failed", BAD: "failed", HOT: "not_received"}


def test_events_carry_a_courier_point_only_for_deliveries_to_a_premise_point() -> None:
    delivered = Order(0, 0, 0, "e-0", "delivered", None)
    failed = Order(1, 0, 0, "e-1", "failed", "address_not_found")
    premise = {
        "verification_id": "v",
        "location": {"lat": 39.1, "lon": -84.5, "precision": "premise"},
    }
    postcode_only = {**premise, "location": {"lat": 39.1, "lon": -84.5, "precision": "postcode"}}
    assert event(delivered, premise, 7)["location"] == courier_point(39.1, -84.5, 7, 0)
    assert "location" not in event(delivered, postcode_only, 7)
    assert event(failed, premise, 7) == {
        "verification_id": "v",
        "outcome": "failed",
        "event_id": "e-1",
        "reason": "address_not_found",
    }
    point = courier_point(39.1, -84.5, 7, 0)
    assert abs(point["lat"] - 39.1) <= 1.5e-4 and abs(point["lon"] + 84.5) <= 1.5e-4


def test_verdicts_are_judged_by_truth() -> None:
    assert verdict_correct(GOOD, "uncertain") and not verdict_correct(GOOD, "invalid")
    assert verdict_correct(HOT, "valid") and not verdict_correct(HOT, "invalid")
    assert verdict_correct(BAD, "invalid") and not verdict_correct(BAD, "valid")


def _answer(verdict: str, risk: float | None, granularity: str = "premise") -> dict[str, object]:
    return {"verdict": verdict, "granularity": granularity, "risk": risk, "seconds": 0.01}


def test_score_counts_coverage_accuracy_and_auc() -> None:
    records = [
        {"truth": GOOD, "failed": False, "s": _answer("valid", 0.1)},
        {"truth": GOOD, "failed": False, "s": _answer("valid", 0.2, "street")},
        {"truth": BAD, "failed": True, "s": _answer("valid", 0.9)},
        {"truth": HOT, "failed": True, "s": _answer("uncertain", None)},
    ]
    for n, record in enumerate(records):
        record["delivered_before"] = n < 2
        record["made"] = "cut" if record["truth"] == BAD else "real"
    got = score(records, "s")
    assert got["known_good_coverage"] == 0.5
    assert (got["known_good_after_a_delivery"], got["after_a_delivery"]) == (0.5, 2)
    assert got["verdict_accuracy"] == 0.75
    assert got["verdict_accuracy_by_kind"] == {"cut": 0.0, GOOD: 1.0, HOT: 1.0}
    assert got["risk_auc"] == 1.0 and got["risk_missing"] == 1


def test_audit_finds_lost_and_doubled_events(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, event_id TEXT, outcome TEXT)")
        db.execute("CREATE TABLE other (n INTEGER)")
        rows = [("a", "delivered"), ("b", "failed"), ("b", "failed"), ("z", "delivered")]
        db.executemany("INSERT INTO events (event_id, outcome) VALUES (?, ?)", rows)
    got = audit_db(path, {"a", "b", "c"})
    assert got["tables"] == {"events": {"rows": 4, "distinct_event_ids": 3, "doubled": 1}}
    assert (got["lost"], got["doubled"], got["unacknowledged_stored"]) == (1, 1, 1)


def test_summary_and_report_render(tmp_path: Path) -> None:
    rng = random.Random(0)
    records = []
    for n in range(400):
        truth = (GOOD, GOOD, GOOD, BAD, HOT)[n % 5]
        failed = rng.random() < FAIL_P[truth]
        fb = _answer("valid", FAIL_P[truth] + rng.uniform(-0.05, 0.05))
        fb["feedback_seconds"], fb["known_good_added"] = 0.004, n % 2
        records.append(
            {
                "round": n // 100,
                "truth": truth,
                "made": "real",
                "failed": failed,
                "delivered_before": n > 100,
                "feedback": fb,
                "baseline": _answer("uncertain", 0.3),
            }
        )
    check = {
        "n": 3,
        "verdicts": {"valid": 3},
        "uncertain_for_lack_of_row": 0,
        "uncertain_classifier_unsure": 0,
        "uncertain_for_lack_of_row_street_in_reference": 0,
        "street_in_reference": 2,
    }
    raw = {
        "records": records,
        "ledger": Ledger(),
        "crash": {
            "round": 2,
            "events": 100,
            "acknowledged_before_kill": 50,
            "unanswered_resent": 52,
            "resent_statuses": {"accepted": 50, "duplicate": 2},
            "restart_ready_s": 9.0,
        },
        "observed_check": {"feedback": check, "baseline": check},
        "audit": {
            "tables": {},
            "acknowledged": 400,
            "lost": 0,
            "doubled": 0,
            "unacknowledged_stored": 0,
        },
    }
    summary = summarize(argparse.Namespace(rounds=4), raw)
    assert summary["final"]["rounds"] == [3]
    assert summary["final"]["baseline"]["risk_auc"] == 0.5
    assert summary["met"]["feedback_p95_ms"] and summary["met"]["lost"]
    results = {
        "command": "python -m eval.bench_feedback",
        "date": "2026-12-02T14:00:00+00:00",
        "git": "abc1234",
        "machine": {"cpus": 2, "platform": "Linux", "python": "3.11"},
        "load_average_before": [0.1, 0.1, 0.1],
        "load_average_after": [0.2, 0.2, 0.2],
        "data": {
            "file": "x.txt",
            "split": "heldout",
            "split_rule": "sha1",
            "reference": 10,
            "customers": 5,
            "check": 3,
            "customer_truth": {GOOD: 5},
            "bad_made": {},
            "fail_p": FAIL_P,
            "orders": 400,
            "rounds": 4,
            "failed_orders": 60,
        },
        "index_build": {"completeness": "observed", "seconds": 1.0},
        "seed": 7,
        "workers": {"feedback": 2, "baseline": 1},
        "ready_s": {"feedback": 5.0, "baseline": 4.0},
        **summary,
    }
    text = markdown(results, "chart.png")
    assert "| round | orders |" in text and "(kill -9)" in text
    plot(
        results,
        {"feedback": [0.004] * 9, "verify_after_feedback": [0.03] * 9},
        tmp_path / "chart.png",
    )
    assert (tmp_path / "chart.png").stat().st_size > 0


def test_ledger_acknowledges_answered_events_and_keeps_answers_off_the_contract() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        events = body.get("events", [body])
        if events[0]["event_id"] == "broken":
            return httpx.Response(500, json={"error": "boom"})
        results = [{"event_id": e["event_id"], "status": "accepted"} for e in events]
        return httpx.Response(
            200,
            json={
                "accepted": len(events),
                "duplicates": 0,
                "known_good_added": 1,
                "results": results,
            },
        )

    ledger = Ledger()
    with httpx.Client(transport=httpx.MockTransport(answer), base_url="http://test") as client:
        _, added = ledger.post(client, [{"event_id": "a", "outcome": "delivered"}])
        ledger.post(client, [{"event_id": "b", "outcome": "failed"}, {"event_id": "c"}])
        ledger.post(client, [{"event_id": "broken", "outcome": "failed"}])
    assert added == 1
    assert ledger.acknowledged == {"a", "b", "c"}
    assert ledger.statuses == {"accepted": 3} and ledger.known_good_added == 2
    assert [e["status"] for e in ledger.off_contract] == [500]
    assert ledger.off_contract[0]["request"] == {"event_id": "broken", "outcome": "failed"}
