"""People and companies: "John Smith", "Dr. Maria García López", "Acme Corp", "Myers-Mason".

A person's name opens with a known first name (gender_guesser's table, also as typed
without accents) and holds no street, building or place word.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from gender_guesser.detector import Detector

from address.errors import UnknownCountryError
from address.extras.vocabulary import (
    AMBIGUOUS_SUFFIX,
    BUILDING_WORDS,
    COMPANY_PREFIX,
    COMPANY_SUFFIX,
    COMPASS,
    CONJUNCTIONS,
    COURTESY,
    DOUBLE_SURNAMES,
    GIVEN_PARTICLES,
    GLUED_SURNAMES,
    HOUSE_FIRST,
    JOINED_NAMES,
    NAME_SUFFIXES,
    NAMED_HOUSES,
    NOBLE,
    NOT_FIRST,
    PARSE_SURNAMES,
    PARTICLES,
    PLACE_SURNAMES,
    PLACE_WORDS,
    TITLES,
    TOWN_LINKS,
    UNIT_WORDS,
    street_word,
)
from address.gazetteer import is_place
from address.model import ParsedAddress
from address.names import drop_marks
from address.rules import detect_country, is_region

_detector_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> Detector:
    """gender_guesser's first-name table, loaded once (~0.2 s) on first use."""
    with _detector_lock:
        return Detector(case_sensitive=False)


@lru_cache(maxsize=4096)
def is_first_name(word: str) -> bool:
    """ "John" -> True, "Kingsway" -> False; a hyphenated name counts by its first part."""
    first = word.split("-")[0].strip(".'’").lower()
    if len(first) < 2 or first in PLACE_WORDS or first in COMPASS:
        return False
    # Both tables are read at the first name asked about (the service's warm-up), not
    # at the first name only the folded one knows.
    folded = _folded_names()
    if _detector().get_gender(first) != "unknown":
        return True
    return drop_marks(first) in folded


@lru_cache(maxsize=1)
def _folded_names() -> frozenset[str]:
    """The table's first names as typed without accents: "francoise", "geza", and with
    umlauts spelt out, "guenter" for "Günter"."""
    names = set()
    for name in _detector().names:
        names.add(drop_marks(name))
        if re.search("[äöü]", name):
            names.add(drop_marks(re.sub("[äöü]", lambda m: drop_marks(m[0]) + "e", name)))
    return frozenset(names)


def _words(piece: str) -> list[str]:
    return piece.split()


def is_person(piece: str, *, cued: bool = False, surnames: frozenset[str] = PLACE_SURNAMES) -> bool:
    """ "John Smith", "Dr. Maria García López", "Jan de Vries" are; "Rose Cottage",
    "Kingsway House", "Park Avenue" are not; ``surnames`` are place words that may end
    a name ("Joseph Hill")."""
    words = _words(piece)
    titles = 0
    while titles < len(words) and words[titles].lower().rstrip(".") in TITLES:
        titles += 1
    core = words[titles:]
    if COMPANY_SUFFIX.search(piece) or (core and core[0].lower() in NOT_FIRST):
        return False
    while core and core[-1].lower().strip(",") in NAME_SUFFIXES:
        core = core[:-1]
    if not core or len(core) > 5 or any(ch.isdigit() for ch in piece):
        return False
    # After "Mrs" and a first name any place word is a surname: "Mrs Lesley Little"; after
    # "Lady" none is ("Lady Margaret Hall" is a college).
    held = {w.lower().rstrip(".") for w in words[:titles]}
    courtesy = len(core) == 2 and bool(held & COURTESY) and is_first_name(core[0])
    noble = bool(held) and held <= NOBLE
    for i, word in enumerate(core):
        bare = word.lower().strip(".,'’")
        surname = 0 < i == len(core) - 1 and (bare in surnames or courtesy) and not noble
        place = bare in PLACE_WORDS and not surname
        if place or bare in TOWN_LINKS or bare in UNIT_WORDS or street_word(bare):
            return False
        if i and bare in CONJUNCTIONS:  # "Rose and Crown" is a pub
            return False
        if not re.fullmatch(r"[^\W\d_][^\W\d_'’.\-]*(?:['’.\-][^\W\d_]+)*\.?", word):
            return False
    # "Ben" and "Al" open a name as first names ("Ben Burton"), and "Le" ends one as a
    # surname ("Michelle Le"), not as particles.
    names = [
        w
        for i, w in enumerate(core)
        if w.lower() not in PARTICLES
        or (i == 0 and w in GIVEN_PARTICLES)
        or (0 < i == len(core) - 1 and w[0].isupper())
    ]
    if not all(w[0].isupper() for w in names):
        return False
    if cued:
        return bool(names)
    if titles:
        # "Dr Smith" is a person; "Orchard Dr NW" and "Lake Dr North" are streets.
        return any(is_first_name(w) or _is_surname_like(w) for w in names)
    return 2 <= len(names) <= 4 and is_first_name(names[0]) and len(names[-1].strip(".")) > 1


