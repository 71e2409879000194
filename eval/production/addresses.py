"""The benchmark's addresses: held-out rows of each dataset, read, indexed and saved."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval._common import log, only_value

ADDED_EVERY = 5
"""Every fifth row of the small index is added to it after the build, not built in."""
# Datasets whose index rows are one-line addresses, parsed when they are loaded.
ONE_LINE_SETS = ("uk", "chicago", "hamilton")

UK, DE, FR, CHICAGO, HAMILTON = "uk", "de", "fr", "chicago", "hamilton"
DATASET_FILES = {
    UK: "uk_address_matching/*.tsv",
    DE: "de_osm_community_centres.csv",
    FR: "fr_nl_pl_geocoder_tester_queries.csv (France)",
    CHICAGO: "chicago_dedupe_messy_addresses.csv",
    HAMILTON: "us_oh_hamilton_voters.txt",
}

# Components a real-address row may hold for libpostal's reading to be trusted.
PLAIN_LABELS = frozenset(
    {"house_number", "road", "postcode", "city", "suburb", "city_district", "state_district"}
    | {"state"}
)
# One house number, not a range ("106-108"): the first line of a form is built from it.
PLAIN_NUMBER = re.compile(r"\d+[a-z]?", re.IGNORECASE)
ILLINOIS = re.compile(r"\b(?:IL|Illinois|Chicago)\b", re.IGNORECASE)
WORD = re.compile(r"\w+")
FR_SOURCE = "france"


def held_out(text: str) -> bool:
    """Whether a dataset row belongs to the held-out split this benchmark measures on.

    The split is by the row's address text: ``sha1(text) mod 10 >= 5`` is held out; the
    rest (``< 5``) is the dev split that tuning and tests may look at.
    """
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10 >= 5


@dataclass(frozen=True)
class Address:
    """A real address of a dataset: the text as a customer writes it, and its parts."""

    id: str
    dataset: str
    country: str
    text: str
    house_number: str
    road: str
    postcode: str
    city: str
    state: str | None = None
    covered: bool = False
    added: bool = False
    """In the small index through ``AddressIndex.add`` (``addr index add``), not the build."""

    @property
    def street_line(self) -> str:
        """The first line of a form: "Waldstraße 1" in Germany, "12 High Street" elsewhere."""
        if self.country == "DE":
            return f"{self.road} {self.house_number}"
        return f"{self.house_number} {self.road}"

    def fields(self, unit: str | None = None) -> dict[str, Any]:
        """The address as structured fields (``AddressFields`` keyword arguments)."""
        return {
            "lines": [self.street_line, *([unit] if unit else [])],
            "locality": self.city,
            "region": self.state,
            "postcode": self.postcode,
            "country": self.country,
        }


def glued(fields: dict[str, Any]) -> str:
    """Structured fields as one line, as the checkout page glued its form before (unit,
    street, town, region and postcode): "Apt 4B, 350 5th Ave, New York, NY 10118"."""
    street, *rest = fields["lines"]
    tail = " ".join(v for v in (fields["region"], fields["postcode"]) if v)
    return ", ".join(v for v in (*rest, street, fields["locality"], tail) if v)


def _plain(parsed: Any) -> bool:
    """libpostal read a plain number, a road and a town, and nothing else (no name)."""
    labels = set(parsed.components())
    return (
        labels <= PLAIN_LABELS
        and bool(parsed.house_number and parsed.road and parsed.city and parsed.postcode)
        and bool(PLAIN_NUMBER.fullmatch(parsed.house_number))
        and not any(c.isdigit() for c in parsed.road)
        and any(len(w) >= 3 for w in WORD.findall(parsed.road))
    )


def _parsed_lines(
    lines: Iterable[str], country: str, need: int, counts: Counter[str]
) -> list[dict[str, str]]:
    """One-line addresses whose libpostal reading is plain, ``need`` at most."""
    from address.libpostal import parse

    out: list[dict[str, str]] = []
    for text in lines:
        if len(out) >= need:
            break
        if _plain(parse(text, country)):
            out.append({"address": text, "country": country.upper()})
        else:
            counts["not read as number, road, town and postcode"] += 1
    return out


def _uk(folder: Path, need: int, rng: random.Random, counts: Counter[str]) -> list[dict[str, str]]:
    from eval.classifier_sets import HOUSE_NUMBER_START

    rows = []
    for path in sorted((folder / "uk_address_matching").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                raw = row.get("text") or ""
                text, postcode = raw.strip(" ,"), (row.get("postcode") or "").strip()
                counts["rows"] += 1
                if not held_out(raw):
                    counts["dev split"] += 1
                elif text and postcode and HOUSE_NUMBER_START.search(text):
                    rows.append(f"{text}, {postcode}")
    rng.shuffle(rows)
    return _parsed_lines(rows, "gb", need, counts)


def _hamilton(
    folder: Path, need: int, rng: random.Random, counts: Counter[str]
) -> list[dict[str, str]]:
    rows = []
    with (folder / "us_oh_hamilton_voters.txt").open(encoding="utf-8") as handle:
        for line in handle:
            counts["rows"] += 1
            if not held_out(line.strip()):
                counts["dev split"] += 1
            elif line.strip():
                rows.append(" ".join(line.split()))
    rng.shuffle(rows)
    return _parsed_lines(rows, "us", need, counts)


def _chicago(
    folder: Path, need: int, rng: random.Random, counts: Counter[str]
) -> list[dict[str, str]]:
    """One spelling per place (its most frequent one with a ZIP), the town added where the
    spelling has none: "5659 S Union Avenue, Chicago, IL 60621"."""
    spellings: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (folder / "chicago_dedupe_messy_addresses.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts["rows"] += 1
            spellings[row["True Id"]].append((row["Address"], row["Zip"].strip()))
    rows = []
    for place in sorted(spellings):
        if not all(held_out(raw) for raw, _ in spellings[place]):
            counts["places with a spelling in the dev split"] += 1
            continue
        zipped = Counter((" ".join(raw.split()), z) for raw, z in spellings[place] if z)
        if not zipped:
            counts["places without a ZIP"] += 1
            continue
        (text, zip_code), _ = zipped.most_common(1)[0]
        town = "" if ILLINOIS.search(text) else ", Chicago, IL"
        rows.append(f"{text}{town} {zip_code}")
    rng.shuffle(rows)
    return _parsed_lines(rows, "us", need, counts)


def _de(folder: Path, need: int, rng: random.Random, counts: Counter[str]) -> list[dict[str, str]]:
    """Rows with street, plain number, postcode and town; postcodes that lost their leading
    zero upstream ("4277 Leipzig") padded back to five digits."""
    out = []
    with (folder / "de_osm_community_centres.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts["rows"] += 1
            text = (row.get("address") or "").strip()
            if not held_out(row.get("address") or ""):
                counts["dev split"] += 1
                continue
            street, number = row["addr.street"].strip(), row["addr.housenumber"].strip()
            postcode, city = row["addr.postcode"].strip(), row["addr.city"].strip()
            if not (street and city and PLAIN_NUMBER.fullmatch(number) and postcode.isdigit()):
                counts["incomplete or not a plain number"] += 1
                continue
            padded = postcode.zfill(5)
            text = text.replace(f", {postcode} ", f", {padded} ")
            if f", {padded} " not in text:
                counts["text differs from the components"] += 1
                continue
            out.append(
                {
                    "address": text,
                    "number": number,
                    "street": street,
                    "postcode": padded,
                    "city": city,
                    "country": "DE",
                }
            )
    rng.shuffle(out)
    return out[:need]


def _fr(folder: Path, need: int, rng: random.Random, counts: Counter[str]) -> list[dict[str, str]]:
    """French addresses from the expected parts of geocoder-tester's plain queries (each
    address is queried about three ways: with the town, with the postcode, with neither);
    written "12 Rue du Fort, 11800 Barbaira"."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    with (folder / "fr_nl_pl_geocoder_tester_queries.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["source"].startswith(FR_SOURCE):
                continue
            counts["rows"] += 1
            number, street = row["expected_housenumber"].strip(), row["expected_street"].strip()
            if row["fuzzy"] == "False" and number and street:
                groups[(row["source"], number, street)].append(row)
    out = []
    for (_, number, street), rows in sorted(groups.items()):
        if not all(held_out(r["query"]) for r in rows):
            counts["addresses with a query in the dev split"] += 1
            continue
        city = only_value([r["expected_city"] for r in rows])
        postcode = only_value([r["expected_postcode"].split(".")[0] for r in rows])
        if not (city and postcode and PLAIN_NUMBER.fullmatch(number)):
            counts["addresses without one town and postcode"] += 1
            continue
        postcode = postcode.zfill(5)
        out.append(
            {
                "address": f"{number} {street}, {postcode} {city}",
                "number": number,
                "street": street,
                "postcode": postcode,
                "city": city,
                "country": "FR",
            }
        )
    rng.shuffle(out)
    return out[:need]


