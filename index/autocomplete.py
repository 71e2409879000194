"""Prefix autocomplete over sorted match keys, in both street orders.

Each row is listed under three keys, number first (``"4570 frozen hl rd anamosa
ia 52205"``), street first (``"frozen hl rd 4570 52205 anamosa ia"``) and number
first with the postcode before the town, as French and German addresses are
written (``"34 ave de l opera 75002 paris"``), in a sorted array per country; a
prefix is two binary searches. No model and no
libpostal runs per keystroke.

Typed text is folded like the keys (:mod:`index.keys`); finished words are
canonicalized (``"avenue "`` -> ``"ave "``) and the word being typed is also
tried as each street word it may become (``"12 baker stre"`` -> ``"12 baker st"``).
One typo is tolerated: when a prefix finds fewer than ``k`` rows, the longest
prefix that still matches shows where the slip is, and single-character edits
(deletion, substitution, insertion, transposition) at that point and just
before it are looked up too; such rows come back marked ``corrected``.

Suggestions can be narrowed to what the shopper already gave (:class:`KeyColumn`):
the town and the postcode of each row are coded once as integers, and a typed
town or postcode is turned into the set of codes that agree with it (cached), so
a keystroke tests only the rows its prefix matched.

Memory: up to three keys per address, ~90 B of Python string each (~65 MB for 234k).
"""

from __future__ import annotations

import bisect
import string
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from index.keys import address_key, canonical_word, completions_of, fold

__all__ = [
    "MIN_PREFIX_LENGTH",
    "TOWN_TYPO_RATIO",
    "Completion",
    "KeyColumn",
    "PrefixIndex",
    "RowTest",
    "postcodes_agreeing",
    "towns_agreeing",
]

MIN_PREFIX_LENGTH = 3
"""Prefixes shorter than this (after folding) get no suggestions."""
_ALPHABET = string.ascii_lowercase + string.digits + " "
_TOP = "\U0010ffff"
# How many wanted rows (alive, in the town/postcode asked for) of a match range to rank.
_SCAN_LIMIT = 400
TOWN_TYPO_RATIO = 85
"""A typed town agrees with a row's town at this ``fuzz.ratio`` of their keys or above
(``"anamsoa"`` ~ ``"anamosa"``: 86)."""

RowTest = Callable[[NDArray[np.int64]], NDArray[np.bool_]]
"""Which of some row numbers may be suggested."""


class Completion(NamedTuple):
    """A suggested row; ``corrected`` when it was found only after one typo correction."""

    row: int
    corrected: bool


def towns_agreeing(typed: str, towns: NDArray[np.str_]) -> NDArray[np.bool_]:
    """Which town keys agree with a typed town's key: the same, started by it (a town
    still being typed) or within a typo of it (``fuzz.ratio`` >= :data:`TOWN_TYPO_RATIO`).

    Example:
        >>> towns_agreeing("anamsoa", np.array(["anamosa", "cedar rapids"]))
        array([ True, False])
    """
    agree = np.char.startswith(towns, typed)
    for _, _, i in process.extract(
        typed, towns.tolist(), scorer=fuzz.ratio, score_cutoff=TOWN_TYPO_RATIO, limit=None
    ):
        agree[i] = True
    return agree


def postcodes_agreeing(typed: str, postcodes: NDArray[np.str_]) -> NDArray[np.bool_]:
    """Which postcode keys agree with a typed postcode's key, both without spaces: the
    same (``"nw1 6xe"``, ``"nw16xe"``), started by it (``"nw1"``) or, for a ZIP+4,
    its first part.

    Example:
        >>> postcodes_agreeing("52205 1234", np.array(["52205", "nw1 6xe"]))
        array([ True, False])
    """
    words = typed.split()
    compact = np.char.replace(postcodes, " ", "")
    agree: NDArray[np.bool_] = np.char.startswith(compact, "".join(words)) | (compact == words[0])
    return agree


