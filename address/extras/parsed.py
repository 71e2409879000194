"""Extras that libpostal read as parts of the address: a name in ``house``, a company in
``suburb`` or ``country``, a name run into ``city`` or glued onto ``road``.

``from_house(ParsedAddress(house="laurence hubert", house_number="16",
road="rue de hiribehere"), "FR")`` moves "laurence hubert" to ``Extras(recipient=...)``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from address.extras.cutting import has_digit
from address.extras.model import Extras
from address.extras.notes import NOTE_STRONG, is_note
from address.extras.people import (
    glued_surnames,
    house_surnames,
    is_bare_company,
    is_company,
    is_firm,
    is_first_name,
    is_person,
    is_place_name,
    is_region_name,
)
from address.extras.vocabulary import (
    BUILDING_WORDS,
    COMPASS,
    GLUED_SURNAMES,
    NAME_SUFFIXES,
    NAMED_HOUSES,
    PARSE_SURNAMES,
    PARTICLES,
    PLACE_WORDS,
    TITLES,
    UNIT_WORDS,
    UNNAMED_HOUSES,
    names_a_street,
    street_word,
)
from address.model import ParsedAddress
from address.rules import detect_country


def from_house(parsed: ParsedAddress, country: str | None) -> tuple[ParsedAddress, Extras]:
    """Move out of libpostal's ``house`` what is no building name, and out of its
    ``suburb``, ``state_district`` and ``country`` a company name read as a place
    ("Burns-Rice" after "CINCINNATI OH 45231 Apt. 27", see :func:`_from_places`), and out
    of ``city`` a name run into the town ("leek alice", see :func:`_from_town`).

    ``house="rose cottage"`` (or "kingsway house", "bâtiment a", "unit 4") stays; a note
    ("abstellort garage") goes to ``instructions``, a company ("jensen group", "parker,
    moody and martin") to ``company``, and a name ("laurence hubert") to ``recipient``:
    ``from_house(ParsedAddress(house="laurence hubert", house_number="16",
    road="rue de hiribehere"), "FR")`` gives the address without ``house`` and
    ``Extras(recipient="laurence hubert")``; so do "lauren green" and "davies-hall".
    """
    parsed, town = _from_town(parsed, (country or "US").upper())
    parsed, names = _from_places(parsed, (country or "US").upper())
    parsed, extras = _from_house(parsed, country)
    if names:
        extras = replace(extras, company=" ".join(filter(None, [extras.company, *names])))
    joined = {
        kind: " ".join(filter(None, [getattr(extras, kind), value]))
        for kind, value in town.as_dict().items()
    }
    return parsed, replace(extras, **joined)


def _from_town(parsed: ParsedAddress, region: str) -> tuple[ParsedAddress, Extras]:
    """A name libpostal ran into the town from after it: "leeds day-wilson" gives the
    company "day-wilson"; "leek alice" with ``state_district="jackson"`` (or
    "cincinnati nicole" and "wells") the recipient "alice jackson"."""
    city = parsed.city
    if not city or not parsed.road or is_place_name(city, region):
        return parsed, Extras()
    words = city.split()
    for k in range(len(words) - 1, 0, -1):
        town, rest = " ".join(words[:k]), words[k:]
        if not is_place_name(town, region):
            continue
        tail = " ".join(rest)
        if len(rest) == 1 and "-" in tail and is_bare_company(tail.title(), region, alone=True):
            return replace(parsed, city=town), Extras(company=tail)
        # A second town is the post town after a dependent locality ("wrea green preston"),
        # however often it is a first name too.
        if len(rest) > 2 or not is_first_name(rest[0]) or is_place_name(tail, region):
            return parsed, Extras()
        changes: dict[str, str | None] = {"city": town}
        if len(rest) == 1:
            field = "state_district" if parsed.state_district else "state"
            value = getattr(parsed, field) or ""
            head, _, last = value.rpartition(" ")
            if (
                not last
                or is_region_name(last, region)
                or (head and not is_place_name(head, region))
            ):
                return parsed, Extras()
            changes[field] = head or None
            tail = f"{tail} {last}"
        if not is_person(tail.title(), surnames=GLUED_SURNAMES):
            return parsed, Extras()
        return replace(parsed, **changes), Extras(recipient=tail)
    return parsed, Extras()


# Fields libpostal fills with a company name it took for a place.
_PLACE_FIELDS = ("suburb", "city_district", "state_district", "state", "country")


def _from_places(parsed: ParsedAddress, region: str) -> tuple[ParsedAddress, list[str]]:
    """Double names ("burns-rice", "ward-mccarthy") in the place fields, and a lone surname
    where ``country`` names no country ("lachmann") or, where houses bear no names, in a
    field above the town ("peron" after "60290 Cambronne-lès-Clermont"); only when the
    address has a street."""
    if not parsed.road:
        return parsed, []
    names: list[str] = []
    changes: dict[str, None] = {}
    for field in _PLACE_FIELDS:
        value = getattr(parsed, field)
        named = value.title() if value else ""
        lone = (field == "country" and detect_country(ParsedAddress(country=value)) is None) or (
            field != "suburb" and region in UNNAMED_HOUSES - {"US"}
        )
        if named and ("-" in named or lone) and is_bare_company(named, region, alone=True):
            names.append(value)
            changes[field] = None
    return (replace(parsed, **changes), names) if changes else (parsed, [])


def _from_house(parsed: ParsedAddress, country: str | None) -> tuple[ParsedAddress, Extras]:
    """What :func:`from_house` takes out of ``house``."""
    house = parsed.house
    # Without a street the name is what the address stands on: the farm "Neðribær,
    # 607 Akureyri", the church "Miðgarðakirkja, 611 Grímsey".
    if not house or not house.strip() or not parsed.road:
        return parsed, Extras()
    region = (country or "US").upper()
    number = re.fullmatch(r"(.*\D)\s+(\d{1,5}[a-z]?)", house.strip())
    if number and not parsed.house_number and region in NAMED_HOUSES | UNNAMED_HOUSES:
        # "teresa baxter 3114" before "timberview dr": the name and the house number (not
        # the farm and its number in "Ytri-Sólheimar 3a, 871 Vík").
        moved, extras = _from_house(replace(parsed, house=number[1]), country)
        if moved.house is None:
            return replace(moved, house_number=number[2]), extras
    words = [w.strip(".,'’") for w in house.lower().split()]
    named = house.title()
    if NOTE_STRONG.search(house) or is_note(house):
        kind = "instructions"
    elif is_person(named, surnames=house_surnames(named, region)) and not is_place_name(
        named, region
    ):
        kind = "recipient"
    elif is_bare_company(
        named, region, alone=_lone_house(house, country), given=region in UNNAMED_HOUSES - {"US"}
    ) or is_firm(named):
        kind = "company"
    elif (
        any(w in PLACE_WORDS or w in BUILDING_WORDS or w in UNIT_WORDS for w in words)
        or has_digit(house)
        or is_place_name(named, region)
    ):
        return parsed, Extras()
    elif is_company(named, region, first=True):
        kind = "company"
    else:
        return parsed, Extras()
    return replace(parsed, house=None), Extras(**{kind: house})


def _lone_house(house: str, country: str | None) -> bool:
    """Whether a single name in ``house`` stands alone as a company: a double name
    ("davies-hall") anywhere, one surname ("speer" before "Zum Wiesental 4") where the
    country is known and its houses bear no names (not the farm in "Vaðnes Borgartún 1,
    805 Selfoss")."""
    return "-" in house or (country or "").upper() in UNNAMED_HOUSES


# Languages whose streets open with their type word: "Rue", "Avenue", "Calle", "Via".
_TYPE_FIRST = frozenset({"FR", "ES", "IT", "BE", "PT"})
# Where a street ends at its house number and takes no word from another part, so that a
# lone surname libpostal glued on from its own part is a company: "Koppelweg 3, Hentschel",
# "Mälzer, Wohnung 3, Scheifendahl 65".
_SUFFIX_STREETS = frozenset({"DE", "AT", "CH"})
_DASHES = frozenset({"-", "–", "—"})
_ROAD_TOKEN = re.compile(r"[^\s,;|()]+|[,;|()]")


def _road_key(token: str) -> str:
    """A word as road and text are matched on: "POWERS" -> "powers", "St." -> "st"."""
    return token.lower().strip(".,'’")


def _is_lone_surname(piece: str, town: str | None) -> bool:
    """A part of its own next to a "Rue"/"Avenue" street that is a surname, even one the
    gazetteer knows as a place or a first name ("Besson, 9 Avenue Gayot", "Le Roux, 14 Rue
    Boussingault"), unless it is the town the address names."""
    words = piece.split()
    if len(words) == 2 and words[0].lower() not in PARTICLES:
        return False
    bare = words[-1].lower()
    return (
        len(words) <= 2
        and piece.lower() != (town or "").lower()
        and bool(re.fullmatch(r"[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ][a-zß-ÿ'’]+)?", words[-1]))
        and not any(
            p in PLACE_WORDS or p in TITLES or p in UNIT_WORDS or street_word(p)
            for p in bare.split("-")
        )
    )


def _road_name(piece: str, region: str, *, type_first: bool) -> dict[str, str] | None:
    """What a stray run of road words names, if anything: a person ("Sandra West", "Dr.
    Stephen Cross"), a company ("Johnson-Bailey", "Cox LLC"), both ("Ms Lynda Green
    Wilkinson-Warner"), or a lone surname before "Rue"/"Avenue" ("Laurent")."""
    if is_place_name(piece, region) or has_digit(piece):
        return None
    if is_person(piece, surnames=glued_surnames(piece)):
        return {"recipient": piece}
    if (
        is_company(piece, region, first=False)
        or is_bare_company(piece, region, alone="-" in piece or type_first)
        or is_firm(piece)
    ):
        return {"company": piece}
    tokens = piece.split()
    for k in range(2, len(tokens)):
        head, rest = " ".join(tokens[:k]), " ".join(tokens[k:])
        if is_person(head, surnames=PARSE_SURNAMES) and (
            is_company(rest, region, first=False) or is_bare_company(rest, region, alone=True)
        ):
            return {"recipient": head, "company": rest}
    return None


def from_road(
    parsed: ParsedAddress, text: str, country: str | None
) -> tuple[ParsedAddress, Extras]:
    """Move out of libpostal's ``road`` a name it glued on from another part of the text.

    ``from_road(ParsedAddress(road="sandra west 1934 powers st"), "Sandra West, 1934
    POWERS ST, Cincinnati, OH 45231", "US")`` gives road "powers st", house number "1934"
    and ``Extras(recipient="Sandra West")``; so go "Johnson-Bailey" after "9 Howard Park
    Corner" and "Laurent" before "2 Rue du Prof Jacques Monod". Streets that run over a
    comma ("Queen Elizabeth Square", "Grange Road West Kirby") stay whole.
    """
    road = parsed.road
    if not road:
        return parsed, Extras()
    region = (country or "US").upper()
    found: list[tuple[str, str, int]] = []
    part = 0
    for token in _ROAD_TOKEN.findall(text):
        if token in ",;|()" or token in _DASHES:
            part += 1
        elif _road_key(token):
            found.append((token, _road_key(token), part))
    keys = [_road_key(t) for t in road.split()]
    spots: list[int] = []
    at = 0
    for key in keys:
        at = next((i for i in range(at, len(found)) if found[i][1] == key), -1)
        if not key or at < 0:
            return parsed, Extras()
        spots.append(at)
        at += 1
    number_key = _road_key(parsed.house_number.split()[0]) if parsed.house_number else None
    number = next((i for i, f in enumerate(found) if f[1] == number_key), None)
    # Runs of road words: a new one at each comma and at the house number.
    runs: list[list[int]] = []
    for n, spot in enumerate(spots):
        prev = spots[n - 1] if n else None
        cut = prev is None or found[prev][2] != found[spot][2]
        if not cut and number is not None and prev is not None and prev < number < spot:
            cut = True
        if cut:
            runs.append([])
        runs[-1].append(n)
    words = road.split()
    digit = next((n for n in range(len(words)) if words[n][:1].isdigit()), None)
    if digit is not None:
        # "sandra west 1934 powers st": the number opens the street.
        runs = [
            piece
            for run in runs
            for piece in (
                [run[: run.index(digit)], run[run.index(digit) :]]
                if digit in run and run.index(digit)
                else [run]
            )
        ]
    if len(runs) < 2:
        return parsed, Extras()
    street = next(
        (
            k
            for k, run in enumerate(runs)
            if (digit is not None and digit in run)
            or (
                number is not None
                and found[spots[run[0]]][2] == found[number][2]
                and spots[run[0]] > number
            )
        ),
        None,
    )
    if street is None and number is not None:
        # "Ms Hayley Hewitt 58, Swallow Road": the street is the first run after the number,
        # if it names one (not the town in "Ytri-Sólheimar 3a, 871 Vík").
        street = next((k for k, run in enumerate(runs) if spots[run[0]] > number), None)
        if street is not None and not names_a_street(" ".join(keys[n] for n in runs[street])):
            street = None
    if street is None and number is not None and region in _SUFFIX_STREETS:
        # "Koppelweg 3, Hentschel": the street is the run right before the number.
        street = next((k for k, run in enumerate(runs) if spots[run[-1]] == number - 1), None)
    if street is None:
        return parsed, Extras()
    # The type word, past a house number the road may open with: "2 Avenue de l'Echapt".
    kind = next((keys[n] for n in runs[street] if not has_digit(keys[n])), "")
    type_first = region in _TYPE_FIRST and kind in PLACE_WORDS
    taken: dict[str, list[str]] = {}
    drop: set[int] = set()
    for k, run in enumerate(runs):
        if k == street or (k not in (street - 1, street + 1)):
            continue
        piece = " ".join(found[spots[n]][0] for n in run)
        own_part = found[spots[run[0]]][2] != found[spots[runs[street][0]]][2]
        if (
            own_part
            and (type_first or (region in _SUFFIX_STREETS and len(run) == 1))
            and _is_lone_surname(piece, parsed.city)
            and not (region in _SUFFIX_STREETS and is_place_name(piece, region))
        ):
            taken.setdefault("company", []).append(piece)
            drop.update(run)
            continue
        named = _road_name(piece, region, type_first=type_first and k == street - 1)
        if named is None:
            continue
        for kind, value in named.items():
            taken.setdefault(kind, []).append(value)
        drop.update(run)
    if not drop:
        return parsed, Extras()
    changes: dict[str, str] = {}
    if digit is not None and runs[street][0] == digit and not parsed.house_number:
        changes["house_number"] = words[digit]
        drop.add(digit)
    rest = " ".join(w for n, w in enumerate(words) if n not in drop)
    # What is left must still name a street, not just its type ("Square", "Jr Blvd").
    plain = PLACE_WORDS | NAME_SUFFIXES | COMPASS | PARTICLES
    if all(_road_key(w) in plain or has_digit(w) for w in rest.split()):
        return parsed, Extras()
    extras = Extras(**{kind: " ".join(values) for kind, values in taken.items()})
    return replace(parsed, road=rest, **changes), extras
