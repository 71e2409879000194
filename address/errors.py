"""Typed errors of the address service.

Every error the library raises on purpose derives from :class:`AddressError`.
Subclasses also inherit the builtin they stand in for, so callers that only
know ``ValueError`` or ``RuntimeError`` still catch them::

    AddressError
    ├── InvalidAddressInputError (ValueError)   bad text handed in
    │   ├── EmptyAddressError                   nothing left after clean-up
    │   └── AddressTooLongError                 over ``max_address_length``
    ├── UnknownCountryError (ValueError)        a country code we have no rules for
    ├── ReferenceDataError (ValueError)         a reference file we cannot read
    ├── DataNotReadyError (RuntimeError)        libpostal data or gazetteer missing or corrupt
    ├── IndexNotReadyError (RuntimeError)       address index missing, corrupt or mismatched
    ├── DataFetchError (RuntimeError)           a download or its check failed
    └── WorkStoppedError (RuntimeError)         the caller called the work off midway
"""

from __future__ import annotations

__all__ = [
    "AddressError",
    "AddressTooLongError",
    "DataFetchError",
    "DataNotReadyError",
    "EmptyAddressError",
    "IndexNotReadyError",
    "InvalidAddressInputError",
    "ReferenceDataError",
    "UnknownCountryError",
    "WorkStoppedError",
]

SETUP_HINT = "run `make setup` (or `addr data fetch`) to download and assemble it"
# Files at their right sizes that libpostal still cannot load: a plain fetch would take
# the folder for ready, so the fix must force it.
REFETCH_HINT = "run `addr data fetch --force` to download and assemble it again"


class AddressError(Exception):
    """Base class of every error this project raises on purpose."""


class InvalidAddressInputError(AddressError, ValueError):
    """The text handed in cannot be treated as an address at all."""


class EmptyAddressError(InvalidAddressInputError):
    """Nothing is left of the input after normalization (``""``, ``"  \\t"``)."""


class AddressTooLongError(InvalidAddressInputError):
    """The input, or the text it normalizes to, is longer than ``max_address_length``.

    ``sent`` is the length as sent when normalization made it grow: 29 × "\ufdfa"
    (29 characters) normalizes to 522.
    """

    def __init__(self, length: int, limit: int, sent: int | None = None) -> None:
        grown = "" if sent is None else f" after normalization ({sent} as sent)"
        super().__init__(f"address is {length} characters long{grown}; the limit is {limit}")
        self.length = length
        self.limit = limit
        self.sent = sent


class UnknownCountryError(AddressError, ValueError):
    """A country code that is not an ISO 3166-1 alpha-2 code we have rules for."""


class ReferenceDataError(AddressError, ValueError):
    """A reference-address file that cannot be read or lacks the needed columns."""


class DataNotReadyError(AddressError, RuntimeError):
    """libpostal's data directory or the postcode gazetteer is missing, incomplete or corrupt."""


class IndexNotReadyError(AddressError, RuntimeError):
    """The address index is missing, truncated, corrupt or built for another model."""


class DataFetchError(AddressError, RuntimeError):
    """Downloading or verifying a pinned data package failed."""


class WorkStoppedError(AddressError, RuntimeError):
    """The caller's ``stop`` check said to give up before the work was done (its client
    hung up, its time ran out)."""
