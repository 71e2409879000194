"""The guarded HTTP protocol (api/protocol.py) under real uvicorn and raw sockets:
slow and malformed clients get a JSON answer where one can be sent and are closed
within their limit; counters and the per-client limit hold."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner
from uvicorn.importer import import_from_string

from api import protocol
from api.protocol import (
    TIMEOUT_SCOPE_KEY,
    ConnectionLimits,
    GuardedHttpToolsProtocol,
    connection_events,
    open_connections,
)
from api.settings import ServiceSettings, get_service_settings

# Short limits, so that each case takes about a second.
LIMITS = ConnectionLimits(
    header_timeout=1.0,
    body_timeout=1.0,
    request_timeout=1.5,
    max_header_bytes=16_384,
    max_connections_per_client=3,
)
KEEP_ALIVE_SECONDS = 1
# How much later than its limit a socket may be closed (the machine's cores are shared).
SLACK = 1.5


class _Protocol(GuardedHttpToolsProtocol):
    limits = LIMITS


class _App:
    """A tiny ASGI app: reads the whole body, answers its length as JSON; ``/sleep``
    first sleeps ``?seconds``. Keeps each scope and whether it saw a disconnect."""

    def __init__(self) -> None:
        self.scopes: dict[bytes, dict[str, Any]] = {}
        self.disconnected: set[bytes] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        key = scope["query_string"]
        self.scopes[key] = scope
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected.add(key)
                return
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        if scope["path"] == "/sleep":
            await asyncio.sleep(float(key.decode().rpartition("=")[2] or 0))
        body = json.dumps({"bytes": size}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Server:
    def __init__(self, app: _App, port: int) -> None:
        self.app = app
        self.port = port


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    """uvicorn with the guarded protocol and short limits, in a thread of this process."""
    app = _App()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        http=_Protocol,
        lifespan="off",
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=1,
    )
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvi.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    port = uvi.servers[0].sockets[0].getsockname()[1]
    yield _Server(app, port)
    uvi.should_exit = True
    thread.join(timeout=5)


def _connect(server: _Server, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(
        ("127.0.0.1", server.port), timeout=5, source_address=(source, 0)
    )
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _send(sock: socket.socket, data: bytes) -> None:
    """Send, ignoring a server that already answered and closed."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def _until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the socket, and when it closed."""
    start = time.monotonic()
    sock.settimeout(within)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"still open after {within} s; received {received[:200]!r}")
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return received, time.monotonic() - start
        received += chunk


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer read from ``sock`` (it must carry content-length), and not a byte
    of the next one (pipelined answers follow each other on the socket)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, f"closed mid-answer: {head!r}"
        head += byte
    return _split(head, sock)


def _split(data: bytes, sock: socket.socket | None = None) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"])
    while sock is not None and len(body) < length:
        body += sock.recv(length - len(body))
    assert len(body) == length, (headers, body)
    return int(status_line.split()[1]), headers, body


def _assert_json_error(data: bytes, status: int, error_type: str) -> None:
    code, headers, body = _split(data)
    assert code == status, data
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    error = json.loads(body)
    assert set(error) == {"error", "type", "field"}
    assert error["type"] == error_type
    assert error["field"] is None
    assert isinstance(error["error"], str) and error["error"]


