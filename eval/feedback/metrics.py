"""The feedback benchmark's measures: ROC-AUC, verdict accuracy, per-round figures and
the audit of the outcome database against the events the server acknowledged."""

from __future__ import annotations

import itertools
import sqlite3
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval._common import latency_percentiles
from eval.feedback.stream import BAD, FAIL_P

NOT_EXPECTED = {BAD: "valid"}
"""The verdict an address of a kind must not get; any other kind must not be ``invalid``."""


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve of ``scores`` for the ``labels`` that are True (ties count
    half); None when one class is empty."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_scores = s[order]
    start = 0
    while start < len(s):  # average rank over each run of equal scores
        end = start
        while end + 1 < len(s) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    u = ranks[y].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def oracle_auc(shares: Mapping[str, float], fail_p: Mapping[str, float] = FAIL_P) -> float:
    """Expected ROC-AUC of a predictor that knows each address's true failure probability:
    the ceiling for any delivery_risk on a stream with these shares of kinds."""
    kinds = sorted(shares, key=lambda k: fail_p[k])
    pos = {k: shares[k] * fail_p[k] for k in kinds}
    neg = {k: shares[k] * (1 - fail_p[k]) for k in kinds}
    won = 0.0
    for i, k in enumerate(kinds):
        below = sum(neg[j] for j in kinds[:i] if fail_p[j] < fail_p[k])
        tied = sum(neg[j] for j in kinds if fail_p[j] == fail_p[k])
        won += pos[k] * (below + tied / 2)
    return won / (sum(pos.values()) * sum(neg.values()))


def verdict_correct(truth: str, verdict: str) -> bool:
    """Good and hot-spot addresses must not be called invalid, bad ones not valid."""
    return verdict != NOT_EXPECTED.get(truth, "invalid")


def _round3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def score(records: Sequence[Mapping[str, Any]], server: str) -> dict[str, Any]:
    """Coverage, verdict accuracy and delivery_risk ROC-AUC of one server's verifies.

    Each record holds ``truth``, ``made`` (how a bad address was made), ``failed``,
    ``delivered_before`` (a delivery to the address was acknowledged before this verify)
    and, under ``server``, the verify's ``verdict``, ``granularity`` and ``risk`` (None
    where the answer had none).
    """
    answers = [r[server] for r in records]
    kinds = [r["made"] if r["truth"] == BAD else r["truth"] for r in records]
    correct = [
        verdict_correct(r["truth"], a["verdict"]) for r, a in zip(records, answers, strict=True)
    ]
    premise = [a["verdict"] == "valid" and a["granularity"] == "premise" for a in answers]
    before = [r["delivered_before"] for r in records]
    scored = [
        (a["risk"], r["failed"])
        for r, a in zip(records, answers, strict=True)
        if a["risk"] is not None
    ]
    after = [p for p, b in zip(premise, before, strict=True) if b]
    return {
        "n": len(records),
        "known_good_coverage": _round3(sum(premise) / max(len(answers), 1)),
        "after_a_delivery": len(after),
        "known_good_after_a_delivery": _round3(sum(after) / len(after)) if after else None,
        "known_good_after_a_delivery_by_kind": {
            k: f"{sum(v)}/{len(v)}" for k, v in _by(kinds, premise, before).items()
        },
        "verdict_accuracy": _round3(sum(correct) / max(len(records), 1)),
        "verdict_accuracy_by_kind": {
            k: _round3(sum(v) / len(v)) for k, v in _by(kinds, correct).items()
        },
        "risk_auc": _round3(roc_auc([s for s, _ in scored], [f for _, f in scored])),
        "risk_missing": len(records) - len(scored),
        "verdicts": dict(sorted(Counter(a["verdict"] for a in answers).items())),
    }


def _by(
    kinds: Sequence[str], flags: Sequence[bool], only: Sequence[bool] | None = None
) -> dict[str, list[bool]]:
    """``flags`` grouped by kind (where ``only`` is True), kinds sorted."""
    groups: dict[str, list[bool]] = {}
    for n, (kind, flag) in enumerate(zip(kinds, flags, strict=True)):
        if only is None or only[n]:
            groups.setdefault(kind, []).append(flag)
    return dict(sorted(groups.items()))


def latency(seconds: Sequence[float]) -> dict[str, float] | None:
    """p50/p95/p99 in ms, None when nothing was timed."""
    return latency_percentiles(seconds, digits=2) if seconds else None


def steady_seconds(
    records: Sequence[Mapping[str, Any]], crash_round: int
) -> dict[str, list[float]]:
    """Seconds of each feedback post (all; those that added a known-good address; the
    others; those of a failed delivery), of each verify that followed one on the feedback
    server (all; after a post that added a known-good address), and of the baseline's
    verifies, outside the crash round."""
    steady = [r for r in records if r["round"] != crash_round]
    fb = [r["feedback"] for r in steady]
    return {
        "feedback": [a["feedback_seconds"] for a in fb],
        "feedback_adding_known_good": [a["feedback_seconds"] for a in fb if a["known_good_added"]],
        "feedback_other": [a["feedback_seconds"] for a in fb if not a["known_good_added"]],
        "feedback_of_a_failure": [r["feedback"]["feedback_seconds"] for r in steady if r["failed"]],
        "verify_after_feedback": [a["seconds"] for a in fb[1:]],
        "verify_after_known_good_added": [
            a["seconds"] for prior, a in itertools.pairwise(fb) if prior["known_good_added"]
        ],
        "baseline_verify": [r["baseline"]["seconds"] for r in steady],
    }


def audit_db(path: Path, acknowledged: Collection[str]) -> dict[str, Any]:
    """Events acknowledged by the server against the rows of the outcome database.

    Reads every table with an ``event_id`` column, read-only. ``lost``: acknowledged
    ids in none of them; ``doubled``: ids with more than one row in one table (the
    worst table).
    """
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if any(col[1] == "event_id" for col in db.execute(f'PRAGMA table_info("{name}")'))
        ]
        counts = {
            name: Counter(
                {
                    str(event_id): n
                    for event_id, n in db.execute(
                        f'SELECT event_id, COUNT(*) FROM "{name}" GROUP BY event_id'
                    )
                }
            )
            for name in tables
        }
    acked = set(acknowledged)
    stored = set().union(*counts.values()) if counts else set()
    per_table = {
        name: {
            "rows": c.total(),
            "distinct_event_ids": len(c),
            "doubled": sum(1 for n in c.values() if n > 1),
        }
        for name, c in counts.items()
    }
    return {
        "tables": per_table,
        "acknowledged": len(acked),
        "lost": len(acked - stored),
        "doubled": max((t["doubled"] for t in per_table.values()), default=0),
        "unacknowledged_stored": len(stored - acked),
    }
