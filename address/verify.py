"""Verdict assembly: normalize → extras out → unit → parse and repair → country rules →
index search → classifier.

Before anything is judged, what is not the address (a recipient, a company, a phone
number, an e-mail, a URL, delivery instructions) is taken out of the text and returned
in ``extras`` (:mod:`address.extras`), a unit written anywhere is found
(:mod:`address.units`), and a parse that lost a part the text plainly holds is repaired
(:mod:`address.repair`). A form's fields (:class:`address.fields.AddressFields`) decide
the town, region and postcode themselves.

``verify`` receives its collaborators (a searcher over known-good addresses and
a validity classifier) as arguments; it knows nothing of how they are built.

Decision logic, in order (scores are the searcher's documented agreement
scores: ≥ 0.95 same address, 0.85–0.95 same address with a minor difference,
0.60–0.85 same street with another or no house number):

1. **Known-good match** — the best candidate scores ≥ ``MATCH_SCORE`` (0.85),
   agrees on the street and at least one more component, and its house number
   equals the input's (or neither has one):
   * no component had to be corrected → ``valid`` / ``accept``, granularity
     ``premise``;
   * a component was corrected (street typo, wrong postcode or town) →
     ``uncertain`` / ``confirm``, the corrected address as the first suggestion.
2. **Street match** — the best candidate scores ≥ ``STREET_SCORE`` (0.60) and
   agrees on the street and the town or postcode, but not the house number →
   ``house_number_not_found`` (``uncertain`` / ``confirm``) when a number was
   given, else ``missing_house_number`` (``invalid`` / ``fix``); granularity
   ``street``.
3. **No known-good match** (``unknown_address``):
   * a hard rule failure (street, house number, town or postcode missing, a
     postcode in the wrong format) → ``invalid`` / ``fix``; when not even a
     street was found, the classifier is asked only to say why
     (``not_an_address``, ``gibberish``, ``truncated``);
   * otherwise the classifier decides, reading the postcode gazetteer's word on the
     text (``address.rules.place_evidence``: "placed", "far", "cut", ...) with it:
     ``valid_probability`` ≥ 0.9 → ``valid`` / ``accept`` (``uncertain`` /
     ``confirm`` instead when the known-good data covers that town or postcode
     but lacks the address); ≤ 0.1 → ``invalid`` / ``fix`` with its reasons;
     in between → ``uncertain`` / ``confirm``. A mismatch the rules found (state
     postcode prefixes, the postcode gazetteer), or a town the rules found cut
     short (``truncated``), keeps the verdict at ``uncertain`` / ``confirm`` at
     best.
   Granularity is ``locality`` when a candidate confirms the town or postcode,
   else ``none``.

"Did you mean" suggestions are given when the input is not an exact match, and
only candidates scoring ≥ ``SUGGESTION_SCORE`` (0.60: the same street, with the town or
the postcode agreeing when the input names one). ``coverage`` is ``outside`` when no
candidate agrees on the town or postcode (or, for an input naming neither, on the
street): the known-good data cannot judge the address, and no suggestion is offered.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from address.errors import WorkStoppedError
from address.extras import from_house, from_road, split_extras
from address.fields import AddressFields, apply_fields
from address.libpostal import expand, parse
from address.model import LOCALITY_LABELS, REASON_MESSAGES, ParsedAddress, Reason
from address.normalize import normalize
from address.repair import repair
from address.rules import PlaceEvidence, check, detect_country, place_evidence
from address.settings import get_settings
from address.standardize import standardize
from address.units import split_unit

__all__ = [
    "CLASSIFIER_INVALID",
    "CLASSIFIER_VALID",
    "MATCH_SCORE",
    "STREET_SCORE",
    "Classification",
    "Classifier",
    "ComponentCheck",
    "Confirmation",
    "Coverage",
    "Granularity",
    "Match",
    "NextAction",
    "SearchCandidate",
    "Searcher",
    "Suggestion",
    "Verdict",
    "Verification",
    "suggest",
    "verify",
    "verify_batch",
]

MATCH_SCORE = 0.85
"""A candidate at or above this (with the same house number) is the address meant."""
STREET_SCORE = 0.60
"""A candidate at or above this that agrees on the street confirms the street."""
CLASSIFIER_VALID = 0.9
"""Valid probability at or above which the classifier alone may call an address valid."""
CLASSIFIER_INVALID = 0.1
"""Valid probability at or below which the classifier alone may call an address invalid."""
CLASSIFIER_REASON_SHARE = 0.2
"""A classifier reason is reported when it holds at least this share of the probability."""
RULE_VERDICT_CONFIDENCE = 0.9
"""Confidence of an ``invalid`` verdict from country rules alone."""
SUGGESTION_SCORE = 0.6
"""Weaker candidates (another street) are not offered as "did you mean"."""

# Rule failures that make an address undeliverable by themselves.
HARD_RULE_FAILURES = frozenset(
    {
        Reason.MISSING_ROAD,
        Reason.MISSING_HOUSE_NUMBER,
        Reason.MISSING_LOCALITY,
        Reason.MISSING_POSTCODE,
        Reason.POSTCODE_FORMAT,
    }
)
# Reasons only the classifier can give: why a text with no street is no address at all.
_TEXT_REASONS = frozenset({Reason.NOT_AN_ADDRESS, Reason.GIBBERISH, Reason.TRUNCATED})
# Components whose correction must be confirmed by the customer.
_KEY_COMPONENTS = ("house_number", "road", "postcode", "city")
# Components compared character for character, separators aside: "NW1 6XE" / "nw16xe".
_EXACT_LABELS = frozenset({"house_number", "postcode", "unit"})
# Spaces, hyphens and dots inside a house number, postcode or unit.
_COMPACT_SEPARATORS = re.compile(r"[\s\-.]+")
# A word of an address: "fir", "52402", "reykjavík".
_WORD = re.compile(r"\w+")
# Components reported in component_checks, in this order.
_CHECKED_LABELS = ("unit", "house_number", "road", "postcode", "city", "state", "country")


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


class Searcher(Protocol):
    """Finds known-good addresses for full, possibly wrong, addresses, reading each
    query with the components ``verify`` already found in it."""

    def search_batch(
        self,
        queries: Sequence[str],
        k: int = 5,
        country: str | None = None,
        parsed: Sequence[ParsedAddress] | None = None,
    ) -> Sequence[Sequence[SearchCandidate]]: ...


class Classification(Protocol):
    """A validity judgement of an address text."""

    @property
    def valid_probability(self) -> float: ...
    @property
    def reasons(self) -> Sequence[tuple[Reason, float]]: ...


class Classifier(Protocol):
    """Judges whether a text is a complete, deliverable address, reading the postcode
    gazetteer's word on each text (``evidence``) with it."""

    def classify_batch(
        self,
        texts: Sequence[str],
        country: str | None = None,
        evidence: Sequence[PlaceEvidence] | None = None,
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


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A "did you mean" candidate."""

    id: str
    address: str
    score: float
    components: Mapping[str, str] = field(default_factory=dict)
    country: str = ""


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

    @property
    def messages(self) -> tuple[str, ...]:
        """The reasons as short human messages ("House number missing")."""
        return tuple(REASON_MESSAGES[r] for r in self.reasons)


@dataclass(frozen=True, slots=True)
class _Reading:
    """An input read before the index is asked: the address text without extras (the
    unit kept, for the searcher), its components, and where it is.

    ``text`` is ``""`` when the input held nothing but extras ("call me before noon").
    """

    text: str
    parsed: ParsedAddress
    extras: Mapping[str, str]
    country: str | None
    search_country: str | None


@dataclass(frozen=True, slots=True)
class _Evidence:
    """Everything known about an input before the classifier is asked."""

    reading: _Reading
    rule_reasons: tuple[Reason, ...]
    candidates: tuple[SearchCandidate, ...]
    place: PlaceEvidence

    @property
    def text(self) -> str:
        return self.reading.text

    @property
    def parsed(self) -> ParsedAddress:
        return self.reading.parsed

    @property
    def country(self) -> str | None:
        return self.reading.country

    @property
    def best(self) -> SearchCandidate | None:
        return self.candidates[0] if self.candidates else None

    def premise_match(self) -> SearchCandidate | None:
        best = self.best
        if best is None or best.score < MATCH_SCORE:
            return None
        # One agreeing word is no address: "N/A" must not match the Icelandic road "Á".
        if "road" not in best.matched or len(best.matched) < 2:
            return None
        same_number = (self.parsed.house_number is None) == (
            best.components.get("house_number") is None
        ) and (self.parsed.house_number is None or "house_number" in best.matched)
        return best if same_number else None

    def street_match(self) -> SearchCandidate | None:
        best = self.best
        if best is None or best.score < STREET_SCORE or "road" not in best.matched:
            return None
        return best if {"locality", "postcode"} & set(best.matched) else None

    def locality_confirmed(self) -> bool:
        return any({"locality", "postcode"} & set(c.matched) for c in self.candidates)

    def coverage(self) -> Coverage:
        """``covered`` when a candidate agrees on the town or postcode, or, for an input
        that names neither, on the street; else ``outside``."""
        if self.locality_confirmed():
            return Coverage.COVERED
        places_given = self.parsed.postcode is not None or self.parsed.locality is not None
        if not places_given and any("road" in c.matched for c in self.candidates):
            return Coverage.COVERED
        return Coverage.OUTSIDE

    def needs_classifier(self) -> bool:
        """Rules and index leave the verdict open — or there is no street at all, and
        only the classifier can say why ("call me before noon" is no address)."""
        if not self.text:
            return False
        if self.premise_match() is not None or self.street_match() is not None:
            return False
        hard = HARD_RULE_FAILURES & set(self.rule_reasons)
        return not hard or Reason.MISSING_ROAD in hard


def _read(item: str | AddressFields, country: str | None) -> _Reading:
    """Take the extras out, find the unit wherever it is, parse and repair the rest.

    Example:
        ``_read("John Smith, 350 5th Ave, New York NY 10118 Apt 4B, call 555-0134", "US")``
        reads text ``"350 5th Ave, New York NY 10118 Apt 4B"``, unit ``"apt 4b"`` and
        extras ``{"recipient": "John Smith", "phone": "555-0134"}``.
    """
    if isinstance(item, AddressFields):
        fields = item.cleaned()
        hint = fields.country or country
        extracted = split_extras(fields.street(), hint)
        street = extracted.address
        text = ", ".join(p for p in (street, fields.place(hint)) if p) if street else ""
    else:
        fields, hint = None, country
        extracted = split_extras(normalize(item), hint)
        text = extracted.address
    code = hint.strip().upper() if hint else None
    if not text:
        return _Reading("", ParsedAddress(), extracted.extras.as_dict(), code, hint)
    unit = split_unit(text, code)
    parsed = repair(parse(unit.address, code), unit.address, code)
    # A name or a note the text cuts left in place, which libpostal calls a building.
    parsed, from_parse = from_house(parsed, code)
    # ... or glued onto the street from a part of its own ("Sandra West, 1934 Powers St").
    parsed, from_glued = from_road(parsed, unit.address, code)
    from_parse = from_parse.merged(from_glued)
    if unit.unit is not None:
        parsed = replace(parsed, unit=unit.unit)
    if fields is not None:
        parsed = apply_fields(parsed, fields)
    detected = code or detect_country(parsed, default=get_settings().default_country)
    extras = extracted.extras.merged(from_parse).as_dict()
    return _Reading(text, parsed, extras, detected, hint)


def _gather(readings: Sequence[_Reading], searcher: Searcher, limit: int) -> list[_Evidence]:
    """Rules and the gazetteer for each reading; the index once per country hint."""
    found: dict[int, tuple[SearchCandidate, ...]] = {}
    by_hint: dict[str | None, list[int]] = defaultdict(list)
    for i, reading in enumerate(readings):
        if reading.text:
            by_hint[reading.search_country].append(i)
    for hint, positions in by_hint.items():
        results = searcher.search_batch(
            [readings[i].text for i in positions],
            k=limit + 1,
            country=hint,
            parsed=[readings[i].parsed for i in positions],
        )
        found.update({i: tuple(r) for i, r in zip(positions, results, strict=True)})
    evidence = []
    for i, reading in enumerate(readings):
        detected = reading.country
        usable = bool(reading.text and detected)
        rule_reasons = tuple(check(reading.parsed, detected)) if usable and detected else ()
        place = (
            place_evidence(reading.text, reading.parsed, detected)
            if usable and detected
            else PlaceEvidence.NONE
        )
        evidence.append(_Evidence(reading, rule_reasons, found.get(i, ()), place))
    return evidence


def _matched_label(label: str) -> str:
    # The searcher reports any agreeing town component as "locality".
    return "locality" if label in LOCALITY_LABELS else label


def _same_value(label: str, mine: str, theirs: str) -> bool:
    """Whether two spellings say the same thing: "12B" / "12 b", "Frozen Hill Road" /
    "frozen hill rd" (libpostal gives them a common expansion), but not "Firree" / "Fir Tree"."""
    if label in _EXACT_LABELS:
        return _COMPACT_SEPARATORS.sub("", mine.casefold()) == _COMPACT_SEPARATORS.sub(
            "", theirs.casefold()
        )
    if mine.casefold() == theirs.casefold():
        return True
    return bool(set(expand(mine)) & set(expand(theirs)))


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def _checks_against(
    text: str, parsed: ParsedAddress, match: SearchCandidate
) -> tuple[ComponentCheck, ...]:
    """Compare the input with its match. A component counts as given as-is when the
    values say the same thing, or when every word of the match's value is in the
    input (libpostal sometimes glues the town onto the street)."""
    given = parsed.components()
    typed = _words(text)
    checks = []
    for label in _CHECKED_LABELS:
        mine, theirs = given.get(label), match.components.get(label)
        if mine is None and theirs is None:
            continue
        if mine is None and theirs is not None:
            checks.append(ComponentCheck(label, theirs, Confirmation.CONFIRMED, inferred=True))
        elif theirs is None and mine is not None:
            checks.append(ComponentCheck(label, mine, Confirmation.PLAUSIBLE))
        elif mine is not None and theirs is not None:
            if _same_value(label, mine, theirs) or _words(theirs) <= typed:
                checks.append(ComponentCheck(label, theirs, Confirmation.CONFIRMED))
            else:
                checks.append(
                    ComponentCheck(label, theirs, Confirmation.SUSPICIOUS, corrected=True)
                )
    return tuple(checks)


def _checks_from_rules(
    parsed: ParsedAddress, reasons: tuple[Reason, ...], confirmed: tuple[str, ...] = ()
) -> tuple[ComponentCheck, ...]:
    suspicious = {
        "postcode": {Reason.POSTCODE_FORMAT, Reason.POSTCODE_LOCALITY_MISMATCH},
        "state": {Reason.UNKNOWN_REGION},
        "house_number": {Reason.HOUSE_NUMBER_NOT_FOUND},
    }
    checks = []
    for label, value in parsed.components().items():
        if suspicious.get(label, set()) & set(reasons):
            confirmation = Confirmation.SUSPICIOUS
        elif _matched_label(label) in confirmed:
            confirmation = Confirmation.CONFIRMED
        else:
            confirmation = Confirmation.PLAUSIBLE
        checks.append(ComponentCheck(label, value, confirmation))
    return tuple(checks)


def _suggestions(
    candidates: Sequence[SearchCandidate], limit: int, first: SearchCandidate | None = None
) -> tuple[Suggestion, ...]:
    ordered = [first] if first is not None else []
    ordered += [
        c for c in candidates if (first is None or c.id != first.id) and c.score >= SUGGESTION_SCORE
    ]
    return tuple(
        Suggestion(c.id, c.address, round(c.score, 4), dict(c.components), c.country)
        for c in ordered[:limit]
    )


def _classifier_reasons(result: Classification) -> list[Reason]:
    """The classifier's reasons worth reporting: those holding at least
    :data:`CLASSIFIER_REASON_SHARE` of its invalid probability."""
    total = sum(p for _, p in result.reasons) or 1.0
    return [r for r, p in result.reasons if p / total >= CLASSIFIER_REASON_SHARE]


def _decide(evidence: _Evidence, classification: Classification | None, limit: int) -> Verification:
    parsed, rules = evidence.parsed, evidence.rule_reasons
    country = evidence.country
    standardized = standardize(parsed, country) if country else evidence.text
    coverage = evidence.coverage()

    def answer(
        verdict: Verdict,
        confidence: float,
        reasons: Sequence[Reason],
        granularity: Granularity,
        action: NextAction,
        checks: tuple[ComponentCheck, ...],
        match: SearchCandidate | None = None,
        suggestions: tuple[Suggestion, ...] = (),
    ) -> Verification:
        return Verification(
            verdict=verdict,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            reasons=tuple(dict.fromkeys(reasons)),
            granularity=granularity,
            next_action=action,
            standardized=match.address if match is not None else standardized,
            components=parsed.components(),
            component_checks=checks,
            match=Match(match.id, match.address, round(match.score, 4)) if match else None,
            suggestions=suggestions if coverage is Coverage.COVERED else (),
            country=country,
            classifier_used=classification is not None,
            extras=dict(evidence.reading.extras),
            coverage=coverage,
        )

    if not evidence.text:
        return answer(
            Verdict.INVALID,
            RULE_VERDICT_CONFIDENCE,
            [Reason.NOT_AN_ADDRESS],
            Granularity.NONE,
            NextAction.FIX,
            (),
        )

    if (match := evidence.premise_match()) is not None:
        checks = _checks_against(evidence.text, parsed, match)
        corrected = any(c.corrected and c.component in _KEY_COMPONENTS for c in checks)
        soft_reasons = [r for r in rules if r not in HARD_RULE_FAILURES]
        if not corrected:
            return answer(
                Verdict.VALID,
                match.score,
                soft_reasons,
                Granularity.PREMISE,
                NextAction.ACCEPT,
                checks,
                match,
            )
        return answer(
            Verdict.UNCERTAIN,
            match.score,
            soft_reasons,
            Granularity.PREMISE,
            NextAction.CONFIRM,
            checks,
            None,
            _suggestions(evidence.candidates, limit, match),
        )

    suggestions = _suggestions(evidence.candidates, limit)
    if (street := evidence.street_match()) is not None:
        if parsed.house_number is not None:
            reasons = [Reason.HOUSE_NUMBER_NOT_FOUND, *rules]
            verdict, action = Verdict.UNCERTAIN, NextAction.CONFIRM
        else:
            reasons = [Reason.MISSING_HOUSE_NUMBER, *rules]
            verdict, action = Verdict.INVALID, NextAction.FIX
        checks = _checks_from_rules(parsed, tuple(reasons), street.matched)
        return answer(
            verdict,
            street.score,
            reasons,
            Granularity.STREET,
            action,
            checks,
            suggestions=suggestions,
        )

    best_matched = evidence.best.matched if evidence.best is not None else ()
    locality_known = evidence.locality_confirmed()
    granularity = Granularity.LOCALITY if locality_known else Granularity.NONE
    checks = _checks_from_rules(parsed, rules, best_matched if locality_known else ())
    hard = [r for r in rules if r in HARD_RULE_FAILURES]
    if hard or classification is None:
        if hard:
            explained = []
            if classification is not None and classification.valid_probability < 0.5:
                explained = [r for r in _classifier_reasons(classification) if r in _TEXT_REASONS]
            return answer(
                Verdict.INVALID,
                RULE_VERDICT_CONFIDENCE,
                [*explained, *rules, Reason.UNKNOWN_ADDRESS],
                granularity,
                NextAction.FIX,
                checks,
                suggestions=suggestions,
            )
        return answer(
            Verdict.UNCERTAIN,
            0.5,
            [Reason.UNKNOWN_ADDRESS, *rules],
            granularity,
            NextAction.CONFIRM,
            checks,
            suggestions=suggestions,
        )

    p_valid = classification.valid_probability
    if p_valid <= CLASSIFIER_INVALID:
        reasons = [
            *_classifier_reasons(classification),
            *rules,
            Reason.UNKNOWN_ADDRESS,
        ]
        return answer(
            Verdict.INVALID,
            1 - p_valid,
            reasons,
            granularity,
            NextAction.FIX,
            checks,
            suggestions=suggestions,
        )
    if p_valid >= CLASSIFIER_VALID and not rules and not locality_known:
        return answer(
            Verdict.VALID,
            p_valid,
            [Reason.UNKNOWN_ADDRESS],
            granularity,
            NextAction.ACCEPT,
            checks,
            suggestions=suggestions,
        )
    doubts = _classifier_reasons(classification) if p_valid < 0.5 else []
    return answer(
        Verdict.UNCERTAIN,
        max(p_valid, 1 - p_valid),
        [Reason.UNKNOWN_ADDRESS, *rules, *doubts],
        granularity,
        NextAction.CONFIRM,
        checks,
        suggestions=suggestions,
    )


def verify_batch(
    inputs: Sequence[str | AddressFields],
    country: str | None = None,
    *,
    searcher: Searcher,
    classifier: Classifier | None,
    limit: int = 5,
    stop: Callable[[], bool] | None = None,
) -> list[Verification]:
    """Verify many addresses; the classifier sees only those rules and index leave open.

    Args:
        inputs: each a text as typed, or the fields of a form (:class:`AddressFields`,
            whose ``country`` wins over ``country``).
        stop: asked before each address and before the classifier; when it says
            True the work ends with :class:`WorkStoppedError` (the service passes
            "has the client hung up?").

    Raises:
        InvalidAddressInputError: an input is empty or too long (``FieldInputError``
            naming the field, for structured input).
        UnknownCountryError: ``country`` is not a code with address rules.
        WorkStoppedError: ``stop`` said to give up.
    """

    def check_stop() -> None:
        if stop is not None and stop():
            raise WorkStoppedError(f"stopped during a batch of {len(inputs)} addresses")

    readings = []
    for item in inputs:
        check_stop()
        readings.append(_read(item, country))
    check_stop()
    evidence = _gather(readings, searcher, limit)
    open_cases = [e for e in evidence if e.needs_classifier()]
    judged: dict[int, Classification] = {}
    if classifier is not None and open_cases:
        check_stop()
        results = classifier.classify_batch(
            [e.text for e in open_cases], country, [e.place for e in open_cases]
        )
        judged = {id(e): r for e, r in zip(open_cases, results, strict=True)}
    return [_decide(e, judged.get(id(e)), limit) for e in evidence]


def verify(
    text: str | AddressFields,
    country: str | None = None,
    *,
    searcher: Searcher,
    classifier: Classifier | None,
    limit: int = 5,
) -> Verification:
    """Verify one address.

    Example:
        >>> verify("4570 Frozen Hil Rd, Anamosa IA 52205", searcher=index, classifier=model)
        Verification(verdict=<Verdict.UNCERTAIN: 'uncertain'>, ..., suggestions=(
            Suggestion(address='4570 Frozen Hill Rd, Anamosa, IA 52205', ...), ...))

    Args:
        text: the address as typed, or the fields of a form (:class:`AddressFields`).
        country: ISO alpha-2 code when the caller knows it; detected otherwise.
        searcher: known-good address search (an ``index.AddressIndex``).
        classifier: validity classifier (``finetune.classifier.Classifier``), or
            ``None`` to leave open cases ``uncertain``.
        limit: most suggestions returned.

    Raises:
        InvalidAddressInputError: empty or too long.
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    return verify_batch([text], country, searcher=searcher, classifier=classifier, limit=limit)[0]


def suggest(
    item: str | AddressFields,
    country: str | None = None,
    *,
    searcher: Searcher,
    limit: int = 5,
) -> list[SearchCandidate]:
    """Known-good addresses for an address read as :func:`verify` reads it (extras
    taken out, a unit found anywhere, a form's fields kept apart), best first.

    Example:
        >>> suggest("John Smith, 4570 Frozen Hil Rd, Anamosa IA", searcher=index)[0].address
        '4570 Frozen Hill Rd, Anamosa, IA 52205'

    Raises:
        InvalidAddressInputError: empty or too long (``FieldInputError`` for a field).
    """
    reading = _read(item, country)
    if not reading.text:
        return []
    found = searcher.search_batch(
        [reading.text], k=limit, country=reading.search_country, parsed=[reading.parsed]
    )
    return list(found[0])
