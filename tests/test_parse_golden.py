"""Golden parses: real addresses, with the components a correct parse must contain.

Each line of ``data/parse_golden.jsonl`` is a real place (landmark, embassy,
museum, station, town hall, shop) written the way people type it, with the
components its text means, written by hand. A parse passes when every expected
component is present and equal after :func:`comparable`; extra components are
allowed. Lines with a ``known_issue`` are wrong in libpostal itself and are
``xfail(strict=True)``, so a libpostal upgrade that fixes them is noticed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from address.libpostal import parse
from address.model import COMPONENT_LABELS

GOLDEN = Path(__file__).parent / "data" / "parse_golden.jsonl"
MIN_CLEAN_LINES = 40
MIN_CLEAN_COUNTRIES = 8

_WHITESPACE = re.compile(r"\s+")


def comparable(value: str) -> str:
    """Normalize a component for comparison: meaning, not libpostal's exact spelling.

    Casefolds, drops commas and periods and collapses whitespace, so
    ``" Av.  Paulista, "`` and ``"av paulista"`` compare equal.
    """
    value = value.casefold().replace(",", "").replace(".", "")
    return _WHITESPACE.sub(" ", value).strip()


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


ROWS = _load(GOLDEN)


def _param(row: dict[str, Any]) -> Any:
    marks = []
    if row.get("known_issue"):
        marks.append(pytest.mark.xfail(reason=row["known_issue"], strict=True))
    return pytest.param(row, id=row["text"], marks=marks)


@pytest.mark.parametrize("row", [_param(row) for row in ROWS])
def test_parse_golden(row: dict[str, Any]) -> None:
    got = {label: comparable(value) for label, value in parse(row["text"]).components().items()}
    want = {label: comparable(value) for label, value in row["expected"].items()}
    mismatched = {
        label: (value, got.get(label)) for label, value in want.items() if got.get(label) != value
    }
    assert not mismatched, f"expected vs parsed: {mismatched}; full parse: {got}"


def test_golden_file_is_broad_enough() -> None:
    clean = [row for row in ROWS if not row.get("known_issue")]
    countries = {row["country"] for row in clean}
    assert len(clean) >= MIN_CLEAN_LINES, f"only {len(clean)} lines without a known issue"
    assert len(countries) >= MIN_CLEAN_COUNTRIES, f"only {len(countries)} countries: {countries}"
    for row in ROWS:
        assert row["expected"], row["text"]
        assert set(row["expected"]) <= set(COMPONENT_LABELS), row["text"]
    assert len({row["text"] for row in ROWS}) == len(ROWS), (
        "duplicate texts make duplicate test ids"
    )
