"""Parse repair: put back a part of the address that libpostal lost but the text plainly
holds, before the country rules call it missing.

libpostal reads "4 Conti Circle, Barre, VT 05641" as suburb "conti circle" (no road) and
"736 Middle Turnpike East, Manchester, CT 06040" as road "middle turnpike east manchester
ct" (no town). :func:`repair` lines each component up with the words of the text and
fixes such parses from the text's own structure: which words come first, which share a
comma-separated part, and which part names the state. A parse it finds nothing wrong with
comes back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from address.gazetteer import Agreement, is_place, postcode_agreement
from address.model import LOCALITY_LABELS, ParsedAddress
from address.names import fold_name
from address.rules import is_region, postcode_before_town, postcode_matches
from address.words import COMPASS_ABBREVIATIONS, COMPASS_WORDS

__all__ = ["repair"]

# A word of the text and the separators between its comma-separated parts.
_TOKEN_RE = re.compile(r"[^\s,;]+|[,;]")
# Compass points written before or after a street name: "W 1405 Main St", "Water Ave West".
_DIRECTIONALS = COMPASS_ABBREVIATIONS | COMPASS_WORDS
# Labels libpostal gives a street name it takes for part of a town.
_PLACE_LABELS = ("suburb", "city_district", "state_district")
# Labels libpostal gives a street name it does not recognise as one.
_STREET_AS_PLACE_LABELS = ("house", *_PLACE_LABELS)
# Labels whose words may be a postcode libpostal misread, the postcode's own first; the
# house number only after its own first word ("86-88 g83 0px").
_POSTCODE_HOLDERS = (
    "postcode",
    "house",
    "road",
    *LOCALITY_LABELS,
    "state",
    "country",
    "house_number",
)
# Where the words of a misread postcode that are no part of it go: the county, else the state.
_COUNTY_LABELS = ("state_district", "state")


@dataclass(frozen=True, slots=True)
class _Word:
    """A word of the text, folded ("n." -> "n"), and the comma-separated part it is in."""

    key: str
    part: int


@dataclass(frozen=True, slots=True)
class _Span:
    """Where a component's words lie in the text: ``words[start:stop]``, and the
    component's own words, in text order."""

    start: int
    stop: int
    tokens: tuple[str, ...]


def repair(parsed: ParsedAddress, text: str, country: str | None) -> ParsedAddress:
    """The parse of ``text`` with the parts libpostal lost put back.

    ``repair(parse(t, "US"), t, "US")`` for ``t = "4 Conti Circle, Barre, VT 05641"``
    gives road "conti circle" where libpostal gave suburb "conti circle"; for "4023 Water
    Avenue West, Tampa, FL 33607" road "water avenue west" and city "tampa" instead of
    road "water avenue" and city "west tampa". The fixes:

    * a leading number taken into a place or the postcode ("1504 s albany", postcode
      "3221 45211" in "3221 Daytoave Cincinnati OH 45211") is the house number;
    * a number after a leading compass point ("W 1405 Main St") is the house number;
    * a postcode libpostal split, glued to a word or gave to another component ("putney
      sw15 6tq", state "g4" and postcode "9eb", house "g2 3dz") is taken from the text;
    * a postcode before its town read as the house number of a name without one
      ("Sæbólskirkja, 426 Flateyri") is the postcode;
    * a road that runs over commas into the town and state, with no town found, ends at
      its comma: the parts after it are the town and the state; with a county found for
      the town ("avon" beside road "station road nailsea bristol"), they are the suburb
      and the town;
    * a town that starts with a compass point ending the road's comma-separated part
      ("west tampa") gives it back to the road;
    * a town joined from two comma-separated parts ("kirkby liverpool") keeps the first,
      the second is the county;
    * a street labelled as a house or a suburb right after the house number, with no
      road found ("conti circle"), or after a lone compass point labelled the road ("n."
      and "leamington"), is the road, where another town remains.

    Args:
        parsed: libpostal's parse of ``text``.
        text: the address as parsed.
        country: ISO alpha-2 code, or ``None`` when unknown (then a postcode is never
            taken for a house number).

    Raises:
        UnknownCountryError: ``country`` is not a code with address rules.
    """
    words = _words(text)
    for step in _STEPS:
        parsed = step(parsed, words, country)
    return parsed


def _words(text: str) -> list[_Word]:
    words: list[_Word] = []
    part = 0
    for token in _TOKEN_RE.findall(text):
        if token in ",;":
            part += 1
        elif key := fold_name(token):
            words.append(_Word(key, part))
    return words


