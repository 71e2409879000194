"""Text clean-up applied to every address before parsing.

``normalize`` is a chain of small pure ``str -> str`` steps; each docstring
names the real input that motivated it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from address.errors import AddressTooLongError, EmptyAddressError

__all__ = ["MAX_ADDRESS_LENGTH", "normalize"]

MAX_ADDRESS_LENGTH = 512
"""Longest address accepted, in characters, unless the caller says otherwise."""

# Any run of Unicode whitespace (incl. NBSP, thin space, line/paragraph separators).
WHITESPACE_RUN = re.compile(r"\s+")
# A space right before , ; : . or ) — "12 Baker St , London" -> "12 Baker St, London".
SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;:.)])")
# Repeated separators — "Baker St,, London" -> "Baker St, London".
REPEATED_SEPARATOR = re.compile(r"([,;])(?:\s*[,;])+")
# Separators or dashes dangling at either end — ", 12 Baker St -" -> "12 Baker St".
EDGE_SEPARATORS = re.compile(r"^[\s,;:\-/.]+|[\s,;:\-/]+$")
# A vulgar fraction, with the digit it follows if any — "16½" is sixteen and a half.
VULGAR_FRACTION = re.compile(r"(\d?)([¼½¾⅐-⅞↉])")


def _spell_fraction(match: re.Match[str]) -> str:
    """ "16½" -> "16 1/2", "½" -> "1/2"."""
    fraction = unicodedata.normalize("NFKC", match[2]).replace("\u2044", "/")
    return f"{match[1]} {fraction}" if match[1] else fraction


def _unicode_nfkc(text: str) -> str:
    """Fold compatibility forms: full-width "１２ Ｂａｋｅｒ" -> "12 Baker", "№" -> "No".

    A vulgar fraction is spelled with a slash and kept apart from the digit before it:
    "16½ Church St" -> "16 1/2 Church St", not "161/2".
    """
    return unicodedata.normalize("NFKC", VULGAR_FRACTION.sub(_spell_fraction, text))


def _drop_control_characters(text: str) -> str:
    """Drop control and format characters: NUL, BEL, zero-width joiners, RTL overrides.

    Tabs and newlines (multi-line addresses pasted from a form) become spaces.
    """
    out = []
    for char in text:
        if char in "\t\n\r\v\f\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(char)
    return "".join(out)


def _collapse_whitespace(text: str) -> str:
    """ "Flat 3,\\n 12   Baker St" -> "Flat 3, 12 Baker St"."""
    return WHITESPACE_RUN.sub(" ", text).strip()


def _tidy_punctuation(text: str) -> str:
    """ "12 Baker St ,, London ," -> "12 Baker St, London"."""
    text = SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = REPEATED_SEPARATOR.sub(r"\1", text)
    return EDGE_SEPARATORS.sub("", text)


_STEPS: tuple[Callable[[str], str], ...] = (
    _drop_control_characters,
    _unicode_nfkc,
    _collapse_whitespace,
    _tidy_punctuation,
    _collapse_whitespace,
)
# Passes repeat until one changes nothing, which makes ``normalize`` idempotent. One pass
# settles every input found so far: the steps after NFKC only replace or drop starters
# (spaces, separators) that compose with nothing, so a second NFKC finds nothing to do.
# Hypothesis searched ligatures, jamo, marks and bombs for more and found none
# (tests/test_normalize.py); running out of passes is a bug, raised as RuntimeError.
_MAX_PASSES = 4


def normalize(text: str, *, max_length: int = MAX_ADDRESS_LENGTH) -> str:
    """Clean an address text without changing what it says.

    The limit applies twice: to the text as sent, before any work, and to the text after
    each pass, so the result is never longer than ``max_length`` and no pass starts on a
    text longer than that (one NFKC step makes at most 18 characters of one).

    Args:
        text: raw input, e.g. ``"  Flat 3,\\t12 Baker St ,, London NW1 6XE\\x00"``.
        max_length: longest accepted input and output in characters (the service passes
            its ``max_address_length`` setting).

    Returns:
        The cleaned text, e.g. ``"Flat 3, 12 Baker St, London NW1 6XE"``.
        ``normalize(normalize(x)) == normalize(x)`` for every ``x`` the first call accepts.

    Raises:
        AddressTooLongError: the input, or the text it normalizes to, is longer than
            ``max_length`` (``"\\ufdfa" * 29`` is 29 characters as sent, 522 normalized).
        EmptyAddressError: nothing is left after the clean-up.
        RuntimeError: the steps did not settle within ``_MAX_PASSES`` passes (a bug).
    """
    sent = len(text)
    if sent > max_length:
        raise AddressTooLongError(sent, max_length)
    for _ in range(_MAX_PASSES):
        before = text
        for step in _STEPS:
            text = step(text)
        if len(text) > max_length:
            raise AddressTooLongError(len(text), max_length, sent)
        if text == before:
            break
    else:
        raise RuntimeError(f"normalize did not settle in {_MAX_PASSES} passes ({sent} characters)")
    if not text:
        raise EmptyAddressError("address is empty after removing whitespace and control characters")
    return text
