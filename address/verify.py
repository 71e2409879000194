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
2. **Street match** — the best candidate, from a register (an ``authoritative``
   source), scores ≥ ``STREET_SCORE`` (0.60) and agrees on the street and the town or
   postcode, but not the house number →
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
     ``confirm`` instead when a register covers that town or postcode but lacks
     the address; deliveries and orders, ``observed`` sources, lacking it say
     nothing); ≤ 0.1 → ``invalid`` / ``fix`` with its reasons;
     in between → ``uncertain`` / ``confirm``. A mismatch the rules found (state
     postcode prefixes, the postcode gazetteer), or a town the rules found cut
     short (``truncated``), keeps the verdict at ``uncertain`` / ``confirm`` at
     best.
   Granularity is ``locality`` when a candidate confirms the town or postcode,
   else ``none``.

Every answer carries the best ``location`` known: the match's point, else a point on
the street or the postcode's or town's centroid (``Searcher.locate``).

"Did you mean" suggestions are given when the input is not an exact match, and
only candidates scoring ≥ ``SUGGESTION_SCORE`` (0.60: the same street, with the town or
the postcode agreeing when the input names one). ``coverage`` is ``outside`` when no
candidate agrees on the town or postcode (or, for an input naming neither, on the
street): the known-good data cannot judge the address, and no suggestion is offered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from address.component_checks import checks_against, checks_from_rules
from address.errors import WorkStoppedError
from address.evidence import HARD_RULE_FAILURES, MATCH_SCORE, STREET_SCORE, Evidence, gather
from address.fields import AddressFields
from address.model import DEFAULT_COUNTRY, Reason
from address.normalize import MAX_ADDRESS_LENGTH
from address.reading import CleanInput, read
from address.verification import (
    CLASSIFIER_INVALID,
    CLASSIFIER_VALID,
    Classification,
    Classifier,
    ComponentCheck,
    Confirmation,
    Coverage,
    Granularity,
    Match,
    NextAction,
    SearchCandidate,
    Searcher,
    Suggestion,
    Verdict,
    Verification,
    classifier_verdict,
)

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
    "with_delivery_risk",
]

CLASSIFIER_REASON_SHARE = 0.2
"""A classifier reason is reported when it holds at least this share of the probability."""
RULE_VERDICT_CONFIDENCE = 0.9
"""Confidence of an ``invalid`` verdict from country rules alone."""
SUGGESTION_SCORE = 0.6
"""Weaker candidates (another street) are not offered as "did you mean"."""
DELIVERY_RISK_CONFIRM = 0.5
"""A delivery risk at or above this holds a ``valid`` answer back at ``uncertain``."""

# Reasons only the classifier can give: why a text with no street is no address at all.
_TEXT_REASONS = frozenset({Reason.NOT_AN_ADDRESS, Reason.GIBBERISH, Reason.TRUNCATED})
# Components whose correction must be confirmed by the customer.
_KEY_COMPONENTS = ("house_number", "road", "postcode", "city")


def _suggestions(
    candidates: Sequence[SearchCandidate], limit: int, first: SearchCandidate | None = None
) -> tuple[Suggestion, ...]:
    ordered = [first] if first is not None else []
    ordered += [
        c for c in candidates if (first is None or c.id != first.id) and c.score >= SUGGESTION_SCORE
    ]
    return tuple(
        Suggestion(c.id, c.address, round(c.score, 4), dict(c.components), c.country, c.location)
        for c in ordered[:limit]
    )


def _classifier_reasons(result: Classification) -> list[Reason]:
    """The classifier's reasons worth reporting: those holding at least
    :data:`CLASSIFIER_REASON_SHARE` of its invalid probability."""
    total = sum(p for _, p in result.reasons) or 1.0
    return [r for r, p in result.reasons if p / total >= CLASSIFIER_REASON_SHARE]


