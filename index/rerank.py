"""Re-ranking: a calibrated agreement score between a query and a reference row.

Each candidate row already has its components. The query is read two ways,
by libpostal's parse and token by token against the row (libpostal misreads
short or reordered inputs such as ``"Tjarnarstígur 1, 625"``); the better
reading counts. The score is a weighted mean of component agreements over the
components the query gives, blended with whole-text similarity::

    component     weight  agreement
    house_number  0.40    1 equal; 0.5 equal digits, other letter ("12" / "12b");
                          0.5 row is a street-level record (no number); 0 different
    road          0.35    rapidfuzz ratio of the match keys (abbreviations folded)
    postcode      0.10    1 equal, 0 different
    locality      0.15    rapidfuzz ratio of the city keys

    score = 0.85 * components + 0.15 * token_set_ratio(query key, row key)

capped at 0.79 when both have a house number and they differ, at 0.85 when
the query has one and the row (a street-level record) has none, and at 0.59 when
the query names a town or a postcode and the row agrees with neither (the town
libpostal read below 0.9 similar, the row's postcode not in the query): "350 5th Ave,
New York, NY 10118" is not "350 W 34th Ave, Marion, IA 52302". What a score
means, the same for every query:

    >= 0.95      the same address (every given part agrees, at most a tiny spelling slip)
    0.85 - 0.95  the same address with a minor difference (typo, abbreviation, a
                 missing or different postcode or town)
    0.60 - 0.85  the same street, but another or unknown house number; the town
                 or the postcode agrees when the query names one
    <  0.60      a different address; shown only as a weak suggestion
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz

from address.model import ParsedAddress
from index.keys import address_key, component_key

__all__ = [
    "MINOR_DIFFERENCE",
    "SAME_ADDRESS",
    "SAME_STREET",
    "QueryParts",
    "RowParts",
    "agreement",
    "query_parts",
    "rank",
    "tie_break",
]

SAME_ADDRESS = 0.95
"""Scores at or above this are the same address."""
MINOR_DIFFERENCE = 0.85
"""Scores in [0.85, 0.95): the same address with a minor difference."""
SAME_STREET = 0.60
"""Scores in [0.60, 0.85): the same street, another or unknown house number."""

_WEIGHTS = {"house_number": 0.40, "road": 0.35, "postcode": 0.10, "locality": 0.15}
_COMPONENT_SHARE = 0.85
_NUMBER_DIFFERS_CAP = 0.79
_NUMBER_UNKNOWN_CAP = 0.85
_OTHER_PLACE_CAP = 0.59
# Town similarity from which a town counts as the same one (a typo: "Anamossa" / "Anamosa";
# not "Northampton" / "Southampton", 0.82).
_SAME_TOWN = 0.9
# The digits at the start of a house number: "12b" -> "12", "1204-1206" -> "1204".
LEADING_DIGITS = re.compile(r"^\d+")


@dataclass(frozen=True, slots=True)
class QueryParts:
    """Match keys of the parsed query; ``None`` where the query lacks the part."""

    key: str
    house_number: str | None
    road: str | None
    postcode: str | None
    locality: str | None
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowParts:
    """Match keys of a reference row (precomputed at build time)."""

    key: str
    house_number: str | None
    road: str | None
    postcode: str | None
    locality: str | None


def query_parts(text: str, parsed: ParsedAddress) -> QueryParts:
    """Keys of a query from libpostal's parse.

    Example:
        >>> query_parts("12 Baker Street, London", parse("12 Baker Street, London"))
        QueryParts(key='12 baker st london', house_number='12', road='baker st', ...)
    """
    key = address_key(text)
    return QueryParts(
        key=key,
        tokens=tuple(key.split()),
        house_number=component_key(parsed.house_number),
        road=component_key(parsed.road),
        postcode=component_key(parsed.postcode),
        locality=component_key(parsed.locality),
    )


def _number_agreement(query: str, row: str | None) -> float:
    if row is None:
        return 0.5
    if query == row:
        return 1.0
    q_digits, r_digits = LEADING_DIGITS.match(query), LEADING_DIGITS.match(row)
    if q_digits and r_digits and q_digits.group() == r_digits.group():
        return 0.5
    return 0.0


@lru_cache(maxsize=1)
def _unit_words() -> frozenset[str]:
    text = resources.files("index").joinpath("data", "unit_words.txt").read_text("utf-8")
    return frozenset(w for line in text.splitlines() if (w := line.strip()) and w[0] != "#")


def _best_window(phrase: str | None, tokens: Sequence[str]) -> tuple[float, int]:
    """Best rapidfuzz ratio of ``phrase`` against a run of as many query tokens,
    and where that run starts."""
    if not phrase:
        return 0.0, -1
    size = phrase.count(" ") + 1
    best, where = 0.0, -1
    for start in range(max(1, len(tokens) - size + 1)):
        ratio = fuzz.ratio(phrase, " ".join(tokens[start : start + size]))
        if ratio > best:
            best, where = ratio, start
    return best / 100.0, where


def _parsed_values(query: QueryParts, row: RowParts) -> dict[str, float | None]:
    """Agreements under libpostal's reading of the query (None = the query lacks it)."""
    values: dict[str, float | None] = {
        "house_number": None
        if query.house_number is None
        else _number_agreement(query.house_number, row.house_number),
        "postcode": None if query.postcode is None else float(query.postcode == row.postcode),
    }
    for name, q_value, r_value in (
        ("road", query.road, row.road),
        ("locality", query.locality, row.locality),
    ):
        values[name] = (
            None if q_value is None else (fuzz.ratio(q_value, r_value) / 100.0 if r_value else 0.0)
        )
    return values


