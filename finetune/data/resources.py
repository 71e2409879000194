"""The word lists and tables shipped in this package's folder (``finetune/data/``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["DATA_DIR", "country_names", "place_words", "street_types", "word_list"]

DATA_DIR = Path(__file__).resolve().parent
"""``finetune/data/``: countries.json, street_types.json, first_names.txt, ..."""


@lru_cache(maxsize=16)
def word_list(name: str) -> tuple[str, ...]:
    """Lines of a word list in ``finetune/data`` without ``#`` comments and blanks:
    ``word_list("first_names.txt")`` -> ``("James", "Mary", ...)``."""
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def country_names() -> Mapping[str, list[str]]:
    """Country code -> the names people type: ``{"IS": ["Iceland", "Ísland"], ...}``."""
    data: dict[str, Any] = json.loads((DATA_DIR / "countries.json").read_text("utf-8"))
    return {code: names for code, names in data.items() if not code.startswith("_")}


@lru_cache(maxsize=1)
def street_types() -> Mapping[str, Any]:
    """``street_types.json``: the language of each country's street names, each
    language's street-type words ("Straße", "Rue"), and premises lines."""
    data: dict[str, Any] = json.loads((DATA_DIR / "street_types.json").read_text("utf-8"))
    return data


@lru_cache(maxsize=1)
def place_words() -> Mapping[str, Any]:
    """``place_words.json``: syllables, town patterns, street words and given names per
    language, from which made-up places are built."""
    data: dict[str, Any] = json.loads((DATA_DIR / "place_words.json").read_text("utf-8"))
    return data
