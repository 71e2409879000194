"""FastAPI application: autocomplete, suggest, verify, health, metrics and the checkout page.

Start it with ``addr serve`` (``make run``); the OpenAPI docs are at ``/docs``.
Handlers only translate requests into library calls (``address.verify``,
``AddressIndex.search``/``autocomplete``) and results into ``api.schemas``.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette import status

from address.errors import AddressError, AddressTooLongError
from address.libpostal import parse
from address.normalize import normalize
from address.settings import Settings, get_settings
from address.verify import Verification, verify_batch
from api.errors import (
    FieldError,
    RateLimitedError,
    UnauthorizedError,
    install_error_handlers,
)
from api.logs import address_hash
from api.metrics import Metrics
from api.schemas import (
    BatchIn,
    BatchOut,
    ErrorOut,
    HealthOut,
    ParseOut,
    ReadyOut,
    SuggestIn,
    SuggestionOut,
    SuggestionsOut,
    VerificationOut,
    VerifyIn,
)
from api.security import BodySizeLimit, RateLimiter
from api.state import Loaded, Resources

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).parent / "static"
logger = logging.getLogger("api")
access = logging.getLogger("api.access")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown X-API-Key."},
    422: {"model": ErrorOut, "description": "Invalid request; `field` names the culprit."},
    429: {"model": ErrorOut, "description": "Rate limit exceeded; see Retry-After."},
    503: {"model": ErrorOut, "description": "Still loading, or a resource failed to load."},
}


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def _caller(
    request: Request, api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> str:
    """Authenticate (when keys are configured) and charge the caller's rate budget."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    host = request.client.host if request.client else "anonymous"
    if settings.api_keys and not _known_key(api_key, settings.api_keys):
        # Wrong guesses cost the guessing address budget too: no free brute force.
        if (wait := limiter.acquire(f"unauthenticated:{host}")) > 0:
            raise RateLimitedError(limiter.retry_after_header(wait))
        raise UnauthorizedError("a valid X-API-Key header is required")
    # Without configured keys any header value would pass: budget by address, not by it.
    caller = api_key if settings.api_keys and api_key else host
    if (wait := limiter.acquire(caller)) > 0:
        raise RateLimitedError(limiter.retry_after_header(wait))
    return caller


def _known_key(given: str | None, keys: Sequence[str]) -> bool:
    """Constant-time comparison against every configured key (no timing oracle)."""
    if given is None:
        return False
    offered = given.encode("utf-8", "replace")
    matches = [hmac.compare_digest(offered, key.encode("utf-8")) for key in keys]
    return any(matches)


def _ready(
    resources: Annotated[Resources, Depends(_resources)], _: Annotated[str, Depends(_caller)]
) -> Loaded:
    return resources.loaded_or_raise()


Ready = Annotated[Loaded, Depends(_ready)]


def _checked(field: str, text: str) -> str:
    try:
        return normalize(text)
    except AddressError as error:
        raise FieldError(field, error) from error


def _within_limit(field: str, text: str) -> str:
    limit = get_settings().max_address_length
    if len(text) > limit:
        raise FieldError(field, AddressTooLongError(len(text), limit))
    return text


def _suggestions(candidates: Sequence[Any]) -> SuggestionsOut:
    return SuggestionsOut(suggestions=[SuggestionOut.model_validate(c) for c in candidates])


def _install_timing(app: FastAPI, metrics: Metrics) -> None:
    @app.middleware("http")
    async def time_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        seconds = time.perf_counter() - started
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        metrics.latency.labels(name, str(response.status_code)).observe(seconds)
        # The access log: the route template, never the path or query as sent
        # (they carry the address typed into autocomplete, or a key in the URL).
        access.info(
            "request",
            extra={
                "method": request.method,
                "route": name,
                "status": response.status_code,
                "ms": round(seconds * 1000, 1),
            },
        )
        return response


