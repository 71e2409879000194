"""Request and response models of the HTTP API (pydantic lives only here).

These names are the contract clients code against.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BATCH_LIMIT",
    "AddressFieldsIn",
    "AutocompleteOut",
    "BatchIn",
    "BatchOut",
    "ComponentCheckOut",
    "DeliveryHistoryOut",
    "ErrorOut",
    "FeedbackEventIn",
    "FeedbackIn",
    "FeedbackOut",
    "FeedbackResultOut",
    "HealthOut",
    "LocationIn",
    "LocationOut",
    "MatchOut",
    "NearbyOut",
    "NearbyPointOut",
    "ParseOut",
    "ReadyOut",
    "SuggestIn",
    "SuggestionOut",
    "SuggestionsOut",
    "VerificationCoreOut",
    "VerificationOut",
    "VerifyIn",
]

BATCH_LIMIT = 1000
"""Most addresses in one ``/v1/verify/batch`` call, and most events in one ``/v1/feedback``."""

# Most street lines in one structured address.
_MAX_LINES = 5
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
    "delivery_failed",
]

_LINN = "4570 Frozen Hill Rd, Anamosa, IA 52205"
_ICELAND = "Laugavegur 12b, 101 Reykjavík"
# The verification id of _ICELAND verified valid (signed with a documentation secret).
_VERIFICATION_ID = (
    "eyJhIjoiTGF1Z2F2ZWd1ciAxMmIsIDEwMSBSZXlramF2w61rIiwiYyI6IklTIiwiZCI6InZhbGlkIiwi"
    "ayI6IklTfGxhdWdhdmVndXIgMTJiIDEwMSByZXlramF2aWsiLCJtIjoiaXMtMTAwMTc1MDgiLCJwIjp7"
    "ImNpdHkiOiJyZXlramF2w61rIiwiaG91c2VfbnVtYmVyIjoiMTJiIiwicG9zdGNvZGUiOiIxMDEiLCJy"
    "b2FkIjoibGF1Z2F2ZWd1ciJ9LCJ2IjoxfQ.qZgioDp0KDrtiLw_vG9-tpxVqIyaNesL3kBi9kl875k"
)


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
                "feedback": True,
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


class LocationOut(_FromLibrary):
    """Where an address is, and how finely: ``premise`` its own point, ``street`` on its
    street, ``postcode`` the postcode's centre, ``locality`` the town's centre."""

    lat: float = Field(ge=-90, le=90, examples=[64.14597])
    lon: float = Field(ge=-180, le=180, examples=[-21.93096])
    precision: Literal["premise", "street", "postcode", "locality"]


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
    location: LocationOut | None = Field(
        default=None, description="Where the address is; null when nothing places it."
    )


class SuggestionsOut(BaseModel):
    suggestions: list[SuggestionOut]


AutocompleteOut = SuggestionsOut


class AddressFieldsIn(_Strict):
    """An address in a form's fields. A value in a field is what the field says it is:
    a town given as ``locality`` is never read as a street."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "lines": ["350 5th Ave", "Apt 4B"],
                    "locality": "New York",
                    "region": "NY",
                    "postcode": "10118",
                    "country": "US",
                },
                {"lines": ["Laugavegur 12b"], "locality": "Reykjavík", "postcode": "101"},
            ]
        },
    )

    lines: list[str] = Field(
        min_length=1,
        max_length=_MAX_LINES,
        description="Street lines: number and street, then unit, building or c/o lines.",
    )
    locality: str | None = Field(default=None, description="Town or city.")
    region: str | None = Field(default=None, description="State, province or region.")
    postcode: str | None = Field(default=None, description="Postcode or ZIP.")
    country: str | None = Field(
        default=None,
        pattern=_COUNTRY_PATTERN,
        description="ISO alpha-2 country; wins over the request's `country`.",
    )


AddressIn = Annotated[
    str | AddressFieldsIn,
    Field(
        description="The address as typed in one string, or a form's fields as an object "
        "(`lines` required)."
    ),
]


class SuggestIn(_Strict):
    address: AddressIn = Field(examples=[_LINN])
    limit: int = Field(default=5, ge=1, le=50)
    country: str | None = Field(default=None, pattern=_COUNTRY_PATTERN, examples=[None, "US"])


class VerifyIn(_Strict):
    address: AddressIn = Field(
        examples=[
            "4570 Frozen Hil Rd, Anamosa IA 52205",
            {
                "lines": ["4570 Frozen Hill Rd"],
                "locality": "Anamosa",
                "region": "IA",
                "postcode": "52205",
            },
        ]
    )
    country: str | None = Field(default=None, pattern=_COUNTRY_PATTERN, examples=[None, "IS"])


class BatchIn(_Strict):
    addresses: list[AddressIn] = Field(
        min_length=1,
        max_length=BATCH_LIMIT,
        description="Each a string or a form's fields.",
        examples=[
            [
                _LINN,
                {"lines": ["Laugavegur 12b"], "locality": "Reykjavík", "postcode": "101"},
                "leave it with the neighbour",
            ]
        ],
    )
    country: str | None = Field(default=None, pattern=_COUNTRY_PATTERN)


