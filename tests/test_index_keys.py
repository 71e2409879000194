"""Match keys, the lexical index and prefix look-up: pure functions, no model."""

from __future__ import annotations

import numpy as np
import pytest

from index.autocomplete import PrefixIndex
from index.keys import address_key, canonical_tokens, completions_of, fold
from index.lexical import LexicalIndex


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Þórunnartún 2, 105 Reykjavík", "thorunnartun 2 105 reykjavik"),
        ("Suðurgata 24a, 580 Siglufjörður", "sudurgata 24a 580 siglufjordur"),
        ("4570 Frozen Hill Rd., Anamosa, IA 52205", "4570 frozen hill rd anamosa ia 52205"),
        ("Hauptstraße 5", "hauptstrasse 5"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_abbreviations_share_a_key() -> None:
    long = address_key("730 33rd Avenue Southwest, Cedar Rapids, IA 52404")
    short = address_key("730 33rd Ave SW, Cedar Rapids, IA 52404")
    assert long == short == "730 33rd ave sw cedar rapids ia 52404"
    assert canonical_tokens("12 North Baker Street") == ["12", "n", "baker", "st"]


def test_partial_street_words_complete_to_canonical_forms() -> None:
    assert completions_of("stre") == {"st"}
    assert "ave" in completions_of("av")
    assert completions_of("s") == set()


KEYS = [
    "4570 frozen hl rd anamosa ia 52205",
    "4572 frozen hl rd anamosa ia 52205",
    "730 33rd ave sw cedar rapids ia 52404",
    "thorunnartun 2 105 reykjavik",
]


def test_lexical_survives_a_typo_and_prefers_the_house_number() -> None:
    lexical = LexicalIndex(KEYS)
    rows, _ = lexical.candidates(canonical_tokens("4570 Frozn Hill Road"), k=2)
    assert rows.tolist()[0] == 0
    rows, _ = lexical.candidates(canonical_tokens("Thorunartun 2"), k=1)
    assert rows.tolist() == [3]


def test_lexical_mask_filters_rows() -> None:
    lexical = LexicalIndex(KEYS)
    mask = np.array([False, True, True, True])
    rows, _ = lexical.candidates(["4570", "frozen"], k=5, mask=mask)
    assert 0 not in rows.tolist()


@pytest.fixture(scope="module")
def prefix_index() -> PrefixIndex:
    number_first = [
        "4570 frozen hl rd anamosa ia 52205",
        "12 baker st springfield",
        "2 thorunnartun 105 reykjavik",
        "34 ave de l opera paris 75002",
    ]
    street_first = [
        "frozen hl rd 4570 52205 anamosa ia",
        "baker st 12 springfield",
        "thorunnartun 2 105 reykjavik",
        "ave de l opera 34 75002 paris",
    ]
    postcode_first = [
        "4570 frozen hl rd 52205 anamosa",
        "12 baker st springfield",
        "2 thorunnartun 105 reykjavik",
        "34 ave de l opera 75002 paris",
    ]
    return PrefixIndex([number_first, street_first, postcode_first], ["US", "US", "IS", "FR"])


@pytest.mark.parametrize("typed", ["", "a", "12", " ,"])
def test_short_prefix_gives_nothing(prefix_index: PrefixIndex, typed: str) -> None:
    assert prefix_index.lookup(typed, k=5, alive=None) == []


@pytest.mark.parametrize(
    ("typed", "row"),
    [
        ("12 bak", 1),
        ("baker st 1", 1),
        ("12 Baker Stre", 1),
        ("4570 Frozen Hill", 0),
        ("Þórunnart", 2),
        ("thorunart", 2),  # one letter missing
        ("4570 fozen", 0),  # one letter missing
        ("34 Avenue de l'Opéra, 75", 3),  # French order: postcode before the town
    ],
)
def test_prefix_lookup(prefix_index: PrefixIndex, typed: str, row: int) -> None:
    assert prefix_index.lookup(typed, k=5, alive=None)[0].row == row


def test_prefix_country_and_tombstones(prefix_index: PrefixIndex) -> None:
    assert prefix_index.lookup("thorunnartun", k=5, alive=None, country="US") == []
    alive = np.array([True, False, True])
    assert 1 not in [c.row for c in prefix_index.lookup("12 baker", k=5, alive=alive)]
