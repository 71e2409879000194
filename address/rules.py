"""Country rules applied to a parsed address: which parts are missing or malformed, and
what the postcode gazetteer says of its postcode and towns.

The rules themselves are data (:mod:`address.country_rules`: Google's libaddressinput
data plus ``address/data/country_rules.json``); the country is found by
:mod:`address.country_detect`. libpostal's components stand in for the data's fields
like this:

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

import re
from enum import StrEnum

from address.country_detect import country_from_name, detect_country
from address.country_rules import (
    CountryRules,
    HouseNumber,
    address_format,
    country_rules,
    given,
    is_region,
    match_postcode,
    postcode_before_town,
    postcode_matches,
    region_key,
)
from address.gazetteer import Agreement, postcode_agreement, town_cut_short
from address.model import ParsedAddress, Reason
from address.names import fold_name
from address.postcodes import compact_postcode

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

# A word, then letters to the end of a comma-separated part: "715 Hella", "603 Akur".
_POSTCODE_THEN_TOWN_RE = re.compile(r"(?:^|\s)(\S+)\s+([^\W\d_][^\d,]*?)\s*$")


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
    rules = country_rules(country)
    postcode = parsed.postcode if given(parsed.postcode) else None
    matched = (
        match_postcode(rules.code, postcode)
        if postcode is not None and rules.postcode_pattern is not None
        else None
    )
    locality_given = any(given(value) for value in parsed.localities())
    has_number = given(parsed.house_number)
    has_po_box = given(parsed.po_box)
    named_building = rules.house_number is HouseNumber.BUILDING_NAME and given(parsed.house)
    # What the number is counted along: a road, a named building, or a block-addressed district.
    anchor = given(parsed.road) or named_building or (rules.area_addressing and locality_given)
    by_postcode = rules.postcode_identifies_address and matched is not None

    reasons: list[Reason] = []
    if rules.street_required and not (anchor or has_po_box or by_postcode):
        reasons.append(Reason.MISSING_ROAD)
    if (
        anchor
        and not (has_number or has_po_box or named_building or by_postcode)
        and rules.house_number is not HouseNumber.OPTIONAL
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
    if rules.regions and parsed.state is not None and given(parsed.state):
        region = rules.regions.get(region_key(parsed.state))
        if region is None:
            reasons.append(Reason.UNKNOWN_REGION)
        elif matched is not None:
            prefix = rules.region_postcodes.get(region)
            if prefix is not None and not prefix.match(compact_postcode(matched)):
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
    rules = country_rules(country)
    lookup = _gazetteer_lookup(parsed, rules)
    return Agreement.UNKNOWN if lookup is None else _agreement(parsed, rules, lookup)


def _agreement(
    parsed: ParsedAddress, rules: CountryRules, lookup: tuple[str, list[str]]
) -> Agreement:
    """The gazetteer's word on the looked-up postcode and towns, counting only places in
    the region the address names where the country's data gives its postcode prefixes: a
    "Plymouth" the gazetteer knows only outside Minnesota says nothing of "Plymouth, MN
    55441"."""
    region = None
    if parsed.state is not None and given(parsed.state):
        key = rules.regions.get(region_key(parsed.state))
        region = rules.region_postcodes.get(key) if key is not None else None
    return postcode_agreement(rules.code, *lookup, region=region)


def _gazetteer_lookup(parsed: ParsedAddress, rules: CountryRules) -> tuple[str, list[str]] | None:
    """The postcode and towns to look up in the gazetteer, or ``None`` without either.

    The postcode is the parsed one in the country's format or, when none was parsed, one
    that libpostal joined to the house number ("Sandavegur 18, 766 Þingeyri" parses as
    house number "18 766"), provided it has the country's postcode format.
    """
    towns = [value for value in parsed.localities() if given(value)]
    if rules.postcode_pattern is None or not towns:
        return None
    postcode: str | None = None
    if given(parsed.postcode):
        postcode = match_postcode(rules.code, parsed.postcode or "")
    elif len(words := (parsed.house_number or "").split()) == 2 and words[0][:1].isdigit():
        postcode = match_postcode(rules.code, words[1])
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
    rules = country_rules(country)
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
    if parsed.country and country_from_name(parsed.country):
        endings.append(parsed.country)
    ends = any((end := fold_name(value)) and folded.endswith(end) for value in endings)
    return PlaceEvidence.PLACED if ends else PlaceEvidence.NEAR


def _postcode_then_town(
    text: str, parsed: ParsedAddress, rules: CountryRules
) -> tuple[str, list[str]] | None:
    """The last postcode-shaped word followed by a town to the end of a comma-separated
    part ("715 Hella" in "Helluvað 1, 715 Hella"), with any towns libpostal found, in
    countries that write the postcode before the town; ``None`` elsewhere or without one."""
    if not postcode_before_town(rules.code):
        return None
    for part in reversed(text.split(",")):
        found = _POSTCODE_THEN_TOWN_RE.search(part)
        if found and (postcode := match_postcode(rules.code, found[1])) is not None:
            return postcode, [found[2], *(t for t in parsed.localities() if given(t))]
    return None
