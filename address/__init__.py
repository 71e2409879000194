"""Address normalization, libpostal parsing and country rules.

Example:
    >>> from address import parse, check
    >>> parsed = parse("Flat 3, 12 Baker St, London NW1 6XE")
    >>> parsed.house_number, parsed.postcode
    ('12', 'nw1 6xe')
    >>> check(parsed, "GB")
    []
"""

from __future__ import annotations

from address.errors import (
    AddressError,
    AddressTooLongError,
    DataFetchError,
    DataNotReadyError,
    EmptyAddressError,
    InvalidAddressInputError,
    ReferenceDataError,
    UnknownCountryError,
)
from address.libpostal import expand, near_dupe_hashes, parse, parse_batch
from address.model import COMPONENT_LABELS, ParsedAddress, Reason
from address.normalize import normalize
from address.rules import check, detect_country, postcode_matches

__all__ = [
    "COMPONENT_LABELS",
    "AddressError",
    "AddressTooLongError",
    "DataFetchError",
    "DataNotReadyError",
    "EmptyAddressError",
    "InvalidAddressInputError",
    "ParsedAddress",
    "Reason",
    "ReferenceDataError",
    "UnknownCountryError",
    "check",
    "detect_country",
    "expand",
    "near_dupe_hashes",
    "normalize",
    "parse",
    "parse_batch",
    "postcode_matches",
]
