"""How much training data to make and how: :class:`DataConfig` for a whole dataset,
:class:`ExampleConfig` for one batch of examples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from finetune.data.records import Donors, EvidenceOf, Expander

__all__ = ["DataConfig", "ExampleConfig", "parse_weights"]


@dataclass(frozen=True, slots=True)
class DataConfig:
    """How many examples to make and how to split them.

    Attributes:
        seed: seed of every random choice (split, sampling, rendering).
        n_train: training examples (addresses from the training regions).
        n_test: held-out examples (addresses from the held-out regions).
        valid_fraction: share of ``valid`` examples; the rest is spread evenly over
            the reason classes.
        test_fraction: share of each country's reference rows whose region is held out.
        foreign_layouts: share of *training* examples (positives and negatives alike)
            whose real US/IS components are rendered as another country's address:
            its layout, a postcode of its shape and a street-type word of its language
            (``finetune/data/street_types.json``). The held-out set is never restyled.
        real_places: share of restyled examples whose postcode and town become a real
            pair of the new country from the postcode gazetteer ("Calle Frozen Hill 12,
            28013 Madrid"), so that the gazetteer's ``placed``, ``far`` and ``cut``
            occur in every layout; the rest keep their US/IS town with a made-up
            postcode (``unknown``). Postcode-locality mismatches are restyled only with
            a real pair, and then get a far postcode of the new country.
        unseen_countries: countries whose real places never enter the training data,
            so that the evaluation on their addresses is about places the model never
            saw (their layouts are still used, with US/IS towns). The reference data's
            own countries (US, IS) are left out of ``real_places`` too: their real
            places include the held-out regions.
        invented_places: share of *training* and tune examples (every label but
            postcode mismatches) whose town, and often street, are made-up names in the
            style of the address's country (:func:`~finetune.data.places.invent`):
            "Lindenweg 12, 80417 Kelmingen". The held-out set keeps its real names.
        region_postcodes: share of original-layout *training* positives given another
            real postcode of their own region ("Brekkusíða 5, 600 Akureyri" for 603). 0
            by default: the gazetteer calls many of those postcodes ``far``, and such
            positives would teach the classifier to doubt its evidence.
        premises: share of restyled or invented training positives, ``missing_locality``
            and ``truncated`` negatives that start with a building or organisation line
            ("Dental Surgery, 15 Druid Hill, ...", as many business addresses do). At
            0.1 the classifier still took such a line for a road without its number.
        n_tune: tune examples, from regions held out of both training and test, made
            like the training examples; the decision threshold is chosen on them.
        tune_fraction: share of each country's reference rows whose region is kept for
            the tune split (picked after the held-out regions, from the rest).
        reason_weights: relative shares of the reasons among *training* negatives,
            "postcode_locality_mismatch=2,gibberish=0.5" (unnamed: 1; empty: all equal).
            The tune and held-out sets have them all equally often, as the evaluation
            sets do, so the threshold is chosen for that mix.
    """

    seed: int = 13
    n_train: int = 28800
    n_test: int = 2000
    valid_fraction: float = 0.4
    test_fraction: float = 0.15
    foreign_layouts: float = 0.5
    real_places: float = 0.7
    unseen_countries: tuple[str, ...] = ("GB", "DE", "FR")
    invented_places: float = 0.25
    region_postcodes: float = 0.0
    premises: float = 0.3
    n_tune: int = 1000
    tune_fraction: float = 0.05
    reason_weights: str = ""


@dataclass(frozen=True, slots=True)
class ExampleConfig:
    """What :func:`~finetune.data.examples.make_examples` draws from and how often it
    changes an address: ``ExampleConfig(valid_fraction=0.4, donors={"IS": [("600",
    "Akureyri"), ("101", "Reykjavík")]})`` renders real addresses as they are.

    Attributes:
        valid_fraction: share of positives; negatives cycle through the reasons.
        donors: real ``(postcode, town)`` pairs per country for postcode-locality
            mismatches (see :func:`~finetune.data.places.donors_from`).
        expand: libpostal's ``expand`` for road-name variants, or ``None``.
        evidence: the gazetteer's word on each finished text, asked with the country of
            its layout (a restyled address's new country); ``None``: ``"none"`` for all.
        groups: the region of each address (kept with its examples).
        foreign_layouts: share of examples whose address is first ``restyle``-d into
            another country's layout (0: none, and no random draw is spent).
        places: real ``(postcode, town)`` pairs as typed of countries a restyled address
            may take (``typed_places``); a postcode-locality mismatch is restyled only
            into one of these countries and takes a far postcode of it.
        real_places: share of restyled examples given a real pair from ``places``.
        invented_places: share of examples (all labels but postcode mismatches, which
            need a real town) whose town, and often street, are replaced by made-up
            names of the address's style (``invent``; 0: no draw spent).
        region_postcodes: share of original-layout positives given another real
            postcode of the same region (0: no draw).
        premises: share of restyled or invented positives, ``missing_locality`` and
            ``truncated`` negatives that start with a building or organisation line
            ("The Surgery, ...", "Unit 3, ..."), so that such a line marks neither class.
        reason_weights: relative share of each reason among the negatives (1 for a
            reason not named); ``None``: all reasons equally often.
    """

    valid_fraction: float
    donors: Donors
    expand: Expander | None = None
    evidence: EvidenceOf | None = None
    groups: Sequence[str] | None = None
    foreign_layouts: float = 0.0
    places: Donors | None = None
    real_places: float = 0.0
    invented_places: float = 0.0
    region_postcodes: float = 0.0
    premises: float = 0.0
    reason_weights: Mapping[str, float] | None = None


def parse_weights(text: str) -> dict[str, float]:
    """ "postcode_locality_mismatch=2, gibberish=0.5" -> ``{"postcode_locality_mismatch":
    2.0, "gibberish": 0.5}``; "" -> ``{}``."""
    out: dict[str, float] = {}
    for item in text.split(","):
        if item.strip():
            name, _, value = item.partition("=")
            out[name.strip()] = float(value)
    return out
