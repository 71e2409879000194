"""Delivery feedback benchmark: does the service learn from delivery outcomes, safely?

A seeded sample of real Hamilton County, Ohio addresses (``../shared/datasets/
us_oh_hamilton_voters.txt``, the held-out half of ``eval.production``'s sha1 split
unless ``--split dev``): ``--reference`` of them become a reference index declared
``observed`` (``addr index build --input CSV --completeness observed``, timed),
``--customers`` others are new customers (75 % good, 15 % bad, 10 % hot spots; see
``eval/feedback/stream.py``), ``--check`` more in covered ZIP codes are the observed
check.

Two servers on loopback: the feedback server (``--workers`` 2, its own outcome
database) and the baseline (1 worker, same reference, an empty database, never told
an outcome). ``--orders`` deliveries in ``--rounds`` rounds; per order: verify on
the feedback server (verification_id, verdict, delivery_risk), verify on the
baseline, then ``POST /v1/feedback`` with the outcome and the verification_id
(a courier location with a delivery when the answer had a premise point).

In the middle round the verifies come first and the events are then posted by two
threads (single events and batches of 10) while the feedback server's process tree
is killed with SIGKILL; it is restarted on the same database and every event without
an answer is sent again with its event_id. At the end the acknowledged event ids are
compared with the database's rows (read-only): lost and doubled events.

Targets: delivery_risk ROC-AUC ≥ 0.85 over the last fifth of the orders and above the
baseline's; feedback p95 ≤ 20 ms and verify p95 ≤ 80 ms (the verify that follows a
feedback post, crash round left out); 0 events lost, 0 doubled; no held-out address
in a covered ZIP code held back at uncertain for lack of a reference row (the classifier
called it valid, and ``unknown_address`` is the only reason).

Run (2 cores, about 10 minutes)::

    .venv/bin/python -m eval.bench_feedback --orders 1600 --seed 7 \\
        --out eval/results/feedback_benchmark.json

Writes the ``.json``, ``.md`` and ``.png`` beside ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from address.verification import CLASSIFIER_VALID
from api.server_process import ServerProcess
from eval._common import (
    DATASETS,
    RESULTS,
    git_commit,
    load_average,
    log,
    machine,
    now_utc,
    write_json,
)
from eval.feedback.client import Ledger, crash_round, event, verify
from eval.feedback.metrics import audit_db, latency, oracle_auc, score, steady_seconds
from eval.feedback.render import markdown, plot
from eval.feedback.stream import (
    FAIL_P,
    SHARES,
    Customer,
    Order,
    make_customers,
    make_orders,
    postcode,
    read_lines,
    split_sample,
    street,
)

HAMILTON = DATASETS / "us_oh_hamilton_voters.txt"
SERVER_ENV = {
    "ADDR_LOG_LEVEL": "WARNING",
    "ADDR_RATE_LIMIT_PER_SECOND": "1000000",
    "ADDR_RATE_LIMIT_BURST": "1000000",
}
TARGETS = {"risk_auc": 0.85, "feedback_p95_ms": 20.0, "verify_p95_ms": 80.0}
FINAL_SHARE = 0.2
"""The share of the orders, at the end of the stream, the final figures are taken over."""


def build_index(reference: Sequence[str], work: Path, completeness: str) -> dict[str, Any]:
    """Write the reference CSV and build its index with ``addr index build``; timed."""
    table = work / "reference.csv"
    with table.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "address", "country"])
        writer.writerows([f"ham-{n:05d}", line, "US"] for n, line in enumerate(reference))
    command = [
        sys.executable,
        "-m",
        "api.cli",
        "index",
        "build",
        "--input",
        str(table),
        "--completeness",
        completeness,
        "--out",
        str(work / "index"),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **SERVER_ENV})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
    return {
        "rows": len(reference),
        "completeness": completeness,
        "seconds": round(seconds, 1),
        "output": json.loads(done.stdout),
    }


def observed_check(
    client: httpx.Client, lines: Sequence[str], street_known: Sequence[bool]
) -> dict[str, Any]:
    """Verdicts of real addresses absent from the reference, in covered ZIP codes;
    ``street_known``: whether the reference holds the line's street in its ZIP code."""
    answers = [verify(client, line) for line in tqdm(lines, desc="observed check", unit="addr")]
    # Held back for lack of a row: the classifier called it valid (confidence, its valid
    # probability, ≥ 0.9) and the answer is still uncertain for unknown_address alone. An
    # uncertain answer below 0.9 is the classifier's own doubt, with or without data.
    unsure = [a["verdict"] == "uncertain" and a["reasons"] == ["unknown_address"] for a in answers]
    lack = [
        flag and a["body"]["confidence"] >= CLASSIFIER_VALID
        for a, flag in zip(answers, unsure, strict=True)
    ]
    lack_only = [a for a, flag in zip(answers, lack, strict=True) if flag]
    return {
        "street_in_reference": sum(street_known),
        "uncertain_for_lack_of_row_street_in_reference": sum(
            flag and known for flag, known in zip(lack, street_known, strict=True)
        ),
        "n": len(answers),
        "verdicts": dict(sorted(Counter(a["verdict"] for a in answers).items())),
        "uncertain_for_lack_of_row": len(lack_only),
        "uncertain_classifier_unsure": sum(unsure) - len(lack_only),
        "share_uncertain_for_lack_of_row": round(len(lack_only) / max(len(answers), 1), 4),
        "uncertain_reasons": dict(
            Counter(",".join(a["reasons"]) for a in answers if a["verdict"] == "uncertain")
        ),
        "examples": [
            {"request": {"address": line, "country": "US"}, "response": a["body"]}
            for line, a, flag in zip(lines, answers, lack, strict=True)
            if flag
        ][:3],
    }


