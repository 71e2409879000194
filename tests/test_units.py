"""split_unit: the unit found wherever it was written, checked against libpostal."""

from __future__ import annotations

import pytest

from address.libpostal import parse
from address.units import UnitSplit, split_unit

CASES = [
    ("350 5th Ave, New York, NY 10118 Apt 4B", "350 5th Ave, New York, NY 10118", "apt 4b"),
    ("350 5th Ave Apt 4B, New York, NY 10118", "350 5th Ave, New York, NY 10118", "apt 4b"),
    ("350 5th Ave, Apt. #4B, New York", "350 5th Ave, New York", "apt 4b"),
    (
        "Blk 123 Ang Mo Kio Ave 3 #05-67, Singapore 560123",
        "Blk 123 Ang Mo Kio Ave 3, Singapore 560123",
        "#05-67",
    ),
    ("350 5th Ave Fl 3, New York", "350 5th Ave, New York", "fl 3"),
    ("350 5th Ave Fl 3rd, New York", "350 5th Ave, New York", "fl 3rd"),
    ("3rd Floor, 10 Downing St, London", "10 Downing St, London", "3rd floor"),
    ("Unit 12/345 George St, Sydney NSW 2000", "345 George St, Sydney NSW 2000", "unit 12"),
    ("100 Main St Suite 200, Boston MA 02110", "100 Main St, Boston MA 02110", "suite 200"),
    ("100 Main St Ste 200, Boston MA 02110", "100 Main St, Boston MA 02110", "ste 200"),
    ("Flat 3, 12 Baker St, London NW1 6XE", "12 Baker St, London NW1 6XE", "flat 3"),
    ("Waldstraße 1, Wohnung 5, 68642 Bürstadt", "Waldstraße 1, 68642 Bürstadt", "wohnung 5"),
    ("Waldstraße 1 Whg. 5, 68642 Bürstadt", "Waldstraße 1, 68642 Bürstadt", "whg 5"),
    ("Waldstraße 1, 2. OG, 68642 Bürstadt", "Waldstraße 1, 68642 Bürstadt", "2. og"),
    (
        "12 rue de la Paix, Appartement 12, 75002 Paris",
        "12 rue de la Paix, 75002 Paris",
        "appartement 12",
    ),
    ("12 rue de la Paix, 3e étage, 75002 Paris", "12 rue de la Paix, 75002 Paris", "3e étage"),
    ("Calle Mayor 5, Apto 3, 28013 Madrid", "Calle Mayor 5, 28013 Madrid", "apto 3"),
    ("Kerkstraat 12 bus 2, 1000 Brussel", "Kerkstraat 12, 1000 Brussel", "bus 2"),
    ("123 Oak Rd Trlr 10, Tampa FL 33602", "123 Oak Rd, Tampa FL 33602", "trlr 10"),
    ("123 Main St #12, Springfield IL 62701", "123 Main St, Springfield IL 62701", "#12"),
    (
        "#12, 890 Clinton Springs Ave, Cincinnati OH 45229",
        "890 Clinton Springs Ave, Cincinnati OH 45229",
        "#12",
    ),
    ("Flat 3, 2nd Floor, 12 Baker St", "12 Baker St", "flat 3 2nd floor"),
    (
        "16 Rue de Hiribehere, Bât. C, 64480 Ustaritz",
        "16 Rue de Hiribehere, 64480 Ustaritz",
        "bât c",
    ),
    ("Bâtiment A, 12 Rue Neuve, 47500 Fumel", "12 Rue Neuve, 47500 Fumel", "bâtiment a"),
    ("12 Rue Neuve, Escalier 2, 47500 Fumel", "12 Rue Neuve, 47500 Fumel", "escalier 2"),
    ("12 Rue Neuve Esc. B, 47500 Fumel", "12 Rue Neuve, 47500 Fumel", "esc b"),
    ("12 Rue Neuve, Étage 3, Porte 4, 47500 Fumel", "12 Rue Neuve, 47500 Fumel", "étage 3 porte 4"),
    ("10 Rue Neuve, Appt 12, 47500 Fumel", "10 Rue Neuve, 47500 Fumel", "appt 12"),
    (
        "6400 S Kimbark Avenue, Chicago, IL 60637, Apt 14F",
        "6400 S Kimbark Avenue, Chicago, IL 60637",
        "apt 14f",
    ),
]


@pytest.mark.parametrize(("text", "address", "unit"), CASES)
def test_unit_is_found_in_any_position(text: str, address: str, unit: str) -> None:
    assert split_unit(text) == UnitSplit(address, unit)


@pytest.mark.parametrize(
    "text",
    [
        "500 E Kennedy Blvd, Tampa, FL 33602",
        "500 e kennedy blvd, tampa fl 33602",
        "Unit Road 5, Leeds LS1 1AA",
        "Suite Street 5, Leeds",
        "#12 Main St, Springfield IL 62701",
        "Laugavegur 12b, 101 Reykjavík",
        "12 Baker St, London NW1 6XE",
        "10 Downing Street",
        "12 Bus Station Rd, Leeds",
        "5 Lotissement Les Pins, 33000 Bordeaux",
        "Rose Cottage, Main St, Kelso",
        "2 Porte de Clignancourt, 75018 Paris",
    ],
)
def test_no_unit_leaves_the_text_alone(text: str) -> None:
    assert split_unit(text) == UnitSplit(text, None)


# Units libpostal reads in their usual place but not after the postcode or as "#05-67".
MOVED = [
    ("350 5th Ave, New York, NY 10118 Apt 4B", "4b"),
    ("1600 Pennsylvania Ave NW, Washington, DC 20500 Suite 200", "200"),
    ("Blk 123 Ang Mo Kio Ave 3 #05-67, Singapore 560123", "05-67"),
    ("3rd Floor, 10 Downing St, London SW1A 2AA", "3"),
    ("12 Baker St, London NW1 6XE, Flat 3", "3"),
]


def _libpostal_unit(text: str) -> str:
    parsed = parse(text)
    return " ".join(v for v in (parsed.unit, parsed.level) if v)


@pytest.mark.usefixtures("libpostal")
def test_split_unit_finds_what_libpostal_misses() -> None:
    ours = sum(ident in (split_unit(text).unit or "") for text, ident in MOVED)
    theirs = sum(ident in _libpostal_unit(text) for text, ident in MOVED)
    assert ours == len(MOVED)
    assert theirs < ours


@pytest.mark.usefixtures("libpostal")
@pytest.mark.parametrize(("text", "address", "unit"), CASES[:3])
def test_libpostal_reads_the_address_left(text: str, address: str, unit: str) -> None:
    parsed = parse(split_unit(text).address)
    assert parsed.unit is None
    assert parsed.road == "5th ave"
