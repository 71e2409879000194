"""Cutting pieces out of an address text: its parts, the cut marks, the tidying after.

``cut_spans("John Smith, 12 Baker St, London", [(0, 10)])`` is ``"12 Baker St, London"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

# Stands for a cut character while the text is read, so offsets keep pointing at the input.
CUT = "\x1f"
# Where one part of an address ends and the next begins.
_BOUNDARY = re.compile(r"[,;|()\n\x1f]+|\s+[-–—]\s+")


class Take(Protocol):
    """Cuts ``work[start:end]`` and files it under ``kind`` (``value`` if given)."""

    def __call__(self, kind: str, start: int, end: int, value: str | None = None) -> None: ...


def cut_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Cut ``spans`` out of ``text`` and tidy the separators left behind.

    ``cut_spans("John Smith, 12 Baker St, London", [(0, 10)])`` -> ``"12 Baker St, London"``.
    """
    chars = list(text)
    for start, end in spans:
        chars[start:end] = CUT * (end - start)
    return _tidy("".join(chars))


def _tidy(text: str) -> str:
    """ "\\x1f\\x1f, 12 Baker St ,\\x1f, London" -> "12 Baker St, London"."""
    text = re.sub(r"\s*\x1f[\x1f\s]*", " ", text)
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,;:.)])", r"\1", text)
    text = re.sub(r"([,;])(?:\s*[,;:\-|/])+", r"\1", text)
    return re.sub(r"^[\s,;:\-|/.]+|[\s,;:\-|/]+$", "", text)


def clean(value: str) -> str | None:
    """A cut piece as the caller typed it, without separators around it."""
    value = _tidy(value)
    value = value.strip(" -:,;")
    return value or None


def part_spans(work: str) -> list[tuple[int, int]]:
    """Spans of the parts between separators, trimmed, empty ones left out."""
    out = []
    position = 0
    for match in [*_BOUNDARY.finditer(work), None]:
        stop = match.start() if match else len(work)
        piece = work[position:stop]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((position + lead, position + len(piece.rstrip())))
        position = match.end() if match else stop
    return out


def lone_in_part(work: str, start: int, end: int) -> bool:
    """Whether ``work[start:end]`` fills its part: "…, call 555-0134, …"."""
    left = re.search(r"[,;|()\n\x1f]\s*$|^\s*$", work[:start])
    right = re.match(r"\s*(?:[,;|()\n\x1f]|$)", work[end:])
    return bool(left and right)


def has_digit(piece: str) -> bool:
    return any(ch.isdigit() for ch in piece)
