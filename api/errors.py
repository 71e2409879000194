"""The API's own errors and the one place that maps every error to an HTTP answer."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette import status
from starlette.exceptions import HTTPException

from address.errors import AddressError, InvalidAddressInputError, UnknownCountryError
from api.schemas import ErrorOut

__all__ = [
    "CLIENT_CLOSED_REQUEST",
    "NOT_READY_RETRY_AFTER",
    "ApiError",
    "BusyError",
    "ClientClosedError",
    "FieldError",
    "NotReadyError",
    "RateLimitedError",
    "UnauthorizedError",
    "error_body",
    "install_error_handlers",
]


CLIENT_CLOSED_REQUEST = 499
"""The status logged for a request whose client hung up first (nginx's convention)."""
NOT_READY_RETRY_AFTER = "5"
"""Seconds a client is told to wait before asking a service that is still loading again."""


class ApiError(AddressError):
    """Errors that only exist at the HTTP boundary."""


class NotReadyError(ApiError, RuntimeError):
    """A request arrived before the service finished loading (``loading``), or after
    loading failed."""

    def __init__(self, message: str, *, loading: bool) -> None:
        super().__init__(message)
        self.loading = loading


class UnauthorizedError(ApiError, PermissionError):
    """No or an unknown ``X-API-Key``."""


class RateLimitedError(ApiError, RuntimeError):
    """The caller spent its request budget; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: str) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after} s")
        self.retry_after = retry_after


class BusyError(ApiError, RuntimeError):
    """The caller's requests already fill its slots, and this one waited ``waited``
    seconds in its queue in vain; retry after ``retry_after`` seconds."""

    def __init__(self, waited: float, retry_after: str) -> None:
        super().__init__(
            f"too many requests of this caller in progress; waited {waited:.1f} s for a slot"
        )
        self.waited = waited
        self.retry_after = retry_after


class ClientClosedError(ApiError, ConnectionError):
    """The client hung up before its answer was ready; its work was stopped."""


class FieldError(ApiError, ValueError):
    """A library error about one request field, e.g. ``addresses[3]``."""

    def __init__(self, field: str, error: AddressError) -> None:
        super().__init__(str(error))
        self.field = field
        self.cause = error


def _status(error: AddressError) -> int:
    if isinstance(error, InvalidAddressInputError | UnknownCountryError | FieldError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    if isinstance(error, UnauthorizedError):
        return status.HTTP_401_UNAUTHORIZED
    if isinstance(error, RateLimitedError | BusyError):
        return status.HTTP_429_TOO_MANY_REQUESTS
    if isinstance(error, ClientClosedError):
        return CLIENT_CLOSED_REQUEST
    # NotReadyError, DataNotReadyError, IndexNotReadyError, …: the service cannot answer yet.
    return status.HTTP_503_SERVICE_UNAVAILABLE


def _field_of(error: AddressError) -> str | None:
    if isinstance(error, FieldError):
        return error.field
    if isinstance(error, UnknownCountryError):
        return "country"
    return None


def error_body(error: AddressError) -> ErrorOut:
    """The answer's body for ``error``: ``{"error", "type", "field"}``, with the type of
    the library error behind a :class:`FieldError`."""
    cause = error.cause if isinstance(error, FieldError) else error
    return ErrorOut(error=str(error), type=type(cause).__name__, field=_field_of(error))


# Parts of a validation error's location that name no field: where the value came from,
# and which member of "text or fields" it was tried as.
_NOT_A_FIELD = frozenset({"body", "query", "str", "AddressFieldsIn"})


def _most_telling(errors: Sequence[Any]) -> dict[str, Any]:
    """The error to report: for an address sent as an object, what is wrong inside it,
    not that it is no string (both members of "text or fields" are tried)."""
    inside = [e for e in errors if "AddressFieldsIn" in e.get("loc", ())]
    outside = [e for e in errors if e.get("type") != "string_type" or "str" not in e.get("loc", ())]
    first: dict[str, Any] = (inside or outside or list(errors) or [{}])[0]
    return first


def install_error_handlers(app: FastAPI) -> None:
    """Map typed errors, request-validation errors and Starlette's HTTP errors to JSON
    ``ErrorOut`` bodies."""

    @app.exception_handler(AddressError)
    async def address_error(request: Request, error: AddressError) -> JSONResponse:
        body = error_body(error)
        code = _status(error)
        headers = {}
        if isinstance(error, RateLimitedError | BusyError):
            headers["Retry-After"] = error.retry_after
        elif isinstance(error, NotReadyError) and error.loading:
            headers["Retry-After"] = NOT_READY_RETRY_AFTER
        return JSONResponse(body.model_dump(), status_code=code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = _most_telling(error.errors())
        location = [str(part) for part in first.get("loc", ()) if part not in _NOT_A_FIELD]
        field = ".".join(location) or "body"
        message = str(first.get("msg", "invalid request"))
        if first.get("type") == "json_invalid":  # its location is a character offset
            field, offset = "body", location[0] if location else "?"
            message = f"{message} at character {offset}: {first.get('ctx', {}).get('error')}"
        body = ErrorOut(error=f"{field}: {message}", type="RequestValidationError", field=field)
        return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        """A bug: the answer keeps the error shape and says nothing of the bug's details
        (the traceback goes to the log)."""
        body = ErrorOut(error="internal error", type="InternalServerError", field=None)
        return JSONResponse(body.model_dump(), status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        """Starlette's own answers (unparseable body, unknown route, wrong method), typed."""
        kind = HTTPStatus(error.status_code).phrase.title().replace(" ", "").replace("-", "")
        body = ErrorOut(error=str(error.detail), type=kind, field=None)
        return JSONResponse(body.model_dump(), status_code=error.status_code, headers=error.headers)