def _token_values(query: QueryParts, row: RowParts) -> dict[str, float | None]:
    """Agreements when the query is read in the way that fits this row best.

    libpostal misreads some short or reordered inputs ("Tjarnarstígur 1, 625"
    gives house number 625); here every numeric token of the query is matched
    against the row's number and postcode, and the row's street and town
    against runs of query tokens. A number the row cannot explain (not its
    house number, postcode, a street-name number like "33rd", or a unit number
    after "apt") is read as a different house number.
    """
    units = _unit_words()
    # Numbers right after a unit word ("ibud 120", "apt 3") belong to the unit.
    tokens = [t for i, t in enumerate(query.tokens) if i == 0 or query.tokens[i - 1] not in units]
    known = {row.house_number, row.postcode, *(row.road or "").split()}
    stray = [t for t in tokens if any(c.isdigit() for c in t) and t not in known]
    # "Smárarimi 36, 112 Reykjavík" against "Smárarimi 112, 112 Reykjavík": one "112"
    # cannot be both the number and the postcode while "36" stands unexplained.
    once_for_two = row.house_number == row.postcode and tokens.count(row.house_number or "") < 2
    if row.house_number is None:
        number: float | None = 0.5 if stray else None
    elif row.house_number in tokens and not (once_for_two and stray):
        number = 1.0
    else:
        number = 0.0 if stray else None
    postcode = 1.0 if row.postcode and row.postcode in tokens else None
    # The town claims its words first, so that a street named like the town
    # ("Egilsstaðir 3, 700 Egilsstaðir") cannot match the query's town name.
    locality, start = _best_window(row.locality, tokens)
    if locality >= 0.5 and row.locality:
        size = row.locality.count(" ") + 1
        tokens = [t if not start <= i < start + size else "" for i, t in enumerate(tokens)]
    road, _ = _best_window(row.road, tokens)
    return {
        "house_number": number,
        "postcode": postcode,
        "road": road,
        "locality": locality if locality >= 0.5 else None,
    }


def _combine(
    values: dict[str, float | None], row: RowParts, text: float, same_place: bool
) -> tuple[float, tuple[str, ...]]:
    total = weight_sum = 0.0
    matched: list[str] = []
    for name, value in values.items():
        if value is None:
            continue
        total += _WEIGHTS[name] * value
        weight_sum += _WEIGHTS[name]
        if value >= (1.0 if name == "house_number" else 0.9):
            matched.append(name)
    components = total / weight_sum if weight_sum else text
    score = _COMPONENT_SHARE * components + (1 - _COMPONENT_SHARE) * text
    number = values["house_number"]
    if not same_place:
        return min(score, _OTHER_PLACE_CAP), tuple(matched)
    if number is None:
        # The query names a street only; a street-level record is the better answer.
        cap = 0.94 if row.house_number is not None else 1.0
    elif number == 1.0:
        cap = 1.0
    else:
        cap = _NUMBER_UNKNOWN_CAP if row.house_number is None else _NUMBER_DIFFERS_CAP
    return min(score, cap), tuple(matched)


def _same_place(
    parsed: dict[str, float | None],
    tokens: dict[str, float | None],
    query: QueryParts,
    row: RowParts,
) -> bool:
    """Whether the row can be in the place the query names: the query names no town
    or postcode, the row has neither, the row's postcode is in the query, or the town
    libpostal read agrees (a typo aside). The town is not looked for among the query's
    other words: "195 Lonon Road, Reading" names Reading, not London."""
    if (query.locality is None and query.postcode is None) or (
        row.locality is None and row.postcode is None
    ):
        return True
    return (
        parsed["postcode"] == 1.0
        or tokens["postcode"] == 1.0
        or (parsed["locality"] or 0.0) >= _SAME_TOWN
    )


def agreement(query: QueryParts, row: RowParts) -> tuple[float, tuple[str, ...]]:
    """Score in [0, 1] and the names of the components that agree.

    The query is read twice, by libpostal and token by token against the row
    (:func:`_token_values`); the better reading counts.

    Example:
        ``"4570 Frozen Hill Rd, Anamosa"`` against the row
        ``"4570 Frozen Hill Rd, Anamosa, IA 52205"`` scores 1.0 with
        ``("house_number", "road", "locality")``; against ``"4572 Frozen Hill Rd…"``
        it scores ~0.6 with ``("road", "locality")``.
    """
    text = fuzz.token_set_ratio(query.key, row.key) / 100.0
    parsed, tokens = _parsed_values(query, row), _token_values(query, row)
    same_place = _same_place(parsed, tokens, query, row)
    return max(_combine(parsed, row, text, same_place), _combine(tokens, row, text, same_place))


def rank(
    query: QueryParts, rows: Iterable[tuple[int, RowParts]], k: int
) -> list[tuple[int, float, tuple[str, ...]]]:
    """The ``k`` rows agreeing best with a query, as ``(row, score, matched)``: by score
    (to four decimals), then :func:`tie_break`, then row number.

    Example: ``rank(parts, [(0, laugavegur_12b), (1, laugavegur_14)], 1)`` for
    ``"Laugavegur 12b, 101 Reykjavík"`` is ``[(0, 1.0, ("house_number", "road", ...))]``.
    """
    scored = []
    for row, parts in rows:
        score, matched = agreement(query, parts)
        scored.append((-round(score, 4), -tie_break(query, parts), row, matched))
    scored.sort()
    return [(row, -neg, matched) for neg, _, row, matched in scored[:k]]


def tie_break(query: QueryParts, row: RowParts) -> float:
    """Whole-key similarity, to order rows of equal score ("Trlr 10" vs "Trlr 48")."""
    return fuzz.ratio(query.key, row.key)
