"""Real addresses of ``../shared/datasets`` for the classifier's sets, and their negatives.

UK, German and French addresses from countries absent from training, read so that
positives are complete (number, street, postcode and town), and the same addresses broken
by the training set's negative generators.
"""

from __future__ import annotations

import csv
import random
import re
import string
from collections.abc import Sequence
from pathlib import Path

from finetune._labels import VALID
from finetune.data import AddressParts, Example, ExampleConfig, donors_from, make_examples

# A house number as the first token of a comma part: "16, INGRAM GARDENS", "1-3 Pevensey Road".
HOUSE_NUMBER_START = re.compile(r"(?:^|,\s*)\d+[A-Za-z]?(?:-\d+)?\b")

# A house number as libpostal returns it: "16", "33-35", "12b", "432bis" is not one.
PLAIN_HOUSE_NUMBER = re.compile(r"\d+[a-z]?(?:[-/]\d+[a-z]?)?", re.IGNORECASE)
# A number standing alone inside a road name: "score comm bld 100 oliver road".
NUMBER_WORD = re.compile(r"\b\d+\b")
# A French query ending in a postcode ("11 Rue du Fort 11800"), or with a postcode and then
# a town ("36 GRANDE RUE 59550 MAROILLES").
FR_POSTCODE_END = re.compile(r"\s\d{5}$")
FR_POSTCODE_TOWN = re.compile(r"\s\d{5}\s+[^\W\d_]")


def _capwords(value: str | None) -> str | None:
    return string.capwords(value) if value else None


def _from_parsed(text: str, country: str) -> AddressParts | None:
    """Components of a real address when libpostal finds a plain number, road and town."""
    from address.libpostal import parse

    parsed = parse(text, country)
    if not (parsed.house_number and parsed.road and (parsed.city or parsed.postcode)):
        return None
    if not PLAIN_HOUSE_NUMBER.fullmatch(parsed.house_number) or NUMBER_WORD.search(parsed.road):
        return None  # "1st floor" as the number, "score comm bld 100 oliver road" as the road
    return AddressParts(
        country=country.upper(),
        house_number=parsed.house_number.upper(),
        road=_capwords(parsed.road),
        postcode=parsed.postcode.upper() if parsed.postcode else None,
        city=_capwords(parsed.city),
    )


def uk_addresses(folder: Path, limit: int, rng: random.Random) -> list[tuple[str, AddressParts]]:
    """UK address-matching rows with a house number: "16 Ingram Gardens, Leeds, LS1 4AB"."""
    rows: list[tuple[str, str]] = []
    for path in sorted((folder / "uk_address_matching").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                text, postcode = (row.get("text") or "").strip(" ,"), (row.get("postcode") or "")
                if text and postcode.strip() and HOUSE_NUMBER_START.search(text):
                    rows.append((text, postcode.strip()))
    rng.shuffle(rows)
    out = []
    for text, postcode in rows:
        full = f"{text}, {postcode}"
        parts = _from_parsed(full, "gb")
        if parts and parts.city:
            out.append((full, parts))
        if len(out) >= limit:
            break
    return out


def de_addresses(folder: Path, limit: int, rng: random.Random) -> list[tuple[str, AddressParts]]:
    """OpenStreetMap community centres: "Waldstraße 1, 68642 Bürstadt".

    The file's postcodes went through a number type upstream: 430 of 7,854 lost their
    leading zero ("Windscheidstraße 51, 4277 Leipzig" for 04277), which no German
    address has; they are padded back to five digits in the text and the parts. House
    numbers must be plain (as libpostal's are for the UK and France): "118,120,122" and
    "10a (LAB)" are left out.
    """
    out = []
    with (folder / "de_osm_community_centres.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            street, number = (row.get(k, "").strip() for k in ("addr.street", "addr.housenumber"))
            postcode, city = row.get("addr.postcode", "").strip(), row.get("addr.city", "").strip()
            text = (row.get("address") or "").strip()
            if not (street and number and postcode and city and text):
                continue
            if not PLAIN_HOUSE_NUMBER.fullmatch(number) or not postcode.isdigit():
                continue
            if len(postcode) < 5:
                padded = postcode.zfill(5)
                text = text.replace(f", {postcode} ", f", {padded} ")
                postcode = padded
            if f", {postcode} " not in text:
                continue
            out.append((text, AddressParts("DE", number, street, None, postcode, city)))
    rng.shuffle(out)
    return out[:limit]


def fr_addresses(folder: Path, limit: int, rng: random.Random) -> list[tuple[str, AddressParts]]:
    """Complete French addresses from geocoder-tester's queries.

    Most queries are not complete addresses: each address is queried as "11 Rue du Fort
    Barbaira" (no postcode, which France requires), "11 Rue du Fort" (no town either)
    and "11 Rue du Fort 11800" (no town), with what is missing in the ``expected_*``
    columns. Positives are the queries that already hold number, street, postcode and
    town ("36 GRANDE RUE 59550 MAROILLES", the postal-relay rows) and the postcode
    queries completed with their expected town in French order ("11 Rue du Fort 11800
    Barbaira"); libpostal must still find a plain number and a road.
    """
    rows = []
    with (folder / "fr_nl_pl_geocoder_tester_queries.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source"].startswith("france") and row["fuzzy"] == "False":
                rows.append(row)
    rng.shuffle(rows)
    out = []
    seen: set[str] = set()
    for row in rows:
        query = " ".join(row["query"].split())
        city = row.get("expected_city", "").strip()
        if FR_POSTCODE_END.search(query) and city:
            text = f"{query} {city}"  # "11 Rue du Fort 11800" + "Barbaira"
        elif FR_POSTCODE_TOWN.search(query):
            text = query  # "36 GRANDE RUE 59550 MAROILLES"
        else:
            continue  # no postcode, or no town
        parts = _from_parsed(text, "fr")
        if parts is None or not parts.city or not parts.postcode or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        out.append((text, parts))
        if len(out) >= limit:
            break
    return out


def other_country_set(
    name: str, real: Sequence[tuple[str, AddressParts]], n: int, seed: int, valid_fraction: float
) -> list[Example]:
    """Real texts as ``valid`` plus negatives made from their parts, ``n`` in all.

    Positives are normalized as the service normalizes every input (the generated
    negatives already are): "2 Low Street , Leeds" -> "2 Low Street, Leeds".
    """
    from address.normalize import normalize
    from finetune.evidence import evidence_for

    rng = random.Random(f"{seed}:{name}")
    n_valid = min(round(n * valid_fraction), len(real))
    positives = [
        Example(normalize(text), VALID, parts.country, name) for text, parts in real[:n_valid]
    ]
    parts = [p for _, p in real]
    negatives = make_examples(
        parts, n - n_valid, rng, ExampleConfig(valid_fraction=0.0, donors=donors_from(parts))
    )
    examples = [
        Example(e.text, e.label, e.country, name, evidence_for(e.text, e.country))
        for e in positives + negatives
    ]
    rng.shuffle(examples)
    return examples