def crash_and_restart(
    stack: contextlib.ExitStack, server: ServerProcess, sent: list[dict[str, Any]], ledger: Ledger
) -> tuple[ServerProcess, httpx.Client, dict[str, Any]]:
    """Kill the feedback server while ``sent`` is being posted, restart it on the same
    database, resend what got no answer; the new server, its client and the figures."""
    unanswered, acknowledged = crash_round(server, sent, ledger)
    start = time.perf_counter()
    log_file = server.log.with_name(server.log.stem + "_restarted.log")
    server = stack.enter_context(ServerProcess(server.env, workers=server.workers, log=log_file))
    restart_s = time.perf_counter() - start
    client = stack.enter_context(httpx.Client(base_url=server.url, timeout=60))
    before = Counter(ledger.statuses)
    for item in unanswered:
        ledger.post(client, [item])
    return (
        server,
        client,
        {
            "events": len(sent),
            "acknowledged_before_kill": acknowledged,
            "unanswered_resent": len(unanswered),
            "resent_statuses": dict(ledger.statuses - before),
            "restart_ready_s": round(restart_s, 1),
        },
    )


def run_stream(
    args: argparse.Namespace, customers: list[Customer], orders: list[Order], work: Path
) -> dict[str, Any]:
    """Serve, stream the orders, crash and restart mid-stream, check; the raw figures."""
    envs = {
        name: {
            **SERVER_ENV,
            "ADDR_INDEX_PATH": str(work / index),
            "ADDR_FEEDBACK_PATH": str(work / db),
        }
        for name, index, db in (
            ("feedback", "index", "outcomes.sqlite3"),
            ("baseline", "index_baseline", "baseline.sqlite3"),
        )
    }
    crash_at = args.rounds // 2
    ledger, records, crash = Ledger(), [], dict[str, Any]()
    delivered: set[int] = set()  # customers with an acknowledged delivery
    with contextlib.ExitStack() as stack:
        server = ServerProcess(envs["feedback"], workers=args.workers, log=work / "feedback.log")
        baseline = ServerProcess(envs["baseline"], workers=1, log=work / "baseline.log")
        for started in (server, baseline):
            stack.callback(started.stop)
        with ThreadPoolExecutor(2) as pool:  # both load at once
            list(pool.map(ServerProcess.__enter__, (server, baseline)))
        ready = {
            "feedback": round(server.ready_seconds, 1),
            "baseline": round(baseline.ready_seconds, 1),
        }
        client = stack.enter_context(httpx.Client(base_url=server.url, timeout=60))
        base = stack.enter_context(httpx.Client(base_url=baseline.url, timeout=60))
        for text in args.warmup_texts:
            verify(client, text)
            verify(base, text)
        bar = stack.enter_context(tqdm(total=len(orders), desc="orders", unit="order"))
        for round_ in range(args.rounds):
            batch = [o for o in orders if o.round == round_]
            answers, sent = [], []
            for order in batch:
                text = customers[order.customer].text
                fb, bl = verify(client, text), verify(base, text)
                answers.append((fb, bl, order.customer in delivered))
                sent.append(event(order, fb, args.seed))
                if round_ != crash_at:
                    fb["feedback_seconds"], fb["known_good_added"] = ledger.post(client, sent[-1:])
                    if order.outcome == "delivered" and order.event_id in ledger.acknowledged:
                        delivered.add(order.customer)
                    bar.update()
            if round_ == crash_at:
                server, client, crash = crash_and_restart(stack, server, sent, ledger)
                crash["round"] = crash_at
                delivered |= {
                    o.customer
                    for o in batch
                    if o.outcome == "delivered" and o.event_id in ledger.acknowledged
                }
                bar.update(len(batch))
            for order, (fb, bl, seen) in zip(batch, answers, strict=True):
                customer = customers[order.customer]
                records.append(
                    {
                        "round": round_,
                        "truth": customer.truth,
                        "made": customer.made,
                        "failed": order.failed,
                        "delivered_before": seen,
                        "feedback": fb,
                        "baseline": bl,
                    }
                )
        checks = {
            "feedback": observed_check(client, args.check_lines, args.check_street_known),
            "baseline": observed_check(base, args.check_lines, args.check_street_known),
        }
    audit = audit_db(work / "outcomes.sqlite3", ledger.acknowledged)
    return {
        "ready_s": ready,
        "records": records,
        "ledger": ledger,
        "crash": crash,
        "observed_check": checks,
        "audit": audit,
    }


