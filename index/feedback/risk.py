"""Delivery risk: the probability that the next delivery to an address fails.

A logistic model over verify's verdict and the address's delivery history, e.g.
``"Laugavegur 12b, 101 Reykjavík"`` judged ``valid`` with two deliveries and no
failure gets ~0.01, the same address after two failed deliveries ~0.3.

Features (:func:`features`): one-hot verdict (``valid``/``uncertain``/``invalid``/
unknown, which also serves as the intercept), ``log1p`` of the delivered, failed
and not-received counts, the smoothed share of non-delivered events and whether
the last outcome was not a delivery. Until enough outcomes are recorded the
service uses :meth:`RiskModel.prior`, a hand-set model; :meth:`RiskModel.fit` is
L2-regularised logistic regression solved by Newton's method (IRLS) in numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["FEATURES", "DeliveryHistory", "RiskModel", "features"]

VERDICTS = ("valid", "uncertain", "invalid")
FEATURES = (
    "verdict_valid",
    "verdict_uncertain",
    "verdict_invalid",
    "verdict_unknown",
    "log_delivered",
    "log_failed",
    "log_not_received",
    "share_not_delivered",
    "last_not_delivered",
)
_SHARE_PRIOR = (0.2, 2.0)
"""Smoothing of the non-delivered share: 0.2 bad events in 2 pseudo-events (0.1 with no
history), so one failure out of one is 0.4, not 1.0."""

# Hand-set prior: failure rates with no history, per verdict (valid 3%, uncertain 15%,
# invalid 50%, verdict unknown 10%), and how history moves the log-odds.
_PRIOR_BASE = {"valid": 0.03, "uncertain": 0.15, "invalid": 0.5, "unknown": 0.10}
_PRIOR_HISTORY = {
    "log_delivered": -0.9,
    "log_failed": 1.0,
    "log_not_received": 0.8,
    "share_not_delivered": 2.0,
    "last_not_delivered": 0.7,
}


@dataclass(frozen=True, slots=True)
class DeliveryHistory:
    """Outcomes recorded for one address, e.g. ``DeliveryHistory(3, 1, 0, "delivered",
    1764680000.0)`` for "Laugavegur 12b, 101 Reykjavík"."""

    delivered: int
    failed: int
    not_received: int
    last: str | None
    """The last outcome (``"delivered"``, ``"failed"``, ``"not_received"``)."""
    last_at: float | None
    """When it happened, unix seconds."""


def features(history: DeliveryHistory | None, verdict: str | None) -> NDArray[np.float64]:
    """The feature vector (order :data:`FEATURES`) of an address's history and verdict."""
    row = np.zeros(len(FEATURES))
    row[VERDICTS.index(verdict) if verdict in VERDICTS else 3] = 1.0
    delivered, failed, missing = (
        (history.delivered, history.failed, history.not_received) if history else (0, 0, 0)
    )
    bad_prior, weight = _SHARE_PRIOR
    row[4] = math.log1p(delivered)
    row[5] = math.log1p(failed)
    row[6] = math.log1p(missing)
    row[7] = (failed + missing + bad_prior) / (delivered + failed + missing + weight)
    row[8] = float(history is not None and history.last not in (None, "delivered"))
    return row


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))
    return result


class RiskModel:
    """Logistic delivery-risk model; ``version`` 0 is the hand-set prior.

    Example:
        >>> RiskModel.prior().predict(None, "valid")
        0.03
    """

    def __init__(self, weights: Sequence[float], version: int = 0, events: int = 0) -> None:
        if len(weights) != len(FEATURES):
            raise ValueError(f"{len(FEATURES)} weights expected, got {len(weights)}")
        self.weights = np.asarray(weights, dtype=np.float64)
        self.version = version
        """0 for the prior, else the fit's number in the store."""
        self.events = events
        """Events the model was fitted on (0 for the prior)."""

    @classmethod
    def prior(cls) -> RiskModel:
        """The hand-set model used before any fit: with no history the failure rate is
        the verdict's base rate (valid 0.03, uncertain 0.15, invalid 0.5, unknown 0.10);
        each failure raises it, each delivery lowers it."""
        history = np.array([_PRIOR_HISTORY[name] for name in FEATURES[4:]])
        empty = features(None, None)[4:]
        offset = float(history @ empty)
        bases = [
            math.log(p / (1 - p)) - offset for p in (_PRIOR_BASE[v] for v in (*VERDICTS, "unknown"))
        ]
        return cls([*bases, *history.tolist()])

    def predict(self, history: DeliveryHistory | None, verdict: str | None) -> float:
        """Probability in [0, 1] that the next delivery to the address fails."""
        z = float(features(history, verdict) @ self.weights)
        return round(1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z)))), 4)

    @classmethod
    def fit(
        cls,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        *,
        l2: float = 1.0,
        version: int = 0,
        iterations: int = 50,
    ) -> RiskModel:
        """L2-regularised logistic regression by Newton's method (IRLS).

        Args:
            x: one row of :func:`features` per event.
            y: 1.0 where the delivery failed (failed or not received), else 0.0.
            l2: penalty on the squared weights.
        """
        weights = np.zeros(x.shape[1])
        penalty = l2 * np.eye(x.shape[1])
        for _ in range(iterations):
            p = _sigmoid(x @ weights)
            gradient = x.T @ (p - y) + l2 * weights
            hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
            step = np.linalg.solve(hessian, gradient)
            weights -= step
            if float(np.abs(step).max()) < 1e-8:
                break
        return cls(weights.tolist(), version=version, events=len(y))

    def to_json(self) -> str:
        """``{"features": [...], "weights": [...], "version": 3, "events": 1200}``."""
        return json.dumps(
            {
                "features": list(FEATURES),
                "weights": self.weights.tolist(),
                "version": self.version,
                "events": self.events,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RiskModel:
        """The model :meth:`to_json` wrote; refuses one with other features."""
        data = json.loads(text)
        if data.get("features") != list(FEATURES):
            raise ValueError("the stored risk model uses other features")
        return cls(data["weights"], version=int(data["version"]), events=int(data["events"]))
