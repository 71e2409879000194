"""The dataset: the reference table's complete addresses split by region into training,
tune and held-out examples, so that test metrics are about places the model never saw."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from finetune.data.config import DataConfig, ExampleConfig, parse_weights
from finetune.data.examples import make_examples
from finetune.data.places import donors_from, typed_places
from finetune.data.records import (
    AddressParts,
    Dataset,
    EvidenceOf,
    Example,
    Expander,
    PlacesOf,
)
from finetune.data.resources import street_types

__all__ = ["build_dataset", "build_default_dataset", "parts_from_reference", "split_by_region"]


def _group(row: Mapping[str, Any]) -> str:
    """Held-out unit of a reference row: the city in the US, the postcode area in Iceland."""
    country = str(row["country"])
    key = row["city"] if country == "US" else row["postcode"]
    return f"{country}:{key}"


def split_by_region(groups: Sequence[str], seed: int, test_fraction: float) -> frozenset[str]:
    """Pick whole regions to hold out, about ``test_fraction`` of each country's rows.

    Regions are shuffled with the seed and taken until the share is reached; a region
    holding more than half the wanted share (Cedar Rapids, Reykjavík 101) is skipped so
    that the held-out set spans several places.
    """
    counts: dict[str, int] = {}
    for group in groups:
        counts[group] = counts.get(group, 0) + 1
    held: set[str] = set()
    for country in sorted({g.split(":", 1)[0] for g in counts}):
        names = sorted(g for g in counts if g.startswith(f"{country}:"))
        total = sum(counts[g] for g in names)
        random.Random(f"{seed}:{country}").shuffle(names)
        want, taken = total * test_fraction, 0
        for name in names:
            if taken >= want:
                break
            if counts[name] > want / 2:
                continue
            held.add(name)
            taken += counts[name]
    return frozenset(held)


def parts_from_reference(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[AddressParts, str]]:
    """Complete reference rows (number, road and town) as parts with their region."""
    for row in rows:
        values = {
            key: (str(row[key]) if isinstance(row[key], str) and row[key].strip() else None)
            for key in ("house_number", "road", "unit", "postcode", "city", "state")
        }
        if values["house_number"] and values["road"] and values["city"]:
            yield AddressParts(country=str(row["country"]), **values), _group(row)


def build_dataset(
    cfg: DataConfig,
    reference: Path,
    expand: Expander | None = None,
    evidence: EvidenceOf | None = None,
    places: PlacesOf | None = None,
) -> Dataset:
    """Train, tune and held-out examples from a reference table.

    Args:
        cfg: sizes, seed and split.
        reference: Parquet reference table, e.g. the configured
            ``get_settings().reference_table`` (234,565 rows: Linn County, Iowa and
            Iceland).
        expand: road-name expander, normally ``address.libpostal.expand``.
        evidence: the gazetteer's word on a text, normally
            ``finetune.evidence.evidence_for``; ``None``: ``"none"`` for every example.
        places: a country's real postcodes and places, normally
            ``address.gazetteer.postcode_places``, for restyled addresses
            (``cfg.real_places``); ``None``: restyled towns stay the US/IS ones.
    """
    from index.reference import read_reference

    frame = read_reference(reference)
    records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    pairs = list(parts_from_reference(records))
    held = split_by_region([g for _, g in pairs], cfg.seed, cfg.test_fraction)
    rest = [(p, g) for p, g in pairs if g not in held]
    tuned: frozenset[str] = frozenset()
    if cfg.n_tune > 0:
        # Tune regions come from what the held-out split left, so the held-out set
        # stays the same whether or not a tune split is made.
        share = cfg.tune_fraction / max(1e-9, 1.0 - cfg.test_fraction)
        tuned = split_by_region([g for _, g in rest], cfg.seed + 1, share)
    train_parts = [(p, g) for p, g in rest if g not in tuned]
    tune_parts = [(p, g) for p, g in rest if g in tuned]
    test_parts = [(p, g) for p, g in pairs if g in held]
    donors = donors_from(p for p, _ in pairs)
    # Real places of the countries an address may be restyled into, but of neither the
    # reference's countries (their held-out regions) nor the unseen evaluation countries.
    barred = {p.country for p, _ in pairs} | {c.upper() for c in cfg.unseen_countries}
    real = (
        typed_places(
            {c: places(c) for c in sorted(street_types()["countries"]) if c not in barred},
            random.Random(f"{cfg.seed}:places"),
        )
        if places is not None and cfg.real_places > 0
        else {}
    )

    def examples(
        chosen: list[tuple[AddressParts, str]], n: int, salt: str, like_training: bool
    ) -> list[Example]:
        rng = random.Random(f"{cfg.seed}:{salt}")
        recipe = ExampleConfig(
            valid_fraction=cfg.valid_fraction,
            donors=donors,
            expand=expand,
            evidence=evidence,
            groups=[g for _, g in chosen],
            foreign_layouts=cfg.foreign_layouts if like_training else 0.0,
            places=real,
            real_places=cfg.real_places,
            invented_places=cfg.invented_places if like_training else 0.0,
            region_postcodes=cfg.region_postcodes if salt == "train" else 0.0,
            premises=cfg.premises if like_training else 0.0,
            reason_weights=(
                parse_weights(cfg.reason_weights)
                if salt == "train" and cfg.reason_weights
                else None
            ),
        )
        return make_examples([p for p, _ in chosen], n, rng, recipe)

    train = examples(train_parts, cfg.n_train, "train", True)
    test = examples(test_parts, cfg.n_test, "test", False)
    tune = examples(tune_parts, cfg.n_tune, "tune", True) if tune_parts else []
    sizes = {
        "reference_rows": len(frame),
        "complete_addresses": len(pairs),
        "train_region_addresses": len(train_parts),
        "heldout_region_addresses": len(test_parts),
        "heldout_regions": len(held),
        "tune_region_addresses": len(tune_parts),
        "tune_regions": len(tuned),
        "train_examples": len(train),
        "test_examples": len(test),
        "tune_examples": len(tune),
        "real_place_countries": len(real),
        "real_place_pairs": sum(map(len, real.values())),
    }
    return Dataset(
        tuple(train), tuple(test), tuple(sorted(held)), sizes, tuple(tune), tuple(sorted(tuned))
    )


def build_default_dataset(cfg: DataConfig, reference: Path) -> Dataset:
    """The dataset as ``addr finetune train`` and the evaluation build it from the
    reference table at ``reference``: libpostal's road-name expansions, the gazetteer's
    word on each text and its real places."""
    from address.gazetteer import postcode_places
    from address.libpostal import expand
    from finetune.evidence import evidence_for

    return build_dataset(
        cfg, reference, expand=expand, evidence=evidence_for, places=postcode_places
    )