def _is_surname_like(word: str) -> bool:
    """ "Smith", "García" could be a surname after a title; "NW" or "E" could not (place
    words such as "North" never reach here)."""
    bare = word.strip(".,")
    return len(bare) > 2 and not bare.isupper()


def is_company(piece: str, region: str, *, first: bool) -> bool:
    """ "Acme Corp", "Müller GmbH & Co. KG", "Hamon Hoareau SA" are; "Las Vegas NV" and
    "Baden AG" name a town and its state or canton."""
    if any(ch.isdigit() for ch in piece) or len(_words(piece)) < 2:
        return bool(first and JOINED_NAMES.match(piece) and len(_words(piece)) >= 3)
    suffix = COMPANY_SUFFIX.search(piece)
    capitalized = all(
        w[0].isupper() or not w[0].isalpha() or w.lower() in PARTICLES for w in _words(piece)
    )
    if not (capitalized or suffix):
        return False
    if suffix:
        tail = suffix.group(0).strip(" .&").lower()
        head = piece[: suffix.start()].strip()
        word = suffix.group(0).strip(" .").istitle() and len(tail) > 2
        town = word or is_place_name(head, region) or is_place_name(piece, region)
        if tail == "port" or (tail in AMBIGUOUS_SUFFIX and town):
            return False
        return len(_words(head)) >= 1
    if COMPANY_PREFIX.match(piece):
        return len(_words(piece)) >= 2
    return bool(first and JOINED_NAMES.match(piece))


def is_place_name(name: str, region: str) -> bool:
    """Whether a town, region or country is called so: "Glen Ellyn" and "Ohio" in the US,
    "France" anywhere."""
    return (
        is_place(region, name)
        or is_region_name(name, region)
        or (len(name) > 2 and detect_country(ParsedAddress(country=name)) is not None)
    )


def is_region_name(name: str, region: str) -> bool:
    """ "Ohio" and "OH" in the US; false for a country without address rules."""
    try:
        return is_region(name, region)
    except UnknownCountryError:
        return False


def is_bare_company(piece: str, region: str, *, alone: bool, given: bool = False) -> bool:
    """A company named by a double surname ("Myers-Mason") or by one surname where no
    address part stands: before the street, right after a recipient or after the
    postcode ("Schmitt, 24 Rue des Closiers", "Oda Wagenknecht, Paffrath, …"); never the
    farm in "Stóri-Klofi, 851 Hella". ``given``: a first name may be the surname ("Werner"
    before "An der Wasserrenne 4a")."""
    words = piece.split()
    if len(words) != 1 or not re.fullmatch(r"[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ][a-zß-ÿ'’]+)?", piece):
        return False
    parts = piece.lower().split("-")
    # A double name may hold one place-like surname: "Davies-Hall", "Park-Moran", "Lane-King",
    # ... or a title ("Preston-Lord").
    surnames = [p for p in parts if p in DOUBLE_SURNAMES] if len(parts) == 2 else []
    if len(surnames) > 1 or any(
        (p in PLACE_WORDS and p not in surnames)
        or (p in TITLES and len(parts) == 1)
        or street_word(p)
        for p in parts
    ):
        return False
    if not alone or (
        len(parts) == 1 and ((is_first_name(piece) and not given) or region in NAMED_HOUSES)
    ):
        return False
    return not is_place_name(piece, region)


def is_cued_name(rest: str) -> bool:
    """What follows "c/o" or "Attn:": a name or a department, never a street or number."""
    words = rest.split()
    return (
        bool(words)
        and not any(ch.isdigit() for ch in rest)
        and words[0][0].isupper()
        and not any(w.lower().strip(".,") in PLACE_WORDS - {"house", "hall"} for w in words)
    )


def has_title(piece: str) -> bool:
    words = piece.split()
    return bool(words) and words[0].lower().rstrip(".") in TITLES and is_person(piece)


def glued_surnames(name: str) -> frozenset[str]:
    """The place words that may end a name a parse glued on: "Villa" in "Jason Villa",
    but not in "Rose Villa"."""
    words = name.lower().split()
    return PARSE_SURNAMES if words and words[0] in HOUSE_FIRST else GLUED_SURNAMES


def house_surnames(name: str, region: str) -> frozenset[str]:
    """:func:`glued_surnames`, and "House" in "Sheila House" where houses bear no names
    (never "Kingsley House" in Britain)."""
    words = name.lower().split()
    if region in NAMED_HOUSES or (words and words[0] in HOUSE_FIRST):
        return glued_surnames(name)
    return GLUED_SURNAMES | {"house"}


def is_firm(name: str) -> bool:
    """Surnames joined as a firm ("Banks, Hussain And Newman", "Wells And Hodges"), where
    a place word may be a surname but a building word may not ("Sand And Gravel Works")."""
    words = [w.strip(",").lower() for w in name.split()]
    names = words[:-2] + words[-1:]
    return (
        3 <= len(words) <= 5
        and words[-2] in CONJUNCTIONS
        and not any(w in CONJUNCTIONS for w in names)
        and not any(
            w in BUILDING_WORDS or (w in PLACE_WORDS and w not in GLUED_SURNAMES) for w in names
        )
    )