def summarize(args: argparse.Namespace, raw: dict[str, Any]) -> dict[str, Any]:
    """Per-round and final figures, targets met or missed."""
    records, ledger = raw["records"], raw["ledger"]
    crash_at = args.rounds // 2
    rounds = []
    for round_ in range(args.rounds):
        these = [r for r in records if r["round"] == round_]
        rounds.append(
            {
                "round": round_,
                "feedback": score(these, "feedback"),
                "baseline": score(these, "baseline"),
                "feedback_latency_ms": latency(
                    [
                        r["feedback"]["feedback_seconds"]
                        for r in these
                        if "feedback_seconds" in r["feedback"]
                    ]
                ),
                "verify_latency_ms": latency([r["feedback"]["seconds"] for r in these]),
                "baseline_verify_latency_ms": latency([r["baseline"]["seconds"] for r in these]),
                "crash": round_ == crash_at,
            }
        )
    final_from = args.rounds - max(1, round(args.rounds * FINAL_SHARE))
    final = [r for r in records if r["round"] >= final_from]
    fb, bl = score(final, "feedback"), score(final, "baseline")
    seconds = steady_seconds(records, crash_at)
    latency_ms = {kind: latency(values) for kind, values in seconds.items()}
    feedback_ms, verify_ms = latency_ms["feedback"], latency_ms["verify_after_feedback"]
    audit, check = raw["audit"], raw["observed_check"]["feedback"]
    auc, base_auc = fb["risk_auc"], bl["risk_auc"]
    met = {
        "risk_auc": auc is not None
        and auc >= TARGETS["risk_auc"]
        and (base_auc is None or auc > base_auc),
        "feedback_p95_ms": feedback_ms is not None
        and feedback_ms["p95"] <= TARGETS["feedback_p95_ms"],
        "verify_p95_ms": verify_ms is not None and verify_ms["p95"] <= TARGETS["verify_p95_ms"],
        "lost": audit["lost"] == 0,
        "doubled": audit["doubled"] == 0,
        "observed_uncertain": check["uncertain_for_lack_of_row"] == 0,
    }
    return {
        "final": {
            "rounds": list(range(final_from, args.rounds)),
            "feedback": fb,
            "baseline": bl,
            "risk_auc_difference": None
            if auc is None or base_auc is None
            else round(auc - base_auc, 3),
            "oracle_risk_auc": round(oracle_auc(SHARES), 3),
        },
        "latency_ms": latency_ms,
        "latency_n": {kind: len(values) for kind, values in seconds.items()},
        "rounds": rounds,
        "events": {
            "acknowledged": len(ledger.acknowledged),
            "statuses": dict(ledger.statuses),
            "known_good_added": ledger.known_good_added,
            "with_courier_location": ledger.with_location,
            "off_contract": len(ledger.off_contract),
            "off_contract_examples": ledger.off_contract[:5],
        },
        "crash": raw["crash"],
        "database": audit,
        "observed_check": raw["observed_check"],
        "targets": TARGETS,
        "met": met,
    }


