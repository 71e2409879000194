"""Request and response models of the HTTP API (pydantic lives only here)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ErrorOut", "HealthOut", "ParseOut", "ReadyOut"]


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])


class ReadyOut(BaseModel):
    ready: bool
    components: dict[str, bool] = Field(
        description="Each heavy resource and whether it is loaded.",
        examples=[{"libpostal": True}],
    )
    error: str | None = Field(default=None, description="Why a resource failed to load.")


class ParseOut(BaseModel):
    normalized: str = Field(examples=["Flat 3, 12 Baker St, London NW1 6XE"])
    components: dict[str, str] = Field(
        description="libpostal components as a flat {label: value} map.",
        examples=[
            {
                "unit": "flat 3",
                "house_number": "12",
                "road": "baker st",
                "city": "london",
                "postcode": "nw1 6xe",
            }
        ],
    )


class ErrorOut(BaseModel):
    error: str = Field(examples=["address is 600 characters long; the limit is 512"])
    type: str = Field(examples=["AddressTooLongError"])
    field: str | None = Field(default=None, examples=["q"])