def _decide(evidence: Evidence, classification: Classification | None, limit: int) -> Verification:
    parsed, rules = evidence.parsed, evidence.rule_reasons
    country = evidence.country
    standardized = evidence.reading.standardized()
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
            match=(
                Match(match.id, match.address, round(match.score, 4), match.location)
                if match
                else None
            ),
            suggestions=suggestions if coverage is Coverage.COVERED else (),
            country=country,
            classifier_used=classification is not None,
            extras=dict(evidence.reading.extras),
            coverage=coverage,
            location=match.location if match is not None else None,
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
        checks = checks_against(evidence.text, parsed, match)
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
        checks = checks_from_rules(parsed, tuple(reasons), street.matched)
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
    checks = checks_from_rules(parsed, rules, best_matched if locality_known else ())
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
    alone = classifier_verdict(p_valid)
    if alone is Verdict.INVALID:
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
    if alone is Verdict.VALID and not rules and not evidence.register_covers():
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


def with_delivery_risk(verification: Verification, risk: float) -> Verification:
    """The answer in the light of past deliveries: where the next delivery will more
    likely fail than not (``risk`` ≥ :data:`DELIVERY_RISK_CONFIRM`, e.g. two failed
    deliveries to "4570 Frozen Hill Rd, Anamosa, IA 52205" and none delivered), a
    ``valid`` address is ``uncertain`` / ``confirm`` and every answer but ``invalid``
    says ``delivery_failed``."""
    if risk < DELIVERY_RISK_CONFIRM or verification.verdict is Verdict.INVALID:
        return verification
    return replace(
        verification,
        verdict=Verdict.UNCERTAIN,
        next_action=NextAction.CONFIRM,
        reasons=(*verification.reasons, Reason.DELIVERY_FAILED),
    )


def verify_batch(
    inputs: Sequence[str | AddressFields | CleanInput],
    country: str | None = None,
    *,
    searcher: Searcher,
    classifier: Classifier | None,
    limit: int = 5,
    stop: Callable[[], bool] | None = None,
    default_country: str | None = DEFAULT_COUNTRY,
    max_length: int = MAX_ADDRESS_LENGTH,
) -> list[Verification]:
    """Verify many addresses; each is read once (:func:`address.reading.read`), the
    index searched once per country hint, and the classifier sees only those rules and
    index leave open.

    Args:
        inputs: each a text as typed, or the fields of a form (:class:`AddressFields`,
            whose ``country`` wins over ``country``), or either already cleaned
            (:func:`address.reading.clean_input`).
        stop: asked before each address and before the classifier; when it says
            True the work ends with :class:`WorkStoppedError` (the service passes
            "has the client hung up?").
        default_country: the country of an address that names none.
        max_length: longest input accepted, in characters.

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
        readings.append(read(item, country, default_country=default_country, max_length=max_length))
    check_stop()
    evidence = gather(readings, searcher, limit)
    open_cases = [e for e in evidence if e.needs_classifier()]
    judged: dict[int, Classification] = {}
    if classifier is not None and open_cases:
        check_stop()
        results = classifier.classify_read(
            [e.text for e in open_cases], [e.place for e in open_cases]
        )
        judged = {id(e): r for e, r in zip(open_cases, results, strict=True)}
    decided = [_decide(e, judged.get(id(e)), limit) for e in evidence]
    return [_located(v, e, searcher) for v, e in zip(decided, evidence, strict=True)]


def _located(verification: Verification, evidence: Evidence, searcher: Searcher) -> Verification:
    """The answer with a location: its match's point, else the searcher's best guess for
    what was read (a point on the street, the postcode's or the town's centroid)."""
    if verification.location is not None or not evidence.text:
        return verification
    if Reason.NOT_AN_ADDRESS in verification.reasons:
        return verification
    return replace(verification, location=searcher.locate(evidence.parsed, evidence.country))


def verify(
    text: str | AddressFields | CleanInput,
    country: str | None = None,
    *,
    searcher: Searcher,
    classifier: Classifier | None,
    limit: int = 5,
    default_country: str | None = DEFAULT_COUNTRY,
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
        default_country: the country of an address that names none.

    Raises:
        InvalidAddressInputError: empty or too long.
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    return verify_batch(
        [text],
        country,
        searcher=searcher,
        classifier=classifier,
        limit=limit,
        default_country=default_country,
    )[0]


def suggest(
    item: str | AddressFields | CleanInput,
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
    reading = read(item, country)
    if not reading.text:
        return []
    found = searcher.search_parsed(
        [reading.text], [reading.parsed], k=limit, country=reading.search_country
    )
    return list(found[0])
