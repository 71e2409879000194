"""Places for the training addresses that are not the reference's own: the real parts
restyled as another country's address ("Frozen Hillstraße 4570, 80417 Anamosa"), real
gazetteer places as people type them ("1000-001 Lisboa"), made-up towns and streets in a
country's style ("Lindenweg 12, 80417 Kelmingen"), and real donor postcodes."""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from finetune.data.postcodes import random_postcode, typed_postcode
from finetune.data.records import AddressParts, Donors
from finetune.data.resources import DATA_DIR, place_words, street_types

__all__ = [
    "donors_from",
    "invent",
    "invented_road",
    "invented_town",
    "premises_line",
    "restyle",
    "typed_places",
]

# Trailing words of a US road that are its type or direction: "Frozen Hill Rd NE".
_US_ROAD_TAIL = frozenset(
    {
        "rd",
        "st",
        "dr",
        "ave",
        "ln",
        "ct",
        "cir",
        "blvd",
        "pl",
        "way",
        "trl",
        "pkwy",
        "hwy",
        "ter",
        "road",
        "street",
        "drive",
        "avenue",
        "lane",
        "court",
        "circle",
        "boulevard",
        "place",
        "trail",
        "parkway",
        "highway",
        "terrace",
        "n",
        "s",
        "e",
        "w",
        "ne",
        "nw",
        "se",
        "sw",
        "north",
        "south",
        "east",
        "west",
        "loop",
        "run",
        "pt",
        "sq",
    }
)

# A placeholder of a town pattern: "{R}ingen" (a capitalised root), "Neu{r}" (lower case).
_ROOT_SLOT = re.compile(r"\{([Rr])\}")
# Share of invented towns that are one short word ("Gan", "Vif", "Haar", "Bonn", "Paris"
# are real): without them the model took any short last word for a cut-off one.
_SHORT_TOWN_SHARE = 0.3
# French months for street names that hold a date ("Rue du 8 Mai 1945").
_FR_MONTHS = ("Janvier", "Mars", "Mai", "Juin", "Juillet", "Août", "Septembre", "Novembre")


def _road_base(road: str) -> str | None:
    """The name part of a real road: "Frozen Hill Rd NE" -> "Frozen Hill", "Laugavegur" ->
    "Laugavegur"; ``None`` for numbered roads ("33rd Ave SW")."""
    words = road.split()
    while len(words) > 1 and words[-1].casefold().strip(".") in _US_ROAD_TAIL:
        words.pop()
    base = " ".join(words)
    return None if any(ch.isdigit() for ch in base) else base


def _foreign_road(road: str, language: str, rng: random.Random) -> str:
    """The road's name with a street-type word placed as the language does: "Rue du
    Frozen Hill", "Frozen Hillstraße" / "Frozen Hill Straße", "Frozen Hill Road"."""
    base = _road_base(road)
    style: Mapping[str, Sequence[str]] = street_types()["languages"].get(language, {})
    if base is None or rng.random() < 0.2:
        return road
    ways = [kind for kind in ("prefix", "suffix", "compound") if style.get(kind)]
    if not ways:
        return road
    kind = rng.choice(ways)
    word = rng.choice(style[kind])
    if kind == "prefix":
        article = rng.choice(style.get("articles") or [""])
        return f"{word} {article}{base}".replace("' ", "'")
    if kind == "suffix":
        return f"{base} {word}"
    return f"{base.replace(' ', '')}{word}" if rng.random() < 0.7 else f"{base}-{word}"


def typed_places(
    pairs: Mapping[str, Sequence[tuple[str, str]]], rng: random.Random
) -> dict[str, list[tuple[str, str]]]:
    """The gazetteer's ``(postcode, place)`` pairs as people type them, per country:
    ``{"PT": [("1000001", "lisboa")]}`` -> ``{"PT": [("1000-001", "Lisboa")]}``. Pairs
    whose postcode fits no shape of the country are dropped; countries left without
    any are left out."""
    out: dict[str, list[tuple[str, str]]] = {}
    for country, found in sorted(pairs.items()):
        typed = [
            (postcode, string.capwords(place))
            for key, place in found
            if (postcode := typed_postcode(country, key, rng)) is not None
        ]
        if typed:
            out[country] = typed
    return out


