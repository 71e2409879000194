"""Delivery outcomes: the service's feedback loop.

Callers report what happened at an address ("delivered", "failed", "not_received");
:class:`FeedbackStore` keeps the outcomes, turns delivered addresses into known-good
rows that :class:`index.live.LiveIndex` serves in every worker, and fits the
:class:`RiskModel` behind verify's ``delivery_risk``. :func:`import_events` loads a
CSV of past outcomes.

Example:
    >>> store = FeedbackStore(data_paths().feedback)
    >>> key = delivery_key("Laugavegur 12b, 101 Reykjavík", "IS")
    >>> store.history([key])[key].delivered
    3
"""

from index.feedback.importer import ImportReport, import_events
from index.feedback.model import FeedbackEvent, KnownGoodRow, Outcome, Recorded, delivery_key
from index.feedback.risk import DeliveryHistory, RiskModel
from index.feedback.store import FeedbackStore, known_good_id

__all__ = [
    "DeliveryHistory",
    "FeedbackEvent",
    "FeedbackStore",
    "ImportReport",
    "KnownGoodRow",
    "Outcome",
    "Recorded",
    "RiskModel",
    "delivery_key",
    "import_events",
    "known_good_id",
]
