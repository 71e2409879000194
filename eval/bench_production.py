"""Production-shaped verify requests: the new code beside the old, in the same run.

Real addresses of ``../shared/datasets`` (UK, DE, FR, Chicago, Hamilton OH) sent the way
checkouts send them: with the recipient, company, phone, e-mail, web address and delivery
instructions before, after or inside the address (names, companies, numbers and web
addresses from ``faker`` in the address's locale, instructions from our own phrases per
language), with units in several positions and forms, and as structured fields. Every
request goes to two worker processes in turn, case by case, on the same index folders with
the shipped classifier:

* **new**: the checked-out code (or ``--new REV``);
* **baseline**: plain libpostal and the code at revision ``360ff93`` (``git archive`` into a
  temporary folder, imported through ``PYTHONPATH``; each worker reports the
  ``address/__init__.py`` it imported, and the run stops if it is not the expected tree).

Held-out rows only: a row whose address text ``t`` (UK ``text``, DE ``address``, FR
``query``, Chicago ``Address``, a Hamilton line) has ``held_out(t)`` false belongs to the
dev split that tuning may look at, and no request is made from it. An FR address is used
only when every query row naming it is held out, a Chicago place only when each of its
spellings is.

* **In coverage**: a small index built in this run over held-out rows of each dataset (UK,
  Chicago and Hamilton as one-line rows parsed by the reference loader, DE and FR with their
  components; every fifth row added with ``AddressIndex.add`` after the build, as
  ``addr index add`` does); requests name addresses in it.
* **Outside coverage**: the default index (Linn County, Iowa and Iceland), which holds none
  of these addresses.

Requests: noisy one-line texts (extras, half of them with a unit), structured fields beside
the one-line text as written (a fifth with a unit on the second line; the baseline gets the
fields glued into one line, as the checkout page sent them before), clean real addresses
outside coverage, as written, and the small index's own one-line addresses exactly as they
were indexed. The country is always given, as a checkout knows it.

Run (2 shared cores, 3 to 6 minutes; deterministic apart from latencies)::

    nice -n 15 .venv/bin/python -m eval.bench_production
    .venv/bin/python -m eval.bench_production --new 360ff93 --noisy 20 --structured 10 \\
        --plain 10 --covered-rows 200 --out /tmp/smoke

Writes ``eval/results/production.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "eval" / "results"
DATASETS = REPO.parent / "shared" / "datasets"
NAME = "production"
SEED = 4711
BASELINE_REV = "360ff93"
SIDES = ("new", "baseline")
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

KINDS = ("recipient", "company", "phone", "email", "url", "instructions")
# Chance that a noisy request carries each kind (at least one is always added), and where
# it goes: weights of before the address / inside it (after the street) / after it.
KIND_CHANCE = {
    "recipient": 0.6,
    "company": 0.3,
    "phone": 0.45,
    "email": 0.35,
    "url": 0.15,
    "instructions": 0.4,
}
KIND_PLACES = {
    "recipient": (8, 1, 1),
    "company": (7, 1, 2),
    "phone": (2, 2, 6),
    "email": (2, 2, 6),
    "url": (2, 1, 7),
    "instructions": (2, 2, 6),
}
PLACES = ("before", "inside", "after")
LOCALES = {"US": "en_US", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR"}
LANGUAGES = {"US": "en", "GB": "en", "DE": "de", "FR": "fr"}
INSTRUCTIONS = {
    "en": (
        "Leave at the back door",
        "Please ring the bell twice",
        "Call on arrival",
        "Deliver to reception",
        "Leave with neighbour if not home",
        "Gate code 4512",
        "Do not leave in the rain",
        "Knock loudly, doorbell broken",
    ),
    "de": (
        "Bitte beim Nachbarn abgeben",
        "Paket vor die Tür legen",
        "Bitte zweimal klingeln",
        "Hintereingang benutzen",
        "Abstellort Garage",
        "Nicht klingeln, Baby schläft",
    ),
    "fr": (
        "Laisser chez le gardien",
        "Sonner deux fois",
        "Déposer devant la porte",
        "Code portail 4512",
        "Appeler avant de passer",
        "Livrer à l'accueil",
    ),
}
PHONE_LABELS = {
    "en": ("Tel", "Phone:", "Ph.", "Mobile", "Cell:"),
    "de": ("Tel.", "Telefon:", "Handy", "Mobil:"),
    "fr": ("Tél.", "Tel :", "Portable", "Mobile :"),
}
# Unit forms per country: (written before the identifier, the identifier's pattern).
UNIT_FORMS = {
    "US": (
        ("Apt ", "{n}{L}"),
        ("Apt. ", "{n}"),
        ("Unit ", "{n}"),
        ("Suite ", "{n}00"),
        ("#", "{n}"),
        ("#", "{nn}-{mm}"),
        ("Fl ", "{n}"),
    ),
    "GB": (("Flat ", "{n}"), ("Flat ", "{n}{L}"), ("Unit ", "{n}"), ("Suite ", "{n}")),
    "DE": (("Wohnung ", "{n}"), ("Whg. ", "{n}"), ("Appartement ", "{n}")),
    "FR": (("Appartement ", "{n}"), ("Appt ", "{n}"), ("Bât. ", "{L}")),
}
UNIT_PLACES = ("before", "after_street", "end")
"""Where a unit goes in a one-line text: "Flat 3, 12 High St", "12 High St Apt 4B, ...",
"..., NY 10118 Apt 4B". Structured requests put it on the second line (``line2``)."""

# Words of a noise piece too common to tell anything when found in an answer.
STOPWORDS = frozenset(
    {"the", "and", "for", "with", "bei", "der", "die", "das", "und", "den", "dem", "les"}
    | {"des", "aux", "pour", "avec", "une", "sur", "not"}
)
LOCALITY_KEYS = ("city", "suburb", "city_district", "state_district", "island")
# Components a real-address row may hold for libpostal's reading to be trusted.
PLAIN_LABELS = frozenset(
    {"house_number", "road", "postcode", "city", "suburb", "city_district", "state_district"}
    | {"state"}
)
# One house number, not a range ("106-108"): the first line of a form is built from it.
PLAIN_NUMBER = re.compile(r"\d+[a-z]?", re.IGNORECASE)
ILLINOIS = re.compile(r"\b(?:IL|Illinois|Chicago)\b", re.IGNORECASE)
WORD = re.compile(r"\w+")
DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-().]+(?=\d)")
COMPACT = re.compile(r"[\s\-.#/]+")
UNIT_TOKEN = re.compile(r"[0-9a-z]+(?:[-/.][0-9a-z]+)*")
FR_SOURCE = "france"


def held_out(text: str) -> bool:
    """Whether a dataset row belongs to the held-out split this benchmark measures on.

    The split is by the row's address text: ``sha1(text) mod 10 >= 5`` is held out; the
    rest (``< 5``) is the dev split that tuning and tests may look at.
    """
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10 >= 5


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- addresses


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


def _one(values: Sequence[str]) -> str | None:
    """The single distinct non-empty value, else None."""
    found = {v.strip() for v in values if v and v.strip()}
    return found.pop() if len(found) == 1 else None


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
    from eval.classifier_eval import HOUSE_NUMBER_START

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
        city = _one([r["expected_city"] for r in rows])
        postcode = _one([r["expected_postcode"].split(".")[0] for r in rows])
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
    from index.reference import load_reference_file
    from index.store import build_index, load_index

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
        _log(f"{name}: {len(rows)} held-out addresses ({dict(counts)})")
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
    _log(f"covered index: {len(built)} rows built and {len(added)} added in {seconds:.0f} s")
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


# --------------------------------------------------------------------------- noise


@dataclass(frozen=True)
class Noisy:
    """A noisy request text and what was put into it."""

    text: str
    truth: dict[str, str]
    """Extras placed, by kind: the value an extraction should return."""
    placed: tuple[str, ...]
    """The noise as written into the text (with "Tel:" and the like)."""
    places: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    unit_id: str | None = None
    unit_place: str | None = None


@functools.lru_cache(maxsize=8)
def _faker(locale: str) -> Faker:
    from faker import Faker

    return Faker(locale)


def make_unit(country: str, rng: random.Random) -> tuple[str, str]:
    """A unit as written and its identifier: ("Apt 4B", "4B"), ("#05-67", "05-67")."""
    prefix, pattern = rng.choice(UNIT_FORMS[country])
    ident = pattern.format(
        n=rng.randint(1, 30),
        L=rng.choice("ABCDEF"),
        nn=f"{rng.randint(1, 20):02d}",
        mm=f"{rng.randint(1, 99):02d}",
    )
    return prefix + ident, ident


def _extras(country: str, rng: random.Random) -> tuple[dict[str, str], dict[str, str]]:
    """Extras by kind, and each as written into the text (a phone may carry a label)."""
    fake = _faker(LOCALES[country])
    fake.seed_instance(rng.randrange(2**32))
    language = LANGUAGES[country]
    kinds = [k for k in KINDS if rng.random() < KIND_CHANCE[k]] or [rng.choice(KINDS)]
    truth: dict[str, str] = {}
    written: dict[str, str] = {}
    for kind in kinds:
        if kind == "recipient":
            value = fake.name()
        elif kind == "company":
            value = fake.company()
        elif kind == "phone":
            value = re.sub(r"\s*x\d+$", "", fake.phone_number())  # no extension
        elif kind == "email":
            value = fake.email()
        elif kind == "url":
            value = fake.url() if rng.random() < 0.6 else "www." + fake.domain_name()
        else:
            value = rng.choice(INSTRUCTIONS[language])
        truth[kind] = value
        label = kind == "phone" and rng.random() < 0.4
        written[kind] = f"{rng.choice(PHONE_LABELS[language])} {value}" if label else value
    return truth, written


def _split_after_street(text: str, street_line: str) -> tuple[str, str]:
    """The text up to the end of its street line, and the rest ("", when not found)."""
    at = text.casefold().find(street_line.casefold())
    if at < 0:
        return text, ""
    end = at + len(street_line)
    return text[:end], text[end:]


def _joined(head: str, tail: str) -> str:
    """Head and tail of an address with a comma between them, unless one is there."""
    if not tail:
        return head
    return head + (tail if tail.lstrip().startswith(",") else "," + tail)


def make_noisy(address: Address, seed: str, with_unit: bool) -> Noisy:
    """The address as written with extras (and a unit) around or inside it; the same
    ``seed`` gives the same text."""
    rng = random.Random(seed)
    truth, written = _extras(address.country, rng)
    places = {k: rng.choices(PLACES, KIND_PLACES[k])[0] for k in written}
    head, tail = _split_after_street(address.text, address.street_line)
    if not tail:
        places = {k: "after" if p == "inside" else p for k, p in places.items()}
    unit = unit_id = unit_place = None
    comma = False
    if with_unit:
        unit, unit_id = make_unit(address.country, rng)
        unit_place = rng.choice(UNIT_PLACES if tail else ("before", "end"))
        if unit_place == "after_street":
            comma = rng.random() < 0.5
            head = f"{head}{', ' if comma else ' '}{unit}"
    inside = [written[k] for k in written if places[k] == "inside"]
    core = _joined(", ".join([head, *inside]), tail) if inside or comma else head + tail
    if unit_place == "before":
        core = f"{unit}, {core}"
    elif unit_place == "end":
        core = f"{core}{rng.choice((' ', ', '))}{unit}"
    separator = rng.choices((", ", " - ", " "), (15, 2, 3))[0]
    before = [written[k] for k in written if places[k] == "before"]
    after = [written[k] for k in written if places[k] == "after"]
    text = separator.join([*before, core, *after])
    return Noisy(text, truth, tuple(written.values()), places, unit, unit_id, unit_place)


# --------------------------------------------------------------------------- judges


def fold(text: str) -> str:
    """Case- and accent-free: "Bürstadt" -> "burstadt"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> set[str]:
    return set(WORD.findall(fold(text)))