class _Counted:
    """Asserts that a block adds exactly one event of ``kind``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __enter__(self) -> None:
        self.before = connection_events()[self.kind]

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert connection_events()[self.kind] == self.before + 1


def _wait_for(condition: Any, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_request_and_keep_alive_reuse_work(server: _Server) -> None:
    with _connect(server) as sock:
        for path in (b"/a", b"/b"):
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            status, headers, body = _answer(sock)
            assert (status, json.loads(body)) == (200, {"bytes": 0})
            assert headers.get("connection") != "close"
        sock.sendall(b"POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        assert json.loads(_answer(sock)[2]) == {"bytes": 5}
        # Pipelined: both answered, in order.
        sock.sendall(
            b"POST /d HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
            b"GET /e HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        assert json.loads(_answer(sock)[2]) == {"bytes": 2}
        assert json.loads(_answer(sock)[2]) == {"bytes": 0}


def test_a_body_in_the_same_packet_as_the_headers_is_not_counted_as_headers(
    server: _Server,
) -> None:
    body = b"x" * 50_000
    with _connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n" + body)
        assert json.loads(_answer(sock)[2]) == {"bytes": 50_000}


def test_an_idle_connection_gets_408(server: _Server) -> None:
    with _Counted("header_timeout"), _connect(server) as sock:
        data, seconds = _until_closed(sock, LIMITS.header_timeout + SLACK)
    _assert_json_error(data, 408, "RequestTimeout")
    assert seconds >= LIMITS.header_timeout - 0.2


def test_headers_sent_a_byte_at_a_time_get_408(server: _Server) -> None:
    """Slowloris: each byte arrives in time, the headers never end."""
    with _Counted("header_timeout"), _connect(server) as sock:
        start = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        sock.settimeout(0.2)
        data = b""
        while not data and time.monotonic() - start < LIMITS.header_timeout + SLACK:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                _send(sock, b"a")
        rest, _ = _until_closed(sock, 1)
        seconds = time.monotonic() - start
    _assert_json_error(data + rest, 408, "RequestTimeout")
    assert LIMITS.header_timeout - 0.2 <= seconds <= LIMITS.header_timeout + SLACK


def test_a_body_shorter_than_its_content_length_gets_408(server: _Server) -> None:
    with _Counted("body_timeout"), _connect(server) as sock:
        sock.sendall(b"POST /?short HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
        data, seconds = _until_closed(sock, LIMITS.body_timeout + SLACK)
    _assert_json_error(data, 408, "RequestTimeout")
    assert seconds >= LIMITS.body_timeout - 0.2
    # The app, waiting for the rest, saw a disconnect and the reason in its scope.
    _wait_for(lambda: b"short" in server.app.disconnected)
    assert server.app.scopes[b"short"][TIMEOUT_SCOPE_KEY] == "body"


def test_an_unterminated_chunked_body_gets_408(server: _Server) -> None:
    with _Counted("body_timeout"), _connect(server) as sock:
        sock.sendall(
            b"POST /?chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n"
        )
        data, _ = _until_closed(sock, LIMITS.body_timeout + SLACK)
    _assert_json_error(data, 408, "RequestTimeout")
    _wait_for(lambda: b"chunked" in server.app.disconnected)


def test_an_idle_keep_alive_connection_is_closed(server: _Server) -> None:
    before = connection_events()
    with _connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert _answer(sock)[0] == 200
        time.sleep(KEEP_ALIVE_SECONDS / 2)
        sock.sendall(b"\r\n")  # begins no request: the keep-alive timeout starts over
        data, seconds = _until_closed(sock, KEEP_ALIVE_SECONDS + SLACK)
    assert data == b""  # uvicorn's keep-alive timeout closes without a word
    assert seconds >= KEEP_ALIVE_SECONDS - 0.2
    assert connection_events() == before


def test_a_client_that_leaves_leaves_no_timer_behind(server: _Server) -> None:
    """Closed mid-headers and mid-body: each connection's timers are cancelled and its
    count released; nothing fires after the limits."""
    before = connection_events()
    for partial in (b"GET / HTTP/1.1\r\nHost:", b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"):
        with _connect(server) as sock:
            sock.sendall(partial)
            _wait_for(lambda: len(protocol._open) == 1)
            (guarded,) = protocol._open
            time.sleep(0.1)
            timers = [guarded._header_timer, guarded._body_timer, guarded._request_timer]
            assert any(timers)
        _wait_for(lambda: open_connections() == 0)
        assert all(timer is None or timer.cancelled() for timer in timers)
        assert guarded._header_timer is guarded._body_timer is guarded._request_timer is None
        assert "127.0.0.1" not in protocol._open_by_client
    time.sleep(LIMITS.header_timeout + 0.2)
    assert connection_events() == before


def test_100_kb_of_headers_get_431(server: _Server) -> None:
    with _Counted("headers_too_large"), _connect(server) as sock:
        _send(sock, b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        data, _ = _until_closed(sock, 2)
    _assert_json_error(data, 431, "RequestHeaderFieldsTooLarge")


def test_headers_still_arriving_are_cut_at_the_limit(server: _Server) -> None:
    """A long header value never finished gets 431 at once, not at the header timeout."""
    with _Counted("headers_too_large"), _connect(server) as sock:
        start = time.monotonic()
        _send(sock, b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 10_000)
        time.sleep(0.05)
        _send(sock, b"a" * 10_000)
        data, _ = _until_closed(sock, LIMITS.header_timeout)
    _assert_json_error(data, 431, "RequestHeaderFieldsTooLarge")
    assert time.monotonic() - start < LIMITS.header_timeout


def test_15_kb_of_headers_are_accepted(server: _Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 15_000 + b"\r\n\r\n")
        assert _answer(sock)[0] == 200


def test_a_garbage_request_line_gets_a_json_400(server: _Server) -> None:
    with _Counted("bad_request"), _connect(server) as sock:
        sock.sendall(b"\x16\x03\x01 this is no HTTP\r\n\r\n")
        data, _ = _until_closed(sock, 2)
    _assert_json_error(data, 400, "BadRequest")


def test_a_client_s_connection_beyond_the_limit_gets_429(server: _Server) -> None:
    """127.0.0.2, so that no other test's connection counts; the header timeout closes
    these idle sockets after a second, so each round is done well within it."""
    limit = LIMITS.max_connections_per_client
    for _ in range(2):  # and again once the first ones are closed
        with _Counted("too_many_connections"):
            held = [_connect(server, "127.0.0.2") for _ in range(limit)]
            try:
                with _connect(server, "127.0.0.2") as extra:
                    data, _ = _until_closed(extra, 2)
                _assert_json_error(data, 429, "TooManyConnections")
                for sock in held:  # the first ones are served
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                    assert _answer(sock)[0] == 200
            finally:
                for sock in held:
                    sock.close()
        _wait_for(lambda: open_connections() == 0)


def test_trusted_proxies_have_no_connection_limit(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Protocol, "limits", replace(LIMITS, trusted_proxies=("127.0.0.4",)))
    before = connection_events()
    held = [_connect(server, "127.0.0.4") for _ in range(LIMITS.max_connections_per_client + 2)]
    try:
        _wait_for(lambda: open_connections() == len(held))
        for sock in held:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert _answer(sock)[0] == 200
    finally:
        for sock in held:
            sock.close()
    assert connection_events() == before
    _wait_for(lambda: open_connections() == 0)


def test_a_request_past_its_timeout_gets_408_and_is_closed(server: _Server) -> None:
    with _Counted("request_timeout"), _connect(server) as sock:
        sock.sendall(b"GET /sleep?seconds=3 HTTP/1.1\r\nHost: t\r\n\r\n")
        data, seconds = _until_closed(sock, LIMITS.request_timeout + SLACK)
    _assert_json_error(data, 408, "RequestTimeout")
    assert seconds >= LIMITS.request_timeout - 0.2
    assert server.app.scopes[b"seconds=3"][TIMEOUT_SCOPE_KEY] == "request"


def test_limits_come_from_the_settings(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("ADDR_MAX_HEADER_BYTES", "2048")
    fresh_settings.setenv("ADDR_TRUSTED_PROXIES", '["10.0.0.0/8", "192.168.1.2"]')
    fresh_settings.setattr(GuardedHttpToolsProtocol, "limits", None)
    limits = GuardedHttpToolsProtocol._configured_limits()
    assert limits == ConnectionLimits.from_settings(get_service_settings())
    assert limits.max_header_bytes == 2048
    assert limits.header_timeout == ServiceSettings().header_timeout_seconds
    assert limits.is_exempt("10.1.2.3") and limits.is_exempt("192.168.1.2")
    assert not limits.is_exempt("192.168.1.3") and not limits.is_exempt("unix-socket")


def test_serve_runs_uvicorn_with_the_guarded_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    import api.logs
    from api.cli import app

    calls: list[dict[str, Any]] = []
    for name, value in (("TQDM_DISABLE", "1"), ("MALLOC_ARENA_MAX", "2")):
        monkeypatch.setenv(name, value)  # serve sets them; restored after the test
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(api.logs, "configure_logging", lambda level: None)
    result = CliRunner().invoke(app, ["serve", "--port", "8999"])
    assert result.exit_code == 0, result.output
    assert calls[0]["http"] == "api.protocol:GuardedHttpToolsProtocol"
    assert calls[0]["timeout_keep_alive"] == get_service_settings().keep_alive_timeout_seconds
    assert import_from_string(calls[0]["http"]) is GuardedHttpToolsProtocol


def test_answers_are_not_held_back_on_a_socket_bound_for_several_workers() -> None:
    """``addr serve --workers 2`` serves on a socket uvicorn binds itself, with ``proto``
    0, on which asyncio sets no TCP_NODELAY: the protocol sets it on each connection."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn binds it
    listening.bind(("127.0.0.1", 0))
    assert listening.proto == 0
    seen: list[int] = []

    class Recording(_Protocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    config = uvicorn.Config(_App(), http=Recording, lifespan="off", log_level="warning")
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvi.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        port = listening.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
            assert _answer(sock)[0] == 200
        assert seen and all(seen), seen
    finally:
        uvi.should_exit = True
        thread.join(timeout=5)
