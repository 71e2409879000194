"""The project's own address types: parsed components and reason codes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

__all__ = [
    "COMPONENT_LABELS",
    "DEFAULT_COUNTRY",
    "LOCALITY_LABELS",
    "REASON_MESSAGES",
    "ParsedAddress",
    "Reason",
]

DEFAULT_COUNTRY = "US"
"""Country assumed for an address that names none ("4570 Frozen Hill Rd, Anamosa IA")
unless the caller gives another default."""


class Reason(StrEnum):
    """Why an address is not (fully) deliverable; a closed set shared by rules,
    the classifier and the verdict."""

    MISSING_HOUSE_NUMBER = "missing_house_number"
    MISSING_ROAD = "missing_road"
    MISSING_LOCALITY = "missing_locality"
    MISSING_POSTCODE = "missing_postcode"
    POSTCODE_FORMAT = "postcode_format"
    POSTCODE_LOCALITY_MISMATCH = "postcode_locality_mismatch"
    UNKNOWN_REGION = "unknown_region"
    NOT_AN_ADDRESS = "not_an_address"
    GIBBERISH = "gibberish"
    TRUNCATED = "truncated"
    UNKNOWN_ADDRESS = "unknown_address"
    HOUSE_NUMBER_NOT_FOUND = "house_number_not_found"
    DELIVERY_FAILED = "delivery_failed"


# The one table of what each reason means to a courier or a shopper.
REASON_MESSAGES: dict[Reason, str] = {
    Reason.MISSING_HOUSE_NUMBER: "House number missing",
    Reason.MISSING_ROAD: "Street missing",
    Reason.MISSING_LOCALITY: "Town or city missing",
    Reason.MISSING_POSTCODE: "Postcode missing",
    Reason.POSTCODE_FORMAT: "Postcode is not in this country's format",
    Reason.POSTCODE_LOCALITY_MISMATCH: "Postcode does not belong to this town or region",
    Reason.UNKNOWN_REGION: "State or region not recognised",
    Reason.NOT_AN_ADDRESS: "This is not an address",
    Reason.GIBBERISH: "Address text is unreadable",
    Reason.TRUNCATED: "Address looks cut off",
    Reason.UNKNOWN_ADDRESS: "Address not found in our address list",
    Reason.HOUSE_NUMBER_NOT_FOUND: "Street found, but not this house number",
    Reason.DELIVERY_FAILED: "Deliveries to this address failed before",
}


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """An address split into libpostal's components (lower-cased by libpostal).

    ``parse("Flat 3, 12 Baker St, London NW1 6XE")`` gives
    ``ParsedAddress(unit="flat 3", house_number="12", road="baker st",
    city="london", postcode="nw1 6xe")``; absent components are ``None``.
    """

    house: str | None = None
    category: str | None = None
    near: str | None = None
    house_number: str | None = None
    road: str | None = None
    unit: str | None = None
    level: str | None = None
    staircase: str | None = None
    entrance: str | None = None
    po_box: str | None = None
    postcode: str | None = None
    suburb: str | None = None
    city_district: str | None = None
    city: str | None = None
    island: str | None = None
    state_district: str | None = None
    state: str | None = None
    country_region: str | None = None
    country: str | None = None
    world_region: str | None = None

    def components(self) -> dict[str, str]:
        """The present components as ``{label: value}``, in libpostal's label order."""
        return {
            label: value
            for label in COMPONENT_LABELS
            if (value := getattr(self, label)) is not None
        }

    @property
    def locality(self) -> str | None:
        """The finest locality given: city, else suburb, district or island."""
        return next(iter(self.localities()), None)

    def localities(self) -> list[str]:
        """Every locality component given, finest first: ``["london"]``."""
        return [v for label in LOCALITY_LABELS if (v := getattr(self, label))]


COMPONENT_LABELS: tuple[str, ...] = tuple(f.name for f in fields(ParsedAddress))
# Components that name a town or part of one, finest first.
LOCALITY_LABELS: tuple[str, ...] = ("city", "suburb", "city_district", "island", "state_district")
