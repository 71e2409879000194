"""Rendering: one way a person might type a real address ("4570 FROZEN HILL RD ANAMOSA IA
52205", "Laugavegur 12b, 101 Reykjavík, Iceland")."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping
from functools import lru_cache

from address.libaddressinput import country_record, format_address
from address.names import drop_marks
from address.rules import postcode_before_town
from address.standardize import format_address_line
from finetune.data.records import AddressParts, Expander
from finetune.data.resources import country_names, word_list

__all__ = ["ascii_fold", "render"]

# The separators of a rendered address, collapsed when a part is dropped: "Rd, , IA".
_EMPTY_PARTS = re.compile(r"(?:,\s*)+(?=,|$)|^\s*,\s*")

# Countries where "16, Ingram Gardens" (a comma after the number) is common.
_NUMBER_COMMA_COUNTRIES = frozenset({"GB", "IE"})
# Letters that do not decompose into base letter + accent, as people type them in ASCII.
_ASCII_LETTERS = str.maketrans({"ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "æ": "ae", "Æ": "Ae"})


@lru_cache(maxsize=16)
def _state_names(country: str) -> Mapping[str, str]:
    """Subdivision code -> name from Google's data: ``{"IA": "Iowa", ...}`` for the US."""
    record = country_record(country)
    keys = record.get("sub_keys", "").split("~") if record.get("sub_keys") else []
    names = record.get("sub_names", "").split("~") if record.get("sub_names") else keys
    return dict(zip(keys, names, strict=False))


@lru_cache(maxsize=16)
def _street_first(country: str) -> bool:
    """Whether the country writes "Laugavegur 12b" rather than "12 Baker St"."""
    return format_address_line({"house_number": "1", "road": "X"}, country).startswith("X")


def ascii_fold(text: str) -> str:
    """ "Vörðuberg 10, 221 Hafnarfjörður" -> "Vorduberg 10, 221 Hafnarfjordur"."""
    return drop_marks(text.translate(_ASCII_LETTERS))


def _road_variant(road: str, rng: random.Random, expand: Expander | None) -> str:
    """The road as written, or one of libpostal's expansions ("33rd Ave SW" ->
    "33rd avenue southwest")."""
    if expand is None or rng.random() < 0.6:
        return road
    blocked = word_list("expansion_blocklist.txt")
    options = [e for e in expand(road) if not any(word in e for word in blocked)]
    return rng.choice(options) if options else road


def _case(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return text
    if roll < 0.75:
        return text.lower()
    if roll < 0.92:
        return text.upper()
    return string.capwords(text)


def render(parts: AddressParts, rng: random.Random, expand: Expander | None = None) -> str:
    """One way a person might type the address.

    ``render(AddressParts("US", "4570", "Frozen Hill Rd", None, "52205", "Anamosa", "IA"),
    random.Random(1))`` gives e.g. ``"4570 FROZEN HILL RD ANAMOSA IA 52205"`` or
    ``"4570 frozen hill road, Anamosa, Iowa 52205, USA"``. Missing parts are left out,
    which is how negatives are rendered too.
    """
    country = parts.country.upper()
    road = _road_variant(parts.road, rng, expand) if parts.road else None
    unit = parts.unit if parts.unit and rng.random() < 0.5 else None
    number_road = [parts.house_number, road]
    if _street_first(country):
        number_road.reverse()
    street = " ".join(p for p in [*number_road, unit] if p)
    if country in _NUMBER_COMMA_COUNTRIES and parts.house_number and road and rng.random() < 0.2:
        street = f"{parts.house_number}, {road}"  # "16, Ingram Gardens" (UK land registry)
    state = parts.state
    if state and rng.random() < 0.3:
        state = _state_names(country).get(state.upper(), state)
    if state and rng.random() < 0.15:
        state = None
    country_name = rng.choice(country_names().get(country) or [""]) if rng.random() < 0.2 else ""

    if rng.random() < 0.25:
        # Google's format for the country, one line per part ("4570 Frozen Hill Rd\n
        # ANAMOSA, IA 52205\nUNITED STATES"), joined the way a form field flattens it.
        fields = {
            "country_code": country,
            "street_address": street,
            "city": parts.city or "",
            "country_area": state or "",
            "postal_code": parts.postcode or "",
        }
        lines = format_address(fields).split("\n")
        if not country_name:
            lines = lines[:-1]
        text = rng.choice([", ", " ", "\n"]).join(line for line in lines if line.strip())
    else:
        if postcode_before_town(country):
            locality = " ".join(p for p in (parts.postcode, parts.city) if p)
            pieces = [street, locality, state or ""]
        else:
            pieces = [street, parts.city or "", " ".join(p for p in (state, parts.postcode) if p)]
        pieces.append(country_name)
        separator = ", " if rng.random() < 0.7 else " "
        text = separator.join(p for p in pieces if p)
    text = _EMPTY_PARTS.sub("", text).strip(" ,")
    if rng.random() < 0.15:
        text = ascii_fold(text)
    return _case(text, rng)
