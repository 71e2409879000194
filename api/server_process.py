"""The service in a child process: start ``addr serve``, wait until ready, stop.

Benchmarks, the load test and the browser tests talk to a real server over
loopback; this is the one place that starts and stops it.

Example:
    >>> with ServerProcess(env={"ADDR_LOG_LEVEL": "WARNING"}) as server:
    ...     httpx.get(f"{server.url}/v1/autocomplete", params={"q": "730 33rd"}).json()
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["ServerProcess", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """``addr serve`` on a free loopback port, ready when the ``with`` block starts.

    Args:
        env: ``ADDR_*`` settings for the child (added to this process's
            environment), e.g. ``{"ADDR_INDEX_PATH": "/tmp/small"}``.
        workers: uvicorn worker processes.
        index: index folder to serve (``addr serve --index``); default the
            ``ADDR_INDEX_PATH`` setting.
        ready_timeout: seconds to wait for ``/readyz`` to answer 200.
        log: file for the server's output; default a temporary file.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        workers: int = 1,
        index: Path | None = None,
        ready_timeout: float = 300.0,
        log: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.workers = workers
        self.index = index
        self.ready_timeout = ready_timeout
        self.log = log or Path(tempfile.mkstemp(prefix="addr_serve_", suffix=".log")[1])
        self.ready_seconds = 0.0
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        if self.index is not None:
            command += ["--index", str(self.index)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            self.ready_seconds = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """The server's (uvicorn's main) process id."""
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's output, for error messages."""
        return self.log.read_text(errors="replace")[-chars:]

    def _wait_ready(self) -> float:
        """Seconds until ``/readyz`` answers 200 on enough fresh connections in a row
        that every worker has (the kernel hands each connection to any worker)."""
        assert self.process is not None
        start = time.perf_counter()
        needed = 1 if self.workers == 1 else 8 * self.workers
        in_a_row = 0
        while time.perf_counter() - start < self.ready_timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ready = False
            in_a_row = in_a_row + 1 if ready else 0
            if in_a_row >= needed:
                return time.perf_counter() - start
            time.sleep(0.05 if ready else 0.5)
        raise TimeoutError(f"/readyz not 200 after {self.ready_timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 20 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
