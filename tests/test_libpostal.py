"""The real libpostal through ctypes: expansions, near-dupe hashes, errors."""

from __future__ import annotations

import pytest

from address.errors import AddressTooLongError, EmptyAddressError
from address.libpostal import expand, near_dupe_hashes, parse, parse_batch

pytestmark = pytest.mark.usefixtures("libpostal")


def test_issue_example_parses() -> None:
    parsed = parse("Flat 3, 12 Baker St, London NW1 6XE")
    assert parsed.house_number == "12"
    assert parsed.road == "baker st"
    assert parsed.postcode == "nw1 6xe"
    assert parsed.unit == "flat 3"


def test_country_hint_is_accepted() -> None:
    assert parse("Laugavegur 12b, 101 Reykjavík", country="IS").road == "laugavegur"


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("123 Main St", "123 Main Street"),
        ("4570 Frozen Hill Rd, Anamosa", "4570 Frozen Hill Road, Anamosa"),
        ("10 N Michigan Ave", "10 North Michigan Avenue"),
    ],
)
def test_abbreviation_and_expansion_share_a_variant(short: str, long: str) -> None:
    assert set(expand(short)) & set(expand(long))


def test_expansion_spells_out_street() -> None:
    assert "123 main street" in expand("123 Main St")


def test_near_dupe_hashes_collide_for_spellings_of_one_address() -> None:
    a = near_dupe_hashes(parse("123 Main St, Springfield, IL 62701"))
    b = near_dupe_hashes(parse("123 Main Street, Springfield, IL 62701"))
    assert a and b
    assert set(a) & set(b)


def test_near_dupe_hashes_differ_for_another_house_number() -> None:
    a = near_dupe_hashes(parse("123 Main St, Springfield, IL 62701"))
    c = near_dupe_hashes(parse("125 Main St, Springfield, IL 62701"))
    assert not set(a) & set(c)


def test_batch_keeps_order() -> None:
    texts = ["12 Baker St, London", "4570 Frozen Hill Rd, Anamosa, IA 52205"]
    assert [p.house_number for p in parse_batch(texts)] == ["12", "4570"]


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x00", "\u200b"])
def test_empty_inputs_are_typed_errors(bad: str) -> None:
    with pytest.raises(EmptyAddressError):
        parse(bad)


def test_ten_thousand_characters_is_a_typed_error() -> None:
    with pytest.raises(AddressTooLongError):
        parse("12 Baker St " * 834)


def test_nul_bytes_inside_are_dropped() -> None:
    assert parse("12 Baker\x00 St, London").house_number == "12"


def test_non_address_text_gives_a_defined_result() -> None:
    parsed = parse("call me on +44 20 7946 0958 before noon!!")
    assert isinstance(parsed.components(), dict)
