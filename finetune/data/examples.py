"""Labelled examples from real addresses: positives rendered as people type them,
negatives broken as their reason says, each with the gazetteer's word on its text."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace

from address.errors import InvalidAddressInputError
from address.model import Reason
from address.normalize import normalize
from finetune._labels import LABELS, VALID
from finetune.data.config import ExampleConfig
from finetune.data.negatives import negative
from finetune.data.places import invent, premises_line, restyle
from finetune.data.postcodes import postcode_region
from finetune.data.records import AddressParts, Donors, Example
from finetune.data.rendering import render

__all__ = ["make_examples"]

# Share of draws that pick a region first, then an address in it, so that small towns
# are not drowned by Cedar Rapids and Reykjavík: the model must learn many town names
# (and that an unfamiliar one is not a truncated word).
_REGION_FIRST_SHARE = 0.5


# Labels whose text may start with a building or organisation line: the line says
# nothing of validity ("The Surgery, 12 High St, Leeds" is as valid as without it, and
# "The Surgery, 12 High St" lacks its town all the same). A named house without a
# number is often deliverable, so ``missing_house_number`` never gets one.
_PREMISES_LABELS = frozenset({VALID, Reason.MISSING_LOCALITY.value, Reason.TRUNCATED.value})


def make_examples(
    parts: Sequence[AddressParts], n: int, rng: random.Random, cfg: ExampleConfig
) -> list[Example]:
    """``n`` labelled examples from real addresses, ``cfg.valid_fraction`` of them valid.

    ``make_examples([AddressParts("US", "4570", "Frozen Hill Rd", None, "52205", "Anamosa",
    "IA")], 10, random.Random(7), ExampleConfig(valid_fraction=0.4, donors=donors))`` gives
    four texts such as "4570 Frozen Hill Rd, Anamosa, IA 52205" labelled ``valid`` and six
    negatives such as "4570 Frozen Hill Rd, Anam" (``truncated``).

    Args:
        parts: complete real addresses to render and to break.
        n: how many examples.
        rng: the random source (seeded by the caller).
        cfg: what to draw from and how often to change an address (see
            :class:`~finetune.data.config.ExampleConfig`).
    """
    reasons = [Reason(label) for label in LABELS if label != VALID]
    n_valid = round(n * cfg.valid_fraction)
    if cfg.reason_weights is None:
        negatives = [reasons[i % len(reasons)].value for i in range(n - n_valid)]
    else:
        negatives = _weighted_plan([r.value for r in reasons], cfg.reason_weights, n - n_valid)
    plan = [VALID] * n_valid + negatives
    rng.shuffle(plan)
    by_group: dict[str, list[int]] = {}
    for i, group in enumerate(cfg.groups or ()):
        by_group.setdefault(group, []).append(i)
    names = sorted(by_group)
    mismatch_donors = {**cfg.donors, **(cfg.places or {})}
    examples: list[Example] = []
    for label in plan:
        for _ in range(10):  # a generator may not apply to one address; try another
            if names and rng.random() < _REGION_FIRST_SHARE:
                index = rng.choice(by_group[rng.choice(names)])
            else:
                index = rng.randrange(len(parts))
            source = parts[index]
            styled = source
            if cfg.foreign_layouts > 0 and rng.random() < cfg.foreign_layouts:
                if label != Reason.POSTCODE_LOCALITY_MISMATCH.value:
                    styled = restyle(source, rng, cfg.places, cfg.real_places)
                elif (
                    cfg.places
                    and (abroad := restyle(source, rng, cfg.places, 1.0)).country in cfg.places
                ):
                    styled = abroad  # a real town whose far postcode the gazetteer knows
            if (
                cfg.invented_places > 0
                and label != Reason.POSTCODE_LOCALITY_MISMATCH.value
                and rng.random() < cfg.invented_places
            ):
                styled = invent(styled, rng)
            other_style = styled is not source
            if (
                cfg.region_postcodes > 0
                and label == VALID
                and styled is source
                and rng.random() < cfg.region_postcodes
            ):
                styled = _same_region_postcode(source, cfg.donors, rng)
            prefix = ""
            if cfg.premises > 0 and other_style and label in _PREMISES_LABELS:
                prefix = f"{premises_line(rng)}, " if rng.random() < cfg.premises else ""
            real = cfg.expand if styled is source else None
            if label == VALID:
                text: str | None = render(styled, rng, real)
            else:
                text = negative(Reason(label), styled, rng, mismatch_donors, real)
            if text and prefix:
                text = prefix + text
            text = _clean(text)
            if text:
                group = cfg.groups[index] if cfg.groups is not None else source.country
                said = cfg.evidence(text, styled.country) if cfg.evidence is not None else "none"
                examples.append(Example(text, label, source.country, group, str(said)))
                break
    return examples


def _weighted_plan(labels: Sequence[str], weights: Mapping[str, float], n: int) -> list[str]:
    """``n`` labels in proportion to their weights (largest remainders get the rest):
    ``_weighted_plan(["a", "b"], {"a": 3}, 8)`` -> six "a", two "b"."""
    unknown = set(weights) - set(labels)
    if unknown:
        raise ValueError(f"no such reasons: {sorted(unknown)}")
    shares = [max(0.0, weights.get(label, 1.0)) for label in labels]
    total = sum(shares) or 1.0
    exact = [n * share / total for share in shares]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(labels)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return [label for label, count in zip(labels, counts, strict=True) for _ in range(count)]


def _same_region_postcode(parts: AddressParts, donors: Donors, rng: random.Random) -> AddressParts:
    """The address with another real postcode of its own region: "Brekkusíða 5, 600
    Akureyri" for 603. Text cannot tell such a swap from the real address (the
    reference index can), so it stays ``valid``: the classifier learns which region a
    town's postcode belongs to ("Akureyri" and 6xx), not a closed list of exact pairs,
    and judges the postcodes of places it never saw by region."""
    region = postcode_region(parts.postcode or "")
    pool = [
        d[0]
        for d in donors.get(parts.country, ())
        if d[0] != parts.postcode and postcode_region(d[0]) == region
    ]
    return replace(parts, postcode=rng.choice(pool)) if parts.postcode and pool else parts


def _clean(text: str | None) -> str | None:
    """The text as the classifier will see it (``address.normalize``), or ``None``."""
    if not text:
        return None
    try:
        return normalize(text)
    except InvalidAddressInputError:
        return None
