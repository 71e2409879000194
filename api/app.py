"""FastAPI application: autocomplete, suggest, verify, delivery feedback, nearby
addresses, health, metrics and the checkout page.

Start it with ``addr serve`` (``make run``); the OpenAPI docs are at ``/docs``.
Handlers only translate requests into library calls (``address.verify``,
``AddressIndex.search``/``autocomplete``, ``FeedbackStore.record``) and results into
``api.schemas``; each first catches the index up with deliveries recorded by any worker
(``LiveIndex.sync``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette import status

from address.errors import AddressError, EmptyAddressError
from address.libpostal import parse
from address.normalize import normalize
from address.paths import use_data
from address.reading import CleanInput
from address.verify import Verification, verify_batch
from address.verify import suggest as suggest_addresses
from api.access import AccessLog
from api.dependencies import (
    BatchCaller,
    Caller,
    FeedbackCaller,
    Ready,
    checked_address,
    get_resources,
    run_work,
)
from api.errors import NOT_READY_RETRY_AFTER, FieldError, error_body, install_error_handlers
from api.feedback import (
    answers,
    caller_fingerprint,
    feedback_entries,
    feedback_events,
    nearby_points,
    record_events,
    refit_in_background,
)
from api.logs import address_hash
from api.metrics import Metrics
from api.schemas import (
    AddressFieldsIn,
    BatchIn,
    BatchOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    HealthOut,
    NearbyOut,
    ParseOut,
    ReadyOut,
    SuggestIn,
    SuggestionOut,
    SuggestionsOut,
    VerificationOut,
    VerifyIn,
)
from api.security import BodySizeLimit, ClientWatch, ConcurrencyLimiter, RateLimiter
from api.settings import ServiceSettings, get_service_settings
from api.state import Loaded, Resources

if TYPE_CHECKING:
    from index.live import LiveIndex

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).parent / "static"
BATCH_SLICE = 100
"""Addresses of a batch verified between two looks at whether the client is still there."""
logger = logging.getLogger("api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown X-API-Key."},
    422: {"model": ErrorOut, "description": "Invalid request; `field` names the culprit."},
    429: {
        "model": ErrorOut,
        "description": "Rate limit exceeded, or the key's queue stayed full; see Retry-After.",
    },
    503: {
        "model": ErrorOut,
        "description": "Still loading (see Retry-After), or a resource failed to load.",
    },
}


def _checked(field: str, text: str, max_length: int) -> str:
    try:
        return normalize(text, max_length=max_length)
    except AddressError as error:
        raise FieldError(field, error) from error


def _checked_entry(
    field: str, value: str | AddressFieldsIn, max_length: int
) -> CleanInput | ErrorOut:
    """A batch entry normalized, or its own error in its place."""
    try:
        return checked_address(field, value, max_length)
    except FieldError as error:
        return error_body(error)


def _within_limit(field: str, text: str, max_length: int) -> str:
    """Typed text as it is, once its normalized form is known to be within the length
    limit; blank text passes (autocomplete answers it with no suggestions)."""
    try:
        normalize(text, max_length=max_length)
    except EmptyAddressError:
        pass
    except AddressError as error:
        raise FieldError(field, error) from error
    return text


def _suggestions(candidates: Sequence[Any]) -> SuggestionsOut:
    return SuggestionsOut(suggestions=[SuggestionOut.model_validate(c) for c in candidates])


def create_app(
    *, load_in_background: bool = True, settings: ServiceSettings | None = None
) -> FastAPI:
    """Build the app; heavy resources load in the lifespan, never at import.

    Args:
        load_in_background: load in a thread so ``/healthz`` answers at once and
            ``/readyz`` says 503 until everything is loaded (what ``addr serve``
            does); ``False`` loads before the first request (tests).
        settings: overrides ``get_service_settings()``.
    """
    config = settings or get_service_settings()
    use_data(config.data_paths())
    metrics = Metrics()
    # Library warnings (deprecations while loading models) become log records, so
    # the service's output stays one JSON object a line.
    logging.captureWarnings(True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = Resources(
            index_dir=config.index_dir,
            adapter_dir=config.adapter_path,
            feedback_db=config.feedback_db,
            feedback_secret=(
                config.feedback_secret.get_secret_value() if config.feedback_secret else None
            ),
            default_country=config.default_country,
        )
        app.state.resources = resources
        if load_in_background:
            resources.load_in_background()
        else:
            resources.load_all()
        yield

    app = FastAPI(
        title="Address verification and suggestion service",
        version="0.1.0",
        summary="Verify, standardize and autocomplete postal addresses against known-good data.",
        lifespan=lifespan,
    )
    app.state.settings = config
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(config.rate_limit_per_second, config.rate_limit_burst)
    app.state.concurrency = ConcurrencyLimiter(
        config.max_concurrent_per_key, config.queue_timeout_seconds
    )
    metrics.watch(app.state.concurrency)
    install_error_handlers(app)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(AccessLog, metrics=metrics)  # outermost: sees every answer
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def record(
        inputs: Sequence[CleanInput], results: Sequence[Verification], started: float
    ) -> None:
        """Count verdicts and log them; addresses are personal data, so only their hash."""
        for result in results:
            metrics.record(result)
        logger.info(
            "verify",
            extra={
                "addresses": len(results),
                "address_sha256": [address_hash(t.text()) for t in inputs[:20]],
                "verdicts": [r.verdict.value for r in results[:20]],
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )

    @app.get("/", include_in_schema=False)
    async def checkout_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/healthz", response_model=HealthOut, tags=["operations"])
    async def healthz() -> HealthOut:
        """The process is up (it may still be loading)."""
        return HealthOut(status="ok")

    @app.get(
        "/readyz",
        response_model=ReadyOut,
        tags=["operations"],
        responses={503: {"model": ReadyOut, "description": "Still loading or failed to load."}},
    )
    async def readyz(resources: Annotated[Resources, Depends(get_resources)]) -> JSONResponse:
        """200 once libpostal, the gazetteer, the index, its embedding model, the
        classifier and the feedback store are loaded and warm; 503 (with Retry-After)
        before."""
        body = ReadyOut(ready=resources.ready, components=resources.loaded, error=resources.error)
        if resources.ready:
            return JSONResponse(body.model_dump())
        headers = {"Retry-After": NOT_READY_RETRY_AFTER} if resources.loading else {}
        code = status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(body.model_dump(), status_code=code, headers=headers)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus(resources: Annotated[Resources, Depends(get_resources)]) -> Response:
        """Prometheus metrics: latency per route, verdict and reason counts, index size,
        the keys' queues."""
        if resources.index is not None:
            metrics.index_size.set(len(resources.index))
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/autocomplete", response_model=SuggestionsOut, responses=_ERRORS, tags=["address"])
    async def autocomplete(
        request: Request,
        caller: Caller,
        loaded: Ready,
        q: Annotated[
            str, Query(description="What the customer typed so far.", examples=["4570 froz"])
        ],
        limit: Annotated[int, Query(ge=1, le=50)] = 5,
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", examples=["US"])] = None,
        locality: Annotated[
            str | None,
            Query(max_length=100, description="Town already given.", examples=["Anamosa"]),
        ] = None,
        postcode: Annotated[
            str | None,
            Query(max_length=20, description="Postcode already given.", examples=["52205"]),
        ] = None,
    ) -> SuggestionsOut:
        """Suggestions for a prefix, on every keystroke (useful from the 3rd character).

        With ``locality`` and/or ``postcode`` only addresses in that town (a typo
        tolerated, ``Anamsoa``) and postcode (``NW1 6XE`` = ``nw16xe``) are suggested;
        none when no address there completes the prefix."""
        prefix = _within_limit("q", q, config.max_address_length)
        found = await run_work(
            request,
            caller,
            lambda _: _synced(loaded).autocomplete(prefix, limit, country, locality, postcode),
        )
        return _suggestions(found)

    @app.post("/v1/suggest", response_model=SuggestionsOut, responses=_ERRORS, tags=["address"])
    async def suggest(
        request: Request, caller: Caller, loaded: Ready, body: SuggestIn
    ) -> SuggestionsOut:
        """Ranked known-good addresses for a full, possibly wrong, address (a text or a
        form's fields), read as verify reads it: extras taken out, fields kept apart."""
        item = checked_address("address", body.address, config.max_address_length)
        found = await run_work(
            request,
            caller,
            lambda _: suggest_addresses(
                item, body.country, searcher=_synced(loaded), limit=body.limit
            ),
        )
        return _suggestions(found)

    @app.post("/v1/verify", response_model=VerificationOut, responses=_ERRORS, tags=["address"])
    async def verify(
        request: Request, caller: Caller, loaded: Ready, body: VerifyIn
    ) -> VerificationOut:
        """Verdict, reasons, standardized form, location and "did you mean" for one
        address, given as typed or as a form's fields; recipient, phone, notes and the
        like come back in ``extras``. ``verification_id`` names the answer for
        ``POST /v1/feedback``; ``delivery_history`` and ``delivery_risk`` tell how
        deliveries to the address went."""
        started = time.perf_counter()
        item = checked_address("address", body.address, config.max_address_length)

        def verified(_: ClientWatch) -> VerificationOut:
            results = _verify(loaded, [item], body.country, config)
            record([item], results, started)
            return answers(results, loaded)[0]

        return await run_work(request, caller, verified)

    @app.post("/v1/verify/batch", response_model=BatchOut, responses=_ERRORS, tags=["address"])
    async def verify_many(
        request: Request, caller: BatchCaller, loaded: Ready, body: BatchIn
    ) -> BatchOut:
        """Verify up to 1,000 addresses; results come back in input order, an entry that
        cannot be read as an address answered by its own error (``field``:
        ``addresses[2]``). Work stops within one slice of 100 addresses when the client
        hangs up. Costs one token of the rate budget per address."""
        started = time.perf_counter()

        def in_slices(watch: ClientWatch) -> BatchOut:
            """Normalize, verify and answer in the thread pool (1,000 addresses keep the
            event loop busy for a noticeable time); verify_batch asks whether the client
            is still there before each address of each slice."""
            entries = [
                _checked_entry(f"addresses[{i}]", item, config.max_address_length)
                for i, item in enumerate(body.addresses)
            ]
            items = [entry for entry in entries if not isinstance(entry, ErrorOut)]
            done: list[Verification] = []
            for start in range(0, len(items), BATCH_SLICE):
                part = items[start : start + BATCH_SLICE]
                done += _verify(loaded, part, body.country, config, stop=lambda: watch.gone)
            record(items, done, started)
            answered = iter(answers(done, loaded))
            return BatchOut(
                results=[
                    entry if isinstance(entry, ErrorOut) else next(answered) for entry in entries
                ]
            )

        return await run_work(request, caller, in_slices)

    @app.get("/v1/parse", response_model=ParseOut, responses=_ERRORS, tags=["address"])
    async def parse_address(
        request: Request,
        caller: Caller,
        _: Ready,
        q: Annotated[str, Query(examples=["Flat 3, 12 Baker St, London NW1 6XE"])],
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", examples=["GB"])] = None,
    ) -> ParseOut:
        """Split an address into libpostal components."""
        text = _checked("q", q, config.max_address_length)
        components = await run_work(request, caller, lambda _: parse(text, country).components())
        return ParseOut(normalized=text, components=components)

    @app.post("/v1/feedback", response_model=FeedbackOut, responses=_ERRORS, tags=["feedback"])
    async def feedback(
        request: Request, caller: FeedbackCaller, loaded: Ready, body: FeedbackIn
    ) -> FeedbackOut:
        """Report how deliveries went: one event, or up to 1,000 in ``events``, each for
        an earlier answer's ``verification_id`` or for an ``address`` (verified first).
        An ``event_id`` sent again is counted once. A ``delivered`` address that verify
        did not call ``invalid`` becomes known-good, at its ``location`` when given, for
        the next request of any worker. Costs one token of the rate budget per event;
        each event is stored with the caller's fingerprint."""
        entries = feedback_entries(body, loaded, config.max_address_length)
        fingerprint = caller_fingerprint(caller, keyed=bool(config.api_keys))

        def recorded(_: ClientWatch) -> FeedbackOut:
            events = feedback_events(
                entries, lambda items, hint: _verify(loaded, items, hint, config), fingerprint
            )
            answer = record_events(loaded, events)
            refit_in_background(loaded)
            return answer

        return await run_work(request, caller, recorded)

    @app.get("/v1/nearby", response_model=NearbyOut, responses=_ERRORS, tags=["address"])
    async def nearby(
        request: Request,
        caller: Caller,
        loaded: Ready,
        lat: Annotated[float, Query(ge=-90, le=90, examples=[64.14597])],
        lon: Annotated[float, Query(ge=-180, le=180, examples=[-21.93096])],
        limit: Annotated[int, Query(ge=1, le=200)] = 40,
    ) -> NearbyOut:
        """Known-good addresses within 400 m of a point, with their coordinates; the
        checkout page draws them around the address it verified."""
        return await run_work(
            request, caller, lambda _: nearby_points(_synced(loaded), lat, lon, limit)
        )

    return app


def _verify(
    loaded: Loaded,
    items: Sequence[CleanInput],
    country: str | None,
    settings: ServiceSettings,
    stop: Callable[[], bool] | None = None,
) -> list[Verification]:
    return verify_batch(
        items,
        country,
        searcher=_synced(loaded),
        classifier=loaded.classifier,
        stop=stop,
        default_country=settings.default_country,
    )


def _synced(loaded: Loaded) -> LiveIndex:
    """The index, caught up with the addresses deliveries confirmed in any worker."""
    loaded.index.sync()
    return loaded.index
