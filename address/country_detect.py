"""Which country an address is in, from the country it names or its postcode's shape.

Example: ``detect_country(ParsedAddress(road="laugavegur", city="reykjavík",
postcode="101"))`` is ``"IS"``; ``detect_country(ParsedAddress(postcode="nw1 6xe"))``
``"GB"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from address.country_rules import country_rules, given, region_key, rules_data
from address.errors import UnknownCountryError
from address.model import ParsedAddress
from address.names import fold_name
from address.postcodes import clean_postcode, compact_postcode

__all__ = ["country_from_name", "detect_country"]

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


def detect_country(parsed: ParsedAddress, default: str | None = None) -> str | None:
    """The ISO 3166-1 alpha-2 country of a parsed address, or ``default``.

    Tried in order, first answer wins:

    1. the ``country`` component, by name in English or the local language, abbreviation
       or ISO code ("usa", "united kingdom", "ísland", "deutschland", "nld");
    2. the postcode, when its shape belongs to one country ("NW1 6XE" GB, "H3Z 2Y7" CA,
       "1012 AB" NL, "52205-1234" US, "D02 X285" IE, "154-0023" JP, ...), or when it fits
       several ("10117") and the state or locality picks one of them: "ia" is a US state
       whose ZIPs start 50-52, "berlin" is a German city, "reykjavík" an Icelandic town;
    3. ``default`` (:data:`address.model.DEFAULT_COUNTRY` unless the caller says), upper-cased.

    ``detect_country(ParsedAddress(road="laugavegur", city="reykjavík", postcode="101"))``
    is ``"IS"``.
    """
    if parsed.country is not None and given(parsed.country):
        code = country_from_name(parsed.country)
        if code is not None:
            return code
    if parsed.postcode is not None and given(parsed.postcode):
        code = _country_from_postcode(parsed)
        if code is not None:
            return code
    return default.strip().upper() if default else None


@lru_cache(maxsize=1)
def _country_names() -> Mapping[str, str]:
    """Folded country name, abbreviation or code -> alpha-2 code."""
    table: dict[str, str] = {}
    names: Mapping[str, list[str]] = rules_data("country_names.json")["names"]
    for code, country_names in names.items():
        for name in country_names:
            table.setdefault(fold_name(name), code)
    for code in names:
        table.setdefault(code.lower(), code)
    return table


def country_from_name(name: str) -> str | None:
    key = fold_name(name)
    table = _country_names()
    return table.get(key) or table.get(key.removeprefix("the "))


@lru_cache(maxsize=1)
def _known_countries() -> tuple[str, ...]:
    """Every code with rules, in the order of ``country_names.json``."""
    known = []
    for code in rules_data("country_names.json")["names"]:
        try:
            country_rules(code)
        except UnknownCountryError:
            continue
        known.append(code)
    return tuple(known)


@lru_cache(maxsize=4096)
def _countries_fitting(postcode: str) -> tuple[str, ...]:
    """Countries whose pattern fits the postcode as written or without separators."""
    forms = {postcode, compact_postcode(postcode)}
    return tuple(
        code
        for code in _known_countries()
        if (pattern := country_rules(code).postcode_pattern) is not None
        and any(pattern.fullmatch(form) for form in forms)
    )


@lru_cache(maxsize=1)
def _city_hints() -> Mapping[str, frozenset[str]]:
    cities: Mapping[str, list[str]] = rules_data("city_hints.json")["cities"]
    return {code: frozenset(fold_name(city) for city in names) for code, names in cities.items()}


def _country_from_postcode(parsed: ParsedAddress) -> str | None:
    """Country from a distinctive postcode shape, or from an ambiguous one plus hints."""
    postcode = clean_postcode(parsed.postcode or "")
    for pattern, code in _DISTINCTIVE_POSTCODES:
        if pattern.fullmatch(postcode):
            return _CROWN_DEPENDENCY_AREAS.get(postcode[:2], code) if code == "GB" else code
    state = parsed.state if parsed.state is not None and given(parsed.state) else None
    localities = {fold_name(value) for value in parsed.localities() if given(value)}
    if state is None and not localities:
        return None
    candidates = _countries_fitting(postcode)
    # A state names the country when exactly one candidate has it; one whose data confirms
    # the postcode's prefix for that state ("ca" + "90210": California, not Cádiz) wins.
    by_state: list[str] = []
    confirmed: list[str] = []
    if state is not None:
        state_key = region_key(state)
        compact = compact_postcode(postcode)
        for code in candidates:
            rules = country_rules(code)
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
