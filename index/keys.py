"""Normalized match keys: the one spelling that both sides of every comparison use.

Reference rows and queries go through the same steps, so ``"730 33rd Avenue
Southwest, Cedar Rapids"`` and ``"730 33rd Ave SW, Cedar Rapids"`` both become
``"730 33rd ave sw cedar rapids"``:

1. lower case, Icelandic and other Latin letters folded to ASCII
   (``"Þórunnartún"`` -> ``"thorunnartun"``, ``"Suðurgata"`` -> ``"sudurgata"``);
2. punctuation replaced by spaces, whitespace collapsed;
3. street-type, directional and ordinal words mapped to one canonical form from
   ``index/data/street_abbreviations.csv`` (``street``/``str`` -> ``st``,
   ``north`` -> ``n``).

The lexical index, the autocomplete arrays and the re-ranker all use these keys.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from address.names import strip_accents

__all__ = [
    "address_key",
    "canonical_tokens",
    "canonical_word",
    "completions_of",
    "component_key",
    "fold",
    "join_keys",
]

# Everything that is not a letter or digit once folded: "12b," -> "12b ", "O'Brien" -> "o brien".
NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits separated by single spaces.

    Example:
        >>> fold("Þórunnartún 2, 105 Reykjavík")
        'thorunnartun 2 105 reykjavik'
    """
    return NON_ALNUM.sub(" ", strip_accents(text.lower())).strip()


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, str]:
    path = resources.files("index").joinpath("data", "street_abbreviations.csv")
    text = path.read_text(encoding="utf-8")
    return {row["word"]: row["canonical"] for row in csv.DictReader(text.splitlines())}


@lru_cache(maxsize=1)
def _long_words() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_abbreviations().items()))


def canonical_word(token: str) -> str:
    """The canonical spelling of one folded token: ``"avenue"`` -> ``"ave"``."""
    return _abbreviations().get(token, token)


def canonical_tokens(text: str) -> list[str]:
    """Folded, canonical tokens: ``"12 Baker Street"`` -> ``["12", "baker", "st"]``."""
    table = _abbreviations()
    return [table.get(token, token) for token in fold(text).split()]


def address_key(text: str) -> str:
    """The match key of an address.

    Example:
        >>> address_key("730 33rd Avenue Southwest, Cedar Rapids, IA 52404")
        '730 33rd ave sw cedar rapids ia 52404'
    """
    return " ".join(canonical_tokens(text))


def component_key(value: str | None) -> str | None:
    """The match key of one component, ``None`` for a missing or keyless one:
    ``component_key("Frozen Hill Road")`` -> ``"frozen hill rd"``, ``component_key("")``
    -> ``None``."""
    return (address_key(value) or None) if value else None


def join_keys(*columns: Iterable[object]) -> list[str]:
    """Row-wise join of key columns, skipping nulls and blanks:
    ``join_keys(["730"], ["33rd ave sw"], [None])`` -> ``["730 33rd ave sw"]``."""
    return [
        " ".join(p for p in row if isinstance(p, str) and p) for row in zip(*columns, strict=True)
    ]


def completions_of(partial: str) -> set[str]:
    """Canonical forms of the long words a partly typed token may become.

    ``completions_of("stre")`` is ``{"st"}`` (street), ``completions_of("av")``
    contains ``"ave"``; tokens of fewer than two letters complete to nothing.
    """
    if len(partial) < 2:
        return set()
    return {canon for word, canon in _long_words() if word.startswith(partial)}