def _digits(text: str) -> str:
    """Digit runs with the spaces, dashes and brackets inside them removed."""
    return DIGIT_GAPS.sub("", text)


def noise_words(noisy: Noisy, address: Address) -> set[str]:
    """Words of the noise that the address itself does not hold (three characters or more,
    common function words left out): what must not reach an answer."""
    own = words(address.text) | words(noisy.unit or "")
    found = set()
    for piece in noisy.placed:
        found |= {w for w in words(piece) if len(w) >= 3 and w not in own | STOPWORDS}
    return found


def _present(part: str, have: set[str]) -> bool:
    """The longest word of ``part`` is among ``have``, or one is an abbreviation of the
    other ("waldstr" / "waldstrasse")."""
    core = max(words(part), key=len, default="")
    return any(
        w == core or (min(len(w), len(core)) >= 4 and (core.startswith(w) or w.startswith(core)))
        for w in have
    )


def judge_clean(
    answer: dict[str, Any], address: Address, noisy: Noisy | None, components: bool = True
) -> str | None:
    """Why an answer's standardized form is not clean, or None when it is: no word of the
    noise (names, phone digits, e-mail, web address, instruction words) in ``standardized``
    or (unless ``components`` is false) in a component value, and the address's own number,
    street and town still in ``standardized``."""
    standardized = answer["standardized"]
    answer_text = " ".join([standardized, *(answer["components"].values() if components else ())])
    if noisy is not None:
        leaked = sorted(noise_words(noisy, address) & words(answer_text))
        if leaked:
            return "noise in the answer: " + " ".join(leaked[:4])
        phone = re.sub(r"\D", "", noisy.truth.get("phone", ""))[-7:]
        if len(phone) == 7 and phone in re.sub(r"\D", " ", _digits(answer_text)):
            return "phone number in the answer"
    have = words(standardized)
    number = re.match(r"\d+", address.house_number)
    if number and not re.search(rf"(?<!\d){number[0]}(?!\d)", fold(standardized)):
        return "house number missing"
    if not _present(address.road, have):
        return "street missing"
    if not _present(address.city, have):
        return "town missing"
    return None


