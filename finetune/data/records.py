"""The records of the training data: address parts, labelled examples, datasets, JSONL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "AddressParts",
    "Dataset",
    "Donors",
    "EvidenceOf",
    "Example",
    "Expander",
    "PlacesOf",
    "read_jsonl",
    "write_jsonl",
]

Donors = Mapping[str, Sequence[tuple[str, str]]]
"""Country -> real ``(postcode, town)`` pairs: ``{"IS": [("600", "Akureyri"), ...]}``."""

Expander = Callable[[str], list[str]]
"""``address.libpostal.expand`` or a stand-in: "Frozen Hill Rd" -> ["frozen hill road"]."""

PlacesOf = Callable[[str], Sequence[tuple[str, str]]]
"""``address.gazetteer.postcode_places`` or a stand-in: "ES" -> ``[("28013", "madrid"),
...]``, a country's real postcodes and (folded) places."""

EvidenceOf = Callable[[str, str], str]
"""``finetune.evidence.evidence_for`` or a stand-in: ("Am Rain 1a, 36043 Fulda", "DE") ->
"placed", the gazetteer's word on a text in its layout's country."""


@dataclass(frozen=True, slots=True)
class AddressParts:
    """One real address as components, e.g. ``AddressParts(house_number="4570",
    road="Frozen Hill Rd", city="Anamosa", state="IA", postcode="52205", country="US")``."""

    country: str
    house_number: str | None = None
    road: str | None = None
    unit: str | None = None
    postcode: str | None = None
    city: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled text: ``Example("4570 Frozen Hill Rd, Anamosa, IA 52205", "valid",
    "US", "US:Anamosa", "placed")``; ``group`` is the held-out unit (city or postcode
    area), ``evidence`` what the postcode gazetteer says of the text
    (:class:`address.rules.PlaceEvidence`), which the classifier reads with it."""

    text: str
    label: str
    country: str
    group: str
    evidence: str = "none"


@dataclass(frozen=True, slots=True)
class Dataset:
    """Train and held-out examples plus the regions held out and the split sizes."""

    train: tuple[Example, ...]
    test: tuple[Example, ...]
    test_groups: tuple[str, ...]
    sizes: Mapping[str, int]
    tune: tuple[Example, ...] = ()
    tune_groups: tuple[str, ...] = ()


def write_jsonl(examples: Iterable[Example], path: Path) -> None:
    """One JSON object per line: ``{"text", "label", "country", "group", "evidence"}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for example in examples:
            out.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Example]:
    """Examples written by :func:`write_jsonl` (or by hand: ``country``, ``group`` and
    ``evidence`` optional)."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(
                Example(
                    row["text"],
                    row["label"],
                    row.get("country", ""),
                    row.get("group", ""),
                    row.get("evidence", "none"),
                )
            )
    return examples
