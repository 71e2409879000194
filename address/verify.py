"""Verdict assembly: normalize → parse → country rules → index search → classifier.

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
only candidates scoring ≥ ``SUGGESTION_SCORE`` (0.60, the same street or better).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from address.errors import WorkStoppedError
from address.libpostal import expand, parse
from address.model import LOCALITY_LABELS, REASON_MESSAGES, ParsedAddress, Reason
from address.normalize import normalize
from address.rules import PlaceEvidence, check, detect_country, place_evidence
from address.settings import get_settings
from address.standardize import standardize

__all__ = [
    "CLASSIFIER_INVALID",
    "CLASSIFIER_VALID",
    "MATCH_SCORE",
    "STREET_SCORE",
    "Classification",
    "Classifier",
    "ComponentCheck",
    "Confirmation",
    "Granularity",
    "Match",
    "NextAction",
    "SearchCandidate",
    "Searcher",
    "Suggestion",
    "Verdict",
    "Verification",
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
    """Finds known-good addresses for a full, possibly wrong, address."""

    def search(
        self, query: str, k: int = 5, country: str | None = None
    ) -> Sequence[SearchCandidate]: ...


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

    @property
    def messages(self) -> tuple[str, ...]:
        """The reasons as short human messages ("House number missing")."""
        return tuple(REASON_MESSAGES[r] for r in self.reasons)


@dataclass(frozen=True, slots=True)
class _Evidence:
    """Everything known about an input before the classifier is asked."""

    text: str
    parsed: ParsedAddress
    country: str | None
    rule_reasons: tuple[Reason, ...]
    candidates: tuple[SearchCandidate, ...]
    place: PlaceEvidence

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

    def needs_classifier(self) -> bool:
        """Rules and index leave the verdict open — or there is no street at all, and
        only the classifier can say why ("call me before noon" is no address)."""
        if self.premise_match() is not None or self.street_match() is not None:
            return False
        hard = HARD_RULE_FAILURES & set(self.rule_reasons)
        return not hard or Reason.MISSING_ROAD in hard


def _gather(text: str, country: str | None, searcher: Searcher, limit: int) -> _Evidence:
    clean = normalize(text)
    parsed = parse(clean, country)
    detected = (
        country.strip().upper()
        if country
        else detect_country(parsed, default=get_settings().default_country)
    )
    rule_reasons = tuple(check(parsed, detected)) if detected else ()
    place = place_evidence(clean, parsed, detected) if detected else PlaceEvidence.NONE
    candidates = tuple(searcher.search(clean, k=limit + 1, country=country))
    return _Evidence(clean, parsed, detected, rule_reasons, candidates, place)


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
            suggestions=suggestions,
            country=country,
            classifier_used=classification is not None,
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
    texts: Sequence[str],
    country: str | None = None,
    *,
    searcher: Searcher,
    classifier: Classifier | None,
    limit: int = 5,
    stop: Callable[[], bool] | None = None,
) -> list[Verification]:
    """Verify many addresses; the classifier sees only those rules and index leave open.

    Args:
        stop: asked before each address and before the classifier; when it says
            True the work ends with :class:`WorkStoppedError` (the service passes
            "has the client hung up?").

    Raises:
        InvalidAddressInputError: an input is empty or too long.
        UnknownCountryError: ``country`` is not a code with address rules.
        WorkStoppedError: ``stop`` said to give up.
    """

    def check_stop() -> None:
        if stop is not None and stop():
            raise WorkStoppedError(f"stopped during a batch of {len(texts)} addresses")

    evidence = []
    for text in texts:
        check_stop()
        evidence.append(_gather(text, country, searcher, limit))
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
    text: str,
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
        text: the address as typed.
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
