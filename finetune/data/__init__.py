"""Training data for the validity classifier: real positives, labelled realistic negatives.

Positives are real known-good addresses rendered the ways people type them (component
order, casing, libpostal expansions such as "Frozen Hill Rd" -> "frozen hill road",
with or without unit, postcode, state and country name, Google's country formats).
Negatives come from the same addresses with one thing broken, each labelled with an
:class:`address.model.Reason`: the house number, road or locality dropped, a real
postcode of another town put in, the text cut short, or text that is no address at all
(delivery notes, phone numbers, e-mails, names, URLs) or gibberish.

The split is by region: whole US cities and whole Icelandic postcode areas are held out,
so test metrics are about addresses in places the model never saw. Everything is
deterministic for a given seed.

Modules: :mod:`~finetune.data.records` (parts, examples, datasets, JSONL),
:mod:`~finetune.data.config` (sizes and shares), :mod:`~finetune.data.places`
(restyled, typed and made-up places), :mod:`~finetune.data.postcodes`,
:mod:`~finetune.data.rendering`, :mod:`~finetune.data.negatives`,
:mod:`~finetune.data.examples` and :mod:`~finetune.data.split` (the dataset).
"""

from __future__ import annotations

from finetune.data.config import DataConfig, ExampleConfig, parse_weights
from finetune.data.examples import make_examples
from finetune.data.places import (
    donors_from,
    invent,
    invented_road,
    invented_town,
    restyle,
    typed_places,
)
from finetune.data.records import (
    AddressParts,
    Dataset,
    Donors,
    EvidenceOf,
    Example,
    Expander,
    PlacesOf,
    read_jsonl,
    write_jsonl,
)
from finetune.data.rendering import render
from finetune.data.split import (
    build_dataset,
    build_default_dataset,
    parts_from_reference,
    split_by_region,
)

__all__ = [
    "AddressParts",
    "DataConfig",
    "Dataset",
    "Donors",
    "EvidenceOf",
    "Example",
    "ExampleConfig",
    "Expander",
    "PlacesOf",
    "build_dataset",
    "build_default_dataset",
    "donors_from",
    "invent",
    "invented_road",
    "invented_town",
    "make_examples",
    "parse_weights",
    "parts_from_reference",
    "read_jsonl",
    "render",
    "restyle",
    "split_by_region",
    "typed_places",
    "write_jsonl",
]
