"""One-line address formatting by country convention.

The locality part follows libaddressinput's layout for the country (US
``"%C, %S %Z"`` → ``"Anamosa, IA 52205"``, Iceland ``"%Z %C"`` →
``"101 Reykjavík"``); the street part puts the number after the street where
that is the custom (``"Laugavegur 12b"``) and before it elsewhere
(``"4570 Frozen Hill Rd"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from address.model import ParsedAddress
from address.rules import address_format
from address.words import COMPASS_ABBREVIATIONS

__all__ = ["format_address_line", "format_locality", "standardize"]

# Countries that write the house number after the street name ("Hauptstraße 5").
STREET_FIRST_COUNTRIES = frozenset(
    {"AT", "BA", "BE", "CH", "CZ", "DE", "DK", "EE", "ES", "FI", "FO", "GL", "HR", "HU"}
    | {"IS", "IT", "LI", "LT", "LU", "LV", "NL", "NO", "PL", "PT", "RS", "SE", "SI", "SK"}
)
# Countries that write the flat before the building, as its own part: "Flat 3, 12 Baker St".
UNIT_FIRST_COUNTRIES = frozenset({"GB", "IE", "IM", "JE", "GG", "AU", "NZ"})
# libaddressinput layout fields for the locality lines: city, region, postcode, district.
# Royal Mail's countries: a dependent locality comes before the post town, which the
# parse (address.repair) keeps as state_district: "Urmston, Manchester", "Southall,
# Middlesex". Their layout has no region line, so the second town would be lost.
POST_TOWN_COUNTRIES = frozenset({"GB", "IM", "JE", "GG"})
_LOCALITY_FIELDS = {"%C": "city", "%S": "state", "%Z": "postcode", "%D": "suburb"}
# A layout token: "%C", "%n", …
_FORMAT_TOKEN = re.compile(r"%[A-Za-z]")
# Separators left dangling once empty fields are dropped: "Anamosa,  52205" or ", IA".
_DANGLING_SEPARATORS = re.compile(r"^[\s,]+|[\s,]+$|(?<=,)\s*,|\s{2,}")
# Compass points written in capitals in a standardized street: "Pennsylvania Ave NW".
_DIRECTIONALS = COMPASS_ABBREVIATIONS


def _locality_lines(values: Mapping[str, str], country: str) -> list[str]:
    lines = []
    for layout_line in address_format(country).split("%n"):
        if not any(token in layout_line for token in _LOCALITY_FIELDS):
            continue
        filled = _FORMAT_TOKEN.sub(
            lambda m: values.get(_LOCALITY_FIELDS.get(m.group(0), ""), ""), layout_line
        )
        filled = _DANGLING_SEPARATORS.sub(lambda m: " " if m.group(0).isspace() else "", filled)
        if filled := filled.strip(" ,〒"):
            lines.append(filled)
    return lines


def format_locality(values: Mapping[str, str], country: str) -> str:
    """The town, region and postcode as the country writes them on one line.

    Example:
        >>> format_locality({"city": "Anamosa", "state": "IA", "postcode": "52205"}, "US")
        'Anamosa, IA 52205'
        >>> format_locality({"city": "Reykjavík", "postcode": "101"}, "IS")
        '101 Reykjavík'
    """
    return ", ".join(_locality_lines(values, country.upper()))


def format_address_line(components: Mapping[str, str | None], country: str) -> str:
    """Format components as the one-line address a person would write.

    Example:
        >>> format_address_line({"house_number": "4570", "road": "Frozen Hill Rd",
        ...     "city": "Anamosa", "state": "IA", "postcode": "52205"}, "US")
        '4570 Frozen Hill Rd, Anamosa, IA 52205'
        >>> format_address_line({"road": "Laugavegur", "house_number": "12b",
        ...     "postcode": "101", "city": "Reykjavík"}, "IS")
        'Laugavegur 12b, 101 Reykjavík'

    Args:
        components: values under libpostal's labels; missing or empty ones are left out.
        country: ISO alpha-2 code; picks the order of number and street and the
            layout of the locality line.

    Returns:
        The address line, ``""`` when every component is empty.
    """
    values = {k: v.strip() for k, v in components.items() if v and v.strip()}
    code = country.upper()

    def part(*names: str) -> str:
        return " ".join(values[n] for n in names if n in values)

    street_order = (
        ("road", "house_number") if code in STREET_FIRST_COUNTRIES else ("house_number", "road")
    )
    if code in UNIT_FIRST_COUNTRIES:
        street = ", ".join(p for p in (part("unit"), part(*street_order)) if p)
    else:
        street = part(*street_order, "unit")
    street = street or part("po_box") or part("house")
    locality = values.get("city") or values.get("suburb") or values.get("city_district")
    if locality:
        values["city"] = locality
    pieces = [street, *_locality_lines(values, code)]
    return ", ".join(p for p in pieces if p)


def _display_case(word: str) -> str:
    if word in _DIRECTIONALS:
        return word.upper()
    if any(ch.isdigit() for ch in word):
        return word  # "12b", "5th"
    return word[:1].upper() + word[1:]


def _title(value: str) -> str:
    return " ".join("-".join(_display_case(w) for w in word.split("-")) for word in value.split())


def standardize(parsed: ParsedAddress, country: str) -> str:
    """The standardized one-line form of a parsed address.

    ``standardize(parse("4570 frozen hill rd anamosa ia 52205"), "US")``
    gives ``"4570 Frozen Hill Rd, Anamosa, IA 52205"``; in Britain the post town after a
    dependent locality stays: ``"28 Crofts Bank Road, Urmston, Manchester, M41 0UH"``.
    """
    components = parsed.components()
    display = {label: _title(value) for label, value in components.items()}
    if "postcode" in components:
        display["postcode"] = components["postcode"].upper()
    if "state" in components and len(components["state"]) <= 3:
        display["state"] = components["state"].upper()
    if country.upper() in POST_TOWN_COUNTRIES and "city" in display and "state_district" in display:
        display["city"] = f"{display['city']}, {display['state_district']}"
    return format_address_line(display, country)
