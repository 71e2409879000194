"""One pass over an input before anything is judged: normalize, take the extras out,
find the unit, parse and repair, detect the country.

Every address the service sees is read here exactly once — one ``normalize``, one
libpostal parse — and the verdict (:mod:`address.verify`), the classifier's place
evidence (training included) and the index search all work on the :class:`Reading`.

Example:
    >>> reading = read("John Smith, 350 5th Ave, New York NY 10118 Apt 4B", "US")
    >>> reading.text, reading.parsed.unit, dict(reading.extras)
    ('350 5th Ave, New York NY 10118 Apt 4B', 'apt 4b', {'recipient': 'John Smith'})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from address.errors import AddressTooLongError, UnknownCountryError
from address.extras import from_house, from_road, split_extras
from address.fields import AddressFields, apply_fields
from address.libpostal import parse
from address.model import DEFAULT_COUNTRY, ParsedAddress
from address.normalize import MAX_ADDRESS_LENGTH, normalize
from address.repair import repair
from address.rules import PlaceEvidence, detect_country, place_evidence
from address.standardize import standardize
from address.units import split_unit

__all__ = ["CleanInput", "Reading", "clean_input", "evidence_for", "read"]


@dataclass(frozen=True, slots=True)
class CleanInput:
    """An input normalized and held to the length limit, not read yet: a text, or a
    form's fields each cleaned (:meth:`AddressFields.cleaned`)."""

    item: str | AddressFields

    def text(self) -> str:
        """The input as one line: ``"350 5th Ave, New York, NY 10118"``."""
        return self.item if isinstance(self.item, str) else self.item.text()


def clean_input(item: str | AddressFields, max_length: int = MAX_ADDRESS_LENGTH) -> CleanInput:
    """Normalize a text, or each field of a form and then the form as one line.

    Raises:
        InvalidAddressInputError: the text is empty or longer than ``max_length``, or the
            form as one line is too long.
        FieldInputError: a field of the form is too long, or it has no line.
    """
    if isinstance(item, str):
        return CleanInput(normalize(item, max_length=max_length))
    fields = item.cleaned(max_length)
    whole = fields.text()  # the form as one line is held to the limit too
    if len(whole) > max_length:
        raise AddressTooLongError(len(whole), max_length)
    return CleanInput(fields)


@dataclass(frozen=True, slots=True)
class Reading:
    """An input read: the address text without extras (the unit kept, for the
    searcher), its components, the extras, and where it is.

    ``text`` is ``""`` when the input held nothing but extras ("call me before noon").
    ``country`` is the caller's hint, else the one the address names, else the default;
    ``search_country`` is the hint only, as the searcher takes it.
    """

    text: str
    parsed: ParsedAddress
    extras: Mapping[str, str]
    country: str | None
    search_country: str | None

    def place_evidence(self) -> PlaceEvidence:
        """The postcode gazetteer's word on this address (``PLACED`` for "Am Rain 1a,
        36043 Fulda"); ``NONE`` without text or country.

        Raises:
            UnknownCountryError: the caller's country has no address rules.
        """
        if not self.text or not self.country:
            return PlaceEvidence.NONE
        return place_evidence(self.text, self.parsed, self.country)

    def standardized(self) -> str:
        """The address in its country's standard form ("John Smith, 4570 frozen hill rd
        anamosa ia" -> ``"4570 Frozen Hill Rd, Anamosa, IA"``), the text as read without
        a country; what verify answers when no known-good address matches."""
        return standardize(self.parsed, self.country) if self.country else self.text


def read(
    item: str | AddressFields | CleanInput,
    country: str | None = None,
    *,
    default_country: str | None = DEFAULT_COUNTRY,
    max_length: int = MAX_ADDRESS_LENGTH,
) -> Reading:
    """Take the extras out, find the unit wherever it is, parse and repair the rest.

    Example:
        ``read("John Smith, 350 5th Ave, New York NY 10118 Apt 4B, call 555-0134", "US")``
        reads text ``"350 5th Ave, New York NY 10118 Apt 4B"``, unit ``"apt 4b"`` and
        extras ``{"recipient": "John Smith", "phone": "555-0134"}``.

    Args:
        item: the text as typed, a form's fields (whose ``country`` wins over
            ``country``), or either already cleaned by :func:`clean_input`.
        country: ISO alpha-2 code when the caller knows it.
        default_country: the country of an address that names none.
        max_length: longest input accepted (not applied to a :class:`CleanInput`).

    Raises:
        InvalidAddressInputError: empty or too long (``FieldInputError`` for a field).
    """
    clean = item if isinstance(item, CleanInput) else clean_input(item, max_length)
    if isinstance(clean.item, AddressFields):
        fields: AddressFields | None = clean.item
        hint = clean.item.country or country
        extracted = split_extras(clean.item.street(), hint)
        street = extracted.address
        text = ", ".join(p for p in (street, clean.item.place(hint)) if p) if street else ""
    else:
        fields, hint = None, country
        extracted = split_extras(clean.item, hint)
        text = extracted.address
    code = hint.strip().upper() if hint else None
    if not text:
        return Reading("", ParsedAddress(), extracted.extras.as_dict(), code, hint)
    unit = split_unit(text, code)
    parsed = repair(parse(unit.address, code), unit.address, code)
    # A name or a note the text cuts left in place, which libpostal calls a building.
    parsed, from_parse = from_house(parsed, code)
    # ... or glued onto the street from a part of its own ("Sandra West, 1934 Powers St").
    parsed, from_glued = from_road(parsed, unit.address, code)
    if unit.unit is not None:
        parsed = replace(parsed, unit=unit.unit)
    if fields is not None:
        parsed = apply_fields(parsed, fields)
    detected = code or detect_country(parsed, default=default_country)
    extras = extracted.extras.merged(from_parse.merged(from_glued)).as_dict()
    return Reading(text, parsed, extras, detected, hint)


def evidence_for(
    text: str | CleanInput,
    country: str | None = None,
    *,
    default_country: str | None = DEFAULT_COUNTRY,
) -> PlaceEvidence:
    """The classifier's place evidence for a text, read as verify reads it; ``NONE``
    where the country is unknown or has no address rules (training and ``addr
    classify`` take any text).

    Example: ``evidence_for("Am Rain 1a, 36043 Fulda", "DE")`` is ``PlaceEvidence.PLACED``.

    Raises:
        InvalidAddressInputError: empty or too long.
        DataNotReadyError: libpostal's data or the gazetteer are missing.
    """
    try:
        return read(text, country, default_country=default_country).place_evidence()
    except UnknownCountryError:
        return PlaceEvidence.NONE
