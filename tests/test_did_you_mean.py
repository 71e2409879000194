"""Honest did-you-mean: a suggestion is on the input's street in the input's place, and
outside the known-good data there is none, said plainly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pytest

from address.model import ParsedAddress
from address.verify import Coverage, verify
from index.rerank import RowParts, agreement, query_parts

if TYPE_CHECKING:
    from finetune.classifier import Classifier
    from index.search import AddressIndex

pytestmark = pytest.mark.slow

# Well-known addresses far from the test index's data (Linn County, Iowa and Iceland).
ELSEWHERE = [
    "350 5th Ave, New York, NY 10118",
    "10 Downing Street, London SW1A 2AA",
    "1600 Pennsylvania Avenue NW, Washington, DC 20500",
    "Unter den Linden 77, 10117 Berlin",
    "55 Rue du Faubourg Saint-Honoré, 75008 Paris",
    "Piazza del Colosseo 1, 00184 Roma",
    "10 Bayfront Avenue, Singapore 018956",
    "24 Sussex Drive, Ottawa, ON K1M 1M4",
]

ROW = RowParts("350 w 34th ave marion ia 52302", "350", "w 34th ave", "52302", "marion")


def test_a_row_in_another_town_and_postcode_scores_below_the_street_band() -> None:
    query = query_parts(
        "350 5th ave new york ny 10118",
        ParsedAddress(
            house_number="350", road="5th ave", city="new york", state="ny", postcode="10118"
        ),
    )
    score, _ = agreement(query, ROW)
    assert score < 0.60


def test_the_same_street_in_the_same_town_keeps_its_band() -> None:
    query = query_parts(
        "352 w 34th ave marion ia 52302",
        ParsedAddress(house_number="352", road="w 34th ave", city="marion", postcode="52302"),
    )
    score, matched = agreement(query, ROW)
    assert 0.60 <= score < 0.85
    assert {"road", "locality", "postcode"} <= set(matched)


@pytest.mark.parametrize(
    ("town", "postcode"),
    [("marion", "52399"), ("marion", None), ("cedar rapids", "52302"), ("marrion", None)],
)
def test_one_agreeing_place_or_a_town_typo_is_enough(town: str, postcode: str | None) -> None:
    parts = {"house_number": "350", "road": "w 34th ave", "city": town}
    if postcode:
        parts["postcode"] = postcode
    text = " ".join(parts.values())
    score, _ = agreement(query_parts(text, ParsedAddress(**parts)), ROW)
    assert score >= 0.85


@pytest.mark.parametrize(
    ("text", "parts", "row"),
    [
        # The street's typo reads like the row's town; the town written is another one.
        (
            "195 lonon road reading rg1 3nx",
            {"house_number": "195", "road": "lonon road", "city": "reading", "postcode": "rg1 3nx"},
            RowParts("195 perry vale london se23 2jf", "195", "perry vale", "se232jf", "london"),
        ),
        # Two towns alike in writing, far apart.
        (
            "1a copice drive northampton nn3 6nd",
            {"house_number": "1a", "road": "copice drive", "city": "northampton"},
            RowParts(
                "1a the broadway southampton so17 2we", "1a", "the broadway", None, "southampton"
            ),
        ),
        # Two real postcodes one swap apart.
        (
            "blankeheimer strasse 6 53539 kelberg",
            {"house_number": "6", "road": "blankeheimer strasse", "postcode": "53539"},
            RowParts("kirchweg 6 53359 rheinbach", "6", "kirchweg", "53359", "rheinbach"),
        ),
    ],
)
def test_a_row_elsewhere_is_never_the_same_street(
    text: str, parts: dict[str, str], row: RowParts
) -> None:
    score, _ = agreement(query_parts(text, ParsedAddress(**parts)), row)
    assert score < 0.60


@pytest.mark.parametrize("text", ELSEWHERE)
def test_no_did_you_mean_outside_the_known_good_data(
    text: str, index: AddressIndex, classifier: Classifier
) -> None:
    result = verify(text, searcher=index, classifier=classifier)
    assert result.coverage is Coverage.OUTSIDE
    assert result.suggestions == ()
    assert result.match is None


def test_inside_the_data_suggestions_share_the_inputs_place(
    reference_sample: pd.DataFrame, index: AddressIndex, classifier: Classifier
) -> None:
    rows = reference_sample[
        (reference_sample["country"] == "US")
        & reference_sample["house_number"].notna()
        & reference_sample["city"].notna()
    ].head(15)
    for _, row in rows.iterrows():
        typo = f"{row['house_number']}9 {row['road']}, {row['city']} {row['state']}"
        result = verify(typo, searcher=index, classifier=classifier)
        assert result.coverage is Coverage.COVERED, typo
        for suggestion in result.suggestions:
            same_town = suggestion.components.get("city", "").casefold() == row["city"].casefold()
            assert same_town, (typo, suggestion.address)


def test_a_postcode_equal_to_a_house_number_is_not_that_house_number() -> None:
    """Smárarimi 112 and the postcode 112: "Smárarimi 36, 112 Reykjavík" is another house."""
    row = RowParts("smararimi 112 112 reykjavik", "112", "smararimi", "112", "reykjavik")
    query = query_parts(
        "smararimi 36 112 reykjavik",
        ParsedAddress(house_number="36", road="smararimi", postcode="112", city="reykjavik"),
    )
    score, matched = agreement(query, row)
    assert "house_number" not in matched and score < 0.85
    same = query_parts(
        "smararimi 112 112 reykjavik",
        ParsedAddress(house_number="112", road="smararimi", postcode="112", city="reykjavik"),
    )
    assert "house_number" in agreement(same, row)[1]
