"""The address text read part by part, with what is not the address cut out of it.

"John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134" gives the address
"350 5th Ave Apt 4B, New York NY 10118", the recipient "John Smith" and the phone
"555-0134": first e-mails, URLs and phones, then the parts a cue marks, then bare names.
"""

from __future__ import annotations

import re

from address.errors import UnknownCountryError
from address.extras.contact import (
    EMAIL,
    LABEL_BEFORE,
    PHONE_LABEL,
    PHONE_VERB,
    URL,
    label_start,
    phone_spans,
)
from address.extras.cutting import CUT, Take, clean, cut_spans, has_digit, lone_in_part, part_spans
from address.extras.model import Extracted, Extras
from address.extras.notes import continues_note, is_note, note_end, take_inline_note
from address.extras.people import (
    has_title,
    is_bare_company,
    is_company,
    is_cued_name,
    is_person,
    is_place_name,
)
from address.extras.vocabulary import (
    COMPANY_SUFFIX,
    GLUED_SURNAMES,
    JOINED_ACROSS,
    PLACE_WORDS,
    POSTCODE_TOKEN,
    RECIPIENT_CUE,
    STREET_SUFFIX,
    UNIT_WORDS,
    names_a_street,
)
from address.model import ParsedAddress
from address.rules import detect_country, postcode_before_town