def prepare(args: argparse.Namespace) -> tuple[list[Customer], list[Order], list[str]]:
    """The sample, the customers and their orders; sets ``args.check_lines``,
    ``args.check_street_known`` and ``args.warmup_texts``. Returns the reference lines too."""
    every = HAMILTON.read_text(encoding="utf-8").split("\n")
    existing = {line.strip() for line in every}
    lines = read_lines(HAMILTON)
    sample = split_sample(
        lines,
        seed=args.seed,
        reference=args.reference,
        customers=args.customers,
        check=args.check,
        split=args.split,
    )
    postcodes = sorted({postcode(line) for line in sample.reference})
    customers = make_customers(
        sample.customers, seed=args.seed, existing=existing, postcodes=postcodes
    )
    orders = make_orders(customers, orders=args.orders, rounds=args.rounds, seed=args.seed)
    args.check_lines = sample.check
    streets = {street(line) for line in sample.reference}
    args.check_street_known = [street(line) in streets for line in sample.check]
    args.warmup_texts = sample.reference[: args.warmup]
    return customers, orders, sample.reference


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1600)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--reference", type=int, default=5000, help="reference rows (observed)")
    parser.add_argument("--check", type=int, default=200, help="addresses of the observed check")
    parser.add_argument("--split", choices=("heldout", "dev"), default="heldout")
    parser.add_argument("--workers", type=int, default=2, help="feedback server workers")
    parser.add_argument("--warmup", type=int, default=30, help="verifies per server first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS / "feedback_benchmark.json")
    args = parser.parse_args(argv)
    if not HAMILTON.exists():
        log(f"{HAMILTON} is absent; nothing to measure")
        return
    load_before = load_average()
    customers, orders, reference = prepare(args)
    with tempfile.TemporaryDirectory(prefix="bench_feedback_") as tmp:
        work = Path(tmp)
        log(f"building the observed index of {len(reference)} addresses")
        build = build_index(reference, work, "observed")
        shutil.copytree(work / "index", work / "index_baseline")
        log(f"index built in {build['seconds']} s; serving")
        raw = run_stream(args, customers, orders, work)
    results = {
        "date": now_utc(),
        "command": "python -m eval.bench_feedback " + " ".join(sys.argv[1:]),
        "git": git_commit(),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "data": {
            "file": "us_oh_hamilton_voters.txt",
            "split": args.split,
            "split_rule": "eval.production.addresses.held_out: sha1(line) mod 10 >= 5 is held out",
            "reference": len(reference),
            "customers": len(customers),
            "customer_truth": dict(Counter(c.truth for c in customers)),
            "bad_made": dict(Counter(c.made for c in customers if c.made != "real")),
            "shares": SHARES,
            "fail_p": FAIL_P,
            "orders": len(orders),
            "rounds": args.rounds,
            "failed_orders": sum(o.failed for o in orders),
            "check": len(args.check_lines),
        },
        "seed": args.seed,
        "workers": {"feedback": args.workers, "baseline": 1},
        "index_build": build,
        "ready_s": raw["ready_s"],
        **summarize(args, raw),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, results)
    args.out.with_suffix(".md").write_text(markdown(results, args.out.stem + ".png"))
    plot(results, steady_seconds(raw["records"], args.rounds // 2), args.out.with_suffix(".png"))
    print(markdown(results, args.out.stem + ".png"))


if __name__ == "__main__":
    main()
