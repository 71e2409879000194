"""What :func:`address.extras.split_extras` hands back: the address and the extras apart."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Extras:
    """What came with the address: ``Extras(recipient="John Smith", phone="555-0134")``."""

    recipient: str | None = None
    company: str | None = None
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    instructions: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The present ones: ``{"recipient": "John Smith", "phone": "555-0134"}``."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def merged(self, other: Extras) -> Extras:
        """These, with the kinds they lack taken from ``other``:
        ``Extras(recipient="John Smith").merged(Extras(recipient="x", company="Acme Corp"))``
        is ``Extras(recipient="John Smith", company="Acme Corp")``."""
        return Extras(**{**other.as_dict(), **self.as_dict()})


@dataclass(frozen=True, slots=True)
class Extracted:
    """``Extracted(address="350 5th Ave Apt 4B, New York NY 10118", extras=Extras(...))``."""

    address: str
    extras: Extras
