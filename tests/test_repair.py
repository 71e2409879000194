"""Parse repair: real addresses whose parse lost a part get it back before the rules run;
parses that are right already come back unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from address.libpostal import parse
from address.model import ParsedAddress, Reason
from address.repair import repair
from address.rules import check

GOLDEN = Path(__file__).parent / "data" / "parse_golden.jsonl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A directional glued onto the town.
        (
            "4023 Water Avenue West, Tampa, FL 33607",
            {"road": "water avenue west", "city": "tampa"},
        ),
        # The town and state swallowed into the road.
        (
            "736 Middle Turnpike East, Manchester, CT 06040",
            {"road": "middle turnpike east", "city": "manchester", "state": "ct"},
        ),
        # A street labelled as a suburb after the house number.
        ("4 Conti Circle, Barre, VT 05641", {"house_number": "4", "road": "conti circle"}),
        ("1 N OGDEN, Chicago, IL 60640", {"house_number": "1", "road": "n ogden"}),
        ("29 OBSERVATORY HILL CINCINNATI OH 45208", {"road": "observatory hill"}),
        # ... after a lone compass point labelled the road.
        ("849 N. Leamington, Chicago, IL 60651", {"road": "n. leamington"}),
        # The house number taken into a place or the postcode.
        ("1504 S. Albany, Chicago, IL 60623", {"house_number": "1504", "road": "s. albany"}),
        (
            "10001 S WOODLAWN, Chicago, IL 60628",
            {"house_number": "10001", "road": "s woodlawn", "postcode": "60628"},
        ),
        # The house number after a leading compass point, as voter rolls write it.
        ("W 1405 MAIN ST LOVELAND OH 45140", {"house_number": "1405", "road": "w main st"}),
    ],
)
def test_lost_parts_are_put_back(text: str, expected: dict[str, str], libpostal: None) -> None:
    parsed = parse(text, "US")
    repaired = repair(parsed, text, "US")
    assert {label: parsed.components().get(label) for label in expected} != expected, (
        "libpostal parses this one right now; pick another"
    )
    assert {label: repaired.components().get(label) for label in expected} == expected
    assert check(repaired, "US") == []


def test_the_house_number_alone_is_taken_from_a_postcode(libpostal: None) -> None:
    """ "10041 S. Union" parses with postcode "10041": a Chicago house number, and the text
    has no ZIP at all."""
    text = "10041 S. Union, Chicago, IL"
    repaired = repair(parse(text, "US"), text, "US")
    assert (repaired.house_number, repaired.road, repaired.postcode) == ("10041", "s. union", None)
    assert check(repaired, "US") == [Reason.MISSING_POSTCODE]


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        # The postcode taken as a building's name, into the house number, or split in two.
        ("24 Cambridge Street, GLASGOW, G2 3DZ", "GB", {"postcode": "g2 3dz", "house": None}),
        ("86-88 Main Street, ALEXANDRIA, G83 0PX", "GB", {"house_number": "86-88"}),
        (
            "5 Church Street, Epworth, Doncaster, South Yorkshire, DN9 1ER",
            "GB",
            {"postcode": "dn9 1er", "city_district": None},
        ),
        ("195 Great Western Road, GLASGOW, G4 9EB", "GB", {"postcode": "g4 9eb", "state": None}),
        ("Sandavegur 18, 470 Þingeyri", "IS", {"house_number": "18", "postcode": "470"}),
        # A word glued onto the postcode is the county; the postcode typed twice is one.
        (
            "266a Upper Richmond Road, London, Putney, SW15 6TQ",
            "GB",
            {"postcode": "sw15 6tq", "state_district": "putney"},
        ),
        ("376-378 PRESTON OLD ROAD, BLACKBURN, BB2 5LL, BB2 5LL", "GB", {"postcode": "bb2 5ll"}),
        # The towns glued onto the road beside a former county.
        (
            "116 STATION ROAD, NAILSEA, BRISTOL, AVON, BS48 1TB",
            "GB",
            {"road": "station road", "suburb": "nailsea", "city": "bristol"},
        ),
        (
            "168 Locking Road, Weston Super Mare, Avon, BS23 3HQ",
            "GB",
            {"road": "locking road", "city": "weston super mare", "state_district": "avon"},
        ),
        # A town joined from two comma-separated parts.
        (
            "5 Old Rough Lane, Northwood,  Kirkby, Liverpool, L33 6XE",
            "GB",
            {"city": "kirkby", "state_district": "liverpool"},
        ),
    ],
)
def test_lost_parts_are_put_back_elsewhere(
    text: str, country: str, expected: dict[str, str | None], libpostal: None
) -> None:
    parsed = parse(text, country)
    repaired = repair(parsed, text, country)
    assert {label: parsed.components().get(label) for label in expected} != expected, (
        "libpostal parses this one right now; pick another"
    )
    assert {label: repaired.components().get(label) for label in expected} == expected
    assert check(repaired, country) == []


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("4570 Frozen Hill Rd, Anamosa, IA 52205", "US"),
        ("405 Zinnia Lane North, Plymouth, MN 55441", "US"),
        ("3359 QUEEN CITY AVE CINCINNATI OH 45238", "US"),
        ("100 Main St, Village of Pinehurst, NC 28374", "US"),
        ("52205 Anamosa, IA", "US"),
        ("77 Elm St, Suite 4, Springfield, IL 62701", "US"),
        ("Flat 3, 12 Baker St, London NW1 6XE", "GB"),
        ("2a Wood Lane Ruislip, Middlesex, HA4 6ER", "GB"),
        ("27 Dr Torrens Way, Old Costessey, Norwich, NR5 0GB", "GB"),
        ("90 Dunsmure Road, Stoke Newington, City and Hackney, London, N16 5JY", "GB"),
        ("The Pharmacy, Fifth Avenue, Allende Ave, CM20 2AG", "GB"),
        ("3, 5 and 7 Stonybutts, Blackburn Shopping Centre, Blackburn, BB1 7JD", "GB"),
        ("Waldstraße 1, 68642 Bürstadt", "DE"),
        ("Straße des 17. Juni 135, 10623 Berlin", "DE"),
        ("10117 Berlin", "DE"),
        ("4 Rue Anatole France 22000 Saint-Brieuc", "FR"),
        ("23", "FR"),
        ("Laugavegur 12b, 101 Reykjavík", "IS"),
        ("101 Reykjavík", "IS"),
    ],
)
def test_right_or_unclear_parses_are_left_alone(text: str, country: str, libpostal: None) -> None:
    parsed = parse(text, country)
    assert repair(parsed, text, country) == parsed


@pytest.mark.parametrize(
    "text", ["4570 Frozen Hill Rd, Anamosa, IA 50309", "4570 Frozen Hill Rd, Anamosa, IA 60601"]
)
def test_a_postcode_from_elsewhere_is_still_flagged(text: str, libpostal: None) -> None:
    assert check(repair(parse(text, "US"), text, "US"), "US") == [Reason.POSTCODE_LOCALITY_MISMATCH]


def _golden() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line]
    return [(row["text"], row["country"]) for row in rows if not row.get("known_issue")]


@pytest.mark.parametrize(("text", "country"), _golden())
def test_golden_parses_are_left_alone(text: str, country: str, libpostal: None) -> None:
    parsed = parse(text)
    assert repair(parsed, text, country) == parsed


def test_no_country_never_takes_a_postcode_for_a_number() -> None:
    parsed = ParsedAddress(postcode="10041", suburb="s union", city="chicago")
    assert repair(parsed, "10041 S Union, Chicago", None) == parsed


@pytest.mark.parametrize("text", ["", ",,,", "  ", "¼ ½", "N", "12"])
def test_odd_texts_change_nothing(text: str) -> None:
    parsed = ParsedAddress(road="n", house_number="12")
    assert repair(parsed, text, "US") == parsed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A farm without a number: its postcode was read as the house number.
        ("Sæbólskirkja, 426 Flateyri", {"house_number": None, "postcode": "426"}),
        # ... and its town as part of the road.
        (
            "Borgargerði, 616 Grenivík",
            {"house_number": None, "road": "borgargerði", "postcode": "616", "city": "grenivík"},
        ),
        # The number stayed in the road.
        ("Hólabraut 9, 630 Hrísey", {"house_number": "9", "road": "hólabraut", "postcode": "630"}),
    ],
)
def test_a_postcode_before_its_town_is_no_house_number(
    text: str, expected: dict[str, str | None], libpostal: None
) -> None:
    parsed = parse(text, "IS")
    assert parsed.house_number == expected["postcode"], "libpostal parses this one right now"
    repaired = repair(parsed, text, "IS").components()
    assert {label: repaired.get(label) for label in expected} == expected