class KeyColumn:
    """One match key per row (its town or its postcode), to narrow suggestions to the rows
    that agree with what a shopper typed in that field.

    Example:
        >>> towns = KeyColumn(["anamosa", "cedar rapids", None], towns_agreeing)
        >>> towns.agreeing("Anamosa")(np.array([0, 1, 2]))
        array([ True, False, False])

    Args:
        keys: the key of each row (:func:`index.keys.address_key`); ``None`` agrees with
            nothing.
        agree: which distinct keys agree with a typed value's key (never called with a
            blank one).
    """

    def __init__(
        self,
        keys: Sequence[str | None],
        agree: Callable[[str, NDArray[np.str_]], NDArray[np.bool_]],
    ) -> None:
        values = np.asarray([k or "" for k in keys], dtype=str)
        distinct, codes = np.unique(values, return_inverse=True)
        self._codes: NDArray[np.intp] = codes.reshape(-1)
        self._distinct = distinct
        self._agree = agree
        self._values_agreeing = lru_cache(maxsize=512)(self._agreeing_values)

    def _agreeing_values(self, typed: str) -> NDArray[np.bool_] | None:
        key = address_key(typed)
        if not key:
            return None
        return self._agree(key, self._distinct)

    def agreeing(self, typed: str) -> RowTest | None:
        """The test of rows agreeing with ``typed``; ``None`` when it has no letter or digit."""
        agree = self._values_agreeing(typed)
        if agree is None:
            return None
        return lambda rows: agree[self._codes[rows]]


class _Sorted:
    """One sorted array of keys with the row number of each key."""

    def __init__(self, keys: list[str], rows: NDArray[np.int64]) -> None:
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.rows = rows[np.asarray(order, dtype=np.int64)] if order else rows

    def span(self, prefix: str) -> tuple[int, int]:
        lo = bisect.bisect_left(self.keys, prefix)
        hi = bisect.bisect_left(self.keys, prefix + _TOP, lo)
        return lo, hi


