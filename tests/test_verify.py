"""Verdict assembly with real libpostal, a real small index and the shipped classifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from address.errors import EmptyAddressError, UnknownCountryError
from address.model import Reason
from address.verify import (
    Classification,
    Confirmation,
    Granularity,
    NextAction,
    Verdict,
    verify,
    verify_batch,
)

if TYPE_CHECKING:
    from address.rules import PlaceEvidence
    from finetune.classifier import Classifier
    from index.search import AddressIndex

pytestmark = pytest.mark.slow


class CountingClassifier:
    """The real classifier, counting the texts it is asked about."""

    def __init__(self, inner: Classifier) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def classify_read(
        self, texts: Sequence[str], evidence: Sequence[PlaceEvidence]
    ) -> Sequence[Classification]:
        self.texts.extend(texts)
        return self.inner.classify_read(texts, evidence)


@pytest.fixture(scope="module")
def us_row(reference_sample: pd.DataFrame) -> pd.Series:
    rows = reference_sample[
        (reference_sample["country"] == "US")
        & reference_sample["house_number"].notna()
        & reference_sample["unit"].isna()
        & (reference_sample["road"].str.len() > 8)
    ]
    return rows.iloc[0]


def test_exact_known_address_is_valid(
    us_row: pd.Series, index: AddressIndex, classifier: Classifier
) -> None:
    result = verify(us_row["address"], searcher=index, classifier=classifier)
    assert result.verdict is Verdict.VALID
    assert result.granularity is Granularity.PREMISE
    assert result.next_action is NextAction.ACCEPT
    assert result.match is not None and result.match.id == us_row["id"]
    assert result.standardized == us_row["address"]
    assert result.suggestions == ()
    assert not result.classifier_used


def test_missing_postcode_is_inferred(
    us_row: pd.Series, index: AddressIndex, classifier: Classifier
) -> None:
    text = f"{us_row['house_number']} {us_row['road']}, {us_row['city']}"
    result = verify(text, searcher=index, classifier=classifier)
    assert result.verdict is Verdict.VALID
    postcode = next(c for c in result.component_checks if c.component == "postcode")
    assert postcode.inferred and postcode.value == us_row["postcode"]


def test_street_typo_is_corrected_and_asks_to_confirm(
    us_row: pd.Series, index: AddressIndex, classifier: Classifier
) -> None:
    road = us_row["road"]
    typo = road[:3] + road[4:]  # one letter dropped
    text = us_row["address"].replace(road, typo)
    result = verify(text, searcher=index, classifier=classifier)
    assert result.verdict is Verdict.UNCERTAIN
    assert result.next_action is NextAction.CONFIRM
    assert result.suggestions[0].id == us_row["id"]
    road_check = next(c for c in result.component_checks if c.component == "road")
    assert road_check.corrected and road_check.confirmation is Confirmation.SUSPICIOUS


def test_unknown_house_number_on_a_known_street(
    us_row: pd.Series, index: AddressIndex, classifier: Classifier
) -> None:
    text = us_row["address"].replace(us_row["house_number"], "98765", 1)
    result = verify(text, searcher=index, classifier=classifier)
    assert result.verdict is Verdict.UNCERTAIN
    assert Reason.HOUSE_NUMBER_NOT_FOUND in result.reasons
    assert result.granularity is Granularity.STREET
    assert result.messages[0] == "Street found, but not this house number"


def test_missing_house_number_must_be_fixed(
    us_row: pd.Series, index: AddressIndex, classifier: Classifier
) -> None:
    text = f"{us_row['road']}, {us_row['city']}, {us_row['state']} {us_row['postcode']}"
    result = verify(text, searcher=index, classifier=classifier)
    assert result.verdict is Verdict.INVALID
    assert result.next_action is NextAction.FIX
    assert Reason.MISSING_HOUSE_NUMBER in result.reasons


def test_delivery_note_is_not_an_address(index: AddressIndex, classifier: Classifier) -> None:
    result = verify("please leave it with the neighbour", searcher=index, classifier=classifier)
    assert result.verdict is Verdict.INVALID
    assert result.reasons[0] is Reason.NOT_AN_ADDRESS
    assert result.extras == {"instructions": "please leave it with the neighbour"}
    assert result.components == {}


def test_text_that_is_no_address_and_no_note_goes_to_the_classifier(
    index: AddressIndex, classifier: Classifier
) -> None:
    result = verify("asdf qwerty zxcv", searcher=index, classifier=classifier)
    assert result.verdict is Verdict.INVALID
    assert result.classifier_used


def test_address_outside_the_known_good_data_goes_to_the_classifier(
    index: AddressIndex, classifier: Classifier
) -> None:
    result = verify("221B Baker Street, London NW1 6XE", searcher=index, classifier=classifier)
    assert result.classifier_used
    assert Reason.UNKNOWN_ADDRESS in result.reasons
    assert result.granularity is Granularity.NONE
    assert result.country == "GB"
    assert result.standardized.casefold() == "221b baker street, london, nw1 6xe"


def test_batch_asks_the_classifier_only_about_open_cases(
    reference_sample: pd.DataFrame, index: AddressIndex, classifier: Classifier
) -> None:
    counting = CountingClassifier(classifier)
    known = list(reference_sample["address"].head(5))
    open_case = "10 Downing Street, London SW1A 2AA"
    results = verify_batch([*known, open_case], searcher=index, classifier=counting)
    assert [r.verdict for r in results[:5]] == [Verdict.VALID] * 5
    assert counting.texts == [open_case]


def test_without_a_classifier_open_cases_stay_uncertain(index: AddressIndex) -> None:
    result = verify("10 Downing Street, London SW1A 2AA", searcher=index, classifier=None)
    assert result.verdict is Verdict.UNCERTAIN
    assert not result.classifier_used


def test_bad_input_is_a_typed_error(index: AddressIndex, classifier: Classifier) -> None:
    with pytest.raises(EmptyAddressError):
        verify(" \x00 ", searcher=index, classifier=classifier)
    with pytest.raises(UnknownCountryError):
        verify("12 Main St", "ZZ", searcher=index, classifier=classifier)


@pytest.mark.parametrize("text", ["N/A", "same as billing"])
def test_one_agreeing_word_is_no_match(
    text: str, index: AddressIndex, classifier: Classifier
) -> None:
    result = verify(text, searcher=index, classifier=classifier)
    assert result.verdict is not Verdict.VALID
    assert result.match is None


def test_unknown_us_city_is_not_called_a_postcode_mismatch(
    index: AddressIndex, classifier: Classifier
) -> None:
    result = verify(
        "3359 Queen City Ave, Cincinnati, OH 45238", searcher=index, classifier=classifier
    )
    assert Reason.POSTCODE_LOCALITY_MISMATCH not in result.reasons
    assert result.verdict is not Verdict.INVALID


def test_a_postcode_from_elsewhere_in_the_country_is_a_mismatch(
    index: AddressIndex, classifier: Classifier
) -> None:
    """Outside the known-good data the classifier cannot know postcodes: the gazetteer
    finds that Edinburgh's EH1 is not Manchester's, and the verdict asks to confirm."""
    right = verify("12 Piccadilly, Manchester M1 1RG", "GB", searcher=index, classifier=classifier)
    wrong = verify("12 Piccadilly, Manchester EH1 1RG", "GB", searcher=index, classifier=classifier)
    assert Reason.POSTCODE_LOCALITY_MISMATCH not in right.reasons
    assert Reason.POSTCODE_LOCALITY_MISMATCH in wrong.reasons
    assert wrong.verdict is not Verdict.VALID
    postcode = next(c for c in wrong.component_checks if c.component == "postcode")
    assert postcode.confirmation is Confirmation.SUSPICIOUS


def test_a_town_cut_inside_its_name_is_truncated_and_a_whole_one_is_not(
    index: AddressIndex, classifier: Classifier
) -> None:
    cut = verify("Waldstraße 1, 68642 Bürst", "DE", searcher=index, classifier=classifier)
    whole = verify("Waldstraße 1, 68642 Bürstadt", "DE", searcher=index, classifier=classifier)
    assert Reason.TRUNCATED in cut.reasons
    assert cut.verdict is not Verdict.VALID
    assert Reason.TRUNCATED not in whole.reasons


def test_verify_decides_on_the_classifiers_own_valid_probability(
    index: AddressIndex, classifier: Classifier
) -> None:
    """An address the known-good data lacks: the verdict's confidence is the classifier's
    own probability, read with the same gazetteer word, nothing added or set aside."""
    text = "Am Rain 1a, 36043 Fulda"
    result = verify(text, "DE", searcher=index, classifier=classifier)
    p_valid = classifier.classify(text, "DE").valid_probability
    assert result.classifier_used
    assert result.confidence == pytest.approx(max(p_valid, 1 - p_valid), abs=1e-4)


def test_known_good_addresses_lose_nothing_to_extras(
    reference_sample: pd.DataFrame, index: AddressIndex
) -> None:
    """A farm, a church or a street named like a person ("Neðribær, 607 Akureyri",
    "2115 Linden Dr SE") is the address itself: nothing of it goes into extras."""
    texts = list(reference_sample["address"])
    results = verify_batch(texts, searcher=index, classifier=None)
    taken = {t: dict(r.extras) for t, r in zip(texts, results, strict=True) if r.extras}
    assert len(taken) <= len(texts) // 500, taken


def test_each_address_is_normalized_and_parsed_once(
    monkeypatch: pytest.MonkeyPatch,
    reference_sample: pd.DataFrame,
    index: AddressIndex,
    classifier: Classifier,
) -> None:
    """One normalize and one libpostal parse per address, wherever the verdict comes
    from: a known-good match, the classifier, a form's fields, a text of extras only."""
    from address.fields import AddressFields
    from address.libpostal import parse as real_parse
    from address.normalize import normalize as real_normalize

    calls = {"normalize": 0, "parse": 0}

    def counted_normalize(text: str, **options: int) -> str:
        calls["normalize"] += 1
        return real_normalize(text, **options)

    def counted_parse(text: str, country: str | None = None) -> object:
        calls["parse"] += 1
        return real_parse(text, country)

    inputs: list[str | AddressFields] = [
        *reference_sample["address"].head(6),
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        "Jane Roe, 12 Quai des Bateliers, 67000 Strasbourg, tel 03 88 32 00 00",
        AddressFields(("Laugavegur 12b",), locality="Reykjavík", postcode="101", country="IS"),
        "call me before noon",
    ]
    # Patched where each stage looks them up: the reading, the fields, the searcher.
    for module in ("address.reading", "address.fields", "index.search"):
        monkeypatch.setattr(f"{module}.normalize", counted_normalize, raising=False)
    monkeypatch.setattr("address.reading.parse", counted_parse)
    monkeypatch.setattr("address.libpostal.parse", counted_parse)
    results = verify_batch(inputs, searcher=index, classifier=classifier)
    assert any(r.classifier_used for r in results)
    # A form is normalized field by field (three here); a text of extras only is no
    # address and is not parsed.
    assert calls == {"normalize": len(inputs) - 1 + 3, "parse": len(inputs) - 1}


