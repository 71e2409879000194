"""The requests of a run: noisy, structured and one-line, plain, misspelt and own."""

from __future__ import annotations

import argparse
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from eval.production.addresses import HAMILTON, ONE_LINE_SETS, Address, glued
from eval.production.noise import Noisy, make_noisy, make_unit, split_after_street


@dataclass(frozen=True)
class Request:
    """One verify request: ``case`` is noisy, structured, one-line (the structured
    request's pair), plain (a clean real address outside coverage), own (a one-line
    address of the small index, exactly as it was indexed) or misspelt (an address of the
    small index with another house number or a street typo)."""

    case: str
    address: Address
    text: str
    fields: dict[str, Any] | None = None
    noisy: Noisy | None = None
    pair: int | None = None
    unit_id: str | None = None
    unit_place: str | None = None

    @property
    def coverage(self) -> str:
        return "covered" if self.address.covered else "outside"


def _balanced(addresses: list[Address], n: int, rng: random.Random) -> list[Address]:
    """``n`` addresses, round-robin over datasets, each drawn once while a set lasts."""
    by_set: dict[str, list[Address]] = defaultdict(list)
    for a in addresses:
        by_set[a.dataset].append(a)
    if not by_set:
        return []
    names = sorted(by_set)
    per = -(-n // len(names))
    drawn = {k: rng.sample(by_set[k], min(per, len(by_set[k]))) for k in names}
    return [
        drawn[names[i % len(names)]][i // len(names) % len(drawn[names[i % len(names)]])]
        for i in range(n)
    ]


def misspelt(address: Address, *, number: bool) -> str | None:
    """The address as written with a house number the index lacks ("12" -> "129") or a
    letter dropped from the street's longest word ("Greyhound" -> "Greyhund"): what a
    did-you-mean is for. ``None`` when the text does not show the part as indexed."""
    text = address.text
    if number:
        at = re.search(rf"(?<![\w]){re.escape(address.house_number)}(?![\w])", text, re.I)
        return None if at is None else f"{text[: at.end()]}9{text[at.end() :]}"
    word = max(address.road.split(), key=len)
    at = text.lower().find(word.lower())
    if len(word) < 5 or at < 0:
        return None
    middle = at + len(word) // 2
    return text[:middle] + text[middle + 1 :]


def make_requests(addresses: list[Address], sizes: argparse.Namespace) -> list[Request]:
    """Every request of the run, in a seeded shuffled order."""
    rng = random.Random(f"{sizes.seed}:requests")
    pools = {
        True: [a for a in addresses if a.covered],
        False: [a for a in addresses if not a.covered],
    }
    requests: list[Request] = []
    for covered, pool in pools.items():
        for i, a in enumerate(_balanced(pool, sizes.noisy, rng)):
            noisy = make_noisy(a, f"{sizes.seed}:{covered}:{i}", with_unit=i % 2 == 0)
            requests.append(
                Request(
                    "noisy",
                    a,
                    noisy.text,
                    noisy=noisy,
                    unit_id=noisy.unit_id,
                    unit_place=noisy.unit_place,
                )
            )
        for a in _balanced(pool, sizes.structured, rng):
            pair = len(requests)
            unit, unit_id = make_unit(a.country, rng) if rng.random() < 0.2 else (None, None)
            fields = a.fields(unit)
            head, tail = split_after_street(a.text, a.street_line)
            one_line = f"{head} {unit}{tail}" if unit else a.text
            requests += [
                Request(
                    "structured",
                    a,
                    glued(fields),
                    fields,
                    pair=pair,
                    unit_id=unit_id,
                    unit_place="line2" if unit else None,
                ),
                Request("one-line", a, one_line, pair=pair),
            ]
    by_set: dict[str, list[Address]] = defaultdict(list)
    for a in pools[False]:
        by_set[a.dataset].append(a)
    for name, pool in sorted(by_set.items()):
        n = sizes.plain * (2 if name == HAMILTON else 1)
        requests += [Request("plain", a, a.text) for a in rng.sample(pool, min(n, len(pool)))]
    for i, a in enumerate(_balanced(pools[True], sizes.misspelt, rng)):
        if (text := misspelt(a, number=i % 2 == 0)) is not None:
            requests.append(Request("misspelt", a, text))
    own = [a for a in pools[True] if a.dataset in ONE_LINE_SETS]
    requests += [Request("own", a, a.text) for a in _balanced(own, sizes.own, rng)]
    rng.shuffle(requests)
    return requests
