"""The access log and latency metrics: one JSON line and one histogram sample a request.

Requests are named by the route that served them (``/v1/verify``, ``/static``,
``/docs``), never by the path or query as sent: those carry the address typed
into autocomplete, or a key in the URL. A request nobody was left to answer is
logged as ``499 client closed``, and one the server cut off for taking too long
(``api.protocol`` marks it in the scope) as 408.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette import status
from starlette.routing import Match

from api.errors import CLIENT_CLOSED_REQUEST
from api.metrics import Metrics
from api.protocol import TIMEOUT_SCOPE_KEY
from api.security import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog"]

access = logging.getLogger("api.access")


class AccessLog:
    """ASGI middleware that logs and times every HTTP request by its route.

    Example: ``POST /v1/verify`` with ``{"address": "4570 Frozen Hill Rd, Anamosa"}``
    logs ``{"event": "request", "method": "POST", "route": "/v1/verify",
    "status": 200, "ms": 31.2}``.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        name = _route_name(scope)
        answered: int | None = None

        async def send_and_note(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            answered = answered or status.HTTP_500_INTERNAL_SERVER_ERROR  # answered outside
            raise
        finally:
            seconds = time.perf_counter() - started
            code = _status(scope, answered)
            self.metrics.latency.labels(name, str(code)).observe(seconds)
            extra: dict[str, Any] = {
                "method": scope.get("method"),
                "route": name,
                "status": code,
                "ms": round(seconds * 1000, 1),
            }
            if code == CLIENT_CLOSED_REQUEST:
                extra["detail"] = "client closed"
            access.info("request", extra=extra)


def _status(scope: Scope, answered: int | None) -> int:
    """The status the request ended with: the server's cut-off first, else what the app
    answered, else the client left before any answer."""
    if scope.get(TIMEOUT_SCOPE_KEY):
        return status.HTTP_408_REQUEST_TIMEOUT
    return answered if answered is not None else CLIENT_CLOSED_REQUEST


def _route_name(scope: Scope) -> str:
    """The template of the route that will serve the request (``/v1/verify``), a mount's
    prefix (``/static``), or ``unmatched`` for paths no route serves. Matched before the
    app runs: a mount rewrites the scope's paths on the way in."""
    partial = None
    for route in scope["app"].routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(route.path)
        if match is Match.PARTIAL and partial is None:
            partial = str(route.path)  # the path is served, not with this method
    return partial or "unmatched"
