"""Training data, metrics, config and a tiny real LoRA training run (SmolLM2, 2 layers)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from address.model import Reason
from finetune._labels import LABELS, VALID
from finetune.data import (
    AddressParts,
    Dataset,
    Example,
    ExampleConfig,
    donors_from,
    make_examples,
    read_jsonl,
    render,
    split_by_region,
    write_jsonl,
)
from finetune.metrics import confusion_matrix, report, roc_auc
from finetune.train import TrainConfig, train

GOLDEN = Path(__file__).resolve().parent / "data" / "classifier" / "golden.jsonl"

PARTS = [
    AddressParts("US", "4434", "Frozen Hill Rd", None, "52205", "Anamosa", "IA"),
    AddressParts("US", "1092", "Eisenhower Rd", None, "52233", "Hiawatha", "IA"),
    AddressParts("US", "2115", "Westdale Dr SW", "Unit 6", "52404", "Cedar Rapids", "IA"),
    AddressParts("IS", "23", "Eiríksgata", None, "101", "Reykjavík"),
    AddressParts("IS", "5", "Brekkusíða", None, "603", "Akureyri"),
    AddressParts("IS", "16", "Goðahraun", None, "900", "Vestmannaeyjar"),
]


def _examples(seed: int, n: int = 80) -> list[Example]:
    return make_examples(
        PARTS, n, random.Random(seed), ExampleConfig(valid_fraction=0.4, donors=donors_from(PARTS))
    )


def test_examples_are_deterministic_and_cover_every_label() -> None:
    first, again = _examples(7), _examples(7)
    assert first == again
    assert first != _examples(8)
    assert {e.label for e in first} == set(LABELS)
    assert sum(e.label == VALID for e in first) == 32


def test_negatives_break_what_their_label_says() -> None:
    numbers = {p.house_number for p in PARTS}
    for example in _examples(3, 200):
        text = example.text.casefold()
        if example.label == Reason.MISSING_HOUSE_NUMBER:
            assert not numbers & set(text.replace(",", " ").split()), example
        if example.label == Reason.POSTCODE_LOCALITY_MISMATCH:
            tokens = set(text.replace(",", " ").split())
            source = next(p for p in PARTS if p.house_number in tokens)
            assert source.postcode not in tokens, example
            real = {postcode for postcode, _ in donors_from(PARTS)[source.country]}
            found = tokens & real
            assert found, example  # a real postcode of another region
            own = source.postcode or ""
            half = max(1, len(own) // 2)  # "52205" -> "52": the region part
            assert all(pc[:half] != own[:half] for pc in found), example


def test_render_keeps_the_parts_of_a_real_address() -> None:
    rng = random.Random(1)
    for _ in range(50):
        text = render(PARTS[0], rng).casefold()
        assert "4434" in text
        assert "frozen hill" in text
        assert "anamosa" in text


def test_region_split_holds_out_whole_regions() -> None:
    groups = ["US:Cedar Rapids"] * 600 + ["US:Palo"] * 30 + ["US:Ely"] * 40 + ["IS:101"] * 50
    groups += [f"IS:{n}" for n in range(200, 260) for _ in range(5)]
    held = split_by_region(groups, seed=13, test_fraction=0.15)
    assert "US:Cedar Rapids" not in held  # too big to hold out whole
    assert held == split_by_region(groups, seed=13, test_fraction=0.15)
    assert any(g.startswith("US:") for g in held) and any(g.startswith("IS:") for g in held)


def test_jsonl_round_trip(tmp_path: Path) -> None:
    examples = _examples(5, 10)
    write_jsonl(examples, tmp_path / "x.jsonl")
    assert read_jsonl(tmp_path / "x.jsonl") == examples


def test_metrics() -> None:
    true = ["valid", "valid", "truncated", "gibberish"]
    pred = ["valid", "truncated", "truncated", "gibberish"]
    result = report(true, pred, [0.9, 0.4, 0.2, 0.1], LABELS)
    assert result.accuracy == 0.75
    assert result.per_class["truncated"]["precision"] == 0.5
    assert result.roc_auc == 1.0
    assert roc_auc([True, False], [0.5, 0.5]) == 0.5
    assert confusion_matrix(true, pred, LABELS)[0][LABELS.index("truncated")] == 1


def test_train_config_overrides() -> None:
    cfg = TrainConfig.from_overrides(
        {"num_layers": "none", "lora_r": "4", "data.n_train": "100", "target_modules": "q_proj"}
    )
    assert cfg.num_layers is None
    assert cfg.lora_r == 4
    assert cfg.data.n_train == 100
    assert cfg.target_modules == ("q_proj",)
    with pytest.raises(ValueError):
        TrainConfig.from_overrides({"nope": "1"})


# --------------------------------------------------------------------------- real model


@pytest.fixture(scope="session")
def tiny_base() -> Any:
    """SmolLM2 cut to 2 decoder layers with a fresh head, loaded once per session."""
    from finetune._model import load_sequence_classifier

    return load_sequence_classifier(len(LABELS), num_layers=2)


@pytest.fixture
def base_copy(tiny_base: Any) -> Iterator[Any]:
    yield copy.deepcopy(tiny_base)


@pytest.mark.slow
def test_tiny_training_run_learns_saves_and_loads_back(tiny_base: Any, tmp_path: Path) -> None:
    from finetune.classifier import Classifier

    golden = read_jsonl(GOLDEN)
    dataset = Dataset(
        train=tuple(golden + _examples(11, 30)),
        test=tuple(golden[::3]),
        test_groups=(),
        sizes={"train_examples": len(golden) + 30, "test_examples": len(golden[::3])},
    )
    cfg = TrainConfig(
        name="tiny",
        output_root=tmp_path,
        num_layers=2,
        max_steps=16,
        batch_size=16,
        learning_rate=3e-3,
        lora_r=4,
        lora_alpha=8,
    )
    out = train(cfg, dataset=dataset, base=copy.deepcopy(tiny_base))
    assert (out / "adapter_model.safetensors").stat().st_size < 5_000_000
    assert (out / "MODEL_CARD.md").read_text().startswith("# tiny")
    losses = json.loads((out / "train_log.json").read_text())["loss"]
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4

    saved = json.loads((out / "metrics.json").read_text())["heldout"]
    loaded = Classifier.load(out, precision="fp32", base=copy.deepcopy(tiny_base))
    texts = [e.text for e in dataset.test]
    probs = loaded.probabilities(texts, [e.evidence for e in dataset.test])
    pred = [LABELS[max(range(len(LABELS)), key=row.__getitem__)] for row in probs]
    again = report([e.label for e in dataset.test], pred, [row[0] for row in probs], LABELS)
    assert again.accuracy == pytest.approx(saved["accuracy"])
    assert again.roc_auc == pytest.approx(saved["roc_auc"], abs=1e-6)


@pytest.mark.slow
def test_corrupt_adapter_is_a_typed_error(base_copy: Any, tmp_path: Path) -> None:
    from finetune.classifier import Classifier
    from finetune.errors import ClassifierNotReadyError

    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "classifier.json").write_text(
        json.dumps({"labels": list(LABELS), "num_layers": 2, "max_length": 48})
    )
    with pytest.raises(ClassifierNotReadyError):
        Classifier.load(tmp_path, base=base_copy)


def test_cli_rejects_unknown_settings() -> None:
    from typer.testing import CliRunner

    from finetune.cli import finetune_app

    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})
    result = runner.invoke(finetune_app, ["train", "--set", "no_such_field=1"])
    assert result.exit_code == 2
    assert "no_such_field" in result.output


# --------------------------------------------------------------------------- other layouts


def test_restyle_renders_real_parts_in_other_countries_layouts() -> None:
    from finetune.data import restyle

    rng = random.Random(4)
    countries = set()
    for _ in range(300):
        styled = restyle(PARTS[0], rng)
        countries.add(styled.country)
        assert styled.city == "Anamosa" and styled.state is None
        assert styled.road and "Frozen" in styled.road.replace("-", " ")
        text = render(styled, rng)
        assert "anamosa" in text.casefold()
    assert len(countries) >= 25


def test_random_postcodes_have_each_countrys_shape() -> None:
    from address.rules import postcode_matches
    from finetune.data.postcodes import random_postcode

    rng = random.Random(2)
    for country in ("GB", "DE", "FR", "NL", "CA", "BR", "PL", "IS", "US"):
        codes = {random_postcode(country, rng) for _ in range(20)}
        assert len(codes) > 5, country
        for code in codes:
            assert code and postcode_matches(code, country), (country, code)


def test_gazetteer_postcodes_are_typed_in_each_countrys_shape() -> None:
    import re

    from finetune.data import typed_places

    typed = typed_places(
        {
            "PT": [("1000001", "lisboa")],
            "BR": [("01000000", "sao paulo")],
            "CA": [("M5V", "toronto")],
            "ES": [("28013", "madrid")],
            "LU": [("L1111", "luxembourg")],  # Luxembourg writes "1111": no shape fits
        },
        random.Random(1),
    )
    assert typed["PT"] == [("1000-001", "Lisboa")]
    assert typed["BR"] == [("01000-000", "Sao Paulo")]
    assert typed["ES"] == [("28013", "Madrid")]
    (postcode, town), *_ = typed["CA"]
    assert re.fullmatch(r"M5V \d[A-Z]\d", postcode) and town == "Toronto"
    assert "LU" not in typed


_PLACES = {"ES": [("28013", "Madrid"), ("08001", "Barcelona")]}


def test_restyle_can_take_a_real_place_of_the_new_country() -> None:
    from finetune.data import restyle

    rng = random.Random(5)
    postcode_of = {town: postcode for postcode, town in _PLACES["ES"]}
    styled_all = [restyle(PARTS[0], rng, _PLACES, 1.0) for _ in range(400)]
    spanish = [styled for styled in styled_all if styled.country == "ES"]
    assert spanish
    for styled in spanish:
        assert styled.city in postcode_of
        assert styled.postcode in (None, postcode_of[styled.city])
    # Without places, or at share 0, the town stays the real US one.
    assert all(restyle(PARTS[0], rng, _PLACES, 0.0).city == "Anamosa" for _ in range(50))


def test_foreign_postcode_swaps_use_a_far_postcode_of_the_new_country() -> None:
    only_swaps = {r.value: 0.0 for r in Reason if r.value in LABELS}
    only_swaps[Reason.POSTCODE_LOCALITY_MISMATCH.value] = 1.0
    examples = make_examples(
        PARTS,
        300,
        random.Random(2),
        ExampleConfig(
            valid_fraction=0.0,
            donors=donors_from(PARTS),
            foreign_layouts=1.0,
            places=_PLACES,
            real_places=1.0,
            reason_weights=only_swaps,
        ),
    )
    assert {e.label for e in examples} == {Reason.POSTCODE_LOCALITY_MISMATCH.value}
    madrid = [e.text.casefold() for e in examples if "madrid" in e.text.casefold()]
    barcelona = [e.text.casefold() for e in examples if "barcelona" in e.text.casefold()]
    assert madrid and barcelona
    assert all("08001" in t and "28013" not in t for t in madrid)
    assert all("28013" in t and "08001" not in t for t in barcelona)


def test_foreign_layouts_keep_every_label_and_break_what_it_says() -> None:
    examples = make_examples(
        PARTS,
        400,
        random.Random(9),
        ExampleConfig(
            valid_fraction=0.4,
            donors=donors_from(PARTS),
            foreign_layouts=1.0,
        ),
    )
    assert {e.label for e in examples} == set(LABELS)
    numbers = {p.house_number for p in PARTS if len(p.house_number or "") > 2}
    for example in examples:
        if example.label == Reason.MISSING_LOCALITY:
            assert not any(p.city and p.city.casefold() in example.text.casefold() for p in PARTS)
        if example.label == Reason.MISSING_HOUSE_NUMBER:
            assert not numbers & set(example.text.replace(",", " ").split()), example


def test_evidence_is_asked_of_each_finished_text_in_its_layouts_country() -> None:
    asked: list[tuple[str, str]] = []

    def word(country: str) -> str:
        return "placed" if country in {"US", "IS"} else "unknown"

    def evidence(text: str, country: str) -> str:
        asked.append((text, country))
        return word(country)

    examples = make_examples(
        PARTS,
        200,
        random.Random(5),
        ExampleConfig(
            valid_fraction=0.4,
            donors=donors_from(PARTS),
            evidence=evidence,
            foreign_layouts=0.5,
        ),
    )
    assert [text for text, _ in asked] == [e.text for e in examples]
    assert [e.evidence for e in examples] == [word(c) for _, c in asked]
    # Restyled texts are asked with their new country, the original ones with their own.
    assert {c for _, c in asked} - {"US", "IS"}
    assert {e.evidence for e in examples} == {"placed", "unknown"}
    assert all(e.evidence == "none" for e in _examples(5))


def test_gibberish_is_never_a_postcode_shape() -> None:
    from finetune.data.negatives import _gibberish
    from finetune.data.postcodes import looks_like_postcode

    assert looks_like_postcode("LU2 7JZ") and looks_like_postcode("10115")
    assert not looks_like_postcode("xk7 pq9zz wvbt")
    rng = random.Random(1)
    for _ in range(300):
        text = _gibberish(rng, "")
        assert not looks_like_postcode(text), text


# --------------------------------------------------------------------------- invented places


def test_invented_places_are_made_up_in_the_countrys_style() -> None:
    from finetune.data import invent, invented_road, invented_town
    from finetune.data.rendering import ascii_fold

    assert invented_town("de", random.Random(3)) == invented_town("de", random.Random(3))
    towns = {invented_town("fr", random.Random(seed)) for seed in range(40)}
    assert len(towns) > 30
    assert all(town and town[0].isupper() for town in towns)
    roads = [invented_road("de", random.Random(seed)) for seed in range(40)]
    assert any(road.endswith(("straße", "Straße", "weg", "Weg")) for road in roads)
    rng = random.Random(6)
    for _ in range(50):
        styled = invent(
            AddressParts("DE", "12", "Frozen Hillstraße", None, "80417", "Anamosa"), rng
        )
        assert styled.city and styled.city != "Anamosa"
        assert (styled.house_number, styled.postcode, styled.country) == ("12", "80417", "DE")
        text = ascii_fold(render(styled, rng)).casefold()
        assert ascii_fold(styled.city).casefold() in text


def test_invented_examples_keep_every_label_and_real_towns_for_postcode_swaps() -> None:
    from finetune.data.rendering import ascii_fold

    examples = make_examples(
        PARTS,
        400,
        random.Random(5),
        ExampleConfig(
            valid_fraction=0.4,
            donors=donors_from(PARTS),
            foreign_layouts=0.5,
            invented_places=1.0,
            premises=0.5,
        ),
    )
    assert {e.label for e in examples} == set(LABELS)
    towns = {ascii_fold(p.city).casefold() for p in PARTS if p.city}
    for example in examples:
        text = ascii_fold(example.text).casefold()
        if example.label == Reason.POSTCODE_LOCALITY_MISMATCH:
            assert any(town in text for town in towns), example
        elif example.label == VALID:
            assert not any(town in text for town in towns), example  # every town made up


def test_same_region_postcode_is_a_real_one_of_the_region() -> None:
    from finetune.data.examples import _same_region_postcode

    donors = {"IS": [("600", "Akureyri"), ("603", "Akureyri"), ("101", "Reykjavík")]}
    parts = AddressParts("IS", "5", "Brekkusíða", None, "603", "Akureyri")
    assert _same_region_postcode(parts, donors, random.Random(1)).postcode == "600"
    alone = AddressParts("IS", "23", "Eiríksgata", None, "101", "Reykjavík")
    assert _same_region_postcode(alone, donors, random.Random(1)) == alone


def test_decision_threshold() -> None:
    from finetune._labels import decide
    from finetune.train import pick_threshold

    row = [0.3, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6]
    assert decide(row) == "truncated"
    assert decide(row, 0.25) == "valid"
    assert decide([0.6, 0.4, 0, 0, 0, 0, 0, 0], 0.7) == "missing_house_number"
    assert pick_threshold(["valid", "truncated"], [0.4, 0.1]) == 0.4
    gold = ["valid"] * 4 + ["gibberish"] * 4
    assert pick_threshold(gold, [0.9, 0.8, 0.3, 0.35, 0.2, 0.1, 0.05, 0.0]) == 0.3


def test_reason_weights_shift_the_negatives() -> None:
    from collections import Counter

    from finetune.data import parse_weights

    weights = parse_weights("postcode_locality_mismatch=2, gibberish=0")
    examples = make_examples(
        PARTS,
        400,
        random.Random(3),
        ExampleConfig(
            valid_fraction=0.4,
            donors=donors_from(PARTS),
            reason_weights=weights,
        ),
    )
    counts = Counter(e.label for e in examples)
    assert counts["valid"] == 160 and "gibberish" not in counts
    assert counts["postcode_locality_mismatch"] >= 1.8 * counts["truncated"]
    with pytest.raises(ValueError):
        make_examples(
            PARTS,
            10,
            random.Random(3),
            ExampleConfig(valid_fraction=0.4, donors={}, reason_weights={"x": 1}),
        )