def test_verify_and_classify_read_the_probability_by_one_rule(
    index: AddressIndex, classifier: Classifier
) -> None:
    """Where only the classifier can judge (outside the known-good data, no rule against
    the address), verify's verdict is the one ``addr classify`` prints."""
    from address.verification import classifier_verdict

    for text in (
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        "350 5th Ave, New York, NY 10118",
    ):
        result = verify(text, searcher=index, classifier=classifier)
        answer = classifier.classify(text, "US")
        assert result.classifier_used
        assert answer.verdict is classifier_verdict(answer.valid_probability)
        if not set(result.reasons) - {Reason.UNKNOWN_ADDRESS}:
            assert result.verdict is answer.verdict
    assert [classifier_verdict(p) for p in (0.95, 0.9, 0.5, 0.1, 0.02)] == [
        Verdict.VALID,
        Verdict.VALID,
        Verdict.UNCERTAIN,
        Verdict.INVALID,
        Verdict.INVALID,
    ]


def test_addr_classify_prints_its_label_and_the_verdict_by_verifys_rule(
    monkeypatch: pytest.MonkeyPatch, classifier: Classifier
) -> None:
    """The command line shows both readings of the probability, named apart (the
    session's real classifier stands in for a second load of the same adapter)."""
    import json

    from typer.testing import CliRunner

    from api.cli import app
    from finetune.classifier import Classifier as ClassifierType

    monkeypatch.setattr(ClassifierType, "load", classmethod(lambda cls, adapter=None: classifier))
    text = "4434 Frozen Hill Rd, Anamosa, IA 52205"
    result = CliRunner().invoke(app, ["classify", text, "--country", "US"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["label"] == "valid"
    assert answer["verdict"] == ("valid" if answer["valid_probability"] >= 0.9 else "uncertain")
    assert answer["place_evidence"] == "placed"


@pytest.fixture(scope="module")
def observed_index(
    reference_sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory, libpostal: None
) -> AddressIndex:
    """The small index's rows declared ``observed`` (deliveries, not a register)."""
    from index.config import IndexConfig
    from index.store import build_index, load_index

    rows = reference_sample.assign(completeness="observed")
    out = tmp_path_factory.mktemp("observed") / "index"
    return load_index(build_index(rows, out, IndexConfig(show_progress=False)))


def test_an_address_a_register_lacks_is_doubtful_one_deliveries_lack_is_not(
    index: AddressIndex, observed_index: AddressIndex, classifier: Classifier
) -> None:
    text = "Laugavegur 12b, 101 Reykjavík"  # real; the sample holds its street, not it
    register = verify(text, "IS", searcher=index, classifier=classifier)
    assert register.match is None and register.verdict is Verdict.UNCERTAIN
    assert Reason.HOUSE_NUMBER_NOT_FOUND in register.reasons
    observed = verify(text, "IS", searcher=observed_index, classifier=classifier)
    assert Reason.HOUSE_NUMBER_NOT_FOUND not in observed.reasons
    assert observed.verdict is Verdict.VALID, observed
    assert observed.next_action is NextAction.ACCEPT


def test_every_answer_says_where_the_address_is(index: AddressIndex) -> None:
    from address.verification import Precision

    own = verify("Þórunnartún 4, 105 Reykjavík", "IS", searcher=index, classifier=None)
    assert own.location is not None and own.location.precision is Precision.PREMISE
    assert own.match is not None and own.match.location == own.location
    assert abs(own.location.lat - 64.14469) < 0.001 and abs(own.location.lon + 21.91059) < 0.001
    between = verify("Þórunnartún 5, 105 Reykjavík", "IS", searcher=index, classifier=None)
    assert between.location is not None and between.location.precision is Precision.STREET
    assert 64.1442 < between.location.lat < 64.1451
    unknown_street = verify("Hvergigata 3, 105 Reykjavík", "IS", searcher=index, classifier=None)
    assert unknown_street.location is not None
    assert unknown_street.location.precision is Precision.POSTCODE
    nothing = verify("call me before noon", "IS", searcher=index, classifier=None)
    assert nothing.location is None


def test_a_risky_delivery_holds_a_valid_answer_back(index: AddressIndex) -> None:
    from address.verify import with_delivery_risk

    answer = verify("Þórunnartún 4, 105 Reykjavík", "IS", searcher=index, classifier=None)
    assert answer.verdict is Verdict.VALID
    assert with_delivery_risk(answer, 0.2) == answer
    held = with_delivery_risk(answer, 0.6)
    assert (held.verdict, held.next_action) == (Verdict.UNCERTAIN, NextAction.CONFIRM)
    assert held.reasons[-1] is Reason.DELIVERY_FAILED
    assert held.messages[-1] == "Deliveries to this address failed before"
    assert held.match == answer.match and held.location == answer.location
