"""FastAPI application: health, readiness and address parsing.

Start it with ``addr serve`` (or ``make run``); the OpenAPI docs are at ``/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette import status

from address.errors import AddressError, InvalidAddressInputError
from address.libpostal import parse
from address.normalize import normalize
from api.schemas import ErrorOut, HealthOut, ParseOut, ReadyOut
from api.state import Resources

__all__ = ["create_app"]


class NotReadyError(AddressError, RuntimeError):
    """A request arrived before the service finished loading."""


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def _ready_resources(resources: Annotated[Resources, Depends(_resources)]) -> Resources:
    if not resources.ready:
        raise NotReadyError(resources.error or "the service is still loading")
    return resources


ReadyResources = Annotated[Resources, Depends(_ready_resources)]


def _error_response(error: AddressError, field: str | None = None) -> JSONResponse:
    code = (
        status.HTTP_422_UNPROCESSABLE_CONTENT
        if isinstance(error, InvalidAddressInputError)
        else status.HTTP_503_SERVICE_UNAVAILABLE
    )
    body = ErrorOut(error=str(error), type=type(error).__name__, field=field)
    return JSONResponse(body.model_dump(), status_code=code)


def create_app(*, load_in_background: bool = True) -> FastAPI:
    """Build the app; heavy resources load in the lifespan, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = Resources()
        app.state.resources = resources
        if load_in_background:
            resources.load_in_background()
        else:
            resources.load_all()
        yield

    app = FastAPI(
        title="Address verification and suggestion service",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(AddressError)
    async def address_error(request: Request, error: AddressError) -> JSONResponse:
        return _error_response(error, field="q" if "q" in request.query_params else None)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz", response_model=HealthOut)
    async def healthz() -> HealthOut:
        """The process is up (it may still be loading)."""
        return HealthOut(status="ok")

    @app.get(
        "/readyz",
        response_model=ReadyOut,
        responses={503: {"model": ReadyOut, "description": "Still loading or failed to load."}},
    )
    async def readyz(resources: Annotated[Resources, Depends(_resources)]) -> JSONResponse:
        """200 once libpostal is loaded, 503 before (or when loading failed)."""
        body = ReadyOut(ready=resources.ready, components=resources.loaded, error=resources.error)
        code = status.HTTP_200_OK if resources.ready else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(body.model_dump(), status_code=code)

    @app.get(
        "/v1/parse",
        response_model=ParseOut,
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    )
    def parse_address(
        _: ReadyResources,
        q: Annotated[
            str,
            Query(description="Address text.", examples=["Flat 3, 12 Baker St, London NW1 6XE"]),
        ],
        country: Annotated[
            str | None, Query(description="ISO alpha-2 hint.", examples=["GB"])
        ] = None,
    ) -> ParseOut:
        """Split an address into libpostal components."""
        return ParseOut(normalized=normalize(q), components=parse(q, country).components())

    return app
