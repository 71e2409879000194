from __future__ import annotations

import pytest

from address.model import ParsedAddress
from address.standardize import format_address_line, standardize


@pytest.mark.parametrize(
    ("parsed", "country", "expected"),
    [
        (
            ParsedAddress(house_number="4570", road="frozen hill rd", city="anamosa",
                          state="ia", postcode="52205"),
            "US",
            "4570 Frozen Hill Rd, Anamosa, IA 52205",
        ),
        (
            ParsedAddress(unit="flat 3", house_number="12", road="baker st", city="london",
                          postcode="nw1 6xe"),
            "GB",
            "Flat 3, 12 Baker St, London, NW1 6XE",
        ),
        (
            ParsedAddress(road="laugavegur", house_number="12b", postcode="101",
                          city="reykjavík"),
            "IS",
            "Laugavegur 12b, 101 Reykjavík",
        ),
        (
            ParsedAddress(road="platz der republik", house_number="1", postcode="11011",
                          city="berlin"),
            "DE",
            "Platz Der Republik 1, 11011 Berlin",
        ),
        (
            ParsedAddress(house_number="1600", road="pennsylvania avenue nw",
                          city="washington", state="dc", postcode="20500"),
            "US",
            "1600 Pennsylvania Avenue NW, Washington, DC 20500",
        ),
        (
            ParsedAddress(house_number="5", road="avenue anatole france", postcode="75007",
                          city="paris"),
            "FR",
            "5 Avenue Anatole France, 75007 Paris",
        ),
    ],
)  # fmt: skip
def test_standardize_by_country_convention(
    parsed: ParsedAddress, country: str, expected: str
) -> None:
    assert standardize(parsed, country) == expected


def test_missing_parts_leave_no_dangling_separators() -> None:
    assert format_address_line({"road": "Frozen Hill Rd", "state": "IA"}, "US") == (
        "Frozen Hill Rd, IA"
    )
    assert format_address_line({"road": "Dalsel", "postcode": "109"}, "IS") == "Dalsel, 109"
    assert format_address_line({}, "US") == ""


def test_a_british_post_town_after_the_locality_stays() -> None:
    """Royal Mail's post town ("Manchester") follows the dependent locality ("Urmston");
    the parse keeps it as state_district, which Britain's layout has no line for."""
    parsed = ParsedAddress(
        house_number="28",
        road="crofts bank road",
        city="urmston",
        state_district="manchester",
        postcode="m41 0uh",
    )
    assert standardize(parsed, "GB") == "28 Crofts Bank Road, Urmston, Manchester, M41 0UH"
    us = ParsedAddress(
        house_number="4570",
        road="frozen hill rd",
        city="anamosa",
        state_district="jones",
        state="ia",
        postcode="52205",
    )
    assert standardize(us, "US") == "4570 Frozen Hill Rd, Anamosa, IA 52205"
