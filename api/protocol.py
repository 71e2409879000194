"""uvicorn's httptools protocol, guarded against slow and malformed clients.

``GuardedHttpToolsProtocol`` is what ``addr serve`` passes to uvicorn as
``http="api.protocol:GuardedHttpToolsProtocol"``. On top of uvicorn's own
keep-alive timeout it bounds, per connection:

- the request line and headers in time (``ADDR_HEADER_TIMEOUT_SECONDS``, 408) and
  in size (``ADDR_MAX_HEADER_BYTES``, 431);
- the request body in time (``ADDR_BODY_TIMEOUT_SECONDS``, 408);
- the whole request, headers to the last byte of the answer
  (``ADDR_REQUEST_TIMEOUT_SECONDS``, 408, or a plain close once the answer began);
- the open connections of one client address (``ADDR_MAX_CONNECTIONS_PER_CLIENT``,
  429; addresses in ``ADDR_TRUSTED_PROXIES`` are exempt).

Each such answer has the service's JSON error shape (``ErrorOut`` in
``api/schemas.py``), ``content-length`` and ``connection: close``, and the socket is
closed after it; uvicorn's plain-text 400 for unparseable requests gets the same
shape. When a body or request timeout cuts a request the app is working on, the
app sees ``http.disconnect`` and its scope holds ``scope["addr.timeout"]``
(``"body"`` or ``"request"``), so its access log can say 408 rather than 499.
Each rejection is counted per process (``connection_events()``) and logged as one
line on ``api.access`` with ``event_kind`` and ``status``: never the request line,
headers or body, which carry personal data.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from asyncio import TimerHandle
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import httptools
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from api.settings import ServiceSettings, get_service_settings

__all__ = [
    "TIMEOUT_SCOPE_KEY",
    "ConnectionLimits",
    "GuardedHttpToolsProtocol",
    "connection_events",
    "open_connections",
]

access = logging.getLogger("api.access")

TIMEOUT_SCOPE_KEY = "addr.timeout"
"""Scope key set ("body", "request") when a timeout cut off a request the app works on."""

# Each kind of rejection: its HTTP status and the ``type`` of its JSON answer.
REJECTIONS: dict[str, tuple[int, str]] = {
    "header_timeout": (408, "RequestTimeout"),
    "body_timeout": (408, "RequestTimeout"),
    "request_timeout": (408, "RequestTimeout"),
    "headers_too_large": (431, "RequestHeaderFieldsTooLarge"),
    "bad_request": (400, "BadRequest"),
    "too_many_connections": (429, "TooManyConnections"),
}
# A request line's bytes besides its method and URL: two spaces, "HTTP/1.1", CRLF.
_REQUEST_LINE_EXTRA = 12
# A header line's bytes besides its name and value: ": " and CRLF.
_HEADER_LINE_EXTRA = 4

# Per-process state, touched only from the event loop's thread.
_events: Counter[str] = Counter(dict.fromkeys(REJECTIONS, 0))
_open: set[GuardedHttpToolsProtocol] = set()
_open_by_client: Counter[str] = Counter()


def connection_events() -> dict[str, int]:
    """How many connections this process rejected, by kind (keys of ``REJECTIONS``)."""
    return dict(_events)


def open_connections() -> int:
    """How many connections this process's guarded protocol holds open now."""
    return len(_open)


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits a ``GuardedHttpToolsProtocol`` enforces (seconds and bytes).

    Attributes:
        header_timeout: Longest wait for a request line and headers.
        body_timeout: Longest wait for a body once the headers are in.
        request_timeout: Longest a request may take, headers to the end of its answer.
        max_header_bytes: Largest request line plus headers.
        max_connections_per_client: Most open connections of one client address.
        trusted_proxies: Exempt from that: addresses, networks (CIDR) or ``"*"``.
    """

    header_timeout: float
    body_timeout: float
    request_timeout: float
    max_header_bytes: int
    max_connections_per_client: int
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ConnectionLimits:
        """The limits configured in ``settings`` (``ADDR_*`` variables)."""
        return cls(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            request_timeout=settings.request_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
            max_connections_per_client=settings.max_connections_per_client,
            trusted_proxies=tuple(settings.trusted_proxies),
        )

    def is_exempt(self, host: str) -> bool:
        """Whether ``host`` is a trusted proxy, free of the per-client connection limit."""
        if not self.trusted_proxies:
            return False
        if "*" in self.trusted_proxies or host in self.trusted_proxies:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        for entry in self.trusted_proxies:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False


def _no_delay(transport: asyncio.Transport) -> None:
    """Send each write at once (TCP_NODELAY). asyncio sets it only on sockets whose
    ``proto`` says TCP, and the listening socket uvicorn binds itself for
    ``addr serve --workers 2`` is made with ``proto`` 0: without this, Nagle's algorithm
    and the client's delayed ACK held every answer of a multi-worker server back ~40 ms
    (/healthz: 44 ms with two workers, 0.8 ms with one)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Rejected(Exception):
    """Raised from a parser callback to stop parsing once the request was answered."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header, body and request timeouts, a header
    size limit, a per-client connection limit and JSON error answers.

    The limits are read once per process from ``get_service_settings()``; a subclass may set
    ``limits`` instead (the tests do). Timers: the header timer runs from the
    connection (or the first byte of a later request) to the end of the headers, the
    body timer from there to the end of the body, the request timer from the end of
    the headers to the end of the answer; a header or body timer that expires while
    uvicorn itself has paused reading (pipelining, a body the app has not read yet)
    starts over, as the client is not the slow one. All are cancelled when the
    connection is lost.

    Example:
        >>> import uvicorn
        >>> config = uvicorn.Config(
        ...     "api.app:create_app", factory=True, http="api.protocol:GuardedHttpToolsProtocol"
        ... )
    """

    limits: ClassVar[ConnectionLimits | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self._configured_limits()
        # "headers" until a request's headers are in (the header timer runs), "body" until
        # its body is (the body timer runs), then "idle" until the next request begins
        # (uvicorn's keep-alive timer runs once the answer is sent).
        self._phase = "headers"
        self._header_bytes = 0  # raw bytes received while headers were incomplete
        self._header_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._request_timer: TimerHandle | None = None
        self._counted_client: str | None = None  # whose per-client count this holds

    @classmethod
    def _configured_limits(cls) -> ConnectionLimits:
        if cls.limits is None:
            cls.limits = ConnectionLimits.from_settings(get_service_settings())
        return cls.limits

    # Connection life

    # Narrower than asyncio's BaseTransport, as in uvicorn's own protocol.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        _open.add(self)
        host = self.client[0] if self.client else None
        if host is not None and not self._limits.is_exempt(host):
            if _open_by_client[host] >= self._limits.max_connections_per_client:
                limit = self._limits.max_connections_per_client
                self._reject("too_many_connections", f"more than {limit} open connections")
                return
            _open_by_client[host] += 1
            self._counted_client = host
        self._header_timer = self._later(self._limits.header_timeout, self._on_header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        self._release()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        # The connection passes to the WebSocket protocol: its limits end here.
        self._cancel_timers()
        self._release()
        super().handle_websocket_upgrade()

    def _release(self) -> None:
        _open.discard(self)
        host, self._counted_client = self._counted_client, None
        if host is not None:
            _open_by_client[host] -= 1
            if _open_by_client[host] <= 0:
                del _open_by_client[host]

    # Data and parser callbacks

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        if self._phase != "body":
            self._header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            # Either a callback answered already (_Rejected) or the request is malformed.
            self.send_400_response("Invalid HTTP request received.")
            return
        if self._phase != "body" and self._header_bytes > self._limits.max_header_bytes:
            self._reject_headers_too_large()
        elif self._phase == "headers" and self._header_timer is None:
            self._header_timer = self._later(self._limits.header_timeout, self._on_header_timeout)
        elif self._phase == "body" and self._body_timer is None:
            self._body_timer = self._later(self._limits.body_timeout, self._on_body_timeout)
        elif self._phase == "idle" and self.cycle.response_complete:
            # Bytes that begin no request (blank lines) must not hold the connection
            # open: the keep-alive timeout starts over.
            self.timeout_keep_alive_task = self._later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def send_400_response(self, msg: str) -> None:
        self._reject("bad_request", msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = "headers"

    def on_headers_complete(self) -> None:
        self._phase = "body"
        self._header_bytes = 0
        self._cancel(self._header_timer)
        self._header_timer = None
        size = (
            len(self.parser.get_method())
            + len(self.url)
            + _REQUEST_LINE_EXTRA
            + sum(len(name) + len(value) + _HEADER_LINE_EXTRA for name, value in self.headers)
            + 2
        )
        if size > self._limits.max_header_bytes:
            self._reject_headers_too_large()
            raise _Rejected
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous and self._request_timer is None:
            self._arm_request_timer(self.cycle)

    def on_message_complete(self) -> None:
        self._phase = "idle"
        self._header_bytes = 0
        self._cancel(self._body_timer)
        self._body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._cancel(self._request_timer)
        self._request_timer = None
        following = self.pipeline[-1][0] if self.pipeline else None
        super().on_response_complete()
        if following is not None and not self.transport.is_closing():
            self._arm_request_timer(following)

    # Timeouts and rejections

    def _later(self, seconds: float, callback: Callable[..., None], *args: Any) -> TimerHandle:
        return self.loop.call_later(seconds, callback, *args)

    def _arm_request_timer(self, cycle: RequestResponseCycle) -> None:
        seconds = self._limits.request_timeout
        self._request_timer = self._later(seconds, self._on_request_timeout, cycle)

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # uvicorn holds the data back, not the client: wait again
            self._header_timer = self._later(self._limits.header_timeout, self._on_header_timeout)
            return
        seconds = self._limits.header_timeout
        # While a pipelined request is still being answered, only close.
        answer = self.cycle is None or self.cycle.response_complete
        self._reject("header_timeout", f"request headers not received within {seconds:g} s", answer)

    def _on_body_timeout(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # uvicorn holds the data back, not the client: wait again
            self._body_timer = self._later(self._limits.body_timeout, self._on_body_timeout)
            return
        cast("dict[str, Any]", self.cycle.scope)[TIMEOUT_SCOPE_KEY] = "body"
        seconds = self._limits.body_timeout
        answer = not self.cycle.response_started and not self.pipeline
        self._reject("body_timeout", f"request body not received within {seconds:g} s", answer)

    def _on_request_timeout(self, cycle: RequestResponseCycle) -> None:
        self._request_timer = None
        if self.transport.is_closing() or cycle.response_complete:
            return
        cast("dict[str, Any]", cycle.scope)[TIMEOUT_SCOPE_KEY] = "request"
        seconds = self._limits.request_timeout
        message = f"request not answered within {seconds:g} s"
        self._reject("request_timeout", message, not cycle.response_started, cycle)

    def _reject_headers_too_large(self) -> None:
        limit = self._limits.max_header_bytes
        self._reject("headers_too_large", f"request line and headers exceed {limit} bytes")

    def _reject(
        self,
        kind: str,
        error: str,
        answer: bool = True,
        cycle: RequestResponseCycle | None = None,
    ) -> None:
        """Count and log a rejection, write its JSON answer if ``answer``, and close."""
        if self.transport.is_closing():
            return
        status, error_type = REJECTIONS[kind]
        _events[kind] += 1
        access.warning("connection rejected", extra={"event_kind": kind, "status": status})
        if answer:
            body = json.dumps(
                {"error": error, "type": error_type, "field": None}, separators=(",", ":")
            ).encode()
            head = [STATUS_LINE[status]]
            for name, value in self.server_state.default_headers:
                head.extend([name, b": ", value, b"\r\n"])
            head.append(
                b"content-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n" % len(body)
            )
            self.transport.write(b"".join(head) + body)
        self._cancel_timers()
        # The app, if it is working on this request, sees http.disconnect from now on.
        for current in {self.cycle, cycle} - {None}:
            if current is not None and not current.response_complete:
                current.disconnected = True
                current.message_event.set()
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer, self._request_timer):
            self._cancel(timer)
        self._header_timer = self._body_timer = self._request_timer = None

    @staticmethod
    def _cancel(timer: TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