READERS = {UK: _uk, DE: _de, FR: _fr, CHICAGO: _chicago, HAMILTON: _hamilton}


def prepare(args: argparse.Namespace) -> None:
    """Read held-out rows, load them as a reference file, index the covered share and
    write ``addresses.json`` and the index ``covered/`` into ``args.workdir``."""
    import pandas as pd

    from address.libpostal import load
    from index.config import IndexConfig
    from index.store import build_index, load_index
    from index.user_files import load_reference_file

    load()
    workdir: Path = args.workdir
    records: list[dict[str, str]] = []
    covered_ids: set[str] = set()
    datasets: dict[str, dict[str, Any]] = {}
    for name, reader in READERS.items():
        counts: Counter[str] = Counter()
        rng = random.Random(f"{args.seed}:{name}")
        rows = reader(args.datasets, args.covered_rows + args.outside_rows, rng, counts)
        # Small sets (FR, Chicago) keep two fifths outside, the rest goes into the index.
        in_index = min(args.covered_rows, len(rows) - min(args.outside_rows, len(rows) * 2 // 5))
        for i, row in enumerate(rows, start=1):
            row_id = f"{name}-{i:05d}"
            records.append({"id": row_id, **row})
            if i <= in_index:
                covered_ids.add(row_id)
        datasets[name] = {"file": DATASET_FILES[name], "read": dict(counts), "used": len(rows)}
        log(f"{name}: {len(rows)} held-out addresses ({dict(counts)})")
    path = workdir / "reference.csv"
    pd.DataFrame.from_records(records).to_csv(path, index=False)
    skipped: Counter[str] = Counter()
    reference = load_reference_file(path, skipped=skipped)
    covered = reference[reference["id"].isin(covered_ids)].reset_index(drop=True)
    # A fifth of the index comes in through `addr index add`'s path, after the build.
    added = covered.iloc[::ADDED_EVERY].reset_index(drop=True)
    built = covered[~covered["id"].isin(set(added["id"]))].reset_index(drop=True)
    started = time.perf_counter()
    build_index(built, workdir / "covered", IndexConfig(threads=1))
    extended = load_index(workdir / "covered")
    extended.add(added)
    extended.save()
    seconds = round(time.perf_counter() - started, 1)
    log(f"covered index: {len(built)} rows built and {len(added)} added in {seconds:.0f} s")
    added_ids = set(added["id"])
    written = {r["id"]: r["address"] for r in records}
    addresses = []
    for loaded in reference.to_dict("records"):
        parts = {k: None if pd.isna(v) else str(v) for k, v in loaded.items()}
        if not all(parts[k] for k in ("house_number", "road", "postcode", "city")):
            skipped["no number, road, postcode or town after loading"] += 1
            continue
        addresses.append(
            Address(
                id=str(parts["id"]),
                dataset=str(parts["id"]).split("-")[0],
                country=str(parts["country"]),
                text=written[str(parts["id"])],
                house_number=str(parts["house_number"]),
                road=str(parts["road"]),
                postcode=str(parts["postcode"]),
                city=str(parts["city"]),
                state=parts["state"],
                covered=parts["id"] in covered_ids,
                added=parts["id"] in added_ids,
            )
        )
    for name, entry in datasets.items():
        mine = [a for a in addresses if a.dataset == name]
        entry["covered"] = sum(a.covered for a in mine)
        entry["outside"] = sum(not a.covered for a in mine)
    out = {
        "addresses": [asdict(a) for a in addresses],
        "datasets": datasets,
        "reference_skipped": dict(skipped),
        "index": {"rows": len(covered), "added": len(added), "build_seconds": seconds},
    }
    (workdir / "addresses.json").write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
