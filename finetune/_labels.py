"""The classifier's closed label set: ``valid`` plus the reasons it can give."""

from __future__ import annotations

from address.model import Reason

__all__ = ["LABELS", "REASONS", "VALID"]

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
