"""Where verify places an address, against the source's own point.

Three sets, seeded, none used to tune a setting:

- **known-good**: Iceland register rows in the default index, verified as written
  ("Laugavegur 12b, 101 Reykjavík"): the answer should be ``premise`` within 100 m
  of the register's point;
- **unindexed**: other Iceland rows, taken out of the loaded index first (tombstoned in
  memory) and then verified: no row is their own, so verify must place them on their
  street (between known numbers) or in their postcode; target within 25 km;
- **outside**: UK pharmacies (``../shared/datasets/uk_address_matching``, which carry
  a point), far from any known-good row: placed by their postcode's or town's
  centroid from the gazetteer.

Linn County's rows carry no point in their source, so they are placed by their
street or postcode; their precisions are counted.

Run (the default index built by ``make setup``)::

    .venv/bin/python -m eval.bench_location

Writes ``eval/results/location_benchmark.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from address.settings import get_settings
from address.verification import Verification
from address.verify import verify_batch
from eval._common import DATASETS, RESULTS, git_commit, log, machine, now_utc, write_json
from index.locate import SHARED_SPREAD_M, distance_km
from index.search import AddressIndex
from index.store import load_index

PREMISE_METRES = 100.0
"""Known-good addresses: their own point, within this distance."""
UNINDEXED_KM = 25.0
"""Addresses without a row of their own, in covered postcodes: within this distance."""


def _placed(
    answers: Sequence[Verification], lat: np.ndarray[Any, Any], lon: np.ndarray[Any, Any]
) -> dict[str, Any]:
    """Precision counts and distances of the answers' locations from the true points."""
    precisions = Counter(a.location.precision.value if a.location else "none" for a in answers)
    got = np.array(
        [(a.location.lat, a.location.lon) if a.location else (np.nan, np.nan) for a in answers]
    )
    km = distance_km(lat, lon, got[:, 0], got[:, 1])
    located = km[~np.isnan(km)]
    premise = np.array([a.location is not None and a.location.precision.value == "premise"
                        for a in answers])  # fmt: skip
    return {
        "n": len(answers),
        "precision": dict(precisions.most_common()),
        "located": len(located),
        "median_m": round(float(np.median(located)) * 1000, 1) if len(located) else None,
        "p95_m": round(float(np.percentile(located, 95)) * 1000, 1) if len(located) else None,
        "within_100m": round(float(np.mean(np.nan_to_num(km, nan=np.inf) <= 0.1)), 4),
        "premise_within_100m": (
            round(float(np.mean(km[premise] <= 0.1)), 4) if premise.any() else None
        ),
        "within_25km": round(float(np.mean(np.nan_to_num(km, nan=np.inf) <= 25.0)), 4),
    }


def _verify(index: AddressIndex, texts: Sequence[str], country: str) -> list[Verification]:
    answers: list[Verification] = []
    for start in range(0, len(texts), 200):
        answers += verify_batch(
            texts[start : start + 200], country, searcher=index, classifier=None
        )
    return answers


def _pharmacies(n: int, seed: int) -> pd.DataFrame:
    """UK pharmacies with their points: ``text, postcode, lat, lon``."""
    path = DATASETS / "uk_address_matching" / "pharmacy_addresses.tsv"
    frame = pd.read_csv(path, sep="\t", dtype=str).dropna(subset=["text", "postcode", "point"])
    points = frame["point"].str.strip("[]").str.split(",", expand=True).astype(float)
    frame = frame.assign(lon=points[0], lat=points[1])
    return frame.sample(n=min(n, len(frame)), random_state=seed)


