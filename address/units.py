"""Find the unit (flat, apartment, suite, floor) wherever it was written in an address.

libpostal reads "350 5th Ave Apt 4B, New York" but misses a unit put after the ZIP
("…, NY 10118 Apt 4B"), Singapore floor-units ("#05-67") and floors written "3rd Floor".
:func:`split_unit` finds these by their designator and cuts them out of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from address.extras import cut_spans

__all__ = ["UnitSplit", "split_unit"]


@dataclass(frozen=True, slots=True)
class UnitSplit:
    """``UnitSplit(address="350 5th Ave, New York, NY 10118", unit="apt 4b")``."""

    address: str
    unit: str | None


# Designators that take an identifier after them: "Apt 4B", "Suite 200", "Whg. 5".
_DESIGNATOR = (
    r"apartment|apartamento|appartement|apart|apt|apto|app|appt|unit|suite|ste|flat|"
    r"room|rm|trailer|trlr|lot|space|spc|wohnung|whg|zimmer|departamento|depto|dpto|"
    r"interno|int|piso|puerta|pta|floor|flr|fl|level|lvl|etage|étage|bus|"
    r"bâtiment|batiment|bât|bat|escalier|esc|porte"
)
_ID = r"(?:[A-Z]?\d+[A-Z]?(?:[-/][A-Z\d]+)?|[A-Z](?![\w'’]))"
_DESIGNATED = re.compile(
    rf"(?<![\w#])(?P<kind>{_DESIGNATOR})(?!\w)\.?\s*(?:#|no\.?|nr\.?|n[°º]\.?)?\s*(?P<id>{_ID})"
    r"(?P<ordinal>st|nd|rd|th)?(?![\w'’-])",
    re.IGNORECASE,
)
# A floor by its number: "3rd Floor", "2. OG", "3e étage", "2º piso", "5. Stock".
_ORDINAL_FLOOR = re.compile(
    r"(?<![\w#])(?P<id>\d{1,3})\s*(?P<ordinal>st|nd|rd|th|e|er|ème|eme|º|°|\.|ª)?\s*"
    r"(?P<kind>floor|flr|fl|etage|étage|og|stock|obergeschoss|piso|planta|piano|verdieping)"
    r"\b\.?",
    re.IGNORECASE,
)
# "#05-67" (Singapore floor-unit), "#12" after a street.
_HASH = re.compile(r"(?<![\w#])#\s*(?P<id>[A-Z]?\d+[A-Z]?(?:-\d+[A-Z]?)?)(?![\w-])", re.IGNORECASE)
# US state codes that read like designators when a ZIP follows: "Tampa FL 33602".
_STATE_LIKE = frozenset({"fl", "ste", "int", "lot", "app"})
_STREET_WORD = re.compile(
    r"^(?:st|street|rd|road|ave|avenue|lane|ln|dr|drive|way|blvd|ct|court|pl|place)\b\.?",
    re.IGNORECASE,
)


def split_unit(text: str, country: str | None = None) -> UnitSplit:
    """Cut the unit out of an address, wherever it stands.

    Args:
        text: e.g. ``"350 5th Ave, New York, NY 10118 Apt 4B"``.
        country: ISO alpha-2 hint; "BE" and "NL" also read "bus 2" after a house number.

    Returns:
        ``UnitSplit(address="350 5th Ave, New York, NY 10118", unit="apt 4b")``; the
        text unchanged and ``unit=None`` when there is none. Several units ("Flat 3,
        2nd Floor") are given together: ``"flat 3 2nd floor"``.
    """
    found: list[tuple[int, int, str]] = []
    for match in _DESIGNATED.finditer(text):
        span = _designated(text, match, country)
        if span:
            found.append(span)
    for match in _ORDINAL_FLOOR.finditer(text):
        if _is_floor(text, match):
            found.append(_floor(match))
    for match in _HASH.finditer(text):
        if _is_hash_unit(text, match):
            found.append((match.start(), match.end(), "#" + match["id"].lower()))
    kept: list[tuple[int, int, str]] = []
    for start, end, unit in sorted(found):
        if not any(start < k_end and end > k_start for k_start, k_end, _ in kept):
            kept.append((start, end, unit))
    if not kept:
        return UnitSplit(text, None)
    address = cut_spans(text, [(start, end) for start, end, _ in kept])
    return UnitSplit(address, " ".join(unit for _, _, unit in kept))


def _designated(
    text: str, match: re.Match[str], country: str | None
) -> tuple[int, int, str] | None:
    """The span and normalized unit of "Apt 4B", or None where the words are not a unit:
    "FL 33602" (Florida and a ZIP), "Unit Road", "bus 2" away from a house number."""
    kind = match["kind"].lower().rstrip(".")
    ident = match["id"]
    digits = sum(ch.isdigit() for ch in ident)
    if kind in _STATE_LIKE and match["kind"].isupper() and re.fullmatch(r"\d{5}(?:-\d{4})?", ident):
        return None
    if kind in ("fl", "flr", "floor", "level", "lvl", "etage", "étage", "piso") and digits > 3:
        return None
    if digits == 0 and (len(ident) != 1 or kind in ("int", "lot", "space", "bus", "ste", "pta")):
        return None
    if kind == "bus" and not (
        (country or "").upper() in ("BE", "NL", "")
        and re.search(r"\d[A-Za-z]?\s*,?\s*$", text[: match.start()])
    ):
        return None
    if kind in ("lot", "int", "space", "room", "rm") and _STREET_WORD.match(
        text[match.end() :].lstrip()
    ):
        return None
    end = match.end()
    unit = f"{kind} {ident.lower()}{(match['ordinal'] or '').lower()}"
    slash = re.fullmatch(r"(\d+[A-Z]?)/(\d{2,})", ident, re.IGNORECASE)
    if slash and kind in ("unit", "apt", "suite", "ste"):
        end = match.start("id") + len(slash[1]) + 1
        unit = f"{kind} {slash[1].lower()}"
    return match.start(), end, unit


def _is_floor(text: str, match: re.Match[str]) -> bool:
    """ "3rd Floor", "2. OG", "3e étage" are floors; "5 Fl…" without ordinal only before an
    end or a separator."""
    if match["ordinal"] or match["kind"].lower() in ("floor", "etage", "étage", "stock", "og"):
        return not (match["kind"].lower() == "og" and not match["ordinal"])
    return False


def _floor(match: re.Match[str]) -> tuple[int, int, str]:
    ordinal = (match["ordinal"] or "").lower()
    return match.start(), match.end(), f"{match['id']}{ordinal} {match['kind'].lower().rstrip('.')}"


def _is_hash_unit(text: str, match: re.Match[str]) -> bool:
    """ "#05-67" always; "#12" after a street or as its own part ("#12, 5 Main St"), not
    "#12 Main St" opening the text."""
    if "-" in match["id"]:
        return True
    before = text[: match.start()].strip()
    return bool(before) or bool(re.match(r"\s*(?:[,;]|\d|$)", text[match.end() :]))
