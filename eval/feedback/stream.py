"""The delivery stream: real Hamilton County addresses, their ground truth, the orders.

Every draw comes from ``random.Random`` seeded by the caller, so a seed gives the
same reference rows, customers, orders and outcomes on every machine.

Ground truth per customer address:

- ``good``: a real address; a delivery fails with probability 0.03.
- ``bad``: made from a real address (a house number or postcode that no Hamilton
  line has, or the house number cut off); a delivery fails with probability 0.9.
- ``hot``: a real address where parcels go missing: ``not_received`` with
  probability 0.5.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.production.addresses import held_out

GOOD, BAD, HOT = "good", "bad", "hot"
SHARES = {GOOD: 0.75, BAD: 0.15, HOT: 0.10}
"""Default share of each kind among the customers."""
FAIL_P = {GOOD: 0.03, BAD: 0.90, HOT: 0.50}
"""Probability that one delivery to an address of each kind fails."""
FAILURE = {GOOD: "failed", BAD: "failed", HOT: "not_received"}
"""The outcome of a failed delivery, by kind."""
REASON = {GOOD: "recipient_absent", BAD: "address_not_found", HOT: None}
BAD_KINDS = ("wrong_number", "wrong_postcode", "cut")
"""How a bad address is made from a real one, in turn."""

LINE = re.compile(r"^(?P<number>\d+) (?P<rest>.+) OH (?P<postcode>\d{5})$")
"""A Hamilton line with a plain house number: ``3359 QUEEN CITY AVE CINCINNATI OH 45238``."""
NUMBER_SHIFTS = tuple(d for step in range(2, 42, 2) for d in (step, -step))
"""Moves from a real house number to a wrong one on the same side of the street."""


@dataclass(frozen=True)
class Customer:
    """A customer's address as typed, its truth, and the real line it comes from."""

    id: str
    text: str
    truth: str
    made: str
    """``real``, or the bad kind: ``wrong_number``, ``wrong_postcode``, ``cut``."""
    source: str


@dataclass(frozen=True)
class Order:
    """One delivery: its round, customer, event id and the outcome the courier reports."""

    index: int
    round: int
    customer: int
    event_id: str
    outcome: str
    reason: str | None

    @property
    def failed(self) -> bool:
        """Whether the parcel did not reach the customer."""
        return self.outcome != "delivered"


@dataclass(frozen=True)
class Sample:
    """The run's real addresses: reference rows, customers' sources, the observed check."""

    reference: list[str]
    customers: list[str]
    check: list[str]


def read_lines(path: Path) -> list[str]:
    """The Hamilton lines with a plain house number, in file order."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if LINE.match(line)]


def postcode(line: str) -> str:
    """The ZIP code of a Hamilton line."""
    match = LINE.match(line)
    assert match is not None, line
    return match["postcode"]


def street(line: str) -> str:
    """The street, town and ZIP code of a Hamilton line, without its house number."""
    match = LINE.match(line)
    assert match is not None, line
    return f"{match['rest']} {match['postcode']}"


def split_sample(
    lines: Sequence[str],
    *,
    seed: int,
    reference: int,
    customers: int,
    check: int,
    split: str = "heldout",
) -> Sample:
    """Disjoint seeded draws from one split (``heldout`` or ``dev``) of ``lines``.

    The check rows lie in ZIP codes the reference holds (covered towns).
    """
    pool = [line for line in lines if held_out(line) == (split == "heldout")]
    random.Random(seed).shuffle(pool)
    if len(pool) < reference + customers + check:
        raise ValueError(f"{len(pool)} {split} lines, {reference + customers + check} needed")
    ref = pool[:reference]
    covered = {postcode(line) for line in ref}
    rest = pool[reference + customers :]
    in_covered = [line for line in rest if postcode(line) in covered][:check]
    return Sample(ref, pool[reference : reference + customers], in_covered)


def make_bad(
    line: str, made: str, rng: random.Random, existing: Collection[str], postcodes: Sequence[str]
) -> str:
    """A wrong address made from a real ``line``; no line of ``existing`` reads like it."""
    match = LINE.match(line)
    assert match is not None, line
    number, rest, code = match["number"], match["rest"], match["postcode"]
    if made == "cut":
        return f"{rest} OH {code}"
    if made == "wrong_number":
        shifts = rng.sample(NUMBER_SHIFTS, len(NUMBER_SHIFTS))
        options = [f"{int(number) + d} {rest} OH {code}" for d in shifts if int(number) + d > 0]
    else:
        options = [f"{number} {rest} OH {c}" for c in rng.sample(postcodes, len(postcodes))]
    for option in options:
        if option not in existing and option != line:
            return option
    raise ValueError(f"no {made} address for {line!r}")


def make_customers(
    sources: Sequence[str],
    *,
    seed: int,
    existing: Collection[str],
    postcodes: Sequence[str],
    shares: dict[str, float] | None = None,
) -> list[Customer]:
    """One customer per source line, a seeded ``shares`` of them bad or hot spots."""
    shares = shares or SHARES
    rng = random.Random(seed)
    n_bad, n_hot = round(shares[BAD] * len(sources)), round(shares[HOT] * len(sources))
    truths = [BAD] * n_bad + [HOT] * n_hot + [GOOD] * (len(sources) - n_bad - n_hot)
    rng.shuffle(truths)
    customers, bad_made = [], 0
    for n, (line, truth) in enumerate(zip(sources, truths, strict=True)):
        made, text = "real", line
        if truth == BAD:
            made = BAD_KINDS[bad_made % len(BAD_KINDS)]
            bad_made += 1
            text = make_bad(line, made, rng, existing, postcodes)
        customers.append(Customer(f"c{n:05d}", text, truth, made, line))
    return customers


def make_orders(
    customers: Sequence[Customer], *, orders: int, rounds: int, seed: int
) -> list[Order]:
    """``orders`` deliveries to customers drawn uniformly, in ``rounds`` equal rounds,
    each with its outcome drawn from its customer's truth."""
    rng = random.Random(seed)
    made = []
    for index in range(orders):
        who = rng.randrange(len(customers))
        truth = customers[who].truth
        failed = rng.random() < FAIL_P[truth]
        made.append(
            Order(
                index=index,
                round=index * rounds // orders,
                customer=who,
                event_id=f"bench-{seed}-{index:06d}",
                outcome=FAILURE[truth] if failed else "delivered",
                reason=REASON[truth] if failed else None,
            )
        )
    return made


def courier_point(lat: float, lon: float, seed: int, index: int) -> dict[str, float]:
    """Where a courier's device says it delivered: within about 15 m of the known point."""
    rng = random.Random(f"{seed}-{index}")
    return {
        "lat": round(lat + rng.uniform(-1.5e-4, 1.5e-4), 6),
        "lon": round(lon + rng.uniform(-1.5e-4, 1.5e-4), 6),
    }
