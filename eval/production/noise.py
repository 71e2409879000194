"""Noise around an address: the extras a checkout adds, and units in several places."""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eval.production.addresses import Address

if TYPE_CHECKING:
    from faker import Faker

KINDS = ("recipient", "company", "phone", "email", "url", "instructions")
# Chance that a noisy request carries each kind (at least one is always added), and where
# it goes: weights of before the address / inside it (after the street) / after it.
KIND_CHANCE = {
    "recipient": 0.6,
    "company": 0.3,
    "phone": 0.45,
    "email": 0.35,
    "url": 0.15,
    "instructions": 0.4,
}
KIND_PLACES = {
    "recipient": (8, 1, 1),
    "company": (7, 1, 2),
    "phone": (2, 2, 6),
    "email": (2, 2, 6),
    "url": (2, 1, 7),
    "instructions": (2, 2, 6),
}
PLACES = ("before", "inside", "after")
LOCALES = {"US": "en_US", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR"}
LANGUAGES = {"US": "en", "GB": "en", "DE": "de", "FR": "fr"}
INSTRUCTIONS = {
    "en": (
        "Leave at the back door",
        "Please ring the bell twice",
        "Call on arrival",
        "Deliver to reception",
        "Leave with neighbour if not home",
        "Gate code 4512",
        "Do not leave in the rain",
        "Knock loudly, doorbell broken",
    ),
    "de": (
        "Bitte beim Nachbarn abgeben",
        "Paket vor die Tür legen",
        "Bitte zweimal klingeln",
        "Hintereingang benutzen",
        "Abstellort Garage",
        "Nicht klingeln, Baby schläft",
    ),
    "fr": (
        "Laisser chez le gardien",
        "Sonner deux fois",
        "Déposer devant la porte",
        "Code portail 4512",
        "Appeler avant de passer",
        "Livrer à l'accueil",
    ),
}
PHONE_LABELS = {
    "en": ("Tel", "Phone:", "Ph.", "Mobile", "Cell:"),
    "de": ("Tel.", "Telefon:", "Handy", "Mobil:"),
    "fr": ("Tél.", "Tel :", "Portable", "Mobile :"),
}
# Unit forms per country: (written before the identifier, the identifier's pattern).
UNIT_FORMS = {
    "US": (
        ("Apt ", "{n}{L}"),
        ("Apt. ", "{n}"),
        ("Unit ", "{n}"),
        ("Suite ", "{n}00"),
        ("#", "{n}"),
        ("#", "{nn}-{mm}"),
        ("Fl ", "{n}"),
    ),
    "GB": (("Flat ", "{n}"), ("Flat ", "{n}{L}"), ("Unit ", "{n}"), ("Suite ", "{n}")),
    "DE": (("Wohnung ", "{n}"), ("Whg. ", "{n}"), ("Appartement ", "{n}")),
    "FR": (("Appartement ", "{n}"), ("Appt ", "{n}"), ("Bât. ", "{L}")),
}
UNIT_PLACES = ("before", "after_street", "end")
"""Where a unit goes in a one-line text: "Flat 3, 12 High St", "12 High St Apt 4B, ...",
"..., NY 10118 Apt 4B". Structured requests put it on the second line (``line2``)."""


@dataclass(frozen=True)
class Noisy:
    """A noisy request text and what was put into it."""

    text: str
    truth: dict[str, str]
    """Extras placed, by kind: the value an extraction should return."""
    placed: tuple[str, ...]
    """The noise as written into the text (with "Tel:" and the like)."""
    places: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    unit_id: str | None = None
    unit_place: str | None = None


@functools.lru_cache(maxsize=8)
def _faker(locale: str) -> Faker:
    from faker import Faker

    return Faker(locale)


def make_unit(country: str, rng: random.Random) -> tuple[str, str]:
    """A unit as written and its identifier: ("Apt 4B", "4B"), ("#05-67", "05-67")."""
    prefix, pattern = rng.choice(UNIT_FORMS[country])
    ident = pattern.format(
        n=rng.randint(1, 30),
        L=rng.choice("ABCDEF"),
        nn=f"{rng.randint(1, 20):02d}",
        mm=f"{rng.randint(1, 99):02d}",
    )
    return prefix + ident, ident


def _extras(country: str, rng: random.Random) -> tuple[dict[str, str], dict[str, str]]:
    """Extras by kind, and each as written into the text (a phone may carry a label)."""
    fake = _faker(LOCALES[country])
    fake.seed_instance(rng.randrange(2**32))
    language = LANGUAGES[country]
    kinds = [k for k in KINDS if rng.random() < KIND_CHANCE[k]] or [rng.choice(KINDS)]
    truth: dict[str, str] = {}
    written: dict[str, str] = {}
    for kind in kinds:
        if kind == "recipient":
            value = fake.name()
        elif kind == "company":
            value = fake.company()
        elif kind == "phone":
            value = re.sub(r"\s*x\d+$", "", fake.phone_number())  # no extension
        elif kind == "email":
            value = fake.email()
        elif kind == "url":
            value = fake.url() if rng.random() < 0.6 else "www." + fake.domain_name()
        else:
            value = rng.choice(INSTRUCTIONS[language])
        truth[kind] = value
        label = kind == "phone" and rng.random() < 0.4
        written[kind] = f"{rng.choice(PHONE_LABELS[language])} {value}" if label else value
    return truth, written


def split_after_street(text: str, street_line: str) -> tuple[str, str]:
    """The text up to the end of its street line, and the rest ("", when not found)."""
    at = text.casefold().find(street_line.casefold())
    if at < 0:
        return text, ""
    end = at + len(street_line)
    return text[:end], text[end:]


def _joined(head: str, tail: str) -> str:
    """Head and tail of an address with a comma between them, unless one is there."""
    if not tail:
        return head
    return head + (tail if tail.lstrip().startswith(",") else "," + tail)


def make_noisy(address: Address, seed: str, with_unit: bool) -> Noisy:
    """The address as written with extras (and a unit) around or inside it; the same
    ``seed`` gives the same text."""
    rng = random.Random(seed)
    truth, written = _extras(address.country, rng)
    places = {k: rng.choices(PLACES, KIND_PLACES[k])[0] for k in written}
    head, tail = split_after_street(address.text, address.street_line)
    if not tail:
        places = {k: "after" if p == "inside" else p for k, p in places.items()}
    unit = unit_id = unit_place = None
    comma = False
    if with_unit:
        unit, unit_id = make_unit(address.country, rng)
        unit_place = rng.choice(UNIT_PLACES if tail else ("before", "end"))
        if unit_place == "after_street":
            comma = rng.random() < 0.5
            head = f"{head}{', ' if comma else ' '}{unit}"
    inside = [written[k] for k in written if places[k] == "inside"]
    core = _joined(", ".join([head, *inside]), tail) if inside or comma else head + tail
    if unit_place == "before":
        core = f"{unit}, {core}"
    elif unit_place == "end":
        core = f"{core}{rng.choice((' ', ', '))}{unit}"
    separator = rng.choices((", ", " - ", " "), (15, 2, 3))[0]
    before = [written[k] for k in written if places[k] == "before"]
    after = [written[k] for k in written if places[k] == "after"]
    text = separator.join([*before, core, *after])
    return Noisy(text, truth, tuple(written.values()), places, unit, unit_id, unit_place)
