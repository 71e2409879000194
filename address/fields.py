"""Structured input: an address as a checkout form holds it, in separate fields.

Every checkout, order system and courier app keeps the street lines, the town, the
region and the postcode apart. :class:`AddressFields` carries them to ``verify``
without gluing them into one string and parsing them apart again: a value given in a
field is what that field says it is, so a town given as a town is never read as a
street. Only the street lines go through libpostal (with the rest of the address
beside them for context); the town, region and postcode come from their fields.

Example::

    AddressFields(lines=("350 5th Ave", "Apt 4B"), locality="New York", region="NY",
                  postcode="10118", country="US")
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from address.errors import AddressError, EmptyAddressError, InvalidAddressInputError
from address.model import LOCALITY_LABELS, ParsedAddress
from address.normalize import MAX_ADDRESS_LENGTH, normalize
from address.standardize import format_locality

__all__ = ["AddressFields", "FieldInputError", "apply_fields"]

# Components the fields decide when they are given; libpostal's reading of them is dropped.
_FIELD_LABELS = {"locality": "city", "region": "state", "postcode": "postcode"}
# What a parse may have read the given town as, besides the town itself.
_TOWN_LIKE = frozenset(LOCALITY_LABELS) | {"state", "country", "postcode"}


class FieldInputError(InvalidAddressInputError):
    """One field of a structured address is unusable; ``part`` names it (``lines[1]``,
    ``postcode``) and ``cause`` is the underlying error."""

    def __init__(self, part: str, cause: AddressError) -> None:
        super().__init__(str(cause))
        self.part = part
        self.cause = cause


@dataclass(frozen=True, slots=True)
class AddressFields:
    """An address in a form's fields; only ``lines`` is required.

    Example:
        ``AddressFields(lines=("Laugavegur 12b",), locality="Reykjavík", postcode="101",
        country="IS").text() == "Laugavegur 12b, 101 Reykjavík"``
    """

    lines: tuple[str, ...]
    locality: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None

    def cleaned(self, max_length: int = MAX_ADDRESS_LENGTH) -> AddressFields:
        """Every field normalized (none longer than ``max_length``); blank optional
        fields and blank lines left out.

        Raises:
            FieldInputError: a field is too long (``part`` names it), or no line has
                any text (``part`` is ``lines``).
        """

        def clean(part: str, value: str | None) -> str | None:
            if value is None or not value.strip():
                return None
            try:
                return normalize(value, max_length=max_length)
            except AddressError as error:
                raise FieldInputError(part, error) from error

        lines = tuple(
            line for i, text in enumerate(self.lines) if (line := clean(f"lines[{i}]", text))
        )
        if not lines:
            raise FieldInputError("lines", EmptyAddressError("the address lines are empty"))
        return AddressFields(
            lines=lines,
            locality=clean("locality", self.locality),
            region=clean("region", self.region),
            postcode=clean("postcode", self.postcode),
            country=self.country.strip().upper() if self.country and self.country.strip() else None,
        )

    def street(self) -> str:
        """The street lines as one text: ``"350 5th Ave, Apt 4B"``."""
        return ", ".join(self.lines)

    def place(self, country: str | None) -> str:
        """Town, region and postcode in the country's order: ``"New York, NY 10118"``
        (US), ``"101 Reykjavík"`` (IS); ``""`` when none is given."""
        values = {
            label: value
            for name, label in _FIELD_LABELS.items()
            if (value := getattr(self, name)) is not None
        }
        return format_locality(values, country or "US") if values else ""

    def text(self, country: str | None = None) -> str:
        """The whole address as one line, the way a person would write it."""
        return ", ".join(p for p in (self.street(), self.place(country or self.country)) if p)


def apply_fields(parsed: ParsedAddress, fields: AddressFields) -> ParsedAddress:
    """Let the given fields decide the town, region and postcode of a parse of
    :meth:`AddressFields.text`.

    libpostal's own reading of those parts is dropped wherever a field is given, and the
    given town is cut off the end of a street that swallowed it.

    Example:
        the parse of ``"12 Main Street Springfield, 62701"`` with
        ``AddressFields(lines=("12 Main Street Springfield",), locality="Springfield")``
        keeps road ``"main street"`` and sets city ``"springfield"``.
    """
    given = {
        label: value.lower()
        for name, label in _FIELD_LABELS.items()
        if (value := getattr(fields, name)) is not None
    }
    if not given:
        return parsed
    values = parsed.components()
    place_words = set(" ".join(given.values()).split())
    for label in list(values):
        # A town-like part made only of the fields' words came from the fields.
        if label in _TOWN_LIKE and set(values[label].split()) <= place_words:
            del values[label]
    if "city" in given and "city" in values and "suburb" not in values:
        # A town in the street lines beside the given one is a part of it: "Brooklyn".
        values["suburb"] = values.pop("city")
    town = given.get("city")
    road = values.get("road")
    if town and road and road.endswith(" " + town):
        values["road"] = road[: -len(town) - 1].strip()
    values.update(given)
    return replace(ParsedAddress(), **values)