class ComponentCheckOut(_FromLibrary):
    component: str = Field(examples=["road"])
    value: str = Field(examples=["Frozen Hill Rd"])
    confirmation: Literal["confirmed", "plausible", "suspicious"]
    corrected: bool
    inferred: bool


class MatchOut(_FromLibrary):
    id: str = Field(examples=["is-10017508"])
    address: str = Field(examples=[_ICELAND])
    score: float = Field(ge=0, le=1)
    location: LocationOut | None = None


class DeliveryHistoryOut(BaseModel):
    """Outcomes reported for the address through ``POST /v1/feedback``."""

    delivered: int = Field(ge=0, examples=[3])
    failed: int = Field(ge=0, examples=[0])
    not_received: int = Field(ge=0, examples=[1])
    last: Literal["delivered", "failed", "not_received"] | None = Field(
        default=None, description="The latest outcome; null when none was reported."
    )


class VerificationCoreOut(_FromLibrary):
    """What the library answers for one address (``addr verify`` prints it); the API's
    :class:`VerificationOut` adds the feedback fields."""

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
    extras: dict[Literal["recipient", "company", "phone", "email", "url", "instructions"], str] = (
        Field(
            description="What the text held besides the address, taken out of it and never "
            "part of `components` or `standardized`; only the kinds found are present.",
            examples=[{"recipient": "John Smith", "phone": "555-0134"}],
        )
    )
    coverage: Literal["covered", "outside"] = Field(
        description="`covered`: the known-good data holds the street, town or postcode. "
        "`outside`: judged without reference data (country rules, the postcode gazetteer "
        "and the classifier only), so no did-you-mean is offered."
    )
    location: LocationOut | None = Field(
        description="Where the address is, as finely as known; null when nothing places it.",
        examples=[{"lat": 64.14597, "lon": -21.93096, "precision": "premise"}],
    )


class VerificationOut(VerificationCoreOut):
    """One address's answer over HTTP: the library's, with what feedback needs."""

    verification_id: str = Field(
        description="Opaque signed token naming this answer; send it back to "
        "`POST /v1/feedback` with the delivery's outcome.",
        examples=[_VERIFICATION_ID],
    )
    delivery_history: DeliveryHistoryOut
    delivery_risk: float = Field(
        ge=0,
        le=1,
        description="Estimated probability that a delivery to this address fails, from the "
        "verdict and the outcomes reported for it.",
    )


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


class LocationIn(_Strict):
    """Where a courier stood when delivering: ``{"lat": 64.14597, "lon": -21.93096}``."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)

    @model_validator(mode="after")
    def _not_null_island(self) -> LocationIn:
        if self.lat == 0 and self.lon == 0:
            raise ValueError("0,0 is a missing position, not a delivery location")
        return self


class FeedbackEventIn(_Strict):
    """One delivery outcome, for the address of an earlier answer (``verification_id``)
    or for an address given here (it is verified first); exactly one of the two."""

    verification_id: str | None = Field(default=None, max_length=8192)
    address: AddressIn | None = Field(default=None, examples=[_ICELAND])
    outcome: Literal["delivered", "failed", "not_received"] | None = Field(
        default=None, description="Required."
    )
    reason: str | None = Field(
        default=None, max_length=200, examples=["no such house number on the street"]
    )
    location: LocationIn | None = Field(
        default=None, description="Where the parcel was handed over (with `delivered`)."
    )
    event_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The caller's id of the event: sent again, it is counted once.",
        examples=["parcel-48213-delivered"],
    )
    country: str | None = Field(
        default=None,
        pattern=_COUNTRY_PATTERN,
        description="ISO alpha-2 country hint for `address`; a verification id names its own.",
        examples=["IS"],
    )


class FeedbackIn(FeedbackEventIn):
    """One event as the body, or up to 1,000 in ``events``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "address": _ICELAND,
                    "outcome": "delivered",
                    "location": {"lat": 64.14597, "lon": -21.93096},
                    "event_id": "parcel-48213",
                },
                {
                    "events": [
                        {"verification_id": _VERIFICATION_ID, "outcome": "failed"},
                        {"address": _LINN, "outcome": "delivered", "event_id": "p-2"},
                    ]
                },
            ]
        },
    )

    events: list[FeedbackEventIn] | None = Field(default=None, min_length=1, max_length=BATCH_LIMIT)


class FeedbackResultOut(BaseModel):
    event_id: str = Field(examples=["parcel-48213"])
    status: Literal["accepted", "duplicate"]


class FeedbackOut(BaseModel):
    accepted: int = Field(ge=0)
    duplicates: int = Field(ge=0, description="Events whose `event_id` was already recorded.")
    known_good_added: int = Field(
        ge=0, description="Addresses that became known-good through a delivery."
    )
    results: list[FeedbackResultOut] = Field(description="One per event, in input order.")


class NearbyPointOut(BaseModel):
    id: str = Field(examples=["is-10017508"])
    address: str = Field(examples=[_ICELAND])
    lat: float = Field(examples=[64.14597])
    lon: float = Field(examples=[-21.93096])


class NearbyOut(BaseModel):
    points: list[NearbyPointOut] = Field(description="Known-good addresses, nearest first.")
