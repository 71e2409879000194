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
before it are looked up too.

Memory: up to three keys per address, ~90 B of Python string each (~65 MB for 234k).
"""

from __future__ import annotations

import bisect
import string
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from index.keys import canonical_word, completions_of, fold

__all__ = ["MIN_PREFIX_LENGTH", "PrefixIndex"]

MIN_PREFIX_LENGTH = 3
"""Prefixes shorter than this (after folding) get no suggestions."""
_ALPHABET = string.ascii_lowercase + string.digits + " "
_TOP = "\U0010ffff"
# How far into a large match range to look for rows of the wanted country/alive.
_SCAN_LIMIT = 400


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
        [0]

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
        self, prefix: str, arrays: list[_Sorted], alive: NDArray[np.bool_] | None
    ) -> Iterator[tuple[str, int]]:
        for array in arrays:
            lo, hi = array.span(prefix)
            for i in range(lo, min(hi, lo + _SCAN_LIMIT)):
                row = int(array.rows[i])
                if alive is None or alive[row]:
                    yield array.keys[i], row

    def _collect(
        self,
        prefixes: Sequence[str],
        arrays: list[_Sorted],
        k: int,
        alive: NDArray[np.bool_] | None,
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
                    for key, row in self._matches(prefix, arrays, alive)
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
    ) -> list[int]:
        """Row numbers of the best ``k`` completions of typed text.

        Args:
            text: what the user typed so far, e.g. ``"12 bak"`` or ``"baker st 1"``.
            k: number of suggestions.
            alive: rows that may be suggested (tombstones excluded); ``None`` = all.
            country: ISO alpha-2 code to restrict to.

        Returns:
            Row numbers, exact-prefix completions first (shortest key first),
            then completions that need one edit; ``[]`` below three characters.
        """
        folded = fold(text)
        if len(folded) < MIN_PREFIX_LENGTH:
            return []
        arrays = self._arrays_for(country)
        prefixes = _variants(folded, ends_word=not text[-1:].isalnum())
        seen: dict[int, tuple[int, int, int, str]] = {}
        self._collect(prefixes, arrays, k, alive, seen, rank=0)
        if len(seen) < k:
            for prefix in prefixes[:1]:
                edits = _edits_near_break(prefix, arrays)
                self._collect(edits, arrays, k, alive, seen, rank=1)
        ranked = sorted(seen.items(), key=lambda item: item[1])
        return [row for row, _ in ranked[:k]]


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
