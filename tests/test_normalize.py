from __future__ import annotations

import contextlib
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from address.errors import AddressTooLongError, EmptyAddressError, InvalidAddressInputError
from address.normalize import normalize

LIMIT = 512


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Flat 3,\t12 Baker St ,, London NW1 6XE\x00", "Flat 3, 12 Baker St, London NW1 6XE"),
        ("１２ Ｂａｋｅｒ Ｓｔ", "12 Baker St"),
        ("Laugavegur 12b,\n101 Reykjavík", "Laugavegur 12b, 101 Reykjavík"),
        ("4570 Frozen\u200bHill Rd", "4570 FrozenHill Rd"),
        ("\u202e12 Main St", "12 Main St"),
        (", 10 Downing Street -", "10 Downing Street"),
    ],
)
def test_cleans_real_inputs(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "\x00\x01", ",;-", "\u200b\u200d"])
def test_nothing_left_is_a_typed_error(raw: str) -> None:
    with pytest.raises(EmptyAddressError):
        normalize(raw)


def test_over_the_limit_is_a_typed_error() -> None:
    with pytest.raises(AddressTooLongError) as info:
        normalize("a" * 10_000)
    assert info.value.length == 10_000
    assert isinstance(info.value, ValueError)


def test_limit_is_a_setting(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("ADDR_MAX_ADDRESS_LENGTH", "20")
    with pytest.raises(AddressTooLongError):
        normalize("12 Baker Street, London NW1")
    assert normalize("12 Baker St") == "12 Baker St"


@given(st.text(max_size=LIMIT))
def test_never_raises_anything_but_empty_within_limit(text: str) -> None:
    with contextlib.suppress(EmptyAddressError):
        normalize(text)


@given(st.text(max_size=LIMIT))
def test_idempotent(text: str) -> None:
    try:
        once = normalize(text)
    except InvalidAddressInputError:
        return
    assert normalize(once) == once


@given(st.text(max_size=LIMIT))
def test_strips_controls(text: str) -> None:
    try:
        clean = normalize(text)
    except InvalidAddressInputError:
        return
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in clean)
    assert clean == clean.strip()
    assert "  " not in clean
