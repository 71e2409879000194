"""Formatting per country against the OpenCage address-formatting test cases."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from eval.datasets_eval_suggest import FORMATTING, Sizes, sample_in_order

# A word of an address, for the token-level formatting comparison.
WORD = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    return WORD.findall(text.casefold())


def _same(a: str, b: str) -> bool:
    """Equal after case folding, with commas and runs of whitespace as one space."""
    return " ".join(a.casefold().replace(",", " ").split()) == " ".join(
        b.casefold().replace(",", " ").split()
    )


def _token_f1(ours: list[str], expected: list[str]) -> float:
    common = sum((Counter(ours) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(ours), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _address_lines(expected: str, given: list[str]) -> list[str]:
    """The lines of an expected layout made from the components given: a line is kept
    when at least half its words are words of the components, so the name of the place
    ("Pizza Hut") and the country line ("Germany") that the test case adds are dropped."""
    from address.country_detect import country_from_name

    words = set(given)
    kept = []
    for line in (raw.strip() for raw in expected.splitlines()):
        tokens = _tokens(line)
        if not tokens or country_from_name(line) is not None:
            continue
        if sum(t in words for t in tokens) * 2 >= len(tokens):
            kept.append(line)
    return kept


def eval_formatting(folder: Path, sizes: Sizes, seed: int) -> dict[str, Any]:
    from address.errors import AddressError
    from address.libpostal import parse
    from address.standardize import format_address_line, standardize

    frame = pd.read_csv(folder / f"{FORMATTING}.csv", dtype=str, keep_default_na=False)
    cases = sample_in_order(
        list(frame.itertuples(index=False)), sizes.formatting_cases, random.Random(seed)
    )
    skipped = Counter[str]()
    scored: list[dict[str, Any]] = []
    for case in cases:
        country = str(case.country_code).strip().upper()
        components = {
            k: str(getattr(case, k)).strip()
            for k in ("house_number", "road", "postcode", "city", "state")
            if str(getattr(case, k)).strip()
        }
        if not components:
            skipped["no components given"] += 1
            continue
        lines = _address_lines(str(case.expected_formatted), _tokens(" ".join(components.values())))
        if not lines:
            skipped["expected layout shows none of the given components"] += 1
            continue
        target = ", ".join(lines)
        try:
            line = format_address_line(components, country)
            typed = target.casefold()
            standardized = standardize(parse(typed, country.lower()), country)
        except AddressError as error:
            skipped[f"{type(error).__name__}"] += 1
            continue
        scored.append(
            {
                "country": country,
                "expected": target,
                "format_address_line": line,
                "standardize": standardized,
                "typed": typed,
                "line_exact": _same(line, target),
                "line_f1": _token_f1(_tokens(line), _tokens(target)),
                "std_exact": _same(standardized, target),
                "std_f1": _token_f1(_tokens(standardized), _tokens(target)),
            }
        )

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        n = max(len(items), 1)
        return {
            "n": len(items),
            "format_address_line": {
                "exact": round(sum(i["line_exact"] for i in items) / n, 4),
                "token_f1": round(sum(i["line_f1"] for i in items) / n, 4),
            },
            "standardize": {
                "exact": round(sum(i["std_exact"] for i in items) / n, 4),
                "token_f1": round(sum(i["std_f1"] for i in items) / n, 4),
            },
        }

    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in scored:
        by_country[item["country"]].append(item)
    countries = {c: summary(items) for c, items in sorted(by_country.items())}
    worst = sorted(
        countries,
        key=lambda c: (
            countries[c]["format_address_line"]["token_f1"],
            countries[c]["format_address_line"]["exact"],
            c,
        ),
    )[:15]
    examples = {}
    for c in worst:
        item = min(by_country[c], key=lambda i: (i["line_f1"], i["expected"]))
        examples[c] = {k: item[k] for k in ("expected", "format_address_line", "standardize")}
    return {
        "rows": len(frame),
        "countries": len(countries),
        "skipped": dict(skipped),
        "formatting": {
            **summary(scored),
            "by_country": countries,
            "worst_countries": worst,
            "worst_examples": examples,
        },
    }
