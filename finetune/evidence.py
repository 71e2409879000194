"""What the classifier reads: the postcode gazetteer's word on the text, then the text.

A model that has seen Iowa and Iceland cannot know that 36043 is Fulda's postcode, nor
whether "Bürst" is a town or the start of "Bürstadt". The gazetteer can
(:func:`address.rules.place_evidence`), so its answer goes in front of the text, and the
model learns how far to trust it: "placed | am rain 1a, 36043 fulda". The evidence comes
from one function, :func:`address.reading.evidence_for`, which reads the text as
``address.verify`` does; training (``finetune.data``), ``addr classify`` and the service
all use it.
"""

from __future__ import annotations

from address.reading import evidence_for
from address.rules import PlaceEvidence

__all__ = ["evidence_for", "model_text"]


def model_text(text: str, evidence: PlaceEvidence | str) -> str:
    """The classifier's input for a normalized text and its place evidence.

    Example: ``model_text("am rain 1a, 36043 fulda", PlaceEvidence.PLACED)`` is
    ``"placed | am rain 1a, 36043 fulda"``.
    """
    return f"{PlaceEvidence(evidence).value} | {text}"