def _span(words: Sequence[_Word], value: str | None, start: int = 0) -> _Span | None:
    """The first run of words, from ``start`` on, that is ``value`` word for word."""
    if not value:
        return None
    tokens = tuple(token for token in value.split() if fold_name(token))
    keys = [fold_name(token) for token in tokens]
    size = len(keys)
    if not size:
        return None
    for at in range(start, len(words) - size + 1):
        if [word.key for word in words[at : at + size]] == keys:
            return _Span(at, at + size, tokens)
    return None


def _by_part(words: Sequence[_Word], span: _Span) -> list[list[str]]:
    """A component's words grouped by the comma-separated part of the text they are in."""
    groups: list[list[str]] = []
    last = None
    for token, word in zip(span.tokens, words[span.start : span.stop], strict=True):
        if word.part != last:
            groups.append([])
            last = word.part
        groups[-1].append(token)
    return groups


def _leading_number(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "1504 S. Albany, Chicago": the number that opens the text, taken into a place or
    the postcode, is the house number. libpostal joins two spans it labels alike, so the
    postcode "3221 45211" of "3221 Daytoave Cincinnati OH 45211" is both. A postcode
    counts only where the country writes it after the town, and a postcode that is just
    the number only when words follow it and a town follows in a later part."""
    if parsed.house_number or not words or not words[0].key[:1].isdigit():
        return parsed
    for label in ("postcode", *_PLACE_LABELS):
        value = getattr(parsed, label)
        if not value or fold_name(value.split()[0]) != words[0].key:
            continue
        number, _, rest = value.partition(" ")
        if label == "postcode":
            if (
                country is None
                or postcode_before_town(country)
                or (not rest and not (_words_follow(words, 1) and _town_after(parsed, words)))
            ):
                continue
        elif not (rest and _words_follow(words, 1) and _span(words, value) is not None):
            continue
        return replace(parsed, house_number=number, **{label: rest or None})
    return parsed


def _words_follow(words: Sequence[_Word], at: int) -> bool:
    """Whether a word without digits follows ``words[at - 1]`` in the same part."""
    return (
        at < len(words)
        and words[at].part == words[at - 1].part
        and not any(ch.isdigit() for ch in words[at].key)
    )


def _town_after(parsed: ParsedAddress, words: Sequence[_Word]) -> bool:
    """Whether a town of the parse starts in a later part than the text's first word."""
    spans = (_span(words, town) for town in parsed.localities())
    return any(span is not None and words[span.start].part > words[0].part for span in spans)


def _postcode_in_text(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "266a Upper Richmond Road, London, Putney, SW15 6TQ" (postcode "putney sw15 6tq"),
    "195 Great Western Road, Glasgow, G4 9EB" (state "g4" and postcode "9eb"), "24
    Cambridge Street, Glasgow, G2 3DZ" (house "g2 3dz"): with no postcode of the
    country's shape parsed, the last one or two words at the end of a comma-separated
    part (at its start where the country writes the postcode before the town) that have
    that shape are the postcode, when libpostal gave them to places, the road, a house,
    the postcode or the house number after its number. The parsed postcode's other words
    go to the county, unless they are the postcode again."""
    if country is None or (parsed.postcode and postcode_matches(parsed.postcode, country)):
        return parsed
    run = _postcode_run(words, country, postcode_before_town(country))
    if run is None:
        return parsed
    values = {label: getattr(parsed, label) or "" for label in _POSTCODE_HOLDERS}
    for word in run:
        label = next((lb for lb in _POSTCODE_HOLDERS if _holds(values[lb], word.key)), None)
        if label is None:
            return parsed
        values[label] = _without(values[label], word.key)
    if parsed.house_number and not values["house_number"]:
        return parsed
    changes = {label: value or None for label, value in values.items()}
    rest = changes.pop("postcode")
    if rest and not postcode_matches(rest, country):
        county = next((lb for lb in _COUNTY_LABELS if not changes[lb]), None)
        if county is not None:
            changes[county] = rest
    return replace(parsed, postcode=" ".join(word.key for word in run), **changes)


def _postcode_read_as_number(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "Sæbólskirkja, 426 Flateyri", "Borgargerði, 616 Grenivík": a farm or building
    name without a number, then the postcode before the town, and libpostal takes the
    postcode for the house number (and, for Grenivík, the town for part of the road).
    Where the country writes the postcode before the town, a house number of the
    postcode's shape that opens a later comma-separated part is the postcode when the
    gazetteer has the town after it as one of its places; words of the road that are
    that town go back to the town, and a number ending the road ("hólabraut 9" of
    "Hólabraut 9, 630 Hrísey") is the house number."""
    number = parsed.house_number
    if (
        country is None
        or parsed.postcode
        or not number
        or not postcode_before_town(country)
        or not postcode_matches(number, country)
    ):
        return parsed
    at = next((i for i, word in enumerate(words) if word.key == fold_name(number)), None)
    if not at or words[at].part == words[at - 1].part:
        return parsed
    after = [word.key for word in words[at + 1 :] if word.part == words[at].part]
    towns = list(parsed.localities())
    road = parsed.road or ""
    town_in_road = not towns and after and fold_name(road).split()[-len(after) :] == after
    if town_in_road:
        towns = [" ".join(road.split()[-len(after) :])]
    if not towns or postcode_agreement(country, number, towns) is not Agreement.CONSISTENT:
        return parsed
    street = road.split()[: -len(after)] if town_in_road else road.split()
    own_number = None  # "hólabraut 9" of "Hólabraut 9, 630 Hrísey": the number was there
    if len(street) > 1 and street[-1][:1].isdigit():
        own_number = street.pop()
    changes = {"city": towns[0]} if town_in_road else {}
    return replace(
        parsed,
        house_number=own_number,
        postcode=number,
        road=" ".join(street) or None,
        **changes,
    )


def _postcode_run(words: Sequence[_Word], country: str, at_start: bool) -> Sequence[_Word] | None:
    """The last one or two words ending a comma-separated part (starting one, with
    ``at_start``) that have the shape of the country's postcode, two if both do."""
    for part in sorted({word.part for word in words}, reverse=True):
        inside = [word for word in words if word.part == part]
        for size in (2, 1):
            run = inside[:size] if at_start else inside[-size:]
            if len(run) == size and postcode_matches(" ".join(w.key for w in run), country):
                return run
    return None


def _holds(value: str, key: str) -> bool:
    """Whether a word of ``value`` folds to ``key``."""
    return any(fold_name(token) == key for token in value.split())


def _without(value: str, key: str) -> str:
    """``value`` without its last word that folds to ``key``."""
    tokens = value.split()
    at = max(i for i, token in enumerate(tokens) if fold_name(token) == key)
    return " ".join(tokens[:at] + tokens[at + 1 :])


def _number_after_directional(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "W 1405 Main St": road "w 1405 main st" is house number 1405 on "w main st"."""
    span = _span(words, parsed.road)
    if (
        parsed.house_number
        or span is None
        or span.start != 0
        or len(span.tokens) < 3
        or words[0].key not in _DIRECTIONALS
        or not words[1].key.isdigit()
    ):
        return parsed
    road = " ".join((span.tokens[0], *span.tokens[2:]))
    return replace(parsed, house_number=span.tokens[1], road=road)


def _road_over_commas(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "736 Middle Turnpike East, Manchester, CT": with no town found, a road running
    over commas ends at its first one; the last part after it is the state when it names
    one, and the one part left is the town, if the state was split off or the gazetteer
    knows the town ("Allende Ave" in "Fifth Avenue, Allende Ave, CM20 2AG" is no town).
    With a county found for the town instead, see :func:`_county_for_town`."""
    span = _span(words, parsed.road)
    if span is None:
        return parsed
    road, *rest = _by_part(words, span)
    if parsed.localities():
        ends = _part_ends(words, span.stop)
        return _county_for_town(parsed, road, rest, country) if ends else parsed
    changes: dict[str, str] = {"road": " ".join(road)}
    if rest and country and not parsed.state and is_region(" ".join(rest[-1]), country):
        changes["state"] = " ".join(rest.pop())
    if len(rest) != 1 or any(ch.isdigit() for ch in "".join(rest[0])):
        return parsed
    town = " ".join(rest[0])
    if "state" not in changes and not (country and is_place(country, town)):
        return parsed
    return replace(parsed, city=town, **changes)


def _county_for_town(
    parsed: ParsedAddress, road: list[str], rest: list[list[str]], country: str | None
) -> ParsedAddress:
    """ "116 Station Road, Nailsea, Bristol, Avon, BS48 1TB" (road "station road nailsea
    bristol", town "avon"): a road that runs over whole comma-separated parts, one of
    them a place the gazetteer knows, beside a town that is a region or lies far from the
    postcode (Avon, a former county), ends at its first comma; its last part is the town,
    the parts between are the suburb, and the town found is the county. "27 Dr Torrens
    Way, Old Costessey, Norwich" (road "dr torrens way old") stays as it is: "old" is no
    whole part."""
    town = parsed.city
    if (
        not rest
        or town is None
        or country is None
        or any(getattr(parsed, label) for label in LOCALITY_LABELS if label != "city")
        or any(ch.isdigit() for part in rest for ch in "".join(part))
        or not any(is_place(country, " ".join(part)) for part in rest)
        or not _county_like(parsed, town, country)
    ):
        return parsed
    *middle, last = rest
    return replace(
        parsed,
        road=" ".join(road),
        suburb=" ".join(word for part in middle for word in part) or None,
        city=" ".join(last),
        state_district=town,
    )


def _county_like(parsed: ParsedAddress, town: str, country: str) -> bool:
    """Whether a parsed town names a region of the country or lies far from the postcode."""
    return is_region(town, country) or bool(
        parsed.postcode
        and postcode_agreement(country, parsed.postcode, [town]) is Agreement.INCONSISTENT
    )


def _town_over_comma(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "4023 Water Avenue West, Tampa": a town that starts with a compass point right
    after the road, in the road's part, and goes on after a comma gives the compass point
    back to the road. Any other first word stays with the town: in "27 Dr Torrens Way,
    Old Costessey, Norwich" "old" is no part of the street."""
    road = _span(words, parsed.road)
    if road is None or words[road.start].part != words[road.stop - 1].part:
        return parsed
    for label in LOCALITY_LABELS:
        span = _span(words, getattr(parsed, label), road.stop)
        if span is None or span.start != road.stop or words[span.start].key not in _DIRECTIONALS:
            continue
        groups = _by_part(words, span)
        if (
            len(groups) == 2
            and len(groups[0]) == 1
            and words[span.start].part == words[road.start].part
        ):
            return replace(
                parsed,
                road=" ".join((*road.tokens, *groups[0])),
                **{label: " ".join(groups[1])},
            )
    return parsed


def _town_over_parts(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "5 Old Rough Lane, Northwood, Kirkby, Liverpool, L33 6XE" (town "kirkby
    liverpool"): a town libpostal joined from two whole comma-separated parts keeps the
    first; the second is the county, where none was found."""
    if parsed.state_district:
        return parsed
    for label in LOCALITY_LABELS:
        span = _span(words, getattr(parsed, label))
        if span is None or not _whole_parts(words, span):
            continue
        groups = _by_part(words, span)
        if len(groups) == 2:
            first, second = (" ".join(group) for group in groups)
            return replace(parsed, **{label: first}, state_district=second)
    return parsed


def _whole_parts(words: Sequence[_Word], span: _Span) -> bool:
    """Whether a component starts and ends where comma-separated parts of the text do."""
    return _part_ends(words, span.start) and _part_ends(words, span.stop)


def _part_ends(words: Sequence[_Word], at: int) -> bool:
    """Whether a comma-separated part of the text ends before ``words[at]``."""
    return at in (0, len(words)) or words[at - 1].part != words[at].part


def _street_as_place(
    parsed: ParsedAddress, words: Sequence[_Word], country: str | None
) -> ParsedAddress:
    """ "4 Conti Circle, Barre" (suburb "conti circle"), "849 N. Leamington, Chicago" (road
    "n." and suburb "leamington"): with no road, or a lone compass point for one, the house
    or place right after it in the house number's part is the street, when another town
    is left."""
    number = _span(words, parsed.house_number)
    if number is None:
        return parsed
    prefix: tuple[str, ...] = ()
    start = number.stop
    if parsed.road:
        road = _span(words, parsed.road, start)
        lone_directional = (
            road is not None
            and road.start == start
            and len(road.tokens) == 1
            and words[start].key in _DIRECTIONALS
        )
        if road is None or not lone_directional:
            return parsed
        prefix, start = road.tokens, road.stop
    for label in _STREET_AS_PLACE_LABELS:
        span = _span(words, getattr(parsed, label), start)
        if (
            span is None
            or span.start != start
            or {w.part for w in words[number.start : span.stop]} != {words[number.start].part}
        ):
            continue
        others = [
            v for other in LOCALITY_LABELS if other != label and (v := getattr(parsed, other))
        ]
        if others:
            return replace(parsed, road=" ".join((*prefix, *span.tokens)), **{label: None})
    return parsed


_STEPS: tuple[Callable[[ParsedAddress, Sequence[_Word], str | None], ParsedAddress], ...] = (
    _leading_number,
    _postcode_in_text,
    _postcode_read_as_number,
    _number_after_directional,
    _road_over_commas,
    _town_over_comma,
    _town_over_parts,
    _street_as_place,
)
