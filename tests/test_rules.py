"""Country rules: required parts, postcode shapes, subdivisions and country detection.

The addresses are real ones, written as libpostal hands them over (lower-cased,
split into components), so no libpostal is needed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import address.rules as rules
from address.errors import UnknownCountryError
from address.model import COMPONENT_LABELS, ParsedAddress, Reason
from address.names import fold_name
from address.rules import check, detect_country, is_region, postcode_matches

P = ParsedAddress

# Good addresses, one or more per country, that meet every rule.
GOOD = [
    pytest.param(
        "US",
        P(house_number="4570", road="frozen hill rd", city="anamosa", state="ia", postcode="52205"),
        id="us-anamosa",
    ),
    pytest.param(
        "US",
        P(
            house_number="101",
            road="1st st se",
            city="cedar rapids",
            state="iowa",
            postcode="52401-1234",
        ),
        id="us-cedar-rapids-zip4",
    ),
    pytest.param(
        "GB",
        P(house_number="221b", road="baker st", city="london", postcode="nw1 6xe"),
        id="gb-baker-st",
    ),
    pytest.param(
        "GB",
        P(house="rose cottage", road="church lane", city="london", postcode="nw16xe"),
        id="gb-named-house-compact-postcode",
    ),
    pytest.param(
        "DE",
        P(house_number="77", road="unter den linden", postcode="10117", city="berlin"),
        id="de-unter-den-linden",
    ),
    pytest.param(
        "FR",
        P(
            house_number="55",
            road="rue du faubourg saint-honoré",
            postcode="75008",
            city="paris",
        ),
        id="fr-faubourg-saint-honore",
    ),
    pytest.param(
        "IS",
        P(road="laugavegur", house_number="12", postcode="101", city="reykjavík"),
        id="is-laugavegur",
    ),
    pytest.param(
        "NL",
        P(
            road="nieuwezijds voorburgwal",
            house_number="147",
            postcode="1012 rj",
            city="amsterdam",
        ),
        id="nl-dam-palace",
    ),
    pytest.param(
        "CA",
        P(house_number="24", road="sussex dr", city="ottawa", state="on", postcode="k1m 1m4"),
        id="ca-sussex-dr",
    ),
    pytest.param(
        "CA",
        P(
            house_number="1000",
            road="rue de la gauchetière o",
            city="montréal",
            state="québec",
            postcode="h3b 4w5",
        ),
        id="ca-montreal-french-province",
    ),
    pytest.param(
        "JP",
        P(
            state="東京都",
            city="千代田区",
            suburb="丸の内",
            house_number="1-9-1",
            postcode="100-0005",
        ),
        id="jp-marunouchi-kanji",
    ),
    pytest.param(
        "JP",
        P(
            house_number="1-9-1",
            suburb="marunouchi",
            city="chiyoda-ku",
            state="tokyo",
            postcode="1000005",
        ),
        id="jp-marunouchi-latin",
    ),
    pytest.param(
        "IE",
        P(house_number="1", road="main st", city="ballyvourney", state="co. cork"),
        id="ie-without-eircode",
    ),
    pytest.param(
        "US",
        P(po_box="po box 1001", city="cedar rapids", state="ia", postcode="52406"),
        id="us-po-box",
    ),
]


@pytest.mark.parametrize(("country", "parsed"), GOOD)
def test_good_addresses_meet_the_rules(country: str, parsed: ParsedAddress) -> None:
    assert check(parsed, country) == []


# One address per reason, each missing or spoiling exactly one thing.
BAD = [
    pytest.param(
        "US",
        P(house_number="4570", city="anamosa", state="ia", postcode="52205"),
        [Reason.MISSING_ROAD],
        id="us-no-road",
    ),
    pytest.param(
        "US",
        P(road="frozen hill rd", city="anamosa", state="ia", postcode="52205"),
        [Reason.MISSING_HOUSE_NUMBER],
        id="us-no-number",
    ),
    pytest.param(
        "GB",
        P(road="baker st", city="london", postcode="nw1 6xe"),
        [Reason.MISSING_HOUSE_NUMBER],
        id="gb-no-number-no-house-name",
    ),
    pytest.param(
        "DE",
        P(road="unter den linden", city="berlin", postcode="10117"),
        [Reason.MISSING_HOUSE_NUMBER],
        id="de-no-number",
    ),
    pytest.param(
        "US",
        P(house_number="4570", road="frozen hill rd", state="ia", postcode="52205"),
        [Reason.MISSING_LOCALITY],
        id="us-no-city",
    ),
    pytest.param(
        "DE",
        P(house_number="77", road="unter den linden", postcode="10117"),
        [Reason.MISSING_LOCALITY],
        id="de-no-city-postcode-shared-by-towns",
    ),
    pytest.param(
        "IS",
        P(road="laugavegur", house_number="12"),
        [Reason.MISSING_LOCALITY],
        id="is-neither-town-nor-postcode",
    ),
    pytest.param(
        "US",
        P(house_number="4570", road="frozen hill rd", city="anamosa", state="ia"),
        [Reason.MISSING_POSTCODE],
        id="us-no-zip",
    ),
    pytest.param(
        "FR",
        P(house_number="55", road="rue du faubourg saint-honoré", city="paris"),
        [Reason.MISSING_POSTCODE],
        id="fr-no-postcode",
    ),
    pytest.param(
        "US",
        P(house_number="4570", road="frozen hill rd", city="anamosa", state="ia", postcode="5220"),
        [Reason.POSTCODE_FORMAT],
        id="us-four-digit-zip",
    ),
    pytest.param(
        "GB",
        P(house_number="221b", road="baker st", city="london", postcode="nw1 6x"),
        [Reason.POSTCODE_FORMAT],
        id="gb-truncated-postcode",
    ),
    pytest.param(
        "NL",
        P(road="dam", house_number="1", city="amsterdam", postcode="1012 sa"),
        [Reason.POSTCODE_FORMAT],
        id="nl-letters-never-used",
    ),
    pytest.param(
        "CA",
        P(house_number="24", road="sussex dr", city="ottawa", state="on", postcode="d1m 1m4"),
        [Reason.POSTCODE_FORMAT],
        id="ca-letter-d-never-starts",
    ),
    pytest.param(
        "US",
        P(house_number="4570", road="frozen hill rd", city="anamosa", state="zz", postcode="52205"),
        [Reason.UNKNOWN_REGION],
        id="us-unknown-state",
    ),
    pytest.param(
        "CA",
        P(house_number="24", road="sussex dr", city="ottawa", state="iowa", postcode="k1m 1m4"),
        [Reason.UNKNOWN_REGION],
        id="ca-us-state",
    ),
    pytest.param(
        "US",
        P(house_number="4570", road="frozen hill rd", city="anamosa", state="tx", postcode="52205"),
        [Reason.POSTCODE_LOCALITY_MISMATCH],
        id="us-iowa-zip-in-texas",
    ),
    pytest.param(
        "CA",
        P(house_number="24", road="sussex dr", city="ottawa", state="bc", postcode="k1m 1m4"),
        [Reason.POSTCODE_LOCALITY_MISMATCH],
        id="ca-ontario-code-in-british-columbia",
    ),
    pytest.param(
        "JP",
        P(state="東京都", city="千代田区", suburb="丸の内", postcode="100-0005"),
        [Reason.MISSING_HOUSE_NUMBER],
        id="jp-district-without-block-number",
    ),
    pytest.param(
        "US",
        P(state="ia", country="united states"),
        [Reason.MISSING_ROAD, Reason.MISSING_LOCALITY, Reason.MISSING_POSTCODE],
        id="us-state-only",
    ),
    pytest.param(
        "US",
        P(road="frozen hill rd", state="zz", postcode="abc"),
        [
            Reason.MISSING_HOUSE_NUMBER,
            Reason.MISSING_LOCALITY,
            Reason.POSTCODE_FORMAT,
            Reason.UNKNOWN_REGION,
        ],
        id="us-reasons-in-stable-order",
    ),
]


@pytest.mark.parametrize(("country", "parsed", "expected"), BAD)
def test_each_reason_fires(country: str, parsed: ParsedAddress, expected: list[Reason]) -> None:
    assert check(parsed, country) == expected


# Per-country decisions: where something may be missing without a reason firing.
LENIENT = [
    pytest.param(
        "IS",
        P(road="laugavegur", house_number="12", postcode="101"),
        id="is-postcode-names-the-town",
    ),
    pytest.param(
        "GB",
        P(house_number="221b", road="baker st", postcode="nw1 6xe"),
        id="gb-postcode-names-the-post-town",
    ),
    pytest.param(
        "NL",
        P(road="nieuwezijds voorburgwal", house_number="147", postcode="1012rj"),
        id="nl-postcode-names-the-city",
    ),
    pytest.param(
        "GB",
        P(house="rose cottage", suburb="little snoring", city="fakenham", postcode="nr21 0aa"),
        id="gb-named-house-without-road",
    ),
    pytest.param(
        "IS",
        P(house="hvammur", city="borgarnes", postcode="311"),
        id="is-farm-name",
    ),
    pytest.param(
        "IE",
        P(suburb="knockane", state="county kerry", postcode="a65 f4e2"),
        id="ie-eircode-is-the-delivery-point",
    ),
    pytest.param(
        "CR",
        P(road="avenida central", city="san josé", state="san josé", postcode="10101"),
        id="cr-no-street-numbers",
    ),
    pytest.param(
        "IS",
        P(road="laugavegur", house_number="12", postcode="101", city="reykjavík", state="xyz"),
        id="is-lists-no-subdivisions",
    ),
    pytest.param(
        "HK",
        P(house_number="1", road="queen's road central", state="hong kong island", postcode="x"),
        id="hk-has-no-postcodes",
    ),
]


@pytest.mark.parametrize(("country", "parsed"), LENIENT)
def test_country_decisions_do_not_fire(country: str, parsed: ParsedAddress) -> None:
    assert check(parsed, country) == []


def test_eircode_stands_in_for_the_house_number() -> None:
    road_only = P(road="main st", city="ballyvourney", state="co. cork")
    assert check(road_only, "IE") == [Reason.MISSING_HOUSE_NUMBER]
    with_eircode = P(road="main st", city="ballyvourney", state="co. cork", postcode="p12 a1b2")
    assert check(with_eircode, "IE") == []
    # A London postcode covers a dozen doors, so it does not stand in.
    assert check(P(road="baker st", city="london", postcode="nw1 6xe"), "GB") == [
        Reason.MISSING_HOUSE_NUMBER
    ]


@pytest.mark.parametrize("state", ["ia", "IA", "iowa", "Iowa", "IOWA", "i.a.", " iowa "])
def test_us_state_codes_and_names_in_any_case(state: str) -> None:
    parsed = P(house_number="4570", road="frozen hill rd", city="anamosa", state=state)
    assert Reason.UNKNOWN_REGION not in check(parsed, "US")


@pytest.mark.parametrize(
    ("country", "state"),
    [
        ("CA", "qc"),
        ("CA", "Québec"),
        ("CA", "quebec"),
        ("CA", "colombie-britannique"),
        ("CA", "ont"),
        ("JP", "tokyo"),
        ("JP", "Tokyo-to"),
        ("JP", "東京都"),
        ("JP", "hokkaido"),
        ("IE", "cork"),
        ("IE", "county cork"),
        ("IE", "Co. Cork"),
        ("US", "calif"),
        ("US", "washington d.c."),
        ("MX", "b.c.s."),
        ("MX", "Querétaro"),
        ("MX", "queretaro"),
        ("IT", "mi"),
        ("IT", "lombardia"),
        ("ES", "cataluña"),
        ("ES", "catalunya"),
        ("BR", "são paulo"),
        ("AU", "nsw"),
        ("AU", "new south wales"),
    ],
)
def test_subdivision_names_local_latin_and_abbreviated(country: str, state: str) -> None:
    assert Reason.UNKNOWN_REGION not in check(P(state=state), country)


@pytest.mark.parametrize("state", ["ontario", "bavaria", "zz", "-"])
def test_subdivision_of_another_country_is_unknown(state: str) -> None:
    assert Reason.UNKNOWN_REGION in check(P(state=state), "US")


@pytest.mark.parametrize(
    ("name", "country", "expected"),
    [
        ("CT", "US", True),
        ("connecticut", "US", True),
        ("Calif", "US", True),
        ("Manchester", "US", False),
        ("", "US", False),
        ("Ontario", "CA", True),
    ],
)
def test_is_region(name: str, country: str, expected: bool) -> None:
    assert is_region(name, country) is expected


@pytest.mark.parametrize("country", ["XX", "ZZ", "USA", "", "all", "12", "u"])
def test_unknown_country_raises(country: str) -> None:
    with pytest.raises(UnknownCountryError):
        check(P(road="frozen hill rd"), country)
    with pytest.raises(ValueError):  # UnknownCountryError is a ValueError too
        postcode_matches("52205", country)


def test_country_code_in_any_case() -> None:
    parsed = P(house_number="4570", road="frozen hill rd", city="anamosa", state="ia")
    assert check(parsed, "us") == check(parsed, " US ") == [Reason.MISSING_POSTCODE]


def test_blank_components_count_as_missing() -> None:
    parsed = P(house_number=" ", road="frozen hill rd", city="", state="ia", postcode="\t")
    assert check(parsed, "US") == [
        Reason.MISSING_HOUSE_NUMBER,
        Reason.MISSING_LOCALITY,
        Reason.MISSING_POSTCODE,
    ]


@pytest.mark.parametrize(
    ("postcode", "country"),
    [
        ("52205", "US"),
        ("52205-1234", "US"),
        ("52205 1234", "US"),
        ("522051234", "US"),
        ("NW1 6XE", "GB"),
        ("nw1 6xe", "GB"),
        ("nw16xe", "GB"),
        ("nw1  6xe", "GB"),
        ("EC1Y 8SY", "GB"),
        ("GIR 0AA", "GB"),
        ("10117", "DE"),
        ("D-10117", "DE"),
        ("75008", "FR"),
        ("75 008", "FR"),
        ("101", "IS"),
        ("1012 RJ", "NL"),
        ("1012rj", "NL"),
        ("K1M 1M4", "CA"),
        ("k1m1m4", "CA"),
        ("100-0005", "JP"),
        ("1000005", "JP"),
        ("〒100-0005", "JP"),
        ("8001", "CH"),
        ("CH-8001", "CH"),
        ("00-950", "PL"),
        ("00950", "PL"),
        ("A65 F4E2", "IE"),
    ],
)
def test_postcode_matches(postcode: str, country: str) -> None:
    assert postcode_matches(postcode, country)


@pytest.mark.parametrize(
    ("postcode", "country"),
    [
        ("5220", "US"),
        ("522055", "US"),
        ("abcde", "US"),
        ("NW1 6X", "GB"),
        ("nw1 6xe 7", "GB"),
        ("1011", "DE"),
        ("1012", "IS"),
        ("1012 SA", "NL"),
        ("D1M 1M4", "CA"),
        ("", "US"),
        ("52205", "HK"),  # Hong Kong has no postcodes
    ],
)
def test_postcode_does_not_match(postcode: str, country: str) -> None:
    assert not postcode_matches(postcode, country)


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("usa", "US"),
        ("u.s.a.", "US"),
        ("united states", "US"),
        ("united states of america", "US"),
        ("uk", "GB"),
        ("united kingdom", "GB"),
        ("great britain", "GB"),
        ("england", "GB"),
        ("deutschland", "DE"),
        ("germany", "DE"),
        ("france", "FR"),
        ("iceland", "IS"),
        ("ísland", "IS"),
        ("island", "IS"),
        ("nederland", "NL"),
        ("the netherlands", "NL"),
        ("netherlands", "NL"),
        ("holland", "NL"),
        ("canada", "CA"),
        ("japan", "JP"),
        ("日本", "JP"),
        ("éire", "IE"),
        ("österreich", "AT"),
        ("schweiz", "CH"),
        ("españa", "ES"),
        ("nld", "NL"),
        ("de", "DE"),
        ("the uk", "GB"),
    ],
)
def test_detect_country_from_name(country: str, expected: str) -> None:
    assert detect_country(P(country=country), default="US") == expected


@pytest.mark.parametrize(
    ("parsed", "expected"),
    [
        (P(city="london", postcode="nw1 6xe"), "GB"),
        (P(postcode="EC1Y 8SY"), "GB"),
        (P(postcode="im1 1aa"), "IM"),
        (P(postcode="gy1 1aa"), "GG"),
        (P(postcode="k1m 1m4"), "CA"),
        (P(postcode="1012 rj"), "NL"),
        (P(postcode="1012rj"), "NL"),
        (P(postcode="52205-1234"), "US"),
        (P(postcode="d02 x285"), "IE"),
        (P(postcode="100-0005"), "JP"),
        (P(postcode="00-950"), "PL"),
        (P(postcode="1000-001"), "PT"),
        (P(postcode="01310-100"), "BR"),
    ],
)
def test_detect_country_from_distinctive_postcode(parsed: ParsedAddress, expected: str) -> None:
    assert detect_country(parsed, default="US") == expected


@pytest.mark.parametrize(
    ("parsed", "expected"),
    [
        (P(city="anamosa", state="ia", postcode="52205"), "US"),
        (P(city="anamosa", state="iowa", postcode="52205"), "US"),
        (P(state="california", postcode="90210"), "US"),
        (P(city="berlin", postcode="10117"), "DE"),
        (P(city="paris", postcode="75008"), "FR"),
        (P(city="reykjavík", postcode="101"), "IS"),
        (P(city="reykjavik", postcode="101"), "IS"),
        (P(city="hafnarfjordur", postcode="220"), "IS"),
        (P(city="milano", state="mi", postcode="20121"), "IT"),
        (P(city="cádiz", state="ca", postcode="11001"), "ES"),
    ],
)
def test_detect_country_from_ambiguous_postcode_and_hint(
    parsed: ParsedAddress, expected: str
) -> None:
    assert detect_country(parsed, default="GB") == expected


@pytest.mark.parametrize(
    "parsed",
    [
        P(house_number="4570", road="frozen hill rd", postcode="52205"),  # 5 digits, no hint
        P(city="springfield", postcode="12345"),  # a hint no country claims
        P(road="laugavegur", house_number="12"),  # nothing to go on
        P(country="narnia"),  # a name we do not know
        P(country="   "),
    ],
)
def test_detect_country_falls_back_to_default(parsed: ParsedAddress) -> None:
    assert detect_country(parsed, default="US") == "US"
    assert detect_country(parsed, default="is") == "IS"
    assert detect_country(parsed) is None


def test_country_component_wins_over_postcode() -> None:
    parsed = P(road="baker st", postcode="nw1 6xe", country="united states")
    assert detect_country(parsed, default="DE") == "US"


def test_public_api_is_explicit_and_sorted() -> None:
    assert rules.__all__ == sorted(rules.__all__)
    assert set(rules.__all__) == {
        "PlaceEvidence",
        "address_format",
        "check",
        "detect_country",
        "is_region",
        "place_evidence",
        "postcode_before_town",
        "postcode_matches",
        "town_postcode_agreement",
    }


def _data(name: str) -> Any:
    return json.loads((Path(rules.__file__).parent / "data" / name).read_text(encoding="utf-8"))


def test_data_files_name_countries_with_rules() -> None:
    decisions = _data("country_rules.json")
    listed: set[str] = set()
    for section, value in decisions.items():
        if section.startswith("_") or not isinstance(value, dict):
            continue
        for key, entry in value.items():
            if key == "countries" or key in {"building_name", "optional"}:
                listed.update(entry)
            elif len(key) == 2:
                listed.add(key)
    listed |= set(_data("city_hints.json")["cities"])
    for code in sorted(listed):
        check(P(), code)  # raises UnknownCountryError for a code without rules


def test_country_names_are_unambiguous() -> None:
    names = _data("country_names.json")["names"]
    seen: dict[str, str] = {}
    for code, country_names in names.items():
        for name in country_names:
            key = fold_name(name)
            assert seen.setdefault(key, code) == code, f"{name!r} names {seen[key]} and {code}"


COUNTRIES = ["US", "GB", "DE", "FR", "IS", "NL", "CA", "JP", "IE", "HK", "CR", "CN", "KR", "AE"]
TEXT_OR_NONE = st.none() | st.text(max_size=24)


@given(
    parsed=st.builds(ParsedAddress, **{label: TEXT_OR_NONE for label in COMPONENT_LABELS}),
    country=st.sampled_from(COUNTRIES),
)
def test_check_never_raises_for_any_text(parsed: ParsedAddress, country: str) -> None:
    reasons = check(parsed, country)
    assert all(isinstance(reason, Reason) for reason in reasons)
    assert len(reasons) == len(set(reasons))
    detected = detect_country(parsed, default=country)
    assert detected is not None and len(detected) == 2


@given(postcode=st.text(max_size=16), country=st.sampled_from(COUNTRIES))
def test_postcode_matches_never_raises(postcode: str, country: str) -> None:
    assert postcode_matches(postcode, country) in {True, False}
