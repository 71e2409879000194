"""Postcodes of each country's shape (Google's libaddressinput regex and examples): made
up ("26133" -> "80417"), as people type a gazetteer key ("1000001" -> "1000-001"), and
their region ("52205" -> "52")."""

from __future__ import annotations

import itertools
import random
import re
import string
from functools import lru_cache

from address.libaddressinput import country_record
from finetune.data.resources import street_types

__all__ = [
    "looks_like_postcode",
    "postcode_region",
    "random_postcode",
    "typed_postcode",
]

# Spaces and hyphens inside a postcode: "NW1 6XE", "52205-1234".
_POSTCODE_SPACE = re.compile(r"[\s\-]+")


@lru_cache(maxsize=64)
def _postcode_shape(country: str) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """Google's postcode regex and examples of a country: ``(re("\\d{5}"), ("26133",))``."""
    record = country_record(country)
    pattern = re.compile(f"(?:{record['zip']})", re.IGNORECASE) if record.get("zip") else None
    examples = tuple(e.strip() for e in str(record.get("zipex", "")).split(",") if e.strip())
    return pattern, examples


def random_postcode(country: str, rng: random.Random) -> str | None:
    """A random postcode of the country's shape, drawn from Google's examples with digits
    and letters replaced and checked against its regex: "EC1Y 8SY" -> "LU4 7JZ"-like,
    "26133" -> "80417", "1234 AB" -> "5021 KD"."""
    pattern, examples = _postcode_shape(country)
    if not examples:
        return None
    for _ in range(80):
        example = rng.choice(examples)
        candidate = "".join(
            str(rng.randint(0, 9))
            if ch.isdigit()
            else rng.choice(string.ascii_uppercase)
            if ch.isalpha() and ch.isascii() and rng.random() < 0.7
            else ch
            for ch in example
        )
        if pattern is None or pattern.fullmatch(candidate):
            return candidate
    return rng.choice(examples)


@lru_cache(maxsize=1)
def _all_postcode_patterns() -> tuple[re.Pattern[str], ...]:
    countries = sorted(set(street_types()["countries"]) | {"US", "IS", "GB", "CA", "NL"})
    return tuple(p for p in (_postcode_shape(c)[0] for c in countries) if p is not None)


def looks_like_postcode(text: str) -> bool:
    """Whether a token or two adjacent tokens have some country's postcode shape, with a
    digit ("LU2 7JZ", "10115"; Ireland's pattern alone would take "qazwsxe")."""
    tokens = text.split()
    pieces = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    return any(
        p.fullmatch(piece)
        for piece in pieces
        if any(ch.isdigit() for ch in piece)
        for p in _all_postcode_patterns()
    )


def typed_postcode(country: str, key: str, rng: random.Random) -> str | None:
    """A gazetteer postcode as people type it, laid over a random postcode of the
    country's shape: "1000001" -> "1000-001" (PT), "01000000" -> "01000-000" (BR), "M5V" ->
    "M5V 0B1"-like (CA: the FSA, then a made-up rest), "28013" -> "28013"; ``None`` if
    it fits no shape of the country ("L1111" in Luxembourg, which writes "1111")."""
    pattern, examples = _postcode_shape(country)
    shape = random_postcode(country, rng) if examples else None
    if shape is not None:
        groups = _POSTCODE_SPACE.split(shape)
        # The key fills the whole postcode or its leading group (an outward code).
        if len(key) in (len("".join(groups)), len(groups[0])):
            chars = iter(key)
            typed = "".join(next(chars, ch) if ch.isalnum() else ch for ch in shape)
            if pattern is None or pattern.fullmatch(typed):
                return typed
    return key if pattern is None or pattern.fullmatch(key) else None


def postcode_region(postcode: str) -> str:
    """The leading half of a postcode, which names its region in most countries:
    "52205" -> "52" (eastern Iowa), "101" -> "1" (capital area), "NW1 6XE" -> "NW1"."""
    compact = _POSTCODE_SPACE.sub("", postcode).upper()
    return compact[: max(1, len(compact) // 2)]