def _url(text: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", fold(text).strip()).rstrip("/")


def extra_matches(kind: str, truth: str, got: str) -> bool:
    """Whether an extracted value says what was placed: the same last nine digits of a
    phone number, the same e-mail or web address (case, scheme and ``www.`` aside), or for
    names, companies and instructions a word-set F1 of at least 0.8."""
    if kind == "phone":
        a, b = re.sub(r"\D", "", truth), re.sub(r"\D", "", got)
        return len(b) >= 7 and a[-9:] == b[-9:]
    if kind == "email":
        return fold(truth).strip() == fold(got).removeprefix("mailto:").strip()
    if kind == "url":
        return _url(truth) == _url(got)
    mine, theirs = words(truth), words(got)
    common = len(mine & theirs)
    return common > 0 and 2 * common / (len(mine) + len(theirs)) >= 0.8


def unit_found(unit_id: str, components: dict[str, str], labels: Sequence[str]) -> bool:
    """The unit's identifier ("4B", "05-67") is a word of one of the ``labels``' values,
    or ends one right after its letters ("apt4b")."""
    wanted = COMPACT.sub("", fold(unit_id))
    for label in labels:
        for token in UNIT_TOKEN.findall(fold(components.get(label) or "")):
            token = COMPACT.sub("", token)
            if token == wanted or (
                wanted[:1].isdigit()
                and token.endswith(wanted)
                and token[-len(wanted) - 1].isalpha()
            ):
                return True
    return False


def cross_town(address: Address, components: dict[str, str]) -> bool:
    """A suggestion whose town and postcode both differ from the input's (a suggestion
    that names neither counts as differing)."""
    towns = {fold(components[k]) for k in LOCALITY_KEYS if components.get(k)}
    postcode = COMPACT.sub("", fold(components.get("postcode") or ""))
    return fold(address.city) not in towns and postcode != COMPACT.sub("", fold(address.postcode))


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    """One verify request: ``case`` is noisy, structured, one-line (the structured
    request's pair), plain (a clean real address outside coverage), own (a one-line
    address of the small index, exactly as it was indexed) or misspelt (an address of the
    small index with another house number or a street typo)."""

    case: str
    address: Address
    text: str
    fields: dict[str, Any] | None = None
    noisy: Noisy | None = None
    pair: int | None = None
    unit_id: str | None = None
    unit_place: str | None = None

    @property
    def coverage(self) -> str:
        return "covered" if self.address.covered else "outside"


def _balanced(addresses: list[Address], n: int, rng: random.Random) -> list[Address]:
    """``n`` addresses, round-robin over datasets, each drawn once while a set lasts."""
    by_set: dict[str, list[Address]] = defaultdict(list)
    for a in addresses:
        by_set[a.dataset].append(a)
    if not by_set:
        return []
    names = sorted(by_set)
    per = -(-n // len(names))
    drawn = {k: rng.sample(by_set[k], min(per, len(by_set[k]))) for k in names}
    return [
        drawn[names[i % len(names)]][i // len(names) % len(drawn[names[i % len(names)]])]
        for i in range(n)
    ]


def misspelt(address: Address, *, number: bool) -> str | None:
    """The address as written with a house number the index lacks ("12" -> "129") or a
    letter dropped from the street's longest word ("Greyhound" -> "Greyhund"): what a
    did-you-mean is for. ``None`` when the text does not show the part as indexed."""
    text = address.text
    if number:
        at = re.search(rf"(?<![\w]){re.escape(address.house_number)}(?![\w])", text, re.I)
        return None if at is None else f"{text[: at.end()]}9{text[at.end() :]}"
    word = max(address.road.split(), key=len)
    at = text.lower().find(word.lower())
    if len(word) < 5 or at < 0:
        return None
    middle = at + len(word) // 2
    return text[:middle] + text[middle + 1 :]


def make_requests(addresses: list[Address], sizes: argparse.Namespace) -> list[Request]:
    """Every request of the run, in a seeded shuffled order."""
    rng = random.Random(f"{sizes.seed}:requests")
    pools = {
        True: [a for a in addresses if a.covered],
        False: [a for a in addresses if not a.covered],
    }
    requests: list[Request] = []
    for covered, pool in pools.items():
        for i, a in enumerate(_balanced(pool, sizes.noisy, rng)):
            noisy = make_noisy(a, f"{sizes.seed}:{covered}:{i}", with_unit=i % 2 == 0)
            requests.append(
                Request(
                    "noisy",
                    a,
                    noisy.text,
                    noisy=noisy,
                    unit_id=noisy.unit_id,
                    unit_place=noisy.unit_place,
                )
            )
        for a in _balanced(pool, sizes.structured, rng):
            pair = len(requests)
            unit, unit_id = make_unit(a.country, rng) if rng.random() < 0.2 else (None, None)
            fields = a.fields(unit)
            head, tail = _split_after_street(a.text, a.street_line)
            one_line = f"{head} {unit}{tail}" if unit else a.text
            requests += [
                Request(
                    "structured",
                    a,
                    glued(fields),
                    fields,
                    pair=pair,
                    unit_id=unit_id,
                    unit_place="line2" if unit else None,
                ),
                Request("one-line", a, one_line, pair=pair),
            ]
    by_set: dict[str, list[Address]] = defaultdict(list)
    for a in pools[False]:
        by_set[a.dataset].append(a)
    for name, pool in sorted(by_set.items()):
        n = sizes.plain * (2 if name == HAMILTON else 1)
        requests += [Request("plain", a, a.text) for a in rng.sample(pool, min(n, len(pool)))]
    for i, a in enumerate(_balanced(pools[True], sizes.misspelt, rng)):
        if (text := misspelt(a, number=i % 2 == 0)) is not None:
            requests.append(Request("misspelt", a, text))
    own = [a for a in pools[True] if a.dataset in ONE_LINE_SETS]
    requests += [Request("own", a, a.text) for a in _balanced(own, sizes.own, rng)]
    rng.shuffle(requests)
    return requests


# --------------------------------------------------------------------------- workers


def _answer(verification: Any) -> dict[str, Any]:
    """A verification as JSON: what the figures read."""
    coverage = getattr(verification, "coverage", None)
    return {
        "verdict": str(verification.verdict),
        "granularity": str(verification.granularity),
        "reasons": [str(r) for r in verification.reasons],
        "standardized": verification.standardized,
        "components": dict(verification.components),
        "match": verification.match.id if verification.match else None,
        "suggestions": [
            {"id": s.id, "address": s.address, "components": dict(s.components)}
            for s in verification.suggestions
        ],
        "extras": dict(getattr(verification, "extras", None) or {}),
        "coverage": None if coverage is None else str(coverage),
    }


def serve(indexes: dict[str, Path]) -> None:
    """The worker: load libpostal, the indexes and the classifier of whatever code
    ``PYTHONPATH`` names, say "ready" with what that code can do, then answer one JSON line
    per request line until stdin closes."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # libraries' prints must not mix with the answers
    import dataclasses

    import address
    from address.libpostal import load
    from address.verify import Verification, verify_batch
    from finetune.classifier import Classifier
    from index.store import load_index

    structured: Any = None  # the baseline has no structured input
    with contextlib.suppress(ImportError):
        from address.fields import AddressFields

        structured = AddressFields
    started = time.perf_counter()
    load()
    loaded = {name: load_index(path) for name, path in indexes.items()}
    classifier = Classifier.load()
    for index in loaded.values():
        index.load_embedder()
        rows = index.rows.loc[~index.rows["deleted"].astype(bool), "address"]
        for text in [*rows.iloc[:: max(1, len(rows) // 6)].head(6), "call me before noon"]:
            verify_batch([text], searcher=index, classifier=classifier)
    names = {f.name for f in dataclasses.fields(Verification)}
    ready = {
        "ready": True,
        "address_file": address.__file__,
        "fields": structured is not None,
        "extras": "extras" in names,
        "coverage": "coverage" in names,
        "load_seconds": round(time.perf_counter() - started, 1),
    }
    protocol.write(json.dumps(ready) + "\n")
    for line in sys.stdin:
        ask = json.loads(line)
        item: Any = ask.get("text")
        if "fields" in ask and structured is not None:
            item = structured(**{**ask["fields"], "lines": tuple(ask["fields"]["lines"])})
        started = time.perf_counter()
        try:
            got = verify_batch(
                [item], ask["country"], searcher=loaded[ask["index"]], classifier=classifier
            )[0]
            out = {"ok": True, **_answer(got)}
        except Exception as error:  # a failing request is counted, not fatal
            out = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        out["ms"] = round((time.perf_counter() - started) * 1000, 2)
        protocol.write(json.dumps(out, ensure_ascii=False) + "\n")


class Worker:
    """A :func:`serve` process on the code of ``tree``."""

    def __init__(self, side: str, tree: Path, indexes: dict[str, Path], log: Path) -> None:
        self.side, self.tree, self.log = side, tree, log
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "TRANSFORMERS_VERBOSITY": "error",
        }
        command = [sys.executable, str(Path(__file__).resolve()), "worker"]
        command += [arg for name, path in indexes.items() for arg in ("--index", f"{name}={path}")]
        with log.open("w", encoding="utf-8") as err:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                encoding="utf-8",
                cwd=REPO,
                env=env,
            )
        self.info: dict[str, Any] = {}

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{self.side} worker exited:\n{tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def wait_ready(self) -> dict[str, Any]:
        """Block until loaded; check that the code imported is the tree's."""
        self.info = self._read()
        if not Path(self.info["address_file"]).resolve().is_relative_to(self.tree.resolve()):
            raise RuntimeError(
                f"{self.side} worker imported {self.info['address_file']}, not {self.tree}"
            )
        return self.info

    def ask(self, request: Request) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "index": "covered" if request.address.covered else "default",
            "country": request.address.country,
            "text": request.text,
        }
        if request.fields is not None and self.info.get("fields"):
            payload["fields"] = request.fields
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(payload, ensure_ascii=False) + "\n")
        stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _tree(rev: str, folder: Path) -> Path:
    """The code of ``rev`` unpacked into ``folder``."""
    folder.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


# --------------------------------------------------------------------------- figures


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _latency(ms: Sequence[float]) -> dict[str, float] | None:
    if len(ms) < 2:
        return None
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": round(statistics.median(ms), 1), "p95": round(cuts[94], 1)}


def _example(request: Request, answer: dict[str, Any], why: str) -> dict[str, Any]:
    return {
        "dataset": request.address.dataset,
        "input": request.text,
        "why": why,
        "standardized": answer.get("standardized"),
        "components": answer.get("components"),
    }


def figures(requests: Sequence[Request], answers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of one side, with a few failing examples each."""
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def note(kind: str, request: Request, answer: dict[str, Any], why: str) -> None:
        if len(examples[kind]) < 6:
            examples[kind].append(_example(request, answer, why))

    ok = [(r, a) for r, a in zip(requests, answers, strict=True) if a["ok"]]
    errors = Counter(a["error"].split(":")[0] for a in answers if not a["ok"])
    clean: dict[str, list[bool]] = defaultdict(list)
    match_noisy: list[bool] = []
    pairs: dict[int, dict[str, tuple[Request, dict[str, Any]]]] = defaultdict(dict)
    extras = {k: Counter[str]() for k in KINDS}
    units: dict[str, list[bool]] = defaultdict(list)
    units_or_level: list[bool] = []
    suggestions = {c: Counter[str]() for c in ("covered", "outside")}
    plain: dict[str, list[bool]] = defaultdict(list)
    own: dict[str, list[bool]] = defaultdict(list)
    helped: list[bool] = []
    reject_reasons: Counter[str] = Counter()
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    latency: dict[str, list[float]] = defaultdict(list)
    for r, a in ok:
        verdicts[f"{r.case}, {r.coverage}"][a["verdict"]] += 1
        latency["all"].append(a["ms"])
        latency[r.coverage].append(a["ms"])
        why = judge_clean(a, r.address, r.noisy)
        clean[r.coverage if r.case == "noisy" else "noise-free"].append(why is None)
        if why is not None:
            note("not clean, " + (r.coverage if r.case == "noisy" else "noise-free"), r, a, why)
        if r.case == "noisy":
            clean[f"{r.coverage}, standardized only"].append(
                judge_clean(a, r.address, r.noisy, components=False) is None
            )
        if r.case == "noisy" and r.address.covered:
            match_noisy.append(a["match"] == r.address.id)
        if r.pair is not None:
            pairs[r.pair][r.case] = (r, a)
        truth = r.noisy.truth if r.noisy else {}
        for kind in KINDS:
            got, placed = a["extras"].get(kind), truth.get(kind)
            right = got is not None and placed is not None and extra_matches(kind, placed, got)
            extras[kind].update(truth=placed is not None, given=got is not None, right=right)
            if placed is not None and not right:
                note(f"extra missed: {kind}", r, a, f"placed {placed!r}, got {got!r}")
            elif got is not None and not right:
                note(f"extra wrong: {kind}", r, a, f"placed {placed!r}, got {got!r}")
        if r.unit_id is not None and r.unit_place is not None:
            found = unit_found(r.unit_id, a["components"], ("unit",))
            units[r.unit_place].append(found)
            units_or_level.append(unit_found(r.unit_id, a["components"], ("unit", "level")))
            if not found:
                note("unit not found", r, a, f"unit {r.unit_id!r} ({r.unit_place})")
        offered = suggestions[r.coverage]
        cross = [s for s in a["suggestions"] if cross_town(r.address, s["components"])]
        offered.update(answers=1, offered=len(a["suggestions"]), cross=len(cross))
        offered.update(with_cross=bool(cross), with_any=bool(a["suggestions"]))
        if cross:
            note("cross-town suggestion", r, a, f"suggested {cross[0]['address']!r}")
        if r.case == "misspelt":
            ids = [s["id"] for s in a["suggestions"]]
            helped.append(bool(ids))
        if r.case == "own":
            exact = (a["verdict"], a["granularity"], a["match"]) == (
                "valid",
                "premise",
                r.address.id,
            )
            own["added" if r.address.added else "built"].append(exact)
            if not exact:
                note("own address not matched", r, a, f"{a['verdict']} at {a['granularity']}")
        if r.case == "plain":
            rejected = a["verdict"] == "invalid"
            plain[r.address.dataset].append(rejected)
            if rejected:
                reject_reasons.update(a["reasons"])
                note("false reject", r, a, ", ".join(a["reasons"]))
    agree: dict[str, list[bool]] = defaultdict(list)
    match_structured: list[bool] = []
    for pair in pairs.values():
        if set(pair) != {"structured", "one-line"}:
            continue
        (r, structured), (_, one_line) = pair["structured"], pair["one-line"]
        same = structured["verdict"] == one_line["verdict"]
        agree[r.coverage].append(same)
        if not same:
            said = f"one-line said {one_line['verdict']}"
            note("structured and one-line differ", r, structured, said)
        if r.address.covered:
            match_structured.append(structured["match"] == r.address.id)
    rejects = [x for values in plain.values() for x in values]
    return {
        "requests": len(answers),
        "errors": dict(errors),
        "clean": {
            "covered": _share(clean["covered"]),
            "outside": _share(clean["outside"]),
            "noise_free_control": _share(clean["noise-free"]),
            "standardized_only": {
                c: _share(clean[f"{c}, standardized only"]) for c in ("covered", "outside")
            },
            "n": {k: len(v) for k, v in clean.items()},
        },
        "match_noisy_covered": _share(match_noisy),
        "structured": {
            "agreement": _share(agree["covered"] + agree["outside"]),
            "agreement_covered": _share(agree["covered"]),
            "agreement_outside": _share(agree["outside"]),
            "match_covered": _share(match_structured),
            "pairs": sum(len(v) for v in agree.values()),
        },
        "cross_town": {
            "rate": _share_of(
                sum(s["cross"] for s in suggestions.values()),
                sum(s["offered"] for s in suggestions.values()),
            ),
            "answers_with_one": _share_of(
                sum(s["with_cross"] for s in suggestions.values()),
                sum(s["answers"] for s in suggestions.values()),
            ),
            "by_coverage": {c: dict(s) for c, s in suggestions.items()},
        },
        "extras": {
            k: {
                "placed": c["truth"],
                "given": c["given"],
                "recall": _share_of(c["right"], c["truth"]),
                "precision": _share_of(c["right"], c["given"]),
            }
            for k, c in extras.items()
        },
        "unit": {
            "found": _share([x for v in units.values() for x in v]),
            "found_as_unit_or_level": _share(units_or_level),
            "by_place": {k: {"n": len(v), "found": _share(v)} for k, v in sorted(units.items())},
        },
        "misspelt_with_suggestions": _share(helped),
        "own": {
            "valid_premise": _share(own["built"] + own["added"]),
            "built": _share(own["built"]),
            "added": _share(own["added"]),
            "n": {k: len(v) for k, v in own.items()},
        },
        "false_rejects": {
            "rate": _share(rejects),
            "n": len(rejects),
            "invalid": sum(rejects),
            "by_dataset": {k: {"n": len(v), "rate": _share(v)} for k, v in sorted(plain.items())},
            "by_reason": dict(reject_reasons.most_common()),
        },
        "latency_ms": {k: _latency(v) for k, v in latency.items()},
        "verdicts": {k: dict(v) for k, v in sorted(verdicts.items())},
        "examples": dict(examples),
    }


def _share_of(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --------------------------------------------------------------------------- targets


def unit_share(side: str, measured: dict[str, Any]) -> float | None:
    """Units found: in ``components["unit"]`` for the new code, in libpostal's ``unit`` or
    ``level`` for the baseline."""
    found: float | None = measured["unit"][
        "found_as_unit_or_level" if side == "baseline" else "found"
    ]
    return found


Row = tuple[str, str, str, str, bool | None]


def _f(value: float | None, spec: str = ".3f") -> str:
    return "—" if value is None else f"{value:{spec}}"


def target_rows(new: dict[str, Any], base: dict[str, Any]) -> list[Row]:
    """(figure, new, baseline, target, met by new) for every stated target."""

    def at_least(x: float | None, t: float) -> bool | None:
        return None if x is None else x >= t

    def pick(d: dict[str, Any], *keys: str) -> Any:
        for key in keys:
            d = d[key]
        return d

    rows: list[Row] = []
    mine, b_mine = new.get("own", {}), base.get("own", {})
    rows.append(
        (
            "own one-line addresses: valid at premise (built / added)",
            f"{_f(mine.get('valid_premise'))} ({_f(mine.get('built'))} / {_f(mine.get('added'))})",
            f"{_f(b_mine.get('valid_premise'))} "
            f"({_f(b_mine.get('built'))} / {_f(b_mine.get('added'))})",
            "≥ 0.99",
            at_least(mine.get("valid_premise"), 0.99),
        )
    )
    for coverage in ("covered", "outside"):
        n, b = pick(new, "clean", coverage), pick(base, "clean", coverage)
        rows.append(
            (
                "clean standardized form, noisy requests "
                + ("in coverage" if coverage == "covered" else "outside"),
                _f(n),
                _f(b),
                "≥ 0.98",
                at_least(n, 0.98),
            )
        )
    agree, b_agree = new["structured"]["agreement"], base["structured"]["agreement"]
    rows.append(
        (
            "structured vs one-line: same verdict",
            _f(agree),
            _f(b_agree),
            "≥ 0.99",
            at_least(agree, 0.99),
        )
    )
    found, b_found = new["structured"]["match_covered"], base["structured"]["match_covered"]
    rows.append(
        (
            "structured input: match found, in coverage",
            _f(found),
            _f(b_found),
            "≥ 0.99",
            at_least(found, 0.99),
        )
    )
    cross, b_cross = new["cross_town"], base["cross_town"]

    def crossed(c: dict[str, Any]) -> str:
        counts = c["by_coverage"].values()
        return f"{sum(x['cross'] for x in counts)} of {sum(x['offered'] for x in counts)}"

    rows.append(
        (
            "cross-town suggestions, of all offered",
            crossed(cross),
            crossed(b_cross),
            "0",
            all(x["cross"] == 0 for x in cross["by_coverage"].values()),
        )
    )
    for kind in KINDS:
        e, b = new["extras"][kind], base["extras"][kind]
        floor = 0.95 if kind in ("phone", "email", "url") else 0.90
        met = (
            None if e["recall"] is None else e["recall"] >= floor and (e["precision"] or 0) >= 0.97
        )
        rows.append(
            (
                f"extras {kind}: recall / precision",
                f"{_f(e['recall'])} / {_f(e['precision'])}",
                f"{_f(b['recall'])} / {_f(b['precision'])}",
                f"≥ {floor:.2f} / ≥ 0.97",
                met,
            )
        )
    unit, b_unit = unit_share("new", new), unit_share("baseline", base)
    rows.append(
        (
            "unit found (baseline: libpostal's unit or level)",
            _f(unit),
            _f(b_unit),
            "≥ 0.95",
            at_least(unit, 0.95),
        )
    )
    rate, b_rate = new["false_rejects"]["rate"], base["false_rejects"]["rate"]
    rows.append(
        (
            f"real addresses outside coverage called invalid (n = {new['false_rejects']['n']})",
            _f(rate, ".4f"),
            _f(b_rate, ".4f"),
            "≤ 0.005",
            None if rate is None else rate <= 0.005,
        )
    )
    ms, b_ms = new["latency_ms"].get("all") or {}, base["latency_ms"].get("all") or {}
    rows.append(
        (
            "verify latency p50 / p95, in-process (ms)",
            f"{ms.get('p50', '—')} / {ms.get('p95', '—')}",
            f"{b_ms.get('p50', '—')} / {b_ms.get('p95', '—')}",
            "(report)",
            None,
        )
    )
    return rows


# --------------------------------------------------------------------------- report


def _met(flag: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "—"}[flag]


def _markdown(r: dict[str, Any]) -> str:
    new, base = r["figures"]["new"], r["figures"]["baseline"]
    sides = r["sides"]
    lines = [
        "# Production-shaped requests: new code vs the code before",
        "",
        f"Command: `{r['command']}`  ",
        f"Date: {r['date']}; commit `{r['git_commit']}`; {r['seconds'] / 60:.1f} min on "
        f"{r['machine']['cpus']} shared cores (load average {r['machine']['load_average_start']}"
        f" at the start, {r['machine']['load_average_end']} at the end).",
        "",
        f"**New**: {sides['new']['code']}. **Baseline**: plain libpostal and the code at "
        f"revision `{BASELINE_REV}` (before this work). Both in their own worker process (one "
        "thread each), on the same index folders and the shipped classifier; each request goes "
        "to both in turn, alternating which goes first. Structured requests: "
        + (
            "the new code gets `AddressFields`, "
            if sides["new"]["fields"]
            else "**this code has no `AddressFields` yet, so it got the glued line too**, "
        )
        + "the baseline the fields glued into one line as the checkout page sent them before "
        "(`Apt 4B, 350 5th Ave, New York, NY 10118`: unit, street, town, region and postcode).",
        "",
        "| figure | new | baseline | target | |",
        "|---|---|---|---|---|",
        *[f"| {f} | {n} | {b} | {t} | {_met(m)} |" for f, n, b, t, m in r["targets_rows"]],
        "",
        f"![new vs baseline]({NAME}.png)",
        "",
        "## Data: held-out rows only",
        "",
        "Rows are split by their address text `t`: `int(hashlib.sha1(t.encode()).hexdigest(), "
        "16) % 10 >= 5` is held out (`eval.bench_production.held_out`); rows below 5 are the "
        "dev split that tuning may look at, and no request is made from them. An FR "
        "address counts only when every query row naming it is held out, a Chicago place only "
        "when each of its spellings is.",
        "",
        "| dataset | file | held-out addresses used | in the small index | outside |",
        "|---|---|---:|---:|---:|",
        *[
            f"| {k} | `{v['file']}` | {v['used']} | {v['covered']} | {v['outside']} |"
            for k, v in r["datasets"].items()
        ],
        "",
        f"In coverage: one index of {r['index']['rows']} rows built in this run "
        f"({r['index']['build_seconds']:.0f} s; UK, Chicago and Hamilton as one-line rows "
        "that the reference loader parses, DE and FR with their components). Outside "
        "coverage: the default index (Linn County, Iowa and Iceland), which holds none of "
        "these addresses.",
        "",
        "## Requests",
        "",
        f"{r['requests']['total']} per side: "
        + ", ".join(f"{k} {v}" for k, v in r["requests"]["by_case"].items())
        + ". **Noisy**: the address as written with extras from `faker` in the address's "
        "locale (name, company, phone, sometimes with a label such as `Tel.`, e-mail, web "
        "address) and our own delivery instructions per language, each before, inside (after "
        "the street) or after the address; half of them also carry a unit (`Apt 4B`, `#05-67`, "
        "`Fl 3`, `Suite 200`, `Flat 3`, `Wohnung 5`, `Appartement 12`, ...) before the address, "
        "after the street or after the postcode. **Structured** / **one-line**: the same "
        "address as form fields and as written (a fifth with a unit on the second line and "
        "after the street). **Plain**: clean real addresses outside coverage, as written. "
        "**Misspelt**: addresses of the small index as written with a house number it "
        "lacks (`12` → `129`) or a letter dropped from the street, every other one; they "
        "draw the did-you-mean suggestions that the cross-town figure reads. "
        "**Own**: one-line addresses of the small index (UK, Chicago, Hamilton) exactly as "
        "they were indexed; a fifth of the index was added after the build, through "
        "`AddressIndex.add` (`addr index add`).",
        "",
        "## How each figure is judged",
        "",
        "- **clean**: no word of the noise (three characters or more, not a word of the "
        "address itself) in `standardized` or in a component value, no phone number's last "
        "seven digits there, and the address's own house number, street and town (their "
        "longest word, or an abbreviation of it) in `standardized`. The same judge on the "
        "noise-free requests (should be 1.0 if the judge is fair): new "
        f"{_f(new['clean']['noise_free_control'])}, baseline "
        f"{_f(base['clean']['noise_free_control'])}.",
        "- **same verdict**: structured and one-line requests of the same address; **match "
        "found**: the structured request's `match` is that address's row.",
        "- **cross-town**: a suggestion whose town and postcode both differ from the input's.",
        "- **extras**: a value is right when it says what was placed (phone: same last nine "
        "digits; e-mail and web address: equal, case, scheme and `www.` aside; names, "
        "companies, instructions: word-set F1 ≥ 0.8). Recall over the extras placed; "
        "precision over the extras returned, on every request (a clean address with an extra "
        "returned counts against it).",
        "- **unit found**: the unit's identifier (`4B`, `05-67`) stands alone in "
        '`components["unit"]` (baseline: in libpostal\'s `unit` or `level`).',
        "- **false rejects**: verdict `invalid` on a plain real address.",
        "- **own**: verdict `valid`, granularity `premise` and the address's own row as the match.",
        "",
        "## Details",
        "",
        "| | new | baseline |",
        "|---|---|---|",
        f"| match found, noisy requests in coverage | {_f(new['match_noisy_covered'])} | "
        f"{_f(base['match_noisy_covered'])} |",
        f"| clean, `standardized` alone (components not read): in coverage / outside | "
        f"{_clean_alone(new)} | {_clean_alone(base)} |",
        f"| same verdict: in coverage / outside | {_f(new['structured']['agreement_covered'])} / "
        f"{_f(new['structured']['agreement_outside'])} | "
        f"{_f(base['structured']['agreement_covered'])} / "
        f"{_f(base['structured']['agreement_outside'])} |",
        f"| misspelt addresses in coverage answered with a did-you-mean | "
        f"{_f(new.get('misspelt_with_suggestions'))} | "
        f"{_f(base.get('misspelt_with_suggestions'))} |",
        *[
            f"| cross-town suggestions {c}: offered / cross-town | "
            f"{new['cross_town']['by_coverage'][c].get('offered', 0)} / "
            f"{new['cross_town']['by_coverage'][c].get('cross', 0)} | "
            f"{base['cross_town']['by_coverage'][c].get('offered', 0)} / "
            f"{base['cross_town']['by_coverage'][c].get('cross', 0)} |"
            for c in ("covered", "outside")
        ],
        *[
            f"| unit found, {place} (n = {v['n']}) | {_f(v['found'])} | "
            f"{_f(base['unit']['by_place'].get(place, {}).get('found'))} |"
            for place, v in new["unit"]["by_place"].items()
        ],
        f"| unit found as unit or level | {_f(new['unit']['found_as_unit_or_level'])} | "
        f"{_f(base['unit']['found_as_unit_or_level'])} |",
        *[
            f"| false rejects, {k} (n = {v['n']}) | {_f(v['rate'], '.4f')} | "
            f"{_f(base['false_rejects']['by_dataset'].get(k, {}).get('rate'), '.4f')} |"
            for k, v in new["false_rejects"]["by_dataset"].items()
        ],
        f"| false rejects by reason | {_reasons(new)} | {_reasons(base)} |",
        *[
            f"| latency p50 / p95 ms, {c} | {_ms(new['latency_ms'].get(c))} | "
            f"{_ms(base['latency_ms'].get(c))} |"
            for c in ("covered", "outside")
        ],
        f"| requests that raised | {_errors(new)} | {_errors(base)} |",
        "",
        "Verdicts per request kind and a few failing examples per figure are in the JSON "
        "(`figures.<side>.verdicts`, `figures.<side>.examples`).",
        "",
    ]
    return "\n".join(lines)


def _clean_alone(side: dict[str, Any]) -> str:
    alone = side["clean"]["standardized_only"]
    return f"{_f(alone['covered'])} / {_f(alone['outside'])}"


def _reasons(side: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in side["false_rejects"]["by_reason"].items()) or "—"


def _errors(side: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in side["errors"].items()) or "0"


def _ms(latency: dict[str, float] | None) -> str:
    return "—" if not latency else f"{latency['p50']} / {latency['p95']}"


def _plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    new, base = r["figures"]["new"], r["figures"]["baseline"]
    Figure = Callable[[str, dict[str, Any]], float | None]
    shares: dict[str, Figure] = {
        "clean,\nin coverage": lambda _, s: s["clean"]["covered"],
        "clean,\noutside": lambda _, s: s["clean"]["outside"],
        "structured =\none-line": lambda _, s: s["structured"]["agreement"],
        "unit\nfound": unit_share,
    }
    rates: dict[str, Figure] = {
        "cross-town\nsuggestions": lambda _, s: s["cross_town"]["rate"],
        "false\nrejects": lambda _, s: s["false_rejects"]["rate"],
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2, 1]})
    for ax, group, title in (
        (axes[0], shares, "higher is better"),
        (axes[1], rates, "lower is better"),
    ):
        xs = range(len(group))
        for offset, (label, side) in ((-0.2, ("new", new)), (0.2, ("baseline", base))):
            values = [get(label, side) or 0.0 for get in group.values()]
            bars = ax.bar([x + offset for x in xs], values, 0.38, label=label)
            for rect, value in zip(bars, values, strict=True):
                ax.text(
                    rect.get_x() + rect.get_width() / 2,
                    value + 0.01,
                    f"{value:.3f}",
                    ha="center",
                    fontsize=7,
                )
        ax.set_xticks(list(xs), list(group), fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 1.2 if group is shares else max(0.1, ax.get_ylim()[1] * 1.1))
    axes[0].legend(fontsize=8, loc="upper center", ncol=2)
    fig.suptitle(f"Production-shaped requests: new vs {BASELINE_REV} (same run)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    markdown = _markdown(result)
    (out / f"{NAME}.md").write_text(markdown, encoding="utf-8")
    _plot(result, out / f"{NAME}.png")
    print(markdown)


# --------------------------------------------------------------------------- main


def _git_commit() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head + ("+dirty" if dirty else "")


def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    from tqdm import tqdm

    from address.settings import get_settings

    started = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="addr-production-") as tmp:
        workdir = Path(tmp)
        trees = {
            "new": REPO if args.new is None else _tree(args.new, workdir / "new"),
            "baseline": _tree(BASELINE_REV, workdir / "baseline"),
        }
        _log(f"reading held-out rows and building the small index ({trees['new']})")
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "prepare",
                "--workdir",
                tmp,
                "--datasets",
                str(args.datasets),
                "--seed",
                str(args.seed),
                "--covered-rows",
                str(args.covered_rows),
                "--outside-rows",
                str(args.outside_rows),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(trees["new"])},
            check=True,
        )
        prepared = json.loads((workdir / "addresses.json").read_text(encoding="utf-8"))
        addresses = [Address(**a) for a in prepared["addresses"]]
        requests = make_requests(addresses, args)
        indexes = {"covered": workdir / "covered", "default": get_settings().index_dir}
        workers = {
            side: Worker(side, tree, indexes, workdir / f"{side}.log")
            for side, tree in trees.items()
        }
        try:
            infos = {side: w.wait_ready() for side, w in workers.items()}
            _log("workers ready: " + json.dumps(infos))
            answers: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
            for i, request in enumerate(tqdm(requests, desc="requests", unit="case")):
                for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                    answers[side].append(workers[side].ask(request))
        finally:
            for w in workers.values():
                w.close()
    results = {side: figures(requests, answers[side]) for side in SIDES}
    new_code = "the checked-out code" if args.new is None else f"the code at revision `{args.new}`"
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "git_commit": _git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": load_start,
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
        "seconds": round(time.perf_counter() - started, 1),
        "seed": args.seed,
        "sizes": {
            k: getattr(args, k)
            for k in (
                "covered_rows",
                "outside_rows",
                "noisy",
                "structured",
                "plain",
                "own",
                "misspelt",
            )
        },
        "split": "held out: int(hashlib.sha1(t.encode()).hexdigest(), 16) % 10 >= 5 on each "
        "row's address text; rows below 5 are the dev split and are not read",
        "sides": {
            "new": {"code": new_code, **infos["new"]},
            "baseline": {"code": f"revision {BASELINE_REV}", **infos["baseline"]},
        },
        "datasets": prepared["datasets"],
        "reference_skipped": prepared["reference_skipped"],
        "index": prepared["index"],
        "requests": {
            "total": len(requests),
            "by_case": dict(Counter(r.case for r in requests)),
        },
        "figures": results,
        "targets_rows": target_rows(results["new"], results["baseline"]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "mode",
        nargs="?",
        default="run",
        choices=("run", "prepare", "worker"),
        help="run (default); prepare and worker are the run's subprocesses",
    )
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--new",
        default=None,
        metavar="REV",
        help="measure this revision as the new code (default: the checkout)",
    )
    parser.add_argument(
        "--covered-rows", type=int, default=2000, help="addresses per dataset in the small index"
    )
    parser.add_argument(
        "--outside-rows",
        type=int,
        default=600,
        help="addresses per dataset kept outside every index",
    )
    parser.add_argument("--noisy", type=int, default=600, help="noisy requests per coverage")
    parser.add_argument(
        "--structured",
        type=int,
        default=200,
        help="addresses asked as fields and as one line, per coverage",
    )
    parser.add_argument(
        "--plain",
        type=int,
        default=250,
        help="plain real addresses outside coverage per dataset (Hamilton 2x)",
    )
    parser.add_argument(
        "--own",
        type=int,
        default=600,
        help="one-line addresses of the small index asked exactly as indexed (UK, Chicago, "
        "Hamilton; a fifth of them added after the build)",
    )
    parser.add_argument(
        "--misspelt",
        type=int,
        default=400,
        help="addresses of the small index asked with another house number or a street typo",
    )
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the .md and .png from the .json in --out",
    )
    args = parser.parse_args(argv)
    if args.mode == "worker":
        serve({k: Path(v) for k, v in (item.split("=", 1) for item in args.index)})
        return 0
    if args.mode == "prepare":
        prepare(args)
        return 0
    if args.render_only:
        write_report(json.loads((args.out / f"{NAME}.json").read_text(encoding="utf-8")), args.out)
        return 0
    if not args.datasets.is_dir():
        print(f"{args.datasets} is absent: nothing to measure, no results written.")
        return 0
    command = "python -m eval.bench_production " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    result = run(args, command.strip())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_report(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
