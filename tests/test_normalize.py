from __future__ import annotations

import importlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from address.errors import AddressTooLongError, EmptyAddressError, InvalidAddressInputError
from address.normalize import _MAX_PASSES, _STEPS, normalize
from address.settings import get_settings

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


def test_limit_is_a_parameter_the_settings_feed(fresh_settings: pytest.MonkeyPatch) -> None:
    with pytest.raises(AddressTooLongError):
        normalize("12 Baker Street, London NW1", max_length=20)
    assert normalize("12 Baker St", max_length=20) == "12 Baker St"
    fresh_settings.setenv("ADDR_MAX_ADDRESS_LENGTH", "20")
    assert get_settings().max_address_length == 20


@given(st.text(max_size=LIMIT))
def test_within_limit_raises_only_empty_or_grown(text: str) -> None:
    try:
        normalize(text)
    except EmptyAddressError:
        pass
    except AddressTooLongError as error:
        assert error.length > LIMIT >= len(text)
        assert "after normalization" in str(error)


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


# One "\ufdfa" (ﷺ) is 18 characters after NFKC, the most any character grows.
BOMB = "\ufdfa"
BOMB_GROWTH = 18
# Characters NFKC rewrites, grows or composes, and those the clean-up drops or tidies.
TRICKY = [
    *"ﬁﬀﬃﬄﬅ",  # Latin ligatures
    "\ufdfa",  # ﷺ, 18 characters after NFKC
    "\ufdfb",  # ﷻ, 8
    *"㎯㌖㍻㈱⑽⒇½№™…‥¨´",  # squared words, parenthesised forms, fractions, spacing accents
    *"\u200c\u200d\ufe0e\ufe0f\U000e0100",  # ZWNJ, ZWJ, variation selectors
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # 👨‍👩‍👧
    *"\uac01\uac00\ud55c\u1100\u1161\u11a8\u3131\u314f\uffa1",  # Hangul syllables and jamo
    *"e\u0301\u0323\u0345",  # a base and marks that compose or reorder
    *" ,;:.)-/\t\n\x00\u00a0\u3000\u2028\u1680",  # whitespace and separators the tidy steps drop
    "Flat 3, 12 Baker St, London NW1 6XE",
]
TRICKY_PIECE = st.one_of(
    st.sampled_from(TRICKY),
    st.characters(min_codepoint=0xFB50, max_codepoint=0xFDFF),  # Arabic presentation forms A
    st.characters(min_codepoint=0xFE70, max_codepoint=0xFEFF),  # Arabic presentation forms B
    st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),  # full- and half-width forms
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),  # combining marks
    st.characters(min_codepoint=0x1100, max_codepoint=0x11FF),  # Hangul jamo
    st.characters(min_codepoint=0x3300, max_codepoint=0x33FF),  # CJK compatibility (long NFKC)
    st.text(max_size=8),
)
# Up to past the limit as sent (600), and from nothing to 600 after a run of bombs.
TRICKY_TEXT = st.one_of(
    st.lists(TRICKY_PIECE, max_size=600).map(lambda pieces: "".join(pieces)[:600]),
    st.builds(
        lambda bombs, rest: (BOMB * bombs + rest)[:600],
        st.integers(0, 35),
        st.lists(TRICKY_PIECE, max_size=40).map("".join),
    ),
)
TRICKY_SETTINGS = settings(max_examples=300, deadline=None)


def test_normalization_bomb_is_too_long() -> None:
    with pytest.raises(AddressTooLongError) as info:
        normalize(BOMB * 29)
    assert info.value.length == 29 * BOMB_GROWTH == 522
    assert info.value.limit == LIMIT
    assert str(info.value) == (
        "address is 522 characters long after normalization (29 as sent); the limit is 512"
    )


@pytest.mark.parametrize("text", [BOMB * 28, BOMB * 28 + "12345678"])
def test_bomb_within_the_limit_is_accepted_and_idempotent(text: str) -> None:
    once = normalize(text)
    assert len(once) <= LIMIT
    assert normalize(once) == once


def test_output_limit_follows_max_length() -> None:
    assert len(normalize(BOMB, max_length=BOMB_GROWTH)) == BOMB_GROWTH
    with pytest.raises(AddressTooLongError, match="19 characters long after normalization"):
        normalize(BOMB + "1", max_length=BOMB_GROWTH)


@TRICKY_SETTINGS
@given(TRICKY_TEXT)
def test_idempotent_on_tricky_text(text: str) -> None:
    try:
        once = normalize(text)
    except InvalidAddressInputError:
        return
    assert len(once) <= LIMIT
    assert normalize(once) == once


@TRICKY_SETTINGS
@given(TRICKY_TEXT)
def test_too_long_only_when_input_or_output_is(text: str) -> None:
    try:
        clean = normalize(text)
    except AddressTooLongError as error:
        if len(text) > LIMIT:
            assert error.length == len(text)
            assert "after normalization" not in str(error)
        else:
            unlimited = normalize(text, max_length=len(text) * BOMB_GROWTH)
            assert error.length == len(unlimited) > LIMIT
            assert f"({len(text)} as sent)" in str(error)
    except EmptyAddressError:
        pass
    else:
        assert len(text) <= LIMIT
        assert len(clean) <= LIMIT


@TRICKY_SETTINGS
@given(TRICKY_TEXT)
def test_one_pass_settles(text: str) -> None:
    """No input found needs a second pass, far from ``_MAX_PASSES``."""
    once = text
    for step in _STEPS:
        once = step(once)
    twice = once
    for step in _STEPS:
        twice = step(twice)
    assert twice == once


def test_steps_that_never_settle_are_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``address.normalize`` is the function once ``address`` is imported; patch the module.
    monkeypatch.setattr(importlib.import_module("address.normalize"), "_STEPS", (str.swapcase,))
    with pytest.raises(RuntimeError, match=f"did not settle in {_MAX_PASSES} passes"):
        normalize("12 Baker St")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("16½ Church St, Oxford", "16 1/2 Church St, Oxford"),
        ("１６½ Church St", "16 1/2 Church St"),
        ("221¾ Baker St", "221 3/4 Baker St"),
        ("16 ½ Church St", "16 1/2 Church St"),
        ("½ Moon Lane, London", "1/2 Moon Lane, London"),
    ],
)
def test_vulgar_fraction_after_a_digit_is_kept_apart(raw: str, clean: str) -> None:
    assert normalize(raw) == clean
    assert normalize(clean) == clean
