"""The records of the delivery feedback loop: outcomes, events and known-good rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from index.keys import address_key
from index.locate import on_globe

__all__ = ["FeedbackEvent", "KnownGoodRow", "Outcome", "Recorded", "delivery_key", "whole_point"]


class Outcome(StrEnum):
    """What happened when a parcel was sent to an address."""

    DELIVERED = "delivered"
    FAILED = "failed"
    """The courier could not deliver (no such address, no access, returned)."""
    NOT_RECEIVED = "not_received"
    """The courier reported it delivered; the recipient says it never arrived."""


def delivery_key(address: str, country: str | None) -> str:
    """The one key of a standardized address that its outcomes are filed under.

    Example:
        >>> delivery_key("Laugavegur 12b, 101 Reykjavík", "is")
        'IS|laugavegur 12b 101 reykjavik'
    """
    return f"{(country or '').upper()}|{address_key(address)}"


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """One delivery outcome, e.g. ``FeedbackEvent(delivery_key(text, "IS"),
    "Laugavegur 12b, 101 Reykjavík", "IS", Outcome.DELIVERED, lat=64.1455, lon=-21.9301,
    verdict="valid", components={"road": "Laugavegur", "house_number": "12b", ...})``."""

    address_key: str
    """:func:`delivery_key` of the standardized address."""
    address: str
    """The standardized address text."""
    country: str | None
    outcome: Outcome
    event_id: str | None = None
    """The caller's id of the event; a repeat is recorded once. ``None``: a fresh uuid4."""
    reason: str | None = None
    lat: float | None = None
    lon: float | None = None
    verdict: str | None = None
    """Verify's verdict on the address when known (``valid``, ``uncertain``, ``invalid``)."""
    match_id: str | None = None
    """The known-good row the address matched at premise, if any."""
    components: Mapping[str, str] = field(default_factory=dict)
    """Standardized components: house_number, road, unit, postcode, city, state."""
    caller: str | None = None
    """Fingerprint of the API key that sent it (for :meth:`FeedbackStore.revoke`)."""
    occurred_at: float | None = None
    """Unix seconds; ``None``: now."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What :meth:`FeedbackStore.record` did with a batch."""

    accepted: int
    duplicates: int
    """Events whose ``event_id`` was already recorded (nothing changed)."""
    known_good_added: int
    """Addresses that became known-good."""
    duplicate_at: frozenset[int] = frozenset()
    """Positions in the batch of the ``duplicates``."""


@dataclass(frozen=True, slots=True)
class KnownGoodRow:
    """An address made known-good by a delivery, as the live index takes it:
    ``KnownGoodRow(7, "delivery-3f2a…", "Laugavegur 12b, 101 Reykjavík", "IS",
    {"road": "Laugavegur", ...}, 64.1455, -21.9301, None)``."""

    seq: int
    """Change number; :meth:`FeedbackStore.known_good_since` returns rows above one."""
    id: str
    """``"delivery-"`` + the first 16 hex digits of the SHA-1 of the delivery key."""
    address: str
    country: str
    components: Mapping[str, str]
    lat: float | None
    lon: float | None
    match_id: str | None
    """The index row this address already is: only its point moves, no new row."""
    deleted: bool = False
    """Its outcomes were revoked (:meth:`FeedbackStore.revoke`): drop the row."""


def whole_point(lat: float | None, lon: float | None) -> bool:
    """Whether an event's point is usable: none at all, or both coordinates on the globe
    (``64.14597, -21.93096``); half a point or one off the globe is not."""
    if lat is None or lon is None:
        return lat is None and lon is None
    return on_globe(lat, lon)
