"""Accuracy of suggest, autocomplete, verify and formatting on ``../shared/datasets``.

Each measure runs beside a plain baseline in the same run:

* **suggest** (``AddressIndex.search``) and **autocomplete** (``AddressIndex.autocomplete``)
  against brute-force ``rapidfuzz.process.extract(query, all_strings, scorer=fuzz.WRatio,
  limit=5)`` over the same index rows, on the same queries, with latencies of both;
* **verify** (``address.verify.verify`` with the default index and the shipped classifier,
  as the service wires them) against the rules-only verdict of ``address.rules``;
* **formatting** (``format_address_line`` and ``standardize``) against the expected
  per-country layout of the OpenCage address-formatting test cases.

Per dataset:

* ``fr_nl_pl_geocoder_tester_queries.csv``: a small index over the dataset's correct
  addresses (expected house number, street, city, postcode); the 939 ``fuzzy=True`` typo
  queries and a sample of the plain queries as written; autocomplete on the correct
  addresses.
* ``chicago_dedupe_messy_addresses.csv``: one canonical row per ``True Id`` (its most
  frequent spelling) indexed; every other distinct spelling is a query.
* ``de_osm_community_centres.csv`` and ``uk_address_matching/*.tsv`` (a seeded sample):
  the rows indexed, queried with ``eval.bench_index``'s corruptions (abbreviation and extra
  unit adapted to German and British spelling).
* ``us_oh_hamilton_voters.txt``: not built here; the figures of
  ``eval/results/index_benchmark_hamilton.json`` are read when that file exists.
* ``multi_address_formatting_testcases.csv``: formatting per country.
* UK, DE and FR real addresses plus ``eval.classifier_eval``'s negatives: verify.

Run (about 10-20 minutes on 2 shared cores; deterministic apart from latencies)::

    nice -n 15 .venv/bin/python -m eval.datasets_eval
    .venv/bin/python -m eval.datasets_eval --quick --only chicago --out /tmp/smoke

Writes ``eval/results/datasets_eval.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from eval.bench_index import (
    Query,
    _accuracy,
    _percentiles,
    _time,
    corrupt,
    corrupted_queries,
)
from eval.classifier_eval import DATASETS, _de, _fr, _uk, other_country_set

if TYPE_CHECKING:
    from finetune.classifier import Classifier
    from finetune.data import AddressParts, Example
    from index.search import AddressIndex

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "datasets_eval"
SEED = 20240
BASELINE = "rapidfuzz.process.extract(query, index_row_strings, scorer=fuzz.WRatio, limit=5)"
SHARES = (0.3, 0.5, 0.7)

FR = "fr_nl_pl_geocoder_tester_queries"
CHICAGO = "chicago_dedupe_messy_addresses"
DE = "de_osm_community_centres"
UK = "uk_address_matching"
HAMILTON = "us_oh_hamilton_voters"
FORMATTING = "multi_address_formatting_testcases"
PARTS = {
    "fr": FR,
    "chicago": CHICAGO,
    "de": DE,
    "uk": UK,
    "hamilton": HAMILTON,
    "formatting": FORMATTING,
    "verify": "verify",
}
VERIFY_SETS = {"uk": UK, "de": DE, "fr": FR}
# Chart labels.
SHORT = {
    FR: "FR/NL/PL geocoder-tester",
    CHICAGO: "Chicago variants",
    DE: "DE OSM",
    UK: "UK address matching",
    HAMILTON: "Hamilton OH\n(read from bench_index)",
}
HAMILTON_RESULTS = RESULTS / "index_benchmark_hamilton.json"

# "34 Avenue de l'Opéra" -> house number "34", street "Avenue de l'Opéra".
NUMBER_THEN_STREET = re.compile(r"^(\d+[A-Za-z]*)\s+(.+)$")
# A word of an address, for the token-level formatting comparison.
WORD = re.compile(r"\w+")
# The unit added by the "extra_unit" corruption, per country (bench_index knows US and IS).
UNIT_WORDS = {"GB": "Flat {n}", "DE": "Whg. {n}"}
# German street-type spellings swapped by the "abbreviation" corruption, both ways.
GERMAN_ABBREVIATIONS = (
    ("straße", "str."),
    ("Straße", "Str."),
    ("strasse", "str."),
    ("Strasse", "Str."),
    ("platz", "pl."),
    ("Platz", "Pl."),
)


@dataclass(frozen=True)
class Sizes:
    """How much of each dataset one run uses (0 = all)."""

    uk_rows: int = 15_000
    de_rows: int = 0
    corrupted_queries: int = 700
    fr_fuzzy: int = 0
    fr_as_written: int = 1000
    chicago_entities: int = 0
    autocomplete_rows: int = 300
    verify_per_country: int = 300
    formatting_cases: int = 0


QUICK = Sizes(
    uk_rows=300,
    de_rows=300,
    corrupted_queries=35,
    fr_fuzzy=45,
    fr_as_written=45,
    chicago_entities=120,
    autocomplete_rows=20,
    verify_per_country=10,
    formatting_cases=60,
)


# --------------------------------------------------------------------------- helpers


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _cpu_seconds() -> float:
    """CPU time of this process so far (user + system): what the run costs on shared cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _limit(items: list[Any], n: int, rng: random.Random) -> list[Any]:
    """A seeded sample of ``n`` items in their original order (all when ``n`` is 0)."""
    if not n or n >= len(items):
        return list(items)
    keep = sorted(rng.sample(range(len(items)), n))
    return [items[i] for i in keep]


def _build(reference: pd.DataFrame, name: str, workdir: Path) -> AddressIndex:
    """Build and load a small index over ``reference`` (single thread: a deterministic
    HNSW graph, and the other core is left to whoever shares the machine)."""
    from index.config import IndexConfig
    from index.store import build_index, load_index

    folder = workdir / name
    started = time.perf_counter()
    build_index(reference, folder, IndexConfig(show_progress=False, threads=1))
    index = load_index(folder)
    _log(f"{name}: indexed {len(index)} rows in {time.perf_counter() - started:.0f} s")
    return index


def _reference(records: list[dict[str, str | None]], name: str, workdir: Path) -> pd.DataFrame:
    """Rows as a user would hand them over: a CSV read by ``load_reference_file``."""
    from index.reference import load_reference_file

    path = workdir / f"{name}.csv"
    pd.DataFrame.from_records(records).to_csv(path, index=False)
    return load_reference_file(path)


