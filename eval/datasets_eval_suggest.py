"""Suggest and autocomplete per dataset: small indexes built in the run, against WRatio."""

from __future__ import annotations

import json
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from eval._common import RESULTS, latency_percentiles, log, only_value, timed_calls
from eval.bench_index import Query, accuracy, corrupt, corrupted_queries
from eval.classifier_sets import de_addresses, uk_addresses

if TYPE_CHECKING:
    from finetune.data import AddressParts
    from index.search import AddressIndex

BASELINE = "rapidfuzz.process.extract(query, index_row_strings, scorer=fuzz.WRatio, limit=5)"
SHARES = (0.3, 0.5, 0.7)

FR = "fr_nl_pl_geocoder_tester_queries"
CHICAGO = "chicago_dedupe_messy_addresses"
DE = "de_osm_community_centres"
UK = "uk_address_matching"
HAMILTON = "us_oh_hamilton_voters"
FORMATTING = "multi_address_formatting_testcases"
VERIFY_SETS = {"uk": UK, "de": DE, "fr": FR}
HAMILTON_RESULTS = RESULTS / "index_benchmark_hamilton.json"

# "34 Avenue de l'Opéra" -> house number "34", street "Avenue de l'Opéra".
NUMBER_THEN_STREET = re.compile(r"^(\d+[A-Za-z]*)\s+(.+)$")
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


def sample_in_order(items: list[Any], n: int, rng: random.Random) -> list[Any]:
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
    log(f"{name}: indexed {len(index)} rows in {time.perf_counter() - started:.0f} s")
    return index


def _reference(records: list[dict[str, str | None]], name: str, workdir: Path) -> pd.DataFrame:
    """Rows as a user would hand them over: a CSV read by ``load_reference_file``."""
    from index.user_files import load_reference_file

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
    found, seconds = timed_calls(ours, texts)
    base_found, base_seconds = timed_calls(baseline, texts)
    mine = {**accuracy(queries, found, address_of), "latency_ms": latency_percentiles(seconds)}
    base = {
        "method": BASELINE,
        **accuracy(queries, base_found, address_of),
        "latency_ms": latency_percentiles(base_seconds),
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
        city, postcode = only_value(group["expected_city"]), only_value(group["expected_postcode"])
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
        city, postcode = only_value(group["expected_city"]), only_value(group["expected_postcode"])
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
    fuzzy_q = [
        Query(targets[k], q, kind) for k, q, kind in sample_in_order(pending, sizes.fr_fuzzy, rng)
    ]
    written_q = [
        Query(targets[k], q, kind)
        for k, q, kind in sample_in_order(written, sizes.fr_as_written, rng)
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
    entities = sample_in_order(entities, sizes.chicago_entities, random.Random(f"{seed}:chicago"))
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
    real = de_addresses(folder, sizes.de_rows or 10**9, random.Random(f"{seed}:de"))
    result = _corrupted_dataset(DE, _parts_records(real, "de", True), sizes, seed, workdir)
    total = sum(1 for _ in (folder / f"{DE}.csv").open(encoding="utf-8")) - 1
    return {"rows": total, "rows_used": len(real), **result}


def eval_uk(folder: Path, sizes: Sizes, seed: int, workdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    real = uk_addresses(folder, sizes.uk_rows, random.Random(f"{seed}:uk"))
    log(f"{UK}: parsed a sample of {len(real)} rows in {time.perf_counter() - started:.0f} s")
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