def restyle(
    parts: AddressParts, rng: random.Random, places: Donors | None = None, real_places: float = 0.0
) -> AddressParts:
    """The real components rendered as another country's address: a country picked from
    ``street_types.json``, a postcode of its shape, a street-type word of its language,
    no US state. ``restyle(AddressParts("US", "4570", "Frozen Hill Rd", None, "52205",
    "Anamosa", "IA"), rng)`` may give ``AddressParts("DE", "4570", "Frozen Hillstraße",
    None, "80417", "Anamosa")``, rendered "Frozen Hillstraße 4570, 80417 Anamosa".

    With ``places`` (real pairs by country as typed, :func:`typed_places`) the postcode
    and town are, ``real_places`` of the time, a real pair of the new country:
    ``AddressParts("ES", "12", "Calle Frozen Hill", None, "28013", "Madrid")``.
    """
    table: Mapping[str, str] = street_types()["countries"]
    country = rng.choice(sorted(table))
    road = _foreign_road(parts.road, table[country], rng) if parts.road else None
    pool = places.get(country) if places else None
    postcode: str | None
    city: str | None
    if pool and rng.random() < real_places:
        postcode, city = rng.choice(pool)
    else:
        postcode, city = random_postcode(country, rng), parts.city
    if rng.random() < 0.1:
        postcode = None
    number = parts.house_number
    if number and number.isdigit() and len(number) > 3 and rng.random() < 0.7:
        number = str(rng.randint(1, 199))  # house numbers abroad are mostly short
    if number and rng.random() < 0.08:
        number += rng.choice(["a", "b", "A", " bis", "-3", "/2"])
    unit = parts.unit
    if rng.random() < 0.1:
        unit = None
    return AddressParts(country, number, road, unit, postcode, city, None)


def premises_line(rng: random.Random) -> str:
    """A building or organisation line some people type first: "Unit 3", "Village Hall",
    "Kelmor Medical Centre" (``{name}``: a made-up name)."""
    lines: Sequence[str] = street_types()["premises"]
    line = rng.choice(lines)
    name = _root(rng.choice(("en", "de", "fr")), rng) if "{name}" in line else ""
    return line.format(n=rng.randint(1, 40), name=name)


def _language(country: str) -> str:
    """Language of a country's street names: "DE" -> "de", "US" -> "en"."""
    table: Mapping[str, str] = street_types()["countries"]
    return table.get(country.upper(), "en")


def _root(language: str, rng: random.Random, syllables: int | None = None) -> str:
    """A made-up name root of one to three syllables (or ``syllables``) in the language's
    sound: "Brau", "Kelmor", "Vaudin", "Hrafnó"."""
    words = place_words()
    table: Mapping[str, Sequence[str]] = words["syllables"][
        words["language_syllables"].get(language, "en")
    ]
    count = syllables or rng.choice((1, 1, 1, 1, 2, 2, 2, 2, 2, 3))
    simple = [onset for onset in table["onsets"] if len(onset) == 1]
    pieces: list[str] = []
    for i in range(count):
        # After a closed syllable a single consonant: "Kel-mor", not "Kelm-schwor".
        onset = rng.choice(
            simple if pieces and pieces[-1][-1] not in "aeiouyäöüáéíóúæøå" else table["onsets"]
        )
        coda = rng.choice(table["codas"]) if i == count - 1 or rng.random() < 0.15 else ""
        pieces.append(onset + rng.choice(table["nuclei"]) + coda)
    return "".join(pieces).capitalize()


def invented_town(language: str, rng: random.Random) -> str:
    """A town that does not exist, shaped like the language's place names:
    "Kelmingen", "Bad Schwauheim", "Saint-Vaudin-sur-Brel", "Great Shorton", "Hrafnvík"."""
    words = place_words()
    if rng.random() < _SHORT_TOWN_SHARE:
        # Short plain names ("Gan", "Hof", "Bonn", "Dole"): a cut-off word is no shorter.
        root = _root(language, rng, syllables=1 if rng.random() < 0.7 else 2)
        return root + (rng.choice(("e", "s", "a", "o")) if rng.random() < 0.25 else "")
    patterns: Sequence[str] = words["towns"][words["language_syllables"].get(language, "en")]
    pattern = rng.choice(patterns)

    def fill(match: re.Match[str]) -> str:
        root = _root(language, rng)
        return root if match.group(1) == "R" else root.lower()

    return _ROOT_SLOT.sub(fill, pattern)


