"""The classifier's closed label set: ``valid`` plus the reasons it can give."""

from __future__ import annotations

from collections.abc import Sequence

from address.model import Reason

__all__ = ["LABELS", "REASONS", "VALID", "decide"]

VALID = "valid"
"""Label of a complete, deliverable address: "4570 Frozen Hill Rd, Anamosa, IA 52205"."""

REASONS: tuple[Reason, ...] = (
    Reason.MISSING_HOUSE_NUMBER,
    Reason.MISSING_ROAD,
    Reason.MISSING_LOCALITY,
    Reason.POSTCODE_LOCALITY_MISMATCH,
    Reason.NOT_AN_ADDRESS,
    Reason.GIBBERISH,
    Reason.TRUNCATED,
)
"""Reasons the classifier learns, a subset of :class:`address.model.Reason`."""

LABELS: tuple[str, ...] = (VALID, *(reason.value for reason in REASONS))
"""Class index -> label, the order of the classification head's outputs."""


def decide(row: Sequence[float], valid_threshold: float | None = None) -> str:
    """The label for one row of class probabilities (in the order of :data:`LABELS`).

    With a threshold: ``valid`` when its probability reaches it, else the most likely
    reason (``[0.3, 0.1, 0, 0, 0, 0, 0, 0.6]`` with 0.25 -> ``valid``). Without one:
    the most likely class (``truncated`` for that row). Ties go to the earlier label.
    """
    valid = LABELS.index(VALID)
    if valid_threshold is None:
        return LABELS[max(range(len(row)), key=lambda i: (row[i], -i))]
    if row[valid] >= valid_threshold:
        return VALID
    return LABELS[max((i for i in range(len(row)) if i != valid), key=lambda i: (row[i], -i))]