def _searcher(index: AddressIndex) -> Callable[[str], list[str]]:
    from address.errors import AddressError

    def call(text: str) -> list[str]:
        try:
            return [c.id for c in index.search(text, k=5)]
        except AddressError:
            return []

    return call


def _completer(index: AddressIndex) -> Callable[[str], list[str]]:
    return lambda text: [c.id for c in index.autocomplete(text, k=5)]


def _brute_force(rows: pd.DataFrame) -> Callable[[str], list[str]]:
    from rapidfuzz import fuzz, process

    strings = rows["address"].tolist()
    ids = rows["id"].tolist()
    return lambda text: [
        ids[i] for _, _, i in process.extract(text, strings, scorer=fuzz.WRatio, limit=5)
    ]


def _compare(
    queries: Sequence[Query],
    ours: Callable[[str], list[str]],
    baseline: Callable[[str], list[str]],
    address_of: dict[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accuracy and latency of ours and of the baseline on the very same queries."""
    texts = [q.text for q in queries]
    ours(texts[0])  # warm: model, parser, caches
    found, seconds = _time(ours, texts)
    base_found, base_seconds = _time(baseline, texts)
    mine = {**_accuracy(queries, found, address_of), "latency_ms": _percentiles(seconds)}
    base = {
        "method": BASELINE,
        **_accuracy(queries, base_found, address_of),
        "latency_ms": _percentiles(base_seconds),
        "speedup_p50": round(statistics.median(base_seconds) / statistics.median(seconds), 1),
    }
    return mine, base


def _autocomplete(
    index: AddressIndex, rows: pd.DataFrame, n: int, rng: random.Random
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Recall@5 for prefixes (30/50/70 % of the characters) of indexed addresses."""
    sample = rows.sample(min(n, len(rows)), random_state=rng.randrange(2**31))
    queries = [
        Query(id_, address[: max(3, round(len(address) * share))], f"{int(share * 100)}%")
        for share in SHARES
        for id_, address in zip(sample["id"], sample["address"], strict=True)
    ]
    address_of = dict(zip(rows["id"], rows["address"], strict=True))
    index.autocomplete("abc")  # warm
    ours, base = _compare(queries, _completer(index), _brute_force(rows), address_of)

    def reshape(result: dict[str, Any]) -> dict[str, Any]:
        by_share = {
            k: {"n": v["n"], "recall_at_5": v["top5"], "top1": v["top1"]}
            for k, v in result["by_kind"].items()
        }
        kept = {k: v for k, v in result.items() if k not in ("by_kind", "top1", "top5")}
        return {**kept, "by_prefix": by_share}

    return reshape(ours), reshape(base)


def _corrupt(row: pd.Series, kind: str, rng: random.Random) -> str | None:
    """``eval.bench_index.corrupt``, with a German abbreviation and a GB/DE unit."""
    country = row["country"]
    address = str(row["address"])
    if kind == "extra_unit" and country in UNIT_WORDS:
        unit = UNIT_WORDS[country].format(n=rng.randint(1, 30))
        # A British flat comes first ("Flat 3, 12 Baker St"); elsewhere after the street.
        return f"{unit}, {address}" if country == "GB" else address.replace(",", f", {unit},", 1)
    if kind == "abbreviation" and country == "DE":
        road = str(row["road"])
        options = [road.replace(long, short, 1) for long, short in GERMAN_ABBREVIATIONS]
        options += [road.replace(short, long, 1) for long, short in GERMAN_ABBREVIATIONS]
        options = sorted({o for o in options if o != road})
        if not options or road not in address:
            return None
        return address.replace(road, rng.choice(options), 1)
    return corrupt(row, kind, rng)


# --------------------------------------------------------------------------- datasets


def _one(values: pd.Series) -> str | None:
    """The single non-empty value of a column within a group, else None (none or several)."""
    found = {v.strip() for v in values if v and v.strip()}
    return found.pop() if len(found) == 1 else None


def _fr_postcode(value: str | None, country: str) -> str | None:
    if not value:
        return None
    value = value.split(".")[0]
    return value.zfill(5) if country == "FR" else value


def eval_fr(folder: Path, sizes: Sizes, seed: int, workdir: Path) -> dict[str, Any]:
    frame = pd.read_csv(folder / f"{FR}.csv", dtype=str, keep_default_na=False)
    countries = {"france": "FR", "netherlands": "NL", "poland": "PL"}
    targets: dict[tuple[str, str, str, str, str], str] = {}
    pending: list[tuple[tuple[str, str, str, str, str], str, str]] = []
    excluded = Counter[str]()

    def kind_of(city: str, postcode: str) -> str:
        if city and postcode:
            return "street only"
        return "with city" if postcode else "with postcode" if city else "?"

    # Fuzzy rows come in threes per correct address: one names the town, one the
    # postcode, one neither; the expected columns give the part the query lacks.
    fuzzy = frame[frame["fuzzy"] == "True"]
    for (source, name), group in fuzzy.groupby(["source", "expected_name"], sort=True):
        country = countries[str(source).split("/")[0]]
        city, postcode = _one(group["expected_city"]), _one(group["expected_postcode"])
        split = NUMBER_THEN_STREET.match(str(name).strip())
        if not (split and city and postcode):
            excluded["fuzzy: no complete address"] += len(group)
            continue
        key = (country, split[1], split[2], _fr_postcode(postcode, country) or "", city)
        for _, row in group.iterrows():
            kind = "typo, " + kind_of(row["expected_city"], row["expected_postcode"])
            pending.append((key, row["query"], kind))
    plain = frame[(frame["fuzzy"] == "False")]
    relays = plain["source"].str.contains("postal_relays")
    excluded["as written: postal-relay rows (expected town only)"] = int(relays.sum())
    plain = plain[~relays]
    numbered = (plain["expected_housenumber"] != "") & (plain["expected_street"] != "")
    excluded["as written: no expected house number or street"] = int((~numbered).sum())
    written: list[tuple[tuple[str, str, str, str, str], str, str]] = []
    keys = ["source", "expected_housenumber", "expected_street"]
    for (source, number, street), group in plain[numbered].groupby(keys, sort=True):
        country = countries[str(source).split("/")[0]]
        city, postcode = _one(group["expected_city"]), _one(group["expected_postcode"])
        if not (city and postcode):
            excluded["as written: town or postcode missing or ambiguous"] += len(group)
            continue
        postcode = _fr_postcode(postcode, country) or ""
        key = (country, str(number).strip(), str(street).strip(), postcode, city)
        for _, row in group.iterrows():
            written.append(
                (key, row["query"], kind_of(row["expected_city"], row["expected_postcode"]))
            )
    records: list[dict[str, str | None]] = []
    for key, _, _ in pending + written:
        if key not in targets:
            targets[key] = f"fr-{len(targets) + 1:05d}"
            country, number, street, postcode, city = key
            records.append(
                {
                    "id": targets[key],
                    "number": number,
                    "street": street,
                    "postcode": postcode,
                    "city": city,
                    "country": country,
                }
            )
    reference = _reference(records, FR, workdir)
    index = _build(reference, FR, workdir)
    rows = index.rows[~index.rows["deleted"]]
    address_of = dict(zip(rows["id"], rows["address"], strict=True))
    rng = random.Random(f"{seed}:fr")
    fuzzy_q = [Query(targets[k], q, kind) for k, q, kind in _limit(pending, sizes.fr_fuzzy, rng)]
    written_q = [
        Query(targets[k], q, kind) for k, q, kind in _limit(written, sizes.fr_as_written, rng)
    ]
    brute = _brute_force(rows)
    fuzzy_ours, fuzzy_base = _compare(fuzzy_q, _searcher(index), brute, address_of)
    written_ours, written_base = _compare(written_q, _searcher(index), brute, address_of)
    ac_ours, ac_base = _autocomplete(index, rows, sizes.autocomplete_rows, rng)
    return {
        "rows": len(frame),
        "index_rows": len(rows),
        "excluded_rows": dict(excluded),
        "suggest": {"fuzzy": fuzzy_ours, "as_written": written_ours},
        "autocomplete": ac_ours,
        "baseline": {
            "suggest": {"fuzzy": fuzzy_base, "as_written": written_base},
            "autocomplete": ac_base,
        },
    }


def _spelling(address: str, zip_code: str) -> str:
    return " ".join(f"{address} {zip_code}".split())


def eval_chicago(folder: Path, sizes: Sizes, seed: int, workdir: Path) -> dict[str, Any]:
    from address.libpostal import parse

    frame = pd.read_csv(folder / f"{CHICAGO}.csv", dtype=str, keep_default_na=False)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for true_id, address, zip_code in zip(
        frame["True Id"], frame["Address"], frame["Zip"], strict=True
    ):
        text = _spelling(address, zip_code)
        if text:
            spellings[true_id][text] += 1
    entities = sorted(spellings)
    entities = _limit(entities, sizes.chicago_entities, random.Random(f"{seed}:chicago"))
    records: list[dict[str, str | None]] = []
    queries: list[Query] = []
    address_of: dict[str, str] = {}
    for true_id in entities:
        # Most frequent spelling; ties go to the one met first in the file.
        canonical = spellings[true_id].most_common(1)[0][0]
        parsed = parse(canonical, "us")
        id_ = f"chicago-{true_id}"
        records.append(
            {
                "id": id_,
                "address": canonical,
                "number": parsed.house_number,
                "street": parsed.road,
                "unit": parsed.unit,
                "postcode": parsed.postcode,
                "city": parsed.city,
                "region": parsed.state,
                "country": "US",
            }
        )
        address_of[id_] = f"entity {true_id}"  # a hit is a row of the same entity
        queries += [
            Query(id_, text, "other spelling") for text in spellings[true_id] if text != canonical
        ]
    reference = _reference(records, CHICAGO, workdir)
    index = _build(reference, CHICAGO, workdir)
    rows = index.rows[~index.rows["deleted"]]
    ours, base = _compare(queries, _searcher(index), _brute_force(rows), address_of)
    return {
        "rows": len(frame),
        "entities": len(entities),
        "index_rows": len(rows),
        "suggest": ours,
        "baseline": {"suggest": base},
    }


def _parts_records(
    real: Sequence[tuple[str, AddressParts]], prefix: str, keep_text: bool
) -> list[dict[str, str | None]]:
    records: list[dict[str, str | None]] = []
    for i, (text, parts) in enumerate(real, start=1):
        records.append(
            {
                "id": f"{prefix}-{i:05d}",
                "address": text if keep_text else None,
                "number": parts.house_number,
                "street": parts.road,
                "postcode": parts.postcode,
                "city": parts.city,
                "country": parts.country,
            }
        )
    return records


def _corrupted_dataset(
    name: str, records: list[dict[str, str | None]], sizes: Sizes, seed: int, workdir: Path
) -> dict[str, Any]:
    reference = _reference(records, name, workdir)
    reference = reference.drop_duplicates("address").reset_index(drop=True)
    index = _build(reference, name, workdir)
    rows = index.rows[~index.rows["deleted"]]
    address_of = dict(zip(rows["id"], rows["address"], strict=True))
    queries = corrupted_queries(
        rows[rows["house_number"].notna()], sizes.corrupted_queries, seed, _corrupt
    )
    ours, base = _compare(queries, _searcher(index), _brute_force(rows), address_of)
    ac_ours, ac_base = _autocomplete(
        index, rows, sizes.autocomplete_rows, random.Random(f"{seed}:{name}")
    )
    return {
        "index_rows": len(rows),
        "suggest": ours,
        "autocomplete": ac_ours,
        "baseline": {"suggest": base, "autocomplete": ac_base},
    }


def eval_de(folder: Path, sizes: Sizes, seed: int, workdir: Path) -> dict[str, Any]:
    real = _de(folder, sizes.de_rows or 10**9, random.Random(f"{seed}:de"))
    result = _corrupted_dataset(DE, _parts_records(real, "de", True), sizes, seed, workdir)
    total = sum(1 for _ in (folder / f"{DE}.csv").open(encoding="utf-8")) - 1
    return {"rows": total, "rows_used": len(real), **result}


def eval_uk(folder: Path, sizes: Sizes, seed: int, workdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    real = _uk(folder, sizes.uk_rows, random.Random(f"{seed}:uk"))
    _log(f"{UK}: parsed a sample of {len(real)} rows in {time.perf_counter() - started:.0f} s")
    # The files hold free text and a postcode: the index row is libpostal's components
    # (number, street, town, postcode) in the British layout, as a reference file would be.
    result = _corrupted_dataset(UK, _parts_records(real, "uk", False), sizes, seed, workdir)
    total = sum(
        sum(1 for _ in path.open(encoding="utf-8")) - 1
        for path in sorted((folder / UK).glob("*.tsv"))
    )
    return {"rows": total, "rows_used": len(real), **result}


def eval_hamilton(folder: Path) -> dict[str, Any]:
    total = sum(1 for _ in (folder / f"{HAMILTON}.txt").open(encoding="utf-8"))
    if not HAMILTON_RESULTS.is_file():
        return {"rows": total, "status": "not run", "source": str(HAMILTON_RESULTS.name)}
    bench = json.loads(HAMILTON_RESULTS.read_text(encoding="utf-8"))
    search, base = bench.get("search", {}), bench.get("baseline", {})
    by_prefix = bench.get("autocomplete", {}).get("by_prefix", {})
    return {
        "rows": total,
        "status": "read from " + HAMILTON_RESULTS.name,
        "index_rows": bench.get("rows"),
        "command": bench.get("command"),
        "build_seconds": bench.get("build", {}).get("total_seconds"),
        "suggest": {
            "n": search.get("n"),
            "top1": search.get("top1"),
            "top5": search.get("top5"),
            "latency_ms": search.get("latency_ms"),
        },
        "autocomplete": {
            "by_prefix": {
                k: {"n": v.get("n"), "recall_at_5": v.get("recall_at_5")}
                for k, v in by_prefix.items()
                if "typo" not in k
            },
            "latency_ms": bench.get("autocomplete", {}).get("latency_ms"),
        },
        "baseline": {
            "suggest": {
                "method": base.get("method"),
                "n": base.get("n"),
                "top1": base.get("top1"),
                "top5": base.get("top5"),
                "latency_ms": base.get("latency_ms"),
                "speedup_p50": base.get("speedup_median"),
                "ours_on_same_queries": base.get("ours_on_same_queries"),
            }
        },
    }


# --------------------------------------------------------------------------- formatting


def _tokens(text: str) -> list[str]:
    return WORD.findall(text.casefold())


def _same(a: str, b: str) -> bool:
    """Equal after case folding, with commas and runs of whitespace as one space."""
    return " ".join(a.casefold().replace(",", " ").split()) == " ".join(
        b.casefold().replace(",", " ").split()
    )


def _token_f1(ours: list[str], expected: list[str]) -> float:
    common = sum((Counter(ours) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(ours), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _address_lines(expected: str, given: list[str]) -> list[str]:
    """The lines of an expected layout made from the components given: a line is kept
    when at least half its words are words of the components, so the name of the place
    ("Pizza Hut") and the country line ("Germany") that the test case adds are dropped."""
    from address.rules import _country_from_name

    words = set(given)
    kept = []
    for line in (raw.strip() for raw in expected.splitlines()):
        tokens = _tokens(line)
        if not tokens or _country_from_name(line) is not None:
            continue
        if sum(t in words for t in tokens) * 2 >= len(tokens):
            kept.append(line)
    return kept


def eval_formatting(folder: Path, sizes: Sizes, seed: int) -> dict[str, Any]:
    from address.errors import AddressError
    from address.libpostal import parse
    from address.standardize import format_address_line, standardize

    frame = pd.read_csv(folder / f"{FORMATTING}.csv", dtype=str, keep_default_na=False)
    cases = _limit(list(frame.itertuples(index=False)), sizes.formatting_cases, random.Random(seed))
    skipped = Counter[str]()
    scored: list[dict[str, Any]] = []
    for case in cases:
        country = str(case.country_code).strip().upper()
        components = {
            k: str(getattr(case, k)).strip()
            for k in ("house_number", "road", "postcode", "city", "state")
            if str(getattr(case, k)).strip()
        }
        if not components:
            skipped["no components given"] += 1
            continue
        lines = _address_lines(str(case.expected_formatted), _tokens(" ".join(components.values())))
        if not lines:
            skipped["expected layout shows none of the given components"] += 1
            continue
        target = ", ".join(lines)
        try:
            line = format_address_line(components, country)
            typed = target.casefold()
            standardized = standardize(parse(typed, country.lower()), country)
        except AddressError as error:
            skipped[f"{type(error).__name__}"] += 1
            continue
        scored.append(
            {
                "country": country,
                "expected": target,
                "format_address_line": line,
                "standardize": standardized,
                "typed": typed,
                "line_exact": _same(line, target),
                "line_f1": _token_f1(_tokens(line), _tokens(target)),
                "std_exact": _same(standardized, target),
                "std_f1": _token_f1(_tokens(standardized), _tokens(target)),
            }
        )

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        n = max(len(items), 1)
        return {
            "n": len(items),
            "format_address_line": {
                "exact": round(sum(i["line_exact"] for i in items) / n, 4),
                "token_f1": round(sum(i["line_f1"] for i in items) / n, 4),
            },
            "standardize": {
                "exact": round(sum(i["std_exact"] for i in items) / n, 4),
                "token_f1": round(sum(i["std_f1"] for i in items) / n, 4),
            },
        }

    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in scored:
        by_country[item["country"]].append(item)
    countries = {c: summary(items) for c, items in sorted(by_country.items())}
    worst = sorted(
        countries,
        key=lambda c: (
            countries[c]["format_address_line"]["token_f1"],
            countries[c]["format_address_line"]["exact"],
            c,
        ),
    )[:15]
    examples = {}
    for c in worst:
        item = min(by_country[c], key=lambda i: (i["line_f1"], i["expected"]))
        examples[c] = {k: item[k] for k in ("expected", "format_address_line", "standardize")}
    return {
        "rows": len(frame),
        "countries": len(countries),
        "skipped": dict(skipped),
        "formatting": {
            **summary(scored),
            "by_country": countries,
            "worst_countries": worst,
            "worst_examples": examples,
        },
    }


# --------------------------------------------------------------------------- verify


def _verdict_stats(gold_valid: Sequence[bool], verdicts: Sequence[str]) -> dict[str, Any]:
    def shares(values: list[str]) -> dict[str, Any]:
        n = max(len(values), 1)
        return {
            "n": len(values),
            **{v: round(values.count(v) / n, 4) for v in ("valid", "uncertain", "invalid")},
        }

    pairs = list(zip(gold_valid, verdicts, strict=True))
    decided = [(g, v) for g, v in pairs if v in ("valid", "invalid")]
    positives = [v for g, v in pairs if g]
    negatives = [v for g, v in pairs if not g]
    n = max(len(pairs), 1)
    return {
        "positives": shares(positives),
        "negatives": shares(negatives),
        "coverage": round(len(decided) / n, 4),
        "decided_accuracy": round(
            sum((v == "valid") == g for g, v in decided) / max(len(decided), 1), 4
        ),
        "strict_accuracy": round(
            sum((v == "valid" and g) or (v == "invalid" and not g) for g, v in pairs) / n, 4
        ),
        "accept_accuracy": round(sum((v == "valid") == g for g, v in pairs) / n, 4),
        "false_accept_rate": round(negatives.count("valid") / max(len(negatives), 1), 4),
        "false_reject_rate": round(positives.count("invalid") / max(len(positives), 1), 4),
    }


VERIFY_MODES = ("country_given", "no_country")
VERIFY_CHUNK = 100  # addresses per verify_batch call, as a /v1/verify/batch request


def _verdicts(
    texts: Sequence[str], country: str | None, index: AddressIndex, classifier: Classifier
) -> tuple[list[str], int]:
    """Verdicts of ``verify_batch`` (chunks of 100); an input it refuses is ``error``."""
    from address.errors import AddressError
    from address.verify import Verification, verify, verify_batch

    verdicts: list[str] = []
    classifier_used = 0
    for start in range(0, len(texts), VERIFY_CHUNK):
        chunk = texts[start : start + VERIFY_CHUNK]
        results: list[Verification | None]
        try:
            results = list(verify_batch(chunk, country, searcher=index, classifier=classifier))
        except AddressError:  # one bad input fails the batch: verify one by one
            results = []
            for text in chunk:
                try:
                    results.append(verify(text, country, searcher=index, classifier=classifier))
                except AddressError:
                    results.append(None)
        for result in results:
            verdicts.append(result.verdict.value if result is not None else "error")
            classifier_used += bool(result is not None and result.classifier_used)
    return verdicts, classifier_used


def _rules_verdicts(texts: Sequence[str], country: str | None) -> list[str]:
    """Rules-only verdicts: libpostal (with the country hint when one is given), then
    ``address.rules.check`` for that country, else for the one ``detect_country`` finds
    (falling back to the service's default, as verify does); no reason = valid."""
    from address.errors import AddressError
    from address.libpostal import parse
    from address.rules import check, detect_country
    from address.settings import get_settings

    default = get_settings().default_country
    verdicts = []
    for text in texts:
        try:
            parsed = parse(text, country.lower() if country else None)
            code = country or detect_country(parsed, default) or "US"
            valid = not check(parsed, code)
        except AddressError:
            valid = False
        verdicts.append("valid" if valid else "invalid")
    return verdicts


def _verify_set(
    examples: Sequence[Example], index: AddressIndex, classifier: Classifier
) -> tuple[dict[str, Any], dict[str, Any]]:
    from finetune._labels import VALID

    gold = [e.label == VALID for e in examples]
    texts = [e.text for e in examples]
    country = Counter(e.country for e in examples).most_common(1)[0][0]
    ours: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    for mode in VERIFY_MODES:
        given = country if mode == "country_given" else None
        start = time.perf_counter()
        verdicts, used = _verdicts(texts, given, index, classifier)
        seconds = time.perf_counter() - start
        by_label: dict[str, Counter[str]] = defaultdict(Counter)
        for example, verdict in zip(examples, verdicts, strict=True):
            by_label[example.label][verdict] += 1
        ours[mode] = {
            "country": given,
            **_verdict_stats(gold, verdicts),
            "by_label": {k: dict(v) for k, v in sorted(by_label.items())},
            "errors": verdicts.count("error"),
            "classifier_used": round(used / max(len(texts), 1), 4),
            "addresses_per_s": round(len(texts) / seconds, 1),
        }
        start = time.perf_counter()
        rule_verdicts = _rules_verdicts(texts, given)
        rules[mode] = {
            "method": "libpostal parse + address.rules.check "
            + (f"for {given}" if given else "for the detected country")
            + "; no reason = valid",
            **_verdict_stats(gold, rule_verdicts),
            "addresses_per_s": round(len(texts) / (time.perf_counter() - start), 1),
        }
    return ours, rules


def eval_verify(folder: Path, sizes: Sizes, seed: int) -> dict[str, dict[str, Any]]:
    from finetune.classifier import Classifier
    from index.store import default_index_dir, load_index

    started = time.perf_counter()
    index = load_index(default_index_dir())
    classifier = Classifier.load()
    _log(f"verify: default index and classifier loaded in {time.perf_counter() - started:.0f} s")
    rng = random.Random(seed)
    results: dict[str, dict[str, Any]] = {}
    for name, loader in (("uk", _uk), ("de", _de), ("fr", _fr)):
        real = loader(folder, sizes.verify_per_country, rng)
        examples = other_country_set(name, real, 2 * len(real), seed, 0.5)
        ours, rules = _verify_set(examples, index, classifier)
        results[VERIFY_SETS[name]] = {"verify": ours, "baseline": {"verify": rules}}
        _log(f"verify {name}: {len(examples)} addresses, two ways")
    return results


# --------------------------------------------------------------------------- output


def _bars(datasets: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(label, ours top-1, baseline top-1) per suggest measure, for the chart and summary."""
    bars = []
    for name, entry in datasets.items():
        suggest, base = entry.get("suggest"), entry.get("baseline", {}).get("suggest")
        if not suggest or not base:
            continue
        if "top1" in suggest:
            ours_top1 = suggest["top1"]
            if name == HAMILTON:  # the baseline ran on a subset: compare on that subset
                ours_top1 = (base.get("ours_on_same_queries") or suggest)["top1"]
            if ours_top1 is not None and base.get("top1") is not None:
                bars.append((name, ours_top1, base["top1"]))
        else:
            for part, result in suggest.items():
                bars.append(
                    (f"{name} ({part.replace('_', ' ')})", result["top1"], base[part]["top1"])
                )
    return bars


def _plot(datasets: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = _bars(datasets)
    if not bars:
        return
    labels = []
    for label, _, _ in bars:
        name, _, part = label.partition(" (")
        labels.append(SHORT.get(name, name) + (f"\n({part}" if part else ""))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.7 * len(bars)), 4.4))
    xs = range(len(bars))
    width = 0.38
    ours = ax.bar([x - width / 2 for x in xs], [b[1] for b in bars], width, label="index.search")
    base = ax.bar(
        [x + width / 2 for x in xs], [b[2] for b in bars], width, label="rapidfuzz WRatio"
    )
    for group in (ours, base):
        for rect in group:
            ax.text(
                rect.get_x() + rect.get_width() / 2,
                rect.get_height() + 0.01,
                f"{rect.get_height():.3f}",
                ha="center",
                fontsize=7,
            )
    ax.set_xticks(list(xs), labels, fontsize=7)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("suggest top-1")
    ax.set_title("Suggest top-1 per dataset: index vs brute-force WRatio (same queries)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ms(latency: dict[str, float] | None) -> str:
    if not latency:
        return "-"
    return f"{latency['p50']:.1f} / {latency['p95']:.1f}"


def _suggest_rows(name: str, ours: dict[str, Any], base: dict[str, Any], label: str) -> list[str]:
    return [
        f"| {label} | {ours['n']} | {ours['top1']:.3f} / {ours['top5']:.3f} | "
        f"{base['top1']:.3f} / {base['top5']:.3f} | {_ms(ours['latency_ms'])} | "
        f"{_ms(base['latency_ms'])} | {base['speedup_p50']}x |"
    ]


def _markdown(result: dict[str, Any]) -> str:
    d = result["datasets"]
    lines = [
        "Accuracy of suggest, autocomplete, verify and formatting on real addresses from "
        "`../shared/datasets/` (sources and licences in its README), each beside a plain "
        "baseline measured in the same run.",
        "",
        f"Command: `{result['command']}` ({result['seconds']:.0f} s wall time, "
        f"{result['cpu_seconds']:.0f} s CPU time).  ",
        f"Machine: {result['machine']['cpus']} cores ({result['machine']['platform']}), "
        f"load average {result['machine']['load_average_start']} at the start: the cores "
        "were shared with other jobs, so latencies are contended figures.  ",
        f"Date: {result['date']}; seed {result['seed']}"
        + (f"; code at commit `{result['git_commit']}`" if result.get("git_commit") else "")
        + ("; **quick smoke run (tiny samples)**" if result["quick"] else "")
        + ".",
        "",
        "## Regions never in training",
        "",
        "The validity classifier trains on US (Linn County, Iowa) and Icelandic reference "
        "data only, and the default index holds only those two regions. **UK, German, French "
        "(and the few Dutch/Polish), Chicago and Hamilton County addresses were never in any "
        "training**, and no setting of the index or the classifier was tuned on them. The "
        "suggest and autocomplete figures below use small indexes built in this run from each "
        "dataset's own addresses; verify uses the default index (US-IA + IS), where none of "
        "these addresses is, so its verdicts rest on the rules and the classifier.",
        "",
    ]
    bars = _bars(d)
    if bars:
        lines += [
            "## Suggest: index vs brute force",
            "",
            "Top-1 / top-5 = the right row is first / among the first five. Baseline: "
            f"`{BASELINE}` over the same index rows (rapidfuzz's default: no pre-processing). "
            "Latency in ms, p50 / p95, one query at a time; speed-up = baseline p50 / index "
            "p50.",
            "",
            "| dataset (queries) | n | index top-1 / top-5 | WRatio top-1 / top-5 "
            "| index ms | WRatio ms | speed-up |",
            "|---|---:|---|---|---|---|---:|",
        ]
        for name, entry in d.items():
            suggest, base = entry.get("suggest"), entry.get("baseline", {}).get("suggest")
            if not suggest or not base or name == HAMILTON:
                continue
            if "top1" in suggest:
                rows = entry.get("index_rows")
                lines += _suggest_rows(name, suggest, base, f"{name} ({rows:,} rows)")
            else:
                for part, ours in suggest.items():
                    label = f"{name}, {part.replace('_', ' ')} ({entry['index_rows']:,} rows)"
                    lines += _suggest_rows(name, ours, base[part], label)
        lines += ["", f"Chart: `{NAME}.png` (top-1 per dataset, index vs baseline).", ""]
        lines += ["### By query kind (index top-1 / WRatio top-1)", ""]
        lines += ["| dataset | kind | n | index top-1 | WRatio top-1 |", "|---|---|---:|---:|---:|"]
        for name, entry in d.items():
            suggest, base = entry.get("suggest"), entry.get("baseline", {}).get("suggest")
            if not suggest or not base or name == HAMILTON:
                continue
            parts = (
                {"": (suggest, base)}
                if "top1" in suggest
                else {p: (suggest[p], base[p]) for p in suggest}
            )
            for part, (ours, theirs) in parts.items():
                for kind, v in ours["by_kind"].items():
                    label = f"{name}, {part.replace('_', ' ')}" if part else name
                    lines.append(
                        f"| {label} | {kind} | {v['n']} | {v['top1']:.3f} | "
                        f"{theirs['by_kind'][kind]['top1']:.3f} |"
                    )
        lines.append("")
    if any("autocomplete" in e and "by_prefix" in e["autocomplete"] for e in d.values()):
        lines += [
            "## Autocomplete",
            "",
            "Recall@5: the indexed address is among the five suggestions for the first 30 / "
            "50 / 70 % of its characters (at least 3). Baseline: the same WRatio call with the "
            "prefix as query. Latency in ms, p50 / p95 over all prefixes.",
            "",
            "| dataset | n per share | index recall@5 30/50/70 % | WRatio recall@5 30/50/70 % "
            "| index ms | WRatio ms |",
            "|---|---:|---|---|---|---|",
        ]
        for name, entry in d.items():
            ac = entry.get("autocomplete")
            if not ac or "by_prefix" not in ac:
                continue
            base = entry.get("baseline", {}).get("autocomplete")

            def recalls(result: dict[str, Any]) -> str:
                return " / ".join(
                    f"{result['by_prefix'][k]['recall_at_5']:.3f}"
                    for k in ("30%", "50%", "70%")
                    if k in result["by_prefix"]
                )

            n = next(iter(ac["by_prefix"].values()))["n"]
            base_cells = (
                f"{recalls(base)} | {_ms(ac['latency_ms'])} | {_ms(base['latency_ms'])}"
                if base
                else f"- | {_ms(ac.get('latency_ms'))} | -"
            )
            lines.append(f"| {name} | {n} | {recalls(ac)} | {base_cells} |")
        lines.append("")
        fr_prefix = d.get(FR, {}).get("autocomplete", {}).get("by_prefix", {})
        if fr_prefix and fr_prefix["70%"]["recall_at_5"] < fr_prefix["50%"]["recall_at_5"]:
            lines += [
                "French recall falls as more is typed: the autocomplete keys spell an address "
                "number first as `number street town region postcode` and street first as "
                "`street number postcode town`, so a French address typed number first with "
                "the postcode before the town (`34 Avenue de l'Opéra, 75002 Paris`) matches "
                "neither key once the postcode is reached (by hand on a small index: "
                "`34 Avenue de l'Opéra` finds it, `34 Avenue de l'Opéra, 75` finds nothing). "
                "German addresses (`Waldstraße 1, 68642 Bürstadt`) follow the street-first key "
                "and British ones (town before postcode) the number-first key.",
                "",
            ]
    ham = d.get(HAMILTON)
    if ham:
        lines += ["## Hamilton County, Ohio (242k voter addresses)", ""]
        if ham["status"] == "not run":
            lines += [
                f"Not run: this script does not build the 242k index; "
                f"`eval/results/{HAMILTON_RESULTS.name}` (written by `eval.bench_index` on "
                "that index) was absent when this ran.",
                "",
            ]
        else:
            s, b = ham["suggest"], ham["baseline"]["suggest"]
            same = b.get("ours_on_same_queries") or {}
            lines += [
                f"Read from `eval/results/{HAMILTON_RESULTS.name}` (command: "
                f"`{ham.get('command')}`), not measured by this script: "
                f"{ham.get('index_rows')} indexed rows, build {ham.get('build_seconds')} s; "
                f"search top-1 / top-5 {s.get('top1')} / {s.get('top5')} on {s.get('n')} "
                f"corrupted queries, latency ms p50 / p95 {_ms(s.get('latency_ms'))}; "
                f"WRatio baseline top-1 / top-5 {b.get('top1')} / {b.get('top5')} on "
                f"{b.get('n')} of those queries (index on the same: {same.get('top1')} / "
                f"{same.get('top5')}), WRatio ms {_ms(b.get('latency_ms'))}, speed-up "
                f"{b.get('speedup_p50')}x at the median; autocomplete recall@5 "
                + ", ".join(
                    f"{k} {v['recall_at_5']}" for k, v in ham["autocomplete"]["by_prefix"].items()
                )
                + ".",
                "",
            ]
    verify_sets = {n: e for n, e in d.items() if "verify" in e}
    if verify_sets:
        lines += [
            "## Verify on UK, German and French addresses",
            "",
            "Positives: real addresses of each dataset as written (those libpostal reads as "
            "number + street + town, as in `eval.classifier_eval`); negatives: the same "
            "addresses broken by `eval.classifier_eval`'s generators (number, street or town "
            "dropped, another town's postcode, cut short, not an address, gibberish). Ours: "
            "`address.verify.verify_batch(texts, country, searcher=default index, "
            "classifier=shipped adapter)`, as the service calls it, in batches of "
            f"{VERIFY_CHUNK}, once with the country given (as a checkout that knows it sends "
            "it) and once without (the service then detects it, falling back to US). Baseline: "
            "rules only (libpostal, then `address.rules.check`; no reason = valid), the same "
            "two ways (without a country, for the one `address.rules.detect_country` finds). The "
            "positives were chosen as those libpostal reads as number + street + town, the very "
            "reading the rules check, so the rules can hardly reject them: the rules' figures "
            "on positives are an upper bound.",
            "",
            "`uncertain` is kept apart, three ways: **decided accuracy** is the share right "
            "among valid/invalid verdicts (uncertain left out), with **coverage** the share "
            "that got one; **strict** counts uncertain as wrong; **accept** treats uncertain as "
            "not accepted (a checkout that accepts only `valid`). The rules baseline never says "
            "uncertain, so its three accuracies are equal.",
            "",
            "| dataset | country | method | n pos / neg | positives valid / uncertain / invalid "
            "| negatives valid / uncertain / invalid | coverage | decided acc. | strict acc. "
            "| accept acc. |",
            "|---|---|---|---|---|---|---:|---:|---:|---:|",
        ]
        for name, entry in verify_sets.items():
            for mode in VERIFY_MODES:
                for method, v in (
                    ("verify", entry["verify"][mode]),
                    ("rules only", entry["baseline"]["verify"][mode]),
                ):
                    p, ng = v["positives"], v["negatives"]
                    lines.append(
                        f"| {name} | {mode.replace('_', ' ')} | {method} | {p['n']} / {ng['n']} "
                        f"| {p['valid']:.3f} / {p['uncertain']:.3f} / {p['invalid']:.3f} "
                        f"| {ng['valid']:.3f} / {ng['uncertain']:.3f} / {ng['invalid']:.3f} "
                        f"| {v['coverage']:.3f} | {v['decided_accuracy']:.3f} "
                        f"| {v['strict_accuracy']:.3f} | {v['accept_accuracy']:.3f} |"
                    )
        lines += [
            "",
            "Throughput and classifier use (share of addresses the rules and index left to the "
            "classifier), country given: "
            + "; ".join(
                f"{n} {e['verify']['country_given']['addresses_per_s']} addresses/s "
                f"(classifier {e['verify']['country_given']['classifier_used']:.0%})"
                for n, e in verify_sets.items()
            )
            + ". Verdicts per negative kind are in the JSON (`by_label`).",
            "",
        ]
    fmt = d.get(FORMATTING)
    if fmt:
        f = fmt["formatting"]
        lines += [
            "## Formatting per country",
            "",
            f"{f['n']} OpenCage address-formatting test cases from {fmt['countries']} "
            "countries (skipped: "
            + (", ".join(f"{k}: {v}" for k, v in fmt["skipped"].items()) or "none")
            + "). The target is the expected layout's address lines: lines naming a place "
            "(`Pizza Hut`) or the country, which the test case does not give as components, are "
            "dropped (a line is kept when at least half its words come from the components). "
            "`format_address_line` formats the given components; `standardize` formats "
            "libpostal's parse of the target typed in lower case. **Exact** = equal after case "
            "folding with commas and line breaks as spaces; **token F1** = word-multiset "
            "overlap (precision and recall of words), order ignored. The CSV flattens each "
            "test case to five components (number, road, postcode, city, state), while the "
            "expected layouts also use others (suburb, state abbreviations such as `VIC`, "
            "district): where those appear, no formatter given these five can match exactly.",
            "",
            "| method | exact | token F1 |",
            "|---|---:|---:|",
            f"| format_address_line (components given) | {f['format_address_line']['exact']:.3f} "
            f"| {f['format_address_line']['token_f1']:.3f} |",
            f"| standardize (parse of lower-case text) | {f['standardize']['exact']:.3f} | "
            f"{f['standardize']['token_f1']:.3f} |",
            "",
            "Worst countries (by format_address_line token F1), with their worst case:",
            "",
            "| country | n | line exact | line F1 | standardize F1 | expected | ours |",
            "|---|---:|---:|---:|---:|---|---|",
        ]
        for c in f["worst_countries"]:
            s = f["by_country"][c]
            ex = f["worst_examples"][c]
            lines.append(
                f"| {c} | {s['n']} | {s['format_address_line']['exact']:.2f} | "
                f"{s['format_address_line']['token_f1']:.2f} | "
                f"{s['standardize']['token_f1']:.2f} | {ex['expected']} | "
                f"{ex['format_address_line']} |"
            )
        lines.append("")
    lines += ["## How the figures were made", ""]
    notes = {
        FR: "correct addresses = expected house number + street + town + postcode; the fuzzy "
        "rows come in threes per address (one names the town, one the postcode, one neither), "
        "so town and postcode are merged per address; plain rows likewise per (file, number, "
        "street) where exactly one town and one postcode result. Postal-relay rows (only the "
        "town expected) and rows with no expected number or street are left out (counts in "
        "the JSON). A hit is the row of the query's correct address. The index holds only "
        "these few thousand addresses, so this is easier than a national index.",
        CHICAGO: "spelling = `Address` + `Zip`, whitespace collapsed; one index row per "
        "`True Id` (most frequent spelling, components from libpostal); each other distinct "
        "spelling of the entity is one query; a hit is the row of the same entity.",
        DE: "every row with street, number, postcode and town; the address text as given; "
        "queries: bench_index's corruptions (typo in the street, abbreviation, no postcode, no "
        "town, lower case without punctuation, reordered, extra unit), with `straße`/`str.`, "
        "`platz`/`pl.` as the abbreviation and `Whg. N` as the unit.",
        UK: "a seeded sample of the rows whose text has a house number (as in "
        "eval.classifier_eval), parsed by libpostal into number, street, town and postcode and "
        "formatted in the British layout (the files have free text only); the same "
        "corruptions, with `Flat N, ` in front as the unit. A returned row with the very same "
        "address text counts as a hit.",
    }
    for name, text in notes.items():
        if name in d and "suggest" in d[name]:
            lines.append(f"- **{name}**: {text}")
    lines += [
        "- Indexes are built in this run with `IndexConfig(threads=1)`: a single-threaded "
        "HNSW build gives the same graph every run; all samples are seeded.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _git_commit() -> str | None:
    """The checked-out commit, with ``+dirty`` when tracked files differ from it."""
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+dirty" if dirty else "")) or None


def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    from address.libpostal import load

    sizes = QUICK if args.quick else Sizes()
    parts = args.only or list(PARTS)
    started, cpu_start = time.perf_counter(), _cpu_seconds()
    load()
    datasets: dict[str, dict[str, Any]] = {}
    timing: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="addr-datasets-eval-") as tmp:
        workdir = Path(tmp)
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("fr", lambda: eval_fr(args.datasets, sizes, args.seed, workdir)),
            ("chicago", lambda: eval_chicago(args.datasets, sizes, args.seed, workdir)),
            ("de", lambda: eval_de(args.datasets, sizes, args.seed, workdir)),
            ("uk", lambda: eval_uk(args.datasets, sizes, args.seed, workdir)),
            ("hamilton", lambda: eval_hamilton(args.datasets)),
            ("formatting", lambda: eval_formatting(args.datasets, sizes, args.seed)),
        ]
        for part, step in steps:
            if part in parts:
                wall, cpu = time.perf_counter(), _cpu_seconds()
                entry = step()
                entry["seconds"] = round(time.perf_counter() - wall, 1)
                entry["cpu_seconds"] = round(_cpu_seconds() - cpu, 1)
                datasets[PARTS[part]] = entry
                _log(
                    f"{PARTS[part]}: done in {entry['seconds']:.0f} s "
                    f"({entry['cpu_seconds']:.0f} s CPU)"
                )
    if "verify" in parts:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        for name, entry in eval_verify(args.datasets, sizes, args.seed).items():
            target = datasets.setdefault(name, {})
            target["verify"] = entry["verify"]
            target.setdefault("baseline", {})["verify"] = entry["baseline"]["verify"]
        timing["verify_seconds"] = round(time.perf_counter() - wall, 1)
        timing["verify_cpu_seconds"] = round(_cpu_seconds() - cpu, 1)
        _log(
            f"verify: done in {timing['verify_seconds']:.0f} s "
            f"({timing['verify_cpu_seconds']:.0f} s CPU)"
        )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "git_commit": _git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": args.load_start,
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
        "seed": args.seed,
        "quick": args.quick,
        "sizes": asdict(QUICK if args.quick else Sizes()),
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(_cpu_seconds() - cpu_start, 1),
        **timing,
        "datasets": datasets,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the datasets folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help="tiny samples: a smoke run")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(PARTS), help="run these parts only (default: all)"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the .md and .png from the .json already in --out",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        result = json.loads((args.out / f"{NAME}.json").read_text(encoding="utf-8"))
        _write_report(result, args.out)
        return 0
    if not args.datasets.is_dir():
        print(f"{args.datasets} is absent: nothing to evaluate, no results written.")
        return 0
    # Model loads print progress bars and load reports; the log lines say what matters.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    args.load_start = [round(x, 2) for x in os.getloadavg()]
    command = "python -m eval.datasets_eval " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    result = run(args, command.strip())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _write_report(result, args.out)
    return 0


def _write_report(result: dict[str, Any], out: Path) -> None:
    markdown = _markdown(result)
    (out / f"{NAME}.md").write_text(markdown, encoding="utf-8")
    _plot(result["datasets"], out / f"{NAME}.png")
    print(markdown)


if __name__ == "__main__":
    sys.exit(main())