class PrefixIndex:
    """Sorted-array prefix look-up, one array per country.

    Example:
        >>> ix = PrefixIndex(
        ...     [["4570 frozen hl rd anamosa"], ["frozen hl rd 4570 anamosa"]], ["US"]
        ... )
        >>> ix.lookup("4570 froz", k=5, alive=None)
        [Completion(row=0, corrected=False)]

    Args:
        key_orders: per component order, one key per row (e.g. number first,
            street first, number first with the postcode before the town); a row
            is listed under each of its distinct keys.
        countries: the country of each row.
    """

    def __init__(self, key_orders: Sequence[Sequence[str]], countries: Sequence[str]) -> None:
        by_country: dict[str, tuple[list[str], list[int]]] = {}
        for row, country in enumerate(countries):
            keys, rows = by_country.setdefault(country, ([], []))
            for key in dict.fromkeys(order[row] for order in key_orders):
                keys.append(key)
                rows.append(row)
        self._arrays = {
            country: _Sorted(keys, np.asarray(rows, dtype=np.int64))
            for country, (keys, rows) in by_country.items()
        }

    def _arrays_for(self, country: str | None) -> list[_Sorted]:
        if country is None:
            return list(self._arrays.values())
        found = self._arrays.get(country.upper())
        return [found] if found else []

    def _matches(
        self,
        prefix: str,
        arrays: list[_Sorted],
        alive: NDArray[np.bool_] | None,
        narrow: Sequence[RowTest],
    ) -> Iterator[tuple[str, int]]:
        for array in arrays:
            lo, hi = array.span(prefix)
            if lo == hi:
                continue
            rows = array.rows[lo:hi]
            wanted = np.ones(len(rows), dtype=bool) if alive is None else alive[rows]
            for test in narrow:
                wanted &= test(rows)
            for i in np.flatnonzero(wanted)[:_SCAN_LIMIT].tolist():
                yield array.keys[lo + i], int(rows[i])

    def _collect(
        self,
        prefixes: Sequence[str],
        arrays: list[_Sorted],
        k: int,
        alive: NDArray[np.bool_] | None,
        narrow: Sequence[RowTest],
        seen: dict[int, tuple[int, int, int, str]],
        rank: int,
    ) -> None:
        for prefix in prefixes:
            cut = len(prefix)
            found = sorted(
                # A finished word first ("sudurgata 1" -> "sudurgata 1 801 ..." before
                # "sudurgata 10 ..."), then the shortest key.
                (
                    (key[cut : cut + 1] not in ("", " "), len(key), key, row)
                    for key, row in self._matches(prefix, arrays, alive, narrow)
                ),
            )
            for partial, length, key, row in found[: k * 4]:
                if row not in seen:
                    seen[row] = (rank, int(partial), length, key)

    def lookup(
        self,
        text: str,
        k: int,
        alive: NDArray[np.bool_] | None,
        country: str | None = None,
        narrow: Sequence[RowTest] = (),
    ) -> list[Completion]:
        """The best ``k`` completions of typed text.

        Args:
            text: what the user typed so far, e.g. ``"12 bak"`` or ``"baker st 1"``.
            k: number of suggestions.
            alive: rows that may be suggested (tombstones excluded); ``None`` = all.
            country: ISO alpha-2 code to restrict to.
            narrow: further tests every suggested row passes (its town is
                ``"Anamosa"``: :meth:`KeyColumn.agreeing`).

        Returns:
            Exact-prefix completions first (shortest key first), then completions
            that need one edit (``corrected``); ``[]`` below three characters.
        """
        folded = fold(text)
        if len(folded) < MIN_PREFIX_LENGTH:
            return []
        arrays = self._arrays_for(country)
        prefixes = _variants(folded, ends_word=not text[-1:].isalnum())
        seen: dict[int, tuple[int, int, int, str]] = {}
        self._collect(prefixes, arrays, k, alive, narrow, seen, rank=0)
        if len(seen) < k:
            for prefix in prefixes[:1]:
                edits = _edits_near_break(prefix, arrays)
                self._collect(edits, arrays, k, alive, narrow, seen, rank=1)
        ranked = sorted(seen.items(), key=lambda item: item[1])
        return [Completion(row, bool(order[0])) for row, order in ranked[:k]]


def _variants(folded: str, ends_word: bool) -> list[str]:
    """Prefixes to look up: canonical finished words, and street-word completions."""
    words = folded.split()
    done = [canonical_word(w) for w in (words if ends_word else words[:-1])]
    head = " ".join(done)
    if ends_word:
        return [head + " "]
    last = words[-1]
    lead = f"{head} " if head else ""
    variants = [lead + last]
    variants.extend(lead + c for c in sorted(completions_of(last)) if c != last)
    return variants


def _longest_matching(prefix: str, arrays: list[_Sorted]) -> int:
    """Length of the longest leading part of ``prefix`` that some key starts with."""
    lo, hi = 0, len(prefix)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if any(a.span(prefix[:mid])[0] < a.span(prefix[:mid])[1] for a in arrays):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _edits_near_break(prefix: str, arrays: list[_Sorted]) -> list[str]:
    """Single-character edits of ``prefix`` where the match breaks off (and 2 before)."""
    cut = _longest_matching(prefix, arrays)
    edits: list[str] = []
    for pos in range(max(0, cut - 2), min(cut + 1, len(prefix))):
        before, after = prefix[:pos], prefix[pos:]
        edits.append(before + after[1:])  # deletion of an extra character
        if len(after) > 1:
            edits.append(before + after[1] + after[0] + after[2:])  # transposition
        for char in _ALPHABET:
            edits.append(before + char + after[1:])  # substitution
            edits.append(before + char + after)  # insertion of a missing character
    return [e for e in dict.fromkeys(edits) if len(e.strip()) >= MIN_PREFIX_LENGTH and e != prefix]
