"""What :func:`address.verify.verify` answers (:class:`Verification`), and what it asks
of its collaborators: a searcher over known-good addresses and a validity classifier.

Example: ``"4570 Frozen Hill Rd, Anamosa IA"`` is answered ``Verification(verdict=valid,
granularity=premise, next_action=accept, match=Match("us-ia-linn-000001", ...))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from address.model import REASON_MESSAGES, ParsedAddress, Reason
from address.rules import PlaceEvidence

__all__ = [
    "CLASSIFIER_INVALID",
    "CLASSIFIER_VALID",
    "Classification",
    "Classifier",
    "Completeness",
    "ComponentCheck",
    "Confirmation",
    "Coverage",
    "Granularity",
    "Location",
    "Match",
    "NextAction",
    "Precision",
    "SearchCandidate",
    "Searcher",
    "Suggestion",
    "Verdict",
    "Verification",
    "classifier_verdict",
]

CLASSIFIER_VALID = 0.9
"""Valid probability at or above which the classifier alone may call an address valid."""
CLASSIFIER_INVALID = 0.1
"""Valid probability at or below which the classifier alone may call an address invalid."""


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNCERTAIN = "uncertain"


class Granularity(StrEnum):
    """The finest level confirmed against known-good data."""

    PREMISE = "premise"
    STREET = "street"
    LOCALITY = "locality"
    NONE = "none"


class NextAction(StrEnum):
    """What a checkout or courier app should do, without reading the reasons."""

    ACCEPT = "accept"
    CONFIRM = "confirm"
    FIX = "fix"


class Completeness(StrEnum):
    """Whether a source of known-good addresses lists every address of the places it
    covers (``index.reference`` stores it with each row)."""

    AUTHORITATIVE = "authoritative"
    """A register (Iceland's, a county's OpenAddresses): an address it lacks is doubtful."""
    OBSERVED = "observed"
    """Addresses seen in deliveries or orders: a missing one means nothing."""


class Coverage(StrEnum):
    """Whether the known-good data could judge the address."""

    COVERED = "covered"
    """The known-good data holds the address's street, town or postcode."""
    OUTSIDE = "outside"
    """Judged without reference data: rules and the classifier only, no did-you-mean."""


class Confirmation(StrEnum):
    CONFIRMED = "confirmed"
    PLAUSIBLE = "plausible"
    SUSPICIOUS = "suspicious"


class Precision(StrEnum):
    """How finely a :class:`Location` places an address, finest first."""

    PREMISE = "premise"
    """The address's own point: its reference row's, or where a courier delivered."""
    STREET = "street"
    """Between known numbers on the same street, or the street's middle."""
    POSTCODE = "postcode"
    """The postcode's centroid (GeoNames)."""
    LOCALITY = "locality"
    """The town's centroid (GeoNames)."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where an address is, and how precisely: ``Location(64.14597, -21.93096,
    Precision.PREMISE)`` for ``"Laugavegur 12b, 101 Reykjavík"``."""

    lat: float
    lon: float
    precision: Precision


class SearchCandidate(Protocol):
    """A known-good address offered by the searcher (``index.search.Candidate``)."""

    @property
    def id(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def components(self) -> Mapping[str, str]: ...
    @property
    def country(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def matched(self) -> tuple[str, ...]: ...
    @property
    def location(self) -> Location | None: ...
    @property
    def completeness(self) -> str:
        """``authoritative`` (a register) or ``observed`` (deliveries, orders)."""
        ...


class Searcher(Protocol):
    """Finds known-good addresses for full, possibly wrong, addresses that ``verify``
    has already normalized and parsed (``index.AddressIndex.search_parsed``)."""

    def search_parsed(
        self,
        texts: Sequence[str],
        parsed: Sequence[ParsedAddress],
        k: int = 5,
        country: str | None = None,
    ) -> Sequence[Sequence[SearchCandidate]]: ...

    def locate(self, parsed: ParsedAddress, country: str | None) -> Location | None:
        """The best location for an address no known-good row is: a point on its street,
        else its postcode's or town's centroid (``index.AddressIndex.locate``)."""
        ...


class Classification(Protocol):
    """A validity judgement of an address text."""

    @property
    def valid_probability(self) -> float: ...
    @property
    def reasons(self) -> Sequence[tuple[Reason, float]]: ...


class Classifier(Protocol):
    """Judges whether a text is a complete, deliverable address, reading the postcode
    gazetteer's word on each text (``evidence``) with it
    (``finetune.classifier.Classifier.classify_read``)."""

    def classify_read(
        self, texts: Sequence[str], evidence: Sequence[PlaceEvidence]
    ) -> Sequence[Classification]: ...


@dataclass(frozen=True, slots=True)
class ComponentCheck:
    """How one component fared: ``ComponentCheck("road", "frozen hill rd", "suspicious",
    corrected=True, inferred=False)`` for a street typo that the match fixed."""

    component: str
    value: str
    confirmation: Confirmation
    corrected: bool = False
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """The known-good address the input is: ``Match("us-ia-linn-000001",
    "4570 Frozen Hill Rd, Anamosa, IA 52205", 0.98)``."""

    id: str
    address: str
    score: float
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A "did you mean" candidate."""

    id: str
    address: str
    score: float
    components: Mapping[str, str] = field(default_factory=dict)
    country: str = ""
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer for one address, e.g. for ``"4570 Frozen Hill Rd, Anamosa IA"``:
    ``verdict=valid, granularity=premise, next_action=accept, match=Match(...)``."""

    verdict: Verdict
    confidence: float
    reasons: tuple[Reason, ...]
    granularity: Granularity
    next_action: NextAction
    standardized: str
    components: Mapping[str, str]
    component_checks: tuple[ComponentCheck, ...]
    match: Match | None
    suggestions: tuple[Suggestion, ...]
    country: str | None
    classifier_used: bool
    extras: Mapping[str, str] = field(default_factory=dict)
    """What the text held besides the address: ``{"phone": "555-0134"}``."""
    coverage: Coverage = Coverage.COVERED
    location: Location | None = None
    """Where the address is, as finely as known (``None`` when nothing places it)."""

    @property
    def messages(self) -> tuple[str, ...]:
        """The reasons as short human messages ("House number missing")."""
        return tuple(REASON_MESSAGES[r] for r in self.reasons)


def classifier_verdict(valid_probability: float) -> Verdict:
    """The verdict the classifier's valid probability gives on its own: ``valid`` at
    :data:`CLASSIFIER_VALID` (0.9) or above, ``invalid`` at :data:`CLASSIFIER_INVALID`
    (0.1) or below, ``uncertain`` in between.

    The one rule for reading the probability as a verdict: ``verify`` starts from it
    when neither the rules nor the known-good data decide (they may only hold a
    ``valid`` back at ``uncertain``), and ``addr classify`` prints it beside its label.
    The label (``valid`` or the likeliest reason, at the adapter's tuned threshold)
    names a class; it is not a verdict.

    Example: ``classifier_verdict(0.97)`` is ``Verdict.VALID``, ``classifier_verdict(0.4)``
    ``Verdict.UNCERTAIN``.
    """
    if valid_probability >= CLASSIFIER_VALID:
        return Verdict.VALID
    if valid_probability <= CLASSIFIER_INVALID:
        return Verdict.INVALID
    return Verdict.UNCERTAIN
