"""Everything known about an input before the classifier is asked: its reading, the
country rules' reasons, the known-good candidates and the gazetteer's word.

Example: for ``"4570 Frozen Hil Rd, Anamosa IA 52205"`` the best candidate is
``4570 Frozen Hill Rd`` at 0.93, agreeing on the street, house number and town, so
:meth:`Evidence.premise_match` is that candidate and no classifier is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from address.model import ParsedAddress, Reason
from address.reading import Reading
from address.rules import PlaceEvidence, check
from address.verification import Completeness, Coverage, SearchCandidate, Searcher

__all__ = ["HARD_RULE_FAILURES", "MATCH_SCORE", "STREET_SCORE", "Evidence", "gather"]

MATCH_SCORE = 0.85
"""A candidate at or above this (with the same house number) is the address meant."""
STREET_SCORE = 0.60
"""A candidate at or above this that agrees on the street confirms the street."""

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


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything known about an input before the classifier is asked."""

    reading: Reading
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
        """The best candidate when it confirms the street and town but not the number,
        from a register: an ``observed`` source lacking a number says nothing of it."""
        best = self.best
        if best is None or best.score < STREET_SCORE or "road" not in best.matched:
            return None
        if best.completeness != Completeness.AUTHORITATIVE:
            return None
        return best if {"locality", "postcode"} & set(best.matched) else None

    def locality_confirmed(self) -> bool:
        return any({"locality", "postcode"} & set(c.matched) for c in self.candidates)

    def register_covers(self) -> bool:
        """A register (an ``authoritative`` source) holds the town or postcode, so an
        address it lacks is doubtful; deliveries and orders (``observed``) do not say so.
        """
        return any(
            c.completeness == Completeness.AUTHORITATIVE
            and {"locality", "postcode"} & set(c.matched)
            for c in self.candidates
        )

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


def gather(readings: Sequence[Reading], searcher: Searcher, limit: int) -> list[Evidence]:
    """Rules and the gazetteer for each reading; the index once per country hint."""
    found: dict[int, tuple[SearchCandidate, ...]] = {}
    by_hint: dict[str | None, list[int]] = defaultdict(list)
    for i, reading in enumerate(readings):
        if reading.text:
            by_hint[reading.search_country].append(i)
    for hint, positions in by_hint.items():
        results = searcher.search_parsed(
            [readings[i].text for i in positions],
            [readings[i].parsed for i in positions],
            k=limit + 1,
            country=hint,
        )
        found.update({i: tuple(r) for i, r in zip(positions, results, strict=True)})
    evidence = []
    for i, reading in enumerate(readings):
        country = reading.country
        rule_reasons = tuple(check(reading.parsed, country)) if reading.text and country else ()
        place = reading.place_evidence()
        evidence.append(Evidence(reading, rule_reasons, found.get(i, ()), place))
    return evidence
