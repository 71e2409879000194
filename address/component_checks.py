"""How each component of an input fared: confirmed by its known-good match, corrected
by it, or only plausible by the rules.

Example: ``"4570 Frozen Hil Rd, Anamosa IA 52205"`` against its match gives ``road``
``suspicious`` and ``corrected`` ("frozen hill rd"), the rest ``confirmed``.
"""

from __future__ import annotations

import re

from address.libpostal import expand
from address.model import LOCALITY_LABELS, ParsedAddress, Reason
from address.verification import ComponentCheck, Confirmation, SearchCandidate

__all__ = ["checks_against", "checks_from_rules"]

# Components compared character for character, separators aside: "NW1 6XE" / "nw16xe".
_EXACT_LABELS = frozenset({"house_number", "postcode", "unit"})
# Spaces, hyphens and dots inside a house number, postcode or unit.
_COMPACT_SEPARATORS = re.compile(r"[\s\-.]+")
# A word of an address: "fir", "52402", "reykjavík".
_WORD = re.compile(r"\w+")
# Components reported in component_checks, in this order.
_CHECKED_LABELS = ("unit", "house_number", "road", "postcode", "city", "state", "country")


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


def checks_against(
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


def checks_from_rules(
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
