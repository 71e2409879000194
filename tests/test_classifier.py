"""The committed validity classifier: golden labels, typed errors, determinism."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from address.errors import AddressError, EmptyAddressError
from address.model import Reason
from finetune.classifier import DEFAULT_ADAPTER_DIR, Classification, Classifier
from finetune.data import read_jsonl
from finetune.errors import ClassifierNotReadyError

GOLDEN = read_jsonl(Path(__file__).resolve().parent / "data" / "classifier" / "golden.jsonl")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The shipped adapter on the base model, merged, bfloat16; loaded once."""
    return Classifier.load()


def test_public_names() -> None:
    import finetune

    assert finetune.__all__ == sorted(finetune.__all__)
    for name in finetune.__all__:
        assert hasattr(finetune, name), name


def test_missing_adapter_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ClassifierNotReadyError) as caught:
        Classifier.load(tmp_path / "nowhere")
    assert isinstance(caught.value, AddressError)
    assert isinstance(caught.value, RuntimeError)


def test_corrupt_classifier_file_is_a_typed_error(tmp_path: Path) -> None:
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        (tmp_path / name).write_bytes((DEFAULT_ADAPTER_DIR / name).read_bytes())
    (tmp_path / "classifier.json").write_text("{not json")
    with pytest.raises(ClassifierNotReadyError):
        Classifier.load(tmp_path)


def test_committed_adapter_is_small() -> None:
    assert (DEFAULT_ADAPTER_DIR / "adapter_model.safetensors").stat().st_size < 10_000_000
    assert (DEFAULT_ADAPTER_DIR / "MODEL_CARD.md").is_file()


@pytest.mark.slow
def test_golden_set(classifier: Classifier) -> None:
    results = classifier.classify_batch([e.text for e in GOLDEN])
    wrong = [
        (e.text, e.label, r.label)
        for e, r in zip(GOLDEN, results, strict=True)
        if r.label != e.label
    ]
    # At least 28 of every 30 right (93%).
    assert len(wrong) <= len(GOLDEN) - math.ceil(len(GOLDEN) * 28 / 30), wrong


@pytest.mark.slow
def test_answer_shape(classifier: Classifier) -> None:
    result = classifier.classify("4434 Frozen Hill Rd, Anamosa, IA 52205")
    assert isinstance(result, Classification)
    assert result.label == "valid" and result.is_valid
    assert result.valid_probability > 0.5
    assert all(isinstance(reason, Reason) for reason, _ in result.reasons)
    probabilities = [p for _, p in result.reasons]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) + result.valid_probability == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\x00"])
def test_empty_input_is_a_typed_error(classifier: Classifier, text: str) -> None:
    with pytest.raises(EmptyAddressError):
        classifier.classify(text)
    with pytest.raises(EmptyAddressError):
        classifier.classify_batch(["Eiríksgata 23, 101 Reykjavík", text])


@pytest.mark.slow
def test_deterministic(classifier: Classifier) -> None:
    texts = ["Eiríksgata 23, 101 Reykjavík", "2265 Daleview Dr, Mar", "leave at back door"]
    first = [classifier.classify(t) for t in texts]
    assert [classifier.classify(t) for t in texts] == first
    batch = classifier.classify_batch(texts)
    assert classifier.classify_batch(texts) == batch
    for one, many in zip(first, batch, strict=True):
        assert one.label == many.label
        assert one.valid_probability == pytest.approx(many.valid_probability, abs=1e-3)