def _postcode_ends(piece: str, text_start: bool) -> bool:
    """Whether a part holds a postcode (not the house number opening the text)."""
    tokens = piece.split()
    return any(
        POSTCODE_TOKEN.match(token) and not (text_start and i == 0)
        for i, token in enumerate(tokens)
    ) or bool(re.search(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", piece, re.IGNORECASE))


def _town_and_county(run: str, after: str, region: str) -> bool:
    """Whether a run shaped like a firm ("Banks, Hussain And Newman") is the town and its
    county before the postcode: "Gateshead, Tyne and Wear, NE8 4DR" (a part that is only a
    postcode next, and first a town the gazetteer knows in the postcode's country, or in
    ``region`` where the postcode's shape names none)."""
    town = run.split(",")[0].strip()
    following = after.lstrip(" ,;").split(",")[0].strip()
    if not POSTCODE_TOKEN.match(following):
        return False
    return is_place_name(town, detect_country(ParsedAddress(postcode=following)) or region)


def split_extras(text: str, country: str | None = None) -> Extracted:
    """Split an address text into the address and what came with it.

    Args:
        text: e.g. ``"John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134"``.
        country: ISO alpha-2 hint for phone formats (``"US"``); US when absent.

    Returns:
        ``Extracted(address="350 5th Ave Apt 4B, New York NY 10118",
        extras=Extras(recipient="John Smith", phone="555-0134"))``. Text with nothing to
        take comes back unchanged; text that is only extras gives ``address=""``.
    """
    region = (country or "US").upper()
    work = text.replace(CUT, " ")
    found: dict[str, list[str]] = {}
    cuts: list[tuple[int, int]] = []

    def take(kind: str, start: int, end: int, value: str | None = None) -> None:
        nonlocal work
        piece = clean(value if value is not None else work[start:end])
        if piece:
            found.setdefault(kind, []).append(piece)
        cuts.append((start, end))
        work = work[:start] + CUT * (end - start) + work[end:]

    for kind, pattern in (("email", EMAIL), ("url", URL)):
        for match in list(pattern.finditer(work)):
            value = match.group(0).rstrip(".")
            start = label_start(work, match.start(), LABEL_BEFORE)
            take(kind, start, match.start() + len(value), value)
    for start, end in phone_spans(work, region):
        value = work[start:end]
        begin = label_start(work, start, PHONE_LABEL)
        verb = label_start(work, begin, PHONE_VERB)
        if verb < begin and lone_in_part(work, verb, end):
            begin = verb
        take("phone", begin, end, value)

    _take_parts(work, take, region)
    extras = Extras(**{kind: " ".join(values) for kind, values in found.items()})
    if not cuts:
        return Extracted(text, extras)
    return Extracted(cut_spans(text, cuts), extras)


def _take_parts(work: str, take: Take, region: str) -> None:
    """Recipients, companies and notes, read part by part: first what a cue marks, then
    bare names where a recipient stands (before the street, after the postcode)."""
    for match in list(JOINED_ACROSS.finditer(work)):
        names = re.findall(r"[^\W\d_][\w'’-]*", match[1])[::2]
        if (
            not any(n.lower() in PLACE_WORDS - GLUED_SURNAMES for n in names)
            and not all(is_place_name(n, region) for n in names)
            and not _town_and_county(match[1], work[match.end(1) :], region)
        ):
            take("company", match.start(1), match.end(1))
            work = work[: match.start(1)] + CUT * len(match[1]) + work[match.end(1) :]
    segments = part_spans(work)
    pieces = [work[s:e] for s, e in segments]
    kept = [True] * len(segments)
    first_digit = next((i for i, p in enumerate(pieces) if has_digit(p)), None)
    skip = -1
    for i, (start, end) in enumerate(segments):
        if i == skip:
            continue
        piece = pieces[i]
        leading = i < first_digit if first_digit is not None else i == 0
        cue = RECIPIENT_CUE.match(piece)
        kept[i] = False
        if cue and is_cued_name(piece[cue.end() :]):
            take("recipient", start, end, piece[cue.end() :])
        elif cue and _take_leading_name(
            piece[cue.end() :], start + cue.end(), take, region, cued=True
        ):
            take("recipient", start, start + cue.end(), "")
        elif is_note(piece):
            stop = note_end(piece)
            nxt = i + 1 < len(pieces) and stop == len(piece) and pieces[i + 1]
            if nxt and continues_note(nxt, region):
                skip, stop = i + 1, segments[i + 1][1] - start
                kept[skip] = False
            take("instructions", start, start + stop)
            kept[i] = stop < len(piece)
        elif is_company(piece, region, first=leading and not any(kept[:i])):
            take("company", start, end)
        elif has_title(piece):
            take("recipient", start, end)
        else:
            kept[i] = True
    taken_name = note_open = False
    for i, (start, end) in enumerate(segments):
        if not kept[i]:
            taken_name = taken_name and i == skip
            note_open = False
            continue
        piece = pieces[i]
        if note_open and continues_note(piece, region):
            # "63454 Hanau Nicht klingeln, Baby schläft": the note goes on in this part.
            take("instructions", start, end)
            note_open = False
            continue
        note_open = False
        before = [j for j in range(i) if kept[j]]
        after = [j for j in range(i + 1, len(segments)) if kept[j]]
        leading = not before if first_digit is None else i < first_digit
        trailing = (
            bool(before) and not after and _postcode_ends(pieces[before[-1]], before[-1] == 0)
        )
        after_name, taken_name = taken_name, False
        bracketed = work[:start].rstrip().endswith("(")
        # A lone word before the address is a company only when a street follows it:
        # "Schmitt, 24 Rue des Closiers", but not the farm in "Dalsel, 109 Reykjavík".
        street_after = any(names_a_street(pieces[j]) for j in after)
        if is_person(piece) and not is_place_name(piece, region):
            if not _take_name_and_company(piece, start, take, region):
                take("recipient", start, end)
            taken_name = True
        elif not bracketed and is_bare_company(
            piece, region, alone=(leading and street_after) or trailing or after_name
        ):
            take("company", start, end)
        elif (first_digit is None or i <= first_digit) and _take_leading_name(
            piece, start, take, region
        ):
            # "Sandra Roberts 1680 Brunnerwood Dr … OH 45238 Call on arrival"
            note_open = take_inline_note(piece, start, end, take)
        elif not _take_trailing_name(piece, start, take, region):
            note_open = take_inline_note(piece, start, end, take)


def _take_trailing_name(piece: str, start: int, take: Take, region: str) -> bool:
    """A name written after the postcode in its part: "CINCINNATI OH 45231 Kathy Deleon",
    "Chicago, IL 60624 Brady-Hendricks"."""
    tail = re.search(
        r"(?:^|\s)(?:\d{4,5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"
        r"\s+((?:[^\W\d_][\w.'’-]*\s*){1,5})$",
        piece,
    )
    # A number opening a part is a house number ("2115 Linden Dr SE"), unless the country
    # writes the postcode before the town ("79379 Müllheim Olaf Liebelt").
    if not tail or (not piece[: tail.start(1)].strip(" ,").count(" ") and not _town_first(region)):
        return False
    tokens = list(re.finditer(r"\S+", tail[1]))
    for k in range(1 if _town_first(region) else 0, len(tokens)):
        if k and not is_place_name(tail[1][: tokens[k - 1].end()], region):
            continue
        at = start + tail.start(1) + tokens[k].start()
        name = tail[1][tokens[k].start() :].rstrip()
        if is_person(name) and not is_place_name(name, region):
            take("recipient", at, at + len(name))
        elif is_company(name, region, first=False) or is_bare_company(name, region, alone=False):
            take("company", at, at + len(name))
        else:
            continue
        return True
    return False


def _town_first(region: str) -> bool:
    """Whether the town follows the postcode ("75002 Paris"), as in most of Europe."""
    try:
        return postcode_before_town(region)
    except UnknownCountryError:
        return False


def _take_name_and_company(
    piece: str, start: int, take: Take, region: str, *, cued: bool = False
) -> bool:
    """ "Ms Judith King Nash-Howard" -> recipient "Ms Judith King", company "Nash-Howard";
    "Carrie Jones Jensen Group" -> "Carrie Jones" and "Jensen Group"."""
    tokens = list(re.finditer(r"\S+", piece))
    for k in range(2, len(tokens)):
        rest = piece[tokens[k].start() :]
        if is_person(piece[: tokens[k - 1].end()], cued=cued) and (
            is_company(rest, region, first=False)
            or is_bare_company(rest, region, alone="-" in rest)
        ):
            take("recipient", start, start + tokens[k - 1].end())
            take("company", start + tokens[k].start(), start + len(piece))
            return True
    return False


def _take_leading_name(
    piece: str, start: int, take: Take, region: str, *, cued: bool = False
) -> bool:
    """ "Maria Garcia 12 Main St" -> recipient "Maria Garcia"; "Acme Corp 350 5th Ave" ->
    company "Acme Corp"; "Frau Petra Klein Josephstraße 2" -> recipient "Frau Petra Klein";
    "Carrie Jones Jensen Group 3939 Robinhill Dr" -> both. "Alter Graben 1" is a street."""
    tokens = list(re.finditer(r"\S+", piece))
    stop = next(
        (
            i
            for i, t in enumerate(tokens)
            if has_digit(t[0]) or (i and t[0].lower().rstrip(".") in UNIT_WORDS)
        ),
        len(tokens),
    )
    if not 0 < stop < len(tokens):
        return False
    words = [t[0] for t in tokens[:stop]]
    size = len(words)
    if size > 3 and words[-1].lower().strip(".") in PLACE_WORDS:
        size -= 2
    elif size > 2 and STREET_SUFFIX.search(words[-1]) and words[-1].lower() not in PLACE_WORDS:
        size -= 1
    elif stop == len(tokens) - 1 and has_digit(tokens[stop][0]):
        return False
    if _take_name_and_company(piece[: tokens[stop - 1].end()], start, take, region, cued=cued):
        return True
    for end in range(len(words), 1, -1):
        company = piece[: tokens[end - 1].end()]
        if COMPANY_SUFFIX.search(company) and is_company(company, region, first=False):
            take("company", start, start + len(company))
            return True
    name = piece[: tokens[size - 1].end()]
    if is_person(name, cued=cued):
        take("recipient", start, start + len(name))
        return True
    return False
