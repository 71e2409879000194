"""Benchmark of the address index against brute-force rapidfuzz.

Queries are real reference addresses, corrupted the way people write them
(typo in the street, abbreviation changed, postcode or city missing, lower case
without punctuation, parts in another order, an extra unit). Rows are split by
a hash of their id into a *tune* half and a *report* half; the committed
results use ``--split report``, which no tuning looked at.

Run (2 cores, the default index built by ``make setup``)::

    .venv/bin/python -m eval.bench_index --split report

Writes ``eval/results/index_benchmark.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import random
import re
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from eval._common import RESULTS, latency_percentiles, timed_calls, write_json

CORRUPTIONS = (
    "typo",
    "abbreviation",
    "no_postcode",
    "no_city",
    "lower_no_punct",
    "reordered",
    "extra_unit",
)
# Long and short spellings swapped by the "abbreviation" corruption (both ways).
ABBREVIATIONS = {
    "St": "Street",
    "Ave": "Avenue",
    "Rd": "Road",
    "Dr": "Drive",
    "Ln": "Lane",
    "Ct": "Court",
    "Blvd": "Boulevard",
    "Pl": "Place",
    "Cir": "Circle",
    "Ter": "Terrace",
    "Hwy": "Highway",
    "Trl": "Trail",
    "Pkwy": "Parkway",
    "N": "North",
    "S": "South",
    "E": "East",
    "W": "West",
    "NE": "Northeast",
    "NW": "Northwest",
    "SE": "Southeast",
    "SW": "Southwest",
}
# A word of the address as written: "33rd", "Ave", "Reykjavík".
WORD = re.compile(r"\w+")
# Punctuation dropped by the lower-case corruption.
PUNCTUATION = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Query:
    """A corrupted reference address and the id it should find."""

    id: str
    text: str
    kind: str


def _split_of(id_: str) -> str:
    return "tune" if hashlib.sha256(id_.encode()).digest()[0] % 2 == 0 else "report"


def _typo(word: str, rng: random.Random, edits: int) -> str:
    for _ in range(edits):
        if len(word) < 4:
            break
        pos = rng.randrange(1, len(word) - 1)
        op = rng.choice(("delete", "substitute", "transpose", "insert"))
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if op == "delete":
            word = word[:pos] + word[pos + 1 :]
        elif op == "substitute":
            word = word[:pos] + letter + word[pos + 1 :]
        elif op == "transpose":
            word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        else:
            word = word[:pos] + letter + word[pos:]
    return word


def street_typo(row: pd.Series, rng: random.Random) -> str | None:
    """The row's address with one or two typos in a word of its street, if it has one."""
    road = row["road"]
    words = [w for w in WORD.findall(road) if len(w) >= 4 and w.isalpha()]
    if not words:
        return None
    word = rng.choice(words)
    typo = _typo(word, rng, rng.choice((1, 2)))
    return str(row["address"]).replace(road, road.replace(word, typo, 1), 1)


def _abbreviation(row: pd.Series, rng: random.Random) -> str | None:
    road = row["road"]
    swaps = {**ABBREVIATIONS, **{v: k for k, v in ABBREVIATIONS.items()}}
    words = [w for w in road.split() if w in swaps]
    if not words:
        return None
    word = rng.choice(words)
    new_road = " ".join(swaps[w] if w == word else w for w in road.split())
    return str(row["address"]).replace(road, new_road, 1)


def format_row(row: pd.Series, drop: Sequence[str] = (), order: str = "native") -> str:
    """The row's address line without the ``drop`` parts, in the native or another order."""
    from index.reference import format_address_line

    parts = {c: row[c] for c in ("house_number", "road", "unit", "postcode", "city", "state")}
    for name in drop:
        parts[name] = None
    clean = {k: v for k, v in parts.items() if isinstance(v, str)}
    if order == "native":
        return format_address_line(clean, row["country"])
    # Locality first, then the street line in the other number/street order.
    street = (
        f"{clean.get('house_number', '')} {clean['road']}"
        if row["country"] == "IS"
        else f"{clean['road']} {clean.get('house_number', '')}"
    ) + (f" {clean['unit']}" if "unit" in clean else "")
    place = " ".join(clean.get(k, "") for k in ("postcode", "city", "state")).split()
    return f"{' '.join(place)}, {street.strip()}"


