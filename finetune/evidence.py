"""What the classifier reads: the postcode gazetteer's word on the text, then the text.

A model that has seen Iowa and Iceland cannot know that 36043 is Fulda's postcode, nor
whether "Bürst" is a town or the start of "Bürstadt". The gazetteer can
(:func:`address.rules.place_evidence`), so its answer goes in front of the text, and the
model learns how far to trust it: "placed | am rain 1a, 36043 fulda". The same words are
put in front at training time (``finetune.data``) and at inference
(``finetune.classifier``).
"""

from __future__ import annotations

from address.errors import UnknownCountryError
from address.rules import PlaceEvidence

__all__ = ["evidence_for", "model_text"]


def model_text(text: str, evidence: PlaceEvidence | str) -> str:
    """The classifier's input for a normalized text and its place evidence.

    Example: ``model_text("am rain 1a, 36043 fulda", PlaceEvidence.PLACED)`` is
    ``"placed | am rain 1a, 36043 fulda"``.
    """
    return f"{PlaceEvidence(evidence).value} | {text}"


def evidence_for(text: str, country: str | None = None) -> PlaceEvidence:
    """Parse a normalized text (``address.normalize``) with libpostal and ask the
    gazetteer about it.

    ``country`` is the checkout's country; without it, the one the text names or the
    ``default_country`` setting (as ``address.verify`` does). ``NONE`` when no country
    is known or it has no address rules.

    Example: ``evidence_for("Am Rain 1a, 36043 Fulda", "DE")`` is ``PlaceEvidence.PLACED``.

    Raises:
        DataNotReadyError: libpostal's data or the gazetteer are missing.
    """
    from address.libpostal import parse
    from address.rules import detect_country, place_evidence
    from address.settings import get_settings

    parsed = parse(text, country)
    detected = country or detect_country(parsed, default=get_settings().default_country)
    if not detected:
        return PlaceEvidence.NONE
    try:
        return place_evidence(text, parsed, detected)
    except UnknownCountryError:
        return PlaceEvidence.NONE
