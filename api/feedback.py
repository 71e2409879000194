"""Delivery feedback at the HTTP boundary: verify answers gain their verification id,
delivery history and risk; ``POST /v1/feedback`` bodies become :class:`FeedbackEvent`s.

Example: ``POST /v1/feedback`` with ``{"address": "Laugavegur 12b, 101 Reykjavík",
"outcome": "delivered", "location": {"lat": 64.14597, "lon": -21.93096}}`` verifies the
address, files a ``delivered`` event under its delivery key with the caller's
fingerprint, and answers ``{"accepted": 1, "duplicates": 0, "known_good_added": 1, ...}``.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from address.errors import AddressError
from address.reading import CleanInput
from address.verification import Verification
from address.verify import with_delivery_risk
from api.dependencies import checked_address
from api.errors import ApiError, FieldError
from api.schemas import (
    DeliveryHistoryOut,
    FeedbackEventIn,
    FeedbackIn,
    FeedbackOut,
    FeedbackResultOut,
    NearbyOut,
    NearbyPointOut,
    VerificationCoreOut,
    VerificationOut,
)
from api.state import Loaded
from api.verification_ids import InvalidVerificationIdError, VerificationClaims
from index.feedback import DeliveryHistory, FeedbackEvent, Outcome, delivery_key

if TYPE_CHECKING:
    from index.live import LiveIndex

__all__ = [
    "FeedbackUnavailableError",
    "InvalidFeedbackError",
    "answers",
    "caller_fingerprint",
    "feedback_entries",
    "feedback_events",
    "nearby_points",
    "record_events",
    "refit_in_background",
]

logger = logging.getLogger(__name__)

Verifier = Callable[[Sequence[CleanInput], str | None], list[Verification]]
"""Verifies addresses of one country hint: ``verify(items, "IS")``."""


class InvalidFeedbackError(ApiError, ValueError):
    """A feedback event that cannot be recorded as sent."""


class FeedbackUnavailableError(ApiError, RuntimeError):
    """The feedback database could not be read or written (answered 503)."""


@contextmanager
def _store_errors() -> Iterator[None]:
    """A database error (locked past its 30 s busy timeout, disk full) as a typed one."""
    try:
        yield
    except sqlite3.Error as error:
        raise FeedbackUnavailableError(f"the feedback database failed: {error}") from error


def caller_fingerprint(caller: str, keyed: bool) -> str:
    """Who sent an event, as stored with it: the first 16 hex digits of the SHA-256 of
    the API key when keys are configured (``"k1"`` → ``"c4f8…"``), else the client
    address (``"127.0.0.1"``)."""
    return hashlib.sha256(caller.encode("utf-8")).hexdigest()[:16] if keyed else caller


def _claims(result: Verification) -> VerificationClaims:
    country = result.country or ""
    return VerificationClaims(
        delivery_key=delivery_key(result.standardized, country),
        address=result.standardized,
        country=country,
        verdict=result.verdict.value,
        match_id=result.match.id if result.match else None,
        components=dict(result.components),
    )


def _history_out(history: DeliveryHistory | None) -> DeliveryHistoryOut:
    if history is None:
        return DeliveryHistoryOut(delivered=0, failed=0, not_received=0, last=None)
    return DeliveryHistoryOut.model_validate(
        {
            "delivered": history.delivered,
            "failed": history.failed,
            "not_received": history.not_received,
            "last": history.last,
        }
    )


def answers(results: Sequence[Verification], loaded: Loaded) -> list[VerificationOut]:
    """The verify answers with their verification id, delivery history and risk, the
    histories read in one query; a ``valid`` answer where the next delivery more likely
    fails than not is held back (:func:`address.verify.with_delivery_risk`).

    Example: ``"Laugavegur 12b, 101 Reykjavík"`` delivered twice answers
    ``delivery_history={"delivered": 2, "failed": 0, "not_received": 0, "last":
    "delivered"}`` and a low ``delivery_risk``.
    """
    claims = [_claims(result) for result in results]
    with _store_errors():
        histories = loaded.store.history(sorted({c.delivery_key for c in claims}))
        model = loaded.store.risk_model()
    out = []
    for result, claim in zip(results, claims, strict=True):
        history = histories.get(claim.delivery_key)
        risk = model.predict(history, claim.verdict)
        core = VerificationCoreOut.model_validate(with_delivery_risk(result, risk))
        out.append(
            VerificationOut(
                **dict(core),
                verification_id=loaded.ids.sign(claim),
                delivery_history=_history_out(history),
                delivery_risk=round(risk, 4),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _Entry:
    """One event of a request, read: its address already known from a verification id
    (``claims``) or still to be verified (``item``)."""

    sent: FeedbackEventIn
    field: str
    """Where the event is in the body: ``""``, or ``"events[2]."``."""
    outcome: Outcome
    claims: VerificationClaims | None
    item: CleanInput | None


def feedback_entries(body: FeedbackIn, loaded: Loaded, max_length: int) -> list[_Entry]:
    """The body's events, each checked: exactly one of ``verification_id`` and
    ``address``, an ``outcome``, an id this service signed, an address that reads.

    Raises:
        FieldError: naming the event's field, ``events[3].verification_id``.
    """
    single = body.model_dump(exclude={"events"}, exclude_unset=True)
    if body.events is not None and single:
        error = InvalidFeedbackError("give one event, or a list of them in events, not both")
        raise FieldError(next(iter(single)), error)
    sent: list[tuple[str, FeedbackEventIn]] = (
        [(f"events[{i}].", event) for i, event in enumerate(body.events)]
        if body.events is not None
        else [("", body)]
    )
    return [_entry(event, field, loaded, max_length) for field, event in sent]


def _entry(event: FeedbackEventIn, field: str, loaded: Loaded, max_length: int) -> _Entry:
    if event.outcome is None:
        raise FieldError(f"{field}outcome", InvalidFeedbackError("outcome is required"))
    outcome = Outcome(event.outcome)
    if (event.verification_id is None) == (event.address is None):
        error = InvalidFeedbackError("give exactly one of verification_id and address")
        raise FieldError(f"{field}address", error)
    if event.verification_id is not None:
        try:
            claims = loaded.ids.read(event.verification_id)
        except InvalidVerificationIdError as error:
            raise FieldError(f"{field}verification_id", error) from error
        return _Entry(event, field, outcome, claims, None)
    assert event.address is not None  # one of the two, checked above
    item = checked_address(f"{field}address", event.address, max_length)
    return _Entry(event, field, outcome, None, item)


def feedback_events(
    entries: Sequence[_Entry], verify: Verifier, fingerprint: str
) -> list[FeedbackEvent]:
    """The events to record, in order; addresses given as such are verified first, one
    call per country hint, to learn their key, verdict, match and components.

    Raises:
        FieldError: an address the verifier rejects (an unknown ``country``).
    """
    by_hint: dict[str | None, list[tuple[int, CleanInput]]] = {}
    for i, entry in enumerate(entries):
        if entry.item is not None:
            by_hint.setdefault(entry.sent.country, []).append((i, entry.item))
    verified: dict[int, VerificationClaims] = {}
    for hint, given in by_hint.items():
        try:
            results = verify([item for _, item in given], hint)
        except AddressError as error:
            raise FieldError(f"{entries[given[0][0]].field}country", error) from error
        verified |= {i: _claims(result) for (i, _), result in zip(given, results, strict=True)}
    events = []
    for i, entry in enumerate(entries):
        claims = entry.claims or verified[i]
        location = entry.sent.location
        events.append(
            FeedbackEvent(
                address_key=claims.delivery_key,
                address=claims.address,
                country=claims.country or None,
                outcome=entry.outcome,
                event_id=entry.sent.event_id or uuid.uuid4().hex,
                reason=entry.sent.reason,
                lat=location.lat if location else None,
                lon=location.lon if location else None,
                verdict=claims.verdict,
                match_id=claims.match_id,
                components=claims.components,
                caller=fingerprint,
            )
        )
    return events


def record_events(loaded: Loaded, events: Sequence[FeedbackEvent]) -> FeedbackOut:
    """Record the events in one transaction; each answer says whether its ``event_id``
    was new (``accepted``) or seen before (``duplicate``)."""
    with _store_errors():
        recorded = loaded.store.record(events)
    results = [
        FeedbackResultOut(
            event_id=event.event_id or "",
            status="duplicate" if position in recorded.duplicate_at else "accepted",
        )
        for position, event in enumerate(events)
    ]
    return FeedbackOut(
        accepted=recorded.accepted,
        duplicates=recorded.duplicates,
        known_good_added=recorded.known_good_added,
        results=results,
    )


_refitting = threading.Lock()
"""Held while this process refits the risk model: one refit at a time."""


def refit_in_background(loaded: Loaded) -> None:
    """Refit the delivery-risk model in a thread when the store says it is due; the
    request that recorded the events does not wait for it."""
    with _store_errors():
        due = loaded.store.refit_due()
    if not due or not _refitting.acquire(blocking=False):
        return

    def refit() -> None:
        try:
            loaded.store.refit_risk()
        except Exception:  # a thread's error would vanish; log it instead
            logger.exception("refitting the delivery-risk model failed")
        finally:
            _refitting.release()

    threading.Thread(target=refit, name="refit-risk", daemon=True).start()


def nearby_points(index: LiveIndex, lat: float, lon: float, limit: int) -> NearbyOut:
    """Known-good addresses within 400 m of a point, for the checkout page's drawing:
    around ``(64.14597, -21.93096)`` the numbers of Laugavegur near 12b."""
    found = index.nearby(lat, lon, k=limit)
    return NearbyOut(
        points=[
            NearbyPointOut(id=id_, address=address, lat=point_lat, lon=point_lon)
            for id_, address, point_lat, point_lon in found
        ]
    )
