"""Request and response models of the HTTP API (pydantic lives only here).

These names are the contract clients code against.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BATCH_LIMIT",
    "AutocompleteOut",
    "BatchIn",
    "BatchOut",
    "ComponentCheckOut",
    "ErrorOut",
    "HealthOut",
    "MatchOut",
    "ParseOut",
    "ReadyOut",
    "SuggestIn",
    "SuggestionOut",
    "SuggestionsOut",
    "VerificationOut",
    "VerifyIn",
]

BATCH_LIMIT = 1000
"""Most addresses in one ``/v1/verify/batch`` call."""

# Country codes are ISO 3166-1 alpha-2: "US", "is".
_COUNTRY_PATTERN = r"^[A-Za-z]{2}$"

ReasonCode = Literal[
    "missing_house_number",
    "missing_road",
    "missing_locality",
    "missing_postcode",
    "postcode_format",
    "postcode_locality_mismatch",
    "unknown_region",
    "not_an_address",
    "gibberish",
    "truncated",
    "unknown_address",
    "house_number_not_found",
]

_LINN = "4570 Frozen Hill Rd, Anamosa, IA 52205"
_ICELAND = "Laugavegur 12b, 101 Reykjavík"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FromLibrary(BaseModel):
    """Built straight from the library's frozen dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])


class ReadyOut(BaseModel):
    ready: bool
    components: dict[str, bool] = Field(
        description="Each heavy resource and whether it is loaded.",
        examples=[
            {
                "libpostal": True,
                "gazetteer": True,
                "index": True,
                "embedding_model": True,
                "classifier": True,
                "warm": False,
            }
        ],
    )
    error: str | None = Field(default=None, description="Why a resource failed to load.")


class ParseOut(BaseModel):
    normalized: str = Field(examples=["Flat 3, 12 Baker St, London NW1 6XE"])
    components: dict[str, str] = Field(
        description="libpostal components as a flat {label: value} map.",
        examples=[{"unit": "flat 3", "house_number": "12", "road": "baker st"}],
    )


class SuggestionOut(_FromLibrary):
    id: str = Field(examples=["us-ia-linn-000001"])
    address: str = Field(examples=[_LINN])
    score: float = Field(
        ge=0,
        le=1,
        description="Agreement with the input: ≥ 0.95 the same address; 0.85–0.95 the same "
        "address with a minor difference; 0.60–0.85 the same street; below, a weak suggestion.",
    )
    components: dict[str, str] = Field(
        examples=[{"house_number": "4570", "road": "Frozen Hill Rd", "city": "Anamosa"}]
    )
    country: str = Field(description="ISO alpha-2 country of the address.", examples=["US"])


class SuggestionsOut(BaseModel):
    suggestions: list[SuggestionOut]


AutocompleteOut = SuggestionsOut


class SuggestIn(_Strict):
    address: str = Field(description="A full, possibly wrong, address.", examples=[_LINN])
    limit: int = Field(default=5, ge=1, le=50)
    country: str | None = Field(default=None, pattern=_COUNTRY_PATTERN, examples=[None, "US"])


class VerifyIn(_Strict):
    address: str = Field(
        description="The address as typed.", examples=["4570 Frozen Hil Rd, Anamosa IA 52205"]
    )
    country: str | None = Field(default=None, pattern=_COUNTRY_PATTERN, examples=[None, "IS"])


class BatchIn(_Strict):
    addresses: list[str] = Field(
        min_length=1,
        max_length=BATCH_LIMIT,
        examples=[[_LINN, _ICELAND, "leave it with the neighbour"]],
    )
    country: str | None = Field(default=None, pattern=_COUNTRY_PATTERN)


class ComponentCheckOut(_FromLibrary):
    component: str = Field(examples=["road"])
    value: str = Field(examples=["Frozen Hill Rd"])
    confirmation: Literal["confirmed", "plausible", "suspicious"]
    corrected: bool
    inferred: bool


class MatchOut(_FromLibrary):
    id: str
    address: str
    score: float = Field(ge=0, le=1)


class VerificationOut(_FromLibrary):
    verdict: Literal["valid", "invalid", "uncertain"]
    confidence: float = Field(ge=0, le=1)
    reasons: list[ReasonCode]
    messages: list[str] = Field(
        description="The reasons as short messages for a courier or shopper.",
        examples=[["House number missing"]],
    )
    granularity: Literal["premise", "street", "locality", "none"] = Field(
        description="The finest level confirmed against known-good addresses."
    )
    next_action: Literal["accept", "confirm", "fix"]
    standardized: str = Field(examples=[_LINN])
    components: dict[str, str]
    component_checks: list[ComponentCheckOut]
    match: MatchOut | None
    suggestions: list[SuggestionOut]


class ErrorOut(BaseModel):
    error: str = Field(examples=["address is 600 characters long; the limit is 512"])
    type: str = Field(examples=["AddressTooLongError"])
    field: str | None = Field(default=None, examples=["address"])


class BatchOut(BaseModel):
    results: list[VerificationOut | ErrorOut] = Field(
        description="One answer per input address, in input order: its verification, or, "
        "for an entry that cannot be read as an address, its own error "
        '(`{"error", "type", "field": "addresses[2]"}`).'
    )