def invented_road(language: str, rng: random.Random) -> str:
    """A made-up street in the language's style: "Hauptstraße", "Karl-Brau-Straße",
    "Am Lindenhof", "Rue de la Gare", "Avenue Jean Vaudin", "Rue du 8 Mai 1945",
    "Church Lane", "Kelmington Road", "Via Garibaldi"."""
    words = place_words()
    style: Mapping[str, Sequence[str]] = street_types()["languages"].get(language, {})
    nouns: Sequence[str] = words["street_words"].get(language, ())
    given: Sequence[str] = words["given_names"].get(language, ())
    roll = rng.random()
    person = False
    if language == "fr" and roll < 0.04:
        date = f"{rng.randint(1, 28)} {rng.choice(_FR_MONTHS)}"
        base = f"{date} {rng.randint(1870, 1970)}" if rng.random() < 0.5 else date
        return f"{rng.choice(style['prefix'])} du {base}"
    if language == "de" and roll < 0.12:
        place: str = rng.choice(words["street_words"]["de_places"])
        return place.replace("{W}", rng.choice(nouns))
    if nouns and roll < 0.45:
        base = rng.choice(nouns)
    elif given and roll < 0.65:
        base, person = f"{rng.choice(given)} {_root(language, rng)}", True
    elif roll < 0.75:
        town = invented_town(language, rng)
        if language == "de" and " " not in town:
            return (
                f"{town}er {rng.choice(['Straße', 'Str.', 'Weg', 'Allee'])}"  # "Kelminger Straße"
            )
        base = town
    else:
        base = _root(language, rng)
    ways = [kind for kind in ("prefix", "suffix", "compound") if style.get(kind)]
    if not ways:
        return base
    kind = rng.choice(ways)
    word = rng.choice(style[kind])
    if kind == "prefix":
        article = "" if person else rng.choice(style.get("articles") or [""])
        return f"{word} {article}{base}".replace("' ", "'")
    if kind == "suffix":
        return f"{base} {word}"
    if person:
        return f"{base.replace(' ', '-')}-{word.capitalize()}"  # "Karl-Brau-Straße"
    joined = f"{base.replace(' ', '')}{word}"
    return joined if rng.random() < 0.8 else f"{base}-{word.capitalize()}"


def invent(parts: AddressParts, rng: random.Random) -> AddressParts:
    """The address with a made-up town (and often a made-up street) in the style of its
    country, the house number and postcode kept: ``AddressParts("DE", "12",
    "Anamosastraße", None, "80417", "Anamosa")`` may become ``AddressParts("DE", "12",
    "Lindenweg", None, "80417", "Kelmingen")``, rendered "Lindenweg 12, 80417 Kelmingen".

    The classifier then cannot learn a closed list of towns and streets: a name it never
    saw is no evidence of a cut-off or missing part; what marks a negative is structure.
    """
    language = _language(parts.country)
    if parts.country == "IS":
        language = "is"
    city = invented_town(language, rng) if parts.city else None
    state = parts.state
    if city and language == "en" and parts.country != "US":
        # British-style localities: "Hutton, Brentwood, Essex, CM13 1SD".
        if rng.random() < 0.25:
            city = f"{invented_town(language, rng)}, {city}"
        if rng.random() < 0.2:
            state = f"{_root(language, rng)}shire" if rng.random() < 0.6 else _root(language, rng)
    road = parts.road
    if road and rng.random() < 0.6:
        road = invented_road(language, rng)
    return replace(parts, city=city, road=road, state=state)


def donors_from(parts: Iterable[AddressParts]) -> Donors:
    """Distinct real ``(postcode, town)`` pairs per country, sorted (deterministic): those
    of ``parts`` plus ``finetune/data/postcodes.json`` (ZIPs from beyond Linn County)."""
    extra: dict[str, Any] = json.loads((DATA_DIR / "postcodes.json").read_text("utf-8"))
    pairs: dict[str, set[tuple[str, str]]] = {
        country: {(postcode, town) for postcode, town in rows}
        for country, rows in extra.items()
        if not country.startswith("_")
    }
    for p in parts:
        if p.postcode and p.city:
            pairs.setdefault(p.country, set()).add((p.postcode, p.city))
    return {country: sorted(found) for country, found in sorted(pairs.items())}