def corrupt(row: pd.Series, kind: str, rng: random.Random) -> str | None:
    """One corrupted spelling of a reference row, or None when it does not apply."""
    if kind == "typo":
        return street_typo(row, rng)
    if kind == "abbreviation":
        return _abbreviation(row, rng)
    if kind == "no_postcode":
        return format_row(row, drop=("postcode",)) if isinstance(row["postcode"], str) else None
    if kind == "no_city":
        return format_row(row, drop=("city",))
    if kind == "lower_no_punct":
        return PUNCTUATION.sub("", str(row["address"]).lower())
    if kind == "reordered":
        return format_row(row, order="reordered")
    if kind == "extra_unit":
        unit = (
            f"Apt {rng.randint(1, 30)}"
            if row["country"] == "US"
            else f"íbúð {rng.randint(101, 305)}"
        )
        return str(row["address"]).replace(",", f", {unit},", 1)
    raise ValueError(kind)


def make_queries(rows: pd.DataFrame, n: int, seed: int, split: str) -> list[Query]:
    """``n`` queries, evenly over the corruptions, from one split's rows."""
    pool = rows[rows["house_number"].notna() & (rows["id"].map(_split_of) == split)]
    return corrupted_queries(pool, n, seed)


def corrupted_queries(
    pool: pd.DataFrame,
    n: int,
    seed: int,
    corrupt_row: Callable[[pd.Series, str, random.Random], str | None] = corrupt,
) -> list[Query]:
    """``n`` queries, evenly over :data:`CORRUPTIONS`, from a shuffled ``pool`` of rows;
    a corruption that leaves the address as it was ("12 Main St" has no unit to drop) is
    skipped for the next row."""
    rng = random.Random(seed)
    pool = pool.sample(frac=1.0, random_state=seed)
    queries: list[Query] = []
    per_kind = max(1, n // len(CORRUPTIONS))
    position = 0
    for kind in CORRUPTIONS:
        made = 0
        while made < per_kind and position < len(pool):
            row = pool.iloc[position]
            position += 1
            text = corrupt_row(row, kind, rng)
            if text and text != row["address"]:
                queries.append(Query(row["id"], text, kind))
                made += 1
    return queries


def accuracy(
    queries: Sequence[Query], found: Sequence[list[str]], address_of: dict[str, str]
) -> dict[str, Any]:
    """Top-1/top-5 hit rates; a row with the very same address text as the target
    counts as the target (the Icelandic register lists some addresses several
    times under different ids, which no query can tell apart)."""
    by_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for query, ids in zip(queries, found, strict=True):
        want = address_of[query.id]
        same = [address_of[i] == want for i in ids[:5]]
        by_kind[query.kind].append((same[:1] == [True], any(same)))
    every = [hit for hits in by_kind.values() for hit in hits]

    def rate(hits: list[tuple[bool, bool]], i: int) -> float:
        return round(sum(h[i] for h in hits) / max(len(hits), 1), 4)

    return {
        "n": len(every),
        "top1": rate(every, 0),
        "top5": rate(every, 1),
        "by_kind": {
            k: {"n": len(v), "top1": rate(v, 0), "top5": rate(v, 1)} for k, v in by_kind.items()
        },
    }


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measure; returns the results as a JSON-ready dict."""
    from address.libpostal import load
    from index.store import default_index_dir, load_index

    rss_before = _rss_mb()
    start = time.perf_counter()
    index = load_index(args.index or default_index_dir())
    load_seconds = time.perf_counter() - start
    load()
    rows = index.rows[~index.rows["deleted"]]
    queries = make_queries(rows, args.queries, args.seed, args.split)
    address_of = dict(zip(rows["id"], rows["address"], strict=True))
    texts = [q.text for q in queries]
    index.search(texts[0])  # warm: model and parser loaded

    ours, ours_seconds = timed_calls(lambda t: [c.id for c in index.search(t, k=5)], texts)
    results: dict[str, Any] = {
        "index": str(index.path),
        "rows": len(rows),
        "split": args.split,
        "seed": args.seed,
        "load_seconds": round(load_seconds, 2),
        "build": index.manifest.get("build", {}),
        "faiss": index.manifest.get("faiss", {}),
        "search": {
            **accuracy(queries, ours, address_of),
            "latency_ms": latency_percentiles(ours_seconds),
        },
    }

    # Brute force over every address, on an even subset of the same queries.
    from rapidfuzz import fuzz, process

    strings = rows["address"].tolist()
    ids = rows["id"].tolist()
    step = max(1, len(queries) // args.baseline_queries)
    subset = list(range(0, len(queries), step))[: args.baseline_queries]
    base_found, base_seconds = timed_calls(
        lambda t: [ids[i] for _, _, i in process.extract(t, strings, scorer=fuzz.WRatio, limit=5)],
        [texts[i] for i in subset],
    )
    sub_queries = [queries[i] for i in subset]
    ours_sub = accuracy(sub_queries, [ours[i] for i in subset], address_of)
    base = accuracy(sub_queries, base_found, address_of)
    ours_median = statistics.median(ours_seconds[i] for i in subset)
    results["baseline"] = {
        "method": "rapidfuzz.process.extract(query, all_addresses, scorer=WRatio, limit=5)",
        **base,
        "latency_ms": latency_percentiles(base_seconds),
        "ours_on_same_queries": ours_sub,
        "top1_difference": round(ours_sub["top1"] - base["top1"], 4),
        "top5_difference": round(ours_sub["top5"] - base["top5"], 4),
        "speedup_median": round(statistics.median(base_seconds) / ours_median, 1),
    }

    # Autocomplete: prefixes of addresses as written, and with one typo in them.
    rng = random.Random(args.seed + 1)
    ac_rows = rows[rows["id"].map(_split_of) == args.split].sample(
        args.autocomplete_queries, random_state=args.seed
    )
    index.autocomplete("lau")  # warm
    ac: dict[str, Any] = {}
    all_seconds: list[float] = []
    for share in (0.3, 0.5, 0.7):
        for typo in (False, True):
            prefixes = []
            for address in ac_rows["address"]:
                typed = address[: max(3, round(len(address) * share))]
                if typo:
                    words = [w for w in WORD.findall(typed) if w.isalpha() and len(w) >= 5]
                    if words:
                        word = rng.choice(words)
                        typed = typed.replace(word, _typo(word, rng, 1), 1)
                prefixes.append(typed)
            found, seconds = timed_calls(
                lambda t: [c.id for c in index.autocomplete(t, k=5)], prefixes
            )
            all_seconds.extend(seconds)
            hits = [
                address_of[i] in {address_of[f] for f in ids}
                for i, ids in zip(ac_rows["id"], found, strict=True)
            ]
            name = f"{int(share * 100)}%" + (" + 1 typo" if typo else "")
            ac[name] = {
                "recall_at_5": round(sum(hits) / len(hits), 4),
                "n": len(hits),
                "latency_ms": latency_percentiles(seconds),
            }
    results["autocomplete"] = {"by_prefix": ac, "latency_ms": latency_percentiles(all_seconds)}
    results["memory"] = {"max_rss_mb": _rss_mb(), "rss_before_load_mb": rss_before}
    results["machine"] = {
        "cpus": __import__("os").cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    results["command"] = "python -m eval.bench_index " + " ".join(sys.argv[1:])
    return results


def _markdown(r: dict[str, Any]) -> str:
    s, b, a = r["search"], r["baseline"], r["autocomplete"]
    build = r["build"]
    lines = [
        "# Address index benchmark",
        "",
        f"Command: `{r['command']}`  ",
        f"Machine: {r['machine']['cpus']} cores ({r['machine']['platform']}), shared with other "
        "jobs while measured.  ",
        f"Index: {r['rows']:,} live rows, {r['faiss'].get('type')} {r['faiss'].get('params')}; "
        f"split `{r['split']}` (not used for tuning), seed {r['seed']}.",
        "",
        "## Build and memory",
        "",
        f"- embedding: {build.get('embedded_distinct', '?'):,} distinct keys in "
        f"{build.get('embed_seconds')} s = **{build.get('embed_rows_per_s')} rows/s**",
        f"- FAISS build: {build.get('faiss_seconds')} s; "
        f"total build: **{build.get('total_seconds')} s**",
        f"- load: {r['load_seconds']} s; max resident memory of this process "
        f"(index + libpostal + model): {r['memory']['max_rss_mb']} MB",
        "",
        "## Search (corrupted reference addresses)",
        "",
        f"All {s['n']} queries: **top-1 {s['top1']:.3f}, top-5 {s['top5']:.3f}**; latency ms "
        f"p50/p95/p99 = {s['latency_ms']['p50']}/{s['latency_ms']['p95']}/{s['latency_ms']['p99']}",
        "",
        "| corruption | n | top-1 | top-5 |",
        "|---|---|---|---|",
        *[
            f"| {k} | {v['n']} | {v['top1']:.3f} | {v['top5']:.3f} |"
            for k, v in s["by_kind"].items()
        ],
        "",
        "## Against brute force (same queries)",
        "",
        f"Baseline: `{b['method']}` over all {r['rows']:,} addresses.",
        "",
        "| method | n | top-1 | top-5 | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        f"| index | {b['ours_on_same_queries']['n']} | {b['ours_on_same_queries']['top1']:.3f} | "
        f"{b['ours_on_same_queries']['top5']:.3f} | {s['latency_ms']['p50']} | "
        f"{s['latency_ms']['p95']} | {s['latency_ms']['p99']} |",
        f"| rapidfuzz WRatio | {b['n']} | {b['top1']:.3f} | {b['top5']:.3f} | "
        f"{b['latency_ms']['p50']} | {b['latency_ms']['p95']} | {b['latency_ms']['p99']} |",
        "",
        f"Accuracy difference (index - baseline): top-1 {b['top1_difference']:+.3f}, "
        f"top-5 {b['top5_difference']:+.3f}; median speed-up **{b['speedup_median']}x**.",
        "",
        "| corruption | index top-1 | baseline top-1 |",
        "|---|---|---|",
        *[
            f"| {k} | {b['ours_on_same_queries']['by_kind'][k]['top1']:.3f} | {v['top1']:.3f} |"
            for k, v in b["by_kind"].items()
        ],
        "",
        "## Autocomplete (prefixes of addresses as written)",
        "",
        f"All calls: latency ms p50/p95/p99 = {a['latency_ms']['p50']}/{a['latency_ms']['p95']}/"
        f"{a['latency_ms']['p99']}",
        "",
        "| typed | n | recall@5 | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {v['n']} | {v['recall_at_5']:.3f} | {v['latency_ms']['p50']} | "
            f"{v['latency_ms']['p95']} |"
            for k, v in a["by_prefix"].items()
        ],
        "",
        "## Notes",
        "",
        "- A returned row whose address text equals the target's counts as a hit: the",
        "  Icelandic register lists some addresses several times under different ids.",
        "- Queries and autocomplete rows come from the `report` half of the rows (split by a",
        "  hash of the id); every tuning run used the `tune` half.",
        "- Build figures come from the index's manifest (the build that made it); the",
        "  2 cores may have been shared with other jobs then and while these queries ran.",
        "- Search latency is single-threaded; the dense (MiniLM) path runs only for",
        "  queries whose best lexical candidate scores below 0.9.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--index", type=Path, default=None, help="index folder (default index)")
    parser.add_argument("--split", choices=("tune", "report"), default="tune")
    parser.add_argument("--seed", type=int, default=20240)
    parser.add_argument("--queries", type=int, default=1400)
    parser.add_argument("--baseline-queries", type=int, default=280)
    parser.add_argument("--autocomplete-queries", type=int, default=500)
    parser.add_argument("--name", default="index_benchmark", help="result file stem")
    args = parser.parse_args()
    results = bench(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / f"{args.name}.json", results, ensure_ascii=False)
    (RESULTS / f"{args.name}.md").write_text(_markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
