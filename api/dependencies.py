"""What every ``/v1`` route depends on: the caller (authenticated and charged to its
rate budget), the loaded resources, a slot of the caller's to work in, and the request's
address checked.

Example: ``POST /v1/verify/batch`` with 3 addresses and ``X-API-Key: k1`` is charged 3
tokens to ``k1``'s bucket, then runs in one of ``k1``'s slots in the thread pool.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from address.errors import AddressError, WorkStoppedError
from address.fields import AddressFields, FieldInputError
from address.reading import CleanInput, clean_input
from api.errors import (
    BusyError,
    ClientClosedError,
    FieldError,
    RateLimitedError,
    UnauthorizedError,
)
from api.metrics import Metrics
from api.schemas import BATCH_LIMIT, AddressFieldsIn
from api.security import ClientWatch, ConcurrencyLimiter, RateLimiter
from api.settings import ServiceSettings
from api.state import Loaded, Resources

__all__ = [
    "BatchCaller",
    "Caller",
    "FeedbackCaller",
    "Ready",
    "checked_address",
    "get_resources",
    "run_work",
]

T = TypeVar("T")


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def _charge(request: Request, api_key: str | None, cost: int) -> str:
    """Authenticate (when keys are configured) and take ``cost`` from the caller's budget.

    Returns the caller: its API key, or its address when no keys are configured.
    """
    settings: ServiceSettings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    host = request.client.host if request.client else "anonymous"
    if settings.api_keys and not _known_key(api_key, settings.api_keys):
        # Wrong guesses cost the guessing address budget too: no free brute force.
        if (wait := limiter.acquire(f"unauthenticated:{host}")) > 0:
            raise RateLimitedError(limiter.retry_after_header(wait))
        raise UnauthorizedError("a valid X-API-Key header is required")
    # Without configured keys any header value would pass: budget by address, not by it.
    caller = api_key if settings.api_keys and api_key else host
    if (wait := limiter.acquire(caller, cost)) > 0:
        raise RateLimitedError(limiter.retry_after_header(wait))
    return caller


def _caller(
    request: Request, api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> str:
    """The caller of a one-address request, charged one token."""
    return _charge(request, api_key, 1)


async def _listed_cost(request: Request, name: str) -> int:
    """Entries of the body's list ``name`` (at most :data:`BATCH_LIMIT`), 1 without one
    (the body is already parsed and cached by the time dependencies run)."""
    body = await request.json()
    entries = body.get(name) if isinstance(body, dict) else None
    return max(min(len(entries), BATCH_LIMIT), 1) if isinstance(entries, list) else 1


async def _batch_caller(
    request: Request, api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> str:
    """The caller of a batch, charged one token per address."""
    return _charge(request, api_key, await _listed_cost(request, "addresses"))


async def _feedback_caller(
    request: Request, api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> str:
    """The caller of ``POST /v1/feedback``, charged one token per event."""
    return _charge(request, api_key, await _listed_cost(request, "events"))


def _known_key(given: str | None, keys: Sequence[str]) -> bool:
    """Constant-time comparison against every configured key (no timing oracle)."""
    if given is None:
        return False
    offered = given.encode("utf-8", "replace")
    matches = [hmac.compare_digest(offered, key.encode("utf-8")) for key in keys]
    return any(matches)


def _ready(resources: Annotated[Resources, Depends(get_resources)]) -> Loaded:
    return resources.loaded_or_raise()


Caller = Annotated[str, Depends(_caller)]
BatchCaller = Annotated[str, Depends(_batch_caller)]
FeedbackCaller = Annotated[str, Depends(_feedback_caller)]
Ready = Annotated[Loaded, Depends(_ready)]


async def run_work(request: Request, caller: str, work: Callable[[ClientWatch], T]) -> T:
    """Run ``work`` in the thread pool in one of ``caller``'s slots, watching the client.

    ``work`` gets the watch and may poll ``watch.gone`` between steps; a client that
    hangs up while its request is queued or worked on ends it with
    :class:`ClientClosedError` (logged as 499).
    """
    limiter: ConcurrencyLimiter = request.app.state.concurrency
    metrics: Metrics = request.app.state.metrics
    watch = ClientWatch(request.receive)
    try:
        async with limiter.slot(caller, watch.task) as waited:
            metrics.queue_wait.observe(waited)
            return await run_in_threadpool(work, watch)
    except BusyError as error:
        metrics.queue_wait.observe(error.waited)  # the waits given up count too
        raise
    except (ClientClosedError, WorkStoppedError) as error:
        metrics.work_stopped.inc()
        raise ClientClosedError("the client went away; its work was stopped") from error
    finally:
        watch.close()


def checked_address(field: str, value: str | AddressFieldsIn, max_length: int) -> CleanInput:
    """A request's address normalized, ready for verify: a text, or a form's fields with
    each field checked on its own (an error names it: ``address.lines[1]``,
    ``address.postcode``)."""
    item = (
        value
        if isinstance(value, str)
        else AddressFields(
            lines=tuple(value.lines),
            locality=value.locality,
            region=value.region,
            postcode=value.postcode,
            country=value.country,
        )
    )
    try:
        return clean_input(item, max_length)
    except FieldInputError as error:
        raise FieldError(f"{field}.{error.part}", error.cause) from error
    except AddressError as error:  # the text, or the form as one line
        raise FieldError(field, error) from error