def create_app(*, load_in_background: bool = True, settings: Settings | None = None) -> FastAPI:
    """Build the app; heavy resources load in the lifespan, never at import.

    Args:
        load_in_background: load in a thread so ``/healthz`` answers at once and
            ``/readyz`` says 503 until everything is loaded (what ``addr serve``
            does); ``False`` loads before the first request (tests).
        settings: overrides ``get_settings()``.
    """
    config = settings or get_settings()
    metrics = Metrics()
    # Library warnings (deprecations while loading models) become log records, so
    # the service's output stays one JSON object a line.
    logging.captureWarnings(True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = Resources(index_dir=config.index_dir, adapter_dir=config.adapter_path)
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
    install_error_handlers(app)
    _install_timing(app, metrics)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def record(texts: Sequence[str], results: Sequence[Verification], started: float) -> None:
        """Count verdicts and log them; addresses are personal data, so only their hash."""
        for result in results:
            metrics.record(result)
        logger.info(
            "verify",
            extra={
                "addresses": len(results),
                "address_sha256": [address_hash(t) for t in texts[:20]],
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
    async def readyz(resources: Annotated[Resources, Depends(_resources)]) -> JSONResponse:
        """200 once libpostal, the index and the classifier are loaded; 503 before."""
        body = ReadyOut(ready=resources.ready, components=resources.loaded, error=resources.error)
        code = status.HTTP_200_OK if resources.ready else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(body.model_dump(), status_code=code)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus(resources: Annotated[Resources, Depends(_resources)]) -> Response:
        """Prometheus metrics: latency per route, verdict and reason counts, index size."""
        if resources.index is not None:
            metrics.index_size.set(len(resources.index))
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/autocomplete", response_model=SuggestionsOut, responses=_ERRORS, tags=["address"])
    def autocomplete(
        loaded: Ready,
        q: Annotated[
            str, Query(description="What the customer typed so far.", examples=["4570 froz"])
        ],
        limit: Annotated[int, Query(ge=1, le=50)] = 5,
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", examples=["US"])] = None,
    ) -> SuggestionsOut:
        """Suggestions for a prefix, on every keystroke (useful from the 3rd character)."""
        return _suggestions(loaded.index.autocomplete(_within_limit("q", q), limit, country))

    @app.post("/v1/suggest", response_model=SuggestionsOut, responses=_ERRORS, tags=["address"])
    def suggest(loaded: Ready, body: SuggestIn) -> SuggestionsOut:
        """Ranked known-good addresses for a full, possibly wrong, address."""
        text = _checked("address", body.address)
        return _suggestions(loaded.index.search(text, body.limit, body.country))

    @app.post("/v1/verify", response_model=VerificationOut, responses=_ERRORS, tags=["address"])
    def verify(loaded: Ready, body: VerifyIn) -> VerificationOut:
        """Verdict, reasons, standardized form and "did you mean" for one address."""
        started = time.perf_counter()
        text = _checked("address", body.address)
        results = _verify(loaded, [text], body.country)
        record([text], results, started)
        return VerificationOut.model_validate(results[0])

    @app.post("/v1/verify/batch", response_model=BatchOut, responses=_ERRORS, tags=["address"])
    def verify_many(loaded: Ready, body: BatchIn) -> BatchOut:
        """Verify up to 1,000 addresses; results come back in input order."""
        started = time.perf_counter()
        texts = [_checked(f"addresses[{i}]", text) for i, text in enumerate(body.addresses)]
        results = _verify(loaded, texts, body.country)
        record(texts, results, started)
        return BatchOut(results=[VerificationOut.model_validate(r) for r in results])

    @app.get("/v1/parse", response_model=ParseOut, responses=_ERRORS, tags=["address"])
    def parse_address(
        _: Ready,
        q: Annotated[str, Query(examples=["Flat 3, 12 Baker St, London NW1 6XE"])],
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", examples=["GB"])] = None,
    ) -> ParseOut:
        """Split an address into libpostal components."""
        text = _checked("q", q)
        return ParseOut(normalized=text, components=parse(text, country).components())

    return app


def _verify(loaded: Loaded, texts: list[str], country: str | None) -> list[Verification]:
    return verify_batch(texts, country, searcher=loaded.index, classifier=loaded.classifier)
