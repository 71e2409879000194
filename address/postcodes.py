"""Postcodes as typed, made comparable: the one home of their clean-up.

Example: ``compact_postcode("nw1 6xe")`` is ``"NW16XE"``, ``clean_postcode(" nw1  6xe")``
``"NW1 6XE"``.
"""

from __future__ import annotations

import re

__all__ = ["POSTCODE_SEPARATORS", "clean_postcode", "compact_postcode"]

POSTCODE_SEPARATORS = re.compile(r"[\s\-]+")
"""The separators people type or leave out inside a postcode: "nw16xe", "52205 1234"."""
# Runs of whitespace inside a postcode as typed: "nw1  6xe".
_WHITESPACE_RE = re.compile(r"\s+")


def clean_postcode(postcode: str) -> str:
    """Upper-cased, trimmed, inner whitespace single: " nw1  6xe" -> "NW1 6XE"."""
    return _WHITESPACE_RE.sub(" ", postcode).strip().upper()


def compact_postcode(postcode: str) -> str:
    """Upper-cased without spaces or hyphens: "nw1 6xe" -> "NW16XE", "CH-8001" -> "CH8001"."""
    return POSTCODE_SEPARATORS.sub("", postcode.upper())