def run(n: int, seed: int) -> dict[str, Any]:
    """Place the three sets and return the results."""
    get_settings()
    started = time.perf_counter()
    index = load_index()
    rows = index.rows.loc[~index.rows["deleted"].astype(bool)]
    iceland = rows.loc[(rows["country"] == "IS") & rows["lat"].notna()]
    log(f"index loaded in {time.perf_counter() - started:.1f} s; {len(iceland):,} IS points")
    picked = iceland.sample(n=2 * n, random_state=seed)
    known, hidden = picked.iloc[:n], picked.iloc[n:]
    shared = rows["address"].duplicated(keep=False)
    shared_texts = set(rows.loc[shared, "address"])
    linn = rows.loc[rows["country"] == "US"].sample(n=n, random_state=seed)

    log(f"known-good: {n} Iceland rows as written")
    known_answers = _verify(index, known["address"].tolist(), "IS")
    linn_answers = _verify(index, linn["address"].tolist(), "US")
    log(f"unindexed: {n} Iceland rows taken out of the index")
    index.delete(hidden["id"].tolist())
    hidden_answers = _verify(index, hidden["address"].tolist(), "IS")
    unique = ~known["address"].isin(shared_texts).to_numpy()
    result: dict[str, Any] = {
        "known_good_iceland": _placed(
            known_answers, known["lat"].to_numpy(float), known["lon"].to_numpy(float)
        ),
        "known_good_iceland_unique_text": _placed(
            [a for a, u in zip(known_answers, unique, strict=True) if u],
            known["lat"].to_numpy(float)[unique],
            known["lon"].to_numpy(float)[unique],
        ),
        "known_good_linn_precision": dict(
            Counter(a.location.precision.value if a.location else "none" for a in linn_answers)
        ),
        "unindexed_iceland": _placed(
            hidden_answers, hidden["lat"].to_numpy(float), hidden["lon"].to_numpy(float)
        ),
    }
    if (DATASETS / "uk_address_matching").is_dir():
        shops = _pharmacies(n, seed)
        log(f"outside: {len(shops)} UK pharmacies")
        texts = [f"{t}, {p}" for t, p in zip(shops["text"], shops["postcode"], strict=True)]
        result["outside_uk_pharmacies"] = _placed(
            _verify(index, texts, "GB"), shops["lat"].to_numpy(float), shops["lon"].to_numpy(float)
        )
    return result


def _markdown(data: dict[str, Any]) -> str:
    results = data["results"]
    lines = [
        "# Location benchmark",
        "",
        f"`{data['command']}` at {data['commit']}, {data['date']}, {data['machine']['cpus']} CPUs.",
        "Seeded samples; no setting was tuned on them.",
        "",
        "| set | n | precision | median / p95 distance | measure | measured | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, key, measure, field, target in (
        ("known-good Iceland rows, as written", "known_good_iceland",
         "premise answers within 100 m", "premise_within_100m", "1.000"),
        ("… of them, address texts no other row shares", "known_good_iceland_unique_text",
         "within 100 m (all answers)", "within_100m", "—"),
        ("Iceland rows taken out of the index", "unindexed_iceland",
         "within 25 km", "within_25km", "1.000"),
        ("UK pharmacies (no known-good data)", "outside_uk_pharmacies",
         "within 25 km", "within_25km", "—"),
    ):  # fmt: skip
        if (stats := results.get(key)) is None:
            continue
        shown = ", ".join(f"{k} {v}" for k, v in stats["precision"].items())
        value = stats[field]
        lines.append(
            f"| {name} | {stats['n']} | {shown} | {stats['median_m']} m / {stats['p95_m']} m "
            f"| {measure} | {'—' if value is None else f'{value:.3f}'} | {target} |"
        )
    linn = ", ".join(f"{k} {v}" for k, v in results["known_good_linn_precision"].items())
    lines += [
        "",
        f"Linn County rows (no point in their source): {linn}. An address text that several "
        f"register rows share (farms, summer-house plots) is placed at their middle: as a "
        f"premise while every row lies within {SHARED_SPREAD_M:.0f} m of it, else as a street.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="addresses per set")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS / "location_benchmark.json")
    args = parser.parse_args(argv)
    data = {
        "command": f"python -m eval.bench_location --n {args.n} --seed {args.seed}",
        "date": now_utc(),
        "commit": git_commit(),
        "machine": machine(),
        "targets": {"premise_m": PREMISE_METRES, "unindexed_km": UNINDEXED_KM},
        "results": run(args.n, args.seed),
    }
    write_json(args.out, data)
    args.out.with_suffix(".md").write_text(_markdown(data), encoding="utf-8")
    print(json.dumps(data["results"], indent=2))


if __name__ == "__main__":
    main()
