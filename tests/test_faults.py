"""Faults from outside the code: missing or damaged data, a full disk, a killed worker,
a client that hangs up. Each must end in a typed error, a service that says it is not
ready (and why), or a job that resumes; never a 500, a lost or doubled row, or a
half-written output file.

Real parts throughout: libpostal, the small session index, the shipped adapter, pyarrow,
uvicorn, dask.distributed. The only stand-ins are a writer that runs out of disk space
and a partition function that waits to be killed at a known chunk.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from address.errors import IndexNotReadyError
from address.libpostal_data import LIBPOSTAL_FILES, check_data_dir
from address.settings import get_settings
from api.app import create_app
from api.bulk import CleanConfig, CleanOutputError, run_clean
from api.bulk.cli import clean as clean_command
from api.bulk.engines import DaskEngine
from api.bulk.job import parts_dir
from api.bulk.worker import ChunkResult, ChunkTask, ResourceSpec, clean_chunk
from api.settings import ServiceSettings
from finetune.classifier import DEFAULT_ADAPTER_DIR, Classifier
from finetune.errors import ClassifierNotReadyError
from index.store import load_index

REPO = Path(__file__).resolve().parent.parent
BULK_INPUT = REPO / "tests" / "data" / "bulk" / "addresses.csv"  # 30 rows, "row" = 1..30


def _tmp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp"))


def _not_ready(config: ServiceSettings, loaded: dict[str, bool], error: str, problem: str) -> None:
    """Start the service with ``config``: it must stay not ready, /readyz saying which
    parts loaded and why not (``error`` opens the message, ``problem`` is in it), and
    /v1/verify answering 503 with the same reason."""
    with TestClient(create_app(load_in_background=False, settings=config)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["components"] == loaded
        assert body["error"].startswith(error)
        assert problem in body["error"]
        verify = client.post("/v1/verify", json={"address": "4570 Frozen Hill Rd, Anamosa IA"})
        assert verify.status_code == 503
        assert verify.json()["type"] == "NotReadyError"
        assert problem in verify.json()["error"]


# ------------------------------------------------------------------ 1. index


def _cut(path: Path) -> None:
    """Keep the first half of a file, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()


# The folder missing altogether: test_index.py and test_api.py.
INDEX_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder empty": (_empty, "manifest.json is missing"),
    "vectors.faiss cut short": (lambda d: _cut(d / "vectors.faiss"), "vectors.faiss is"),
    "rows.parquet cut short": (lambda d: _cut(d / "rows.parquet"), "rows.parquet is"),
    "rows.parquet missing": (lambda d: (d / "rows.parquet").unlink(), "rows.parquet is missing"),
    "manifest.json cut short": (lambda d: _cut(d / "manifest.json"), "manifest.json is unreadable"),
}


@pytest.mark.parametrize("damage", list(INDEX_DAMAGE))
def test_damaged_index_is_a_typed_error_and_the_service_stays_not_ready(
    damage: str, built_index: Path, tmp_path: Path, libpostal: None
) -> None:
    """An index folder lost or cut short by a failed copy is refused with the fix named,
    and the service answers 503 with that reason instead of serving from half an index."""
    folder = tmp_path / "index"
    shutil.copytree(built_index, folder)
    harm, problem = INDEX_DAMAGE[damage]
    harm(folder)

    with pytest.raises(IndexNotReadyError, match="addr index build") as refused:
        load_index(folder)
    assert problem in str(refused.value)

    loaded = {
        "libpostal": True,
        "gazetteer": True,
        "index": False,
        "embedding_model": False,
        "classifier": False,
        "feedback": False,
        "warm": False,
    }
    _not_ready(ServiceSettings(index_path=folder), loaded, "IndexNotReadyError: ", problem)


# ------------------------------------------------------------------ 2. classifier adapter


def _adapter_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "adapter"
    shutil.copytree(DEFAULT_ADAPTER_DIR, folder)
    return folder


ADAPTER_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    # A copy that stopped before the weights (the whole folder missing: test_api.py).
    "weights missing": (
        lambda d: (d / "adapter_model.safetensors").unlink(),
        "lacks adapter_model.safetensors",
    ),
    "classifier.json cut short": (lambda d: _cut(d / "classifier.json"), "is corrupt"),
}


@pytest.mark.parametrize("damage", list(ADAPTER_DAMAGE))
def test_damaged_adapter_leaves_the_service_not_ready(
    damage: str, built_index: Path, tmp_path: Path, libpostal: None
) -> None:
    """An adapter folder without its weights, or with its label file cut short, is a
    ClassifierNotReadyError; the service says so on /readyz and answers 503."""
    adapter = _adapter_copy(tmp_path)
    harm, problem = ADAPTER_DAMAGE[damage]
    harm(adapter)

    with pytest.raises(ClassifierNotReadyError, match=problem):
        Classifier.load(adapter)

    config = ServiceSettings(index_path=built_index, adapter_path=adapter)
    loaded = {
        "libpostal": True,
        "gazetteer": True,
        "index": True,
        "embedding_model": True,
        "classifier": False,
        "feedback": False,
        "warm": False,
    }
    _not_ready(config, loaded, "ClassifierNotReadyError: ", problem)


@pytest.fixture(scope="module")
def base_model() -> tuple[Any, Any]:
    """SmolLM2's first layers and tokenizer, de-quantized once (~30 s); users take copies,
    because applying an adapter changes the model in place."""
    from finetune._labels import LABELS
    from finetune._model import load_sequence_classifier

    meta = json.loads((DEFAULT_ADAPTER_DIR / "classifier.json").read_text())
    return load_sequence_classifier(len(LABELS), meta["num_layers"])


def _copy_of(base: tuple[Any, Any]) -> tuple[Any, Any]:
    return copy.deepcopy(base[0]), base[1]


def test_adapter_weights_cut_short_are_a_typed_error(
    base_model: tuple[Any, Any], tmp_path: Path
) -> None:
    """Weights cut short by an interrupted download fail while the adapter is applied to
    the real base model: ClassifierNotReadyError, not a safetensors error."""
    adapter = _adapter_copy(tmp_path)
    _cut(adapter / "adapter_model.safetensors")
    with pytest.raises(ClassifierNotReadyError, match="cannot apply the adapter"):
        Classifier.load(adapter, base=_copy_of(base_model))


# ------------------------------------------------------------------ 3. libpostal data


def _data_farm(tmp_path: Path) -> Path:
    """A libpostal data folder of symlinks to the real files; a test replaces a link by a
    file of its own, so the real data under .venv/share/addr is never written."""
    real = get_settings().libpostal_dir
    farm = tmp_path / "libpostal"
    for data_file in LIBPOSTAL_FILES:
        link = farm / data_file.relative_path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(real / data_file.relative_path)
    return farm


def _replace(farm: Path, relative: str, data: bytes) -> None:
    link = farm / relative
    link.unlink()  # the link only, never its target
    link.write_bytes(data)


NUMEX = "numex/numex.dat"


def _scramble_header(data: bytes) -> bytes:
    """Same size, first 64 bytes flipped: a file overwritten in place by something else."""
    return bytes(b ^ 0xA5 for b in data[:64]) + data[64:]


DATA_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder missing": (shutil.rmtree, "does not exist"),
    "file cut short": (
        lambda farm: _replace(farm, NUMEX, (farm / NUMEX).read_bytes()[:100_000]),
        "numex/numex.dat is 100,000 bytes, not 396,966",
    ),
    "file corrupt, size intact": (
        lambda farm: _replace(farm, NUMEX, _scramble_header((farm / NUMEX).read_bytes())),
        "libpostal could not load",
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", list(DATA_DAMAGE))
def test_damaged_libpostal_data_is_a_typed_error_naming_the_fix(
    damage: str, tmp_path: Path
) -> None:
    """`addr parse` on a missing, cut-short or overwritten data folder exits 1 with a
    DataNotReadyError that names `addr data fetch`, instead of crashing inside libpostal.

    A subprocess, because libpostal's C state is one per process: loading a broken folder
    here would disturb the copy the other tests use.
    """
    real_numex = get_settings().libpostal_dir / NUMEX
    before = _sha256(real_numex)
    farm = _data_farm(tmp_path)
    harm, problem = DATA_DAMAGE[damage]
    harm(farm)
    env = {**os.environ, "ADDR_LIBPOSTAL_DATA_DIR": str(farm)}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "parse", "Laugavegur 12b, 101 Reykjavík"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["type"] == "DataNotReadyError"
    assert problem in error["error"]
    assert "addr data fetch" in error["error"]
    if damage == "file corrupt, size intact":
        # Sizes are right, so a plain fetch would think the folder ready: name --force.
        assert "addr data fetch --force" in error["error"]
        check_data_dir(farm)  # the size check alone does pass
    assert _sha256(real_numex) == before


GAZETTEER_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "file missing": (lambda path: None, "is missing; run `make setup`"),
    "file cut short": (
        lambda path: path.write_bytes(get_settings().gazetteer_table.read_bytes()[:100_000]),
        "is unreadable",
    ),
}


@pytest.mark.parametrize("damage", list(GAZETTEER_DAMAGE))
def test_damaged_gazetteer_keeps_the_service_not_ready(
    damage: str,
    built_index: Path,
    tmp_path: Path,
    libpostal: None,
    fresh_settings: pytest.MonkeyPatch,
) -> None:
    """Without a readable postcode gazetteer the rules cannot check postcodes against
    towns: the service answers 503 and names the fix instead of judging without it."""
    gazetteer = tmp_path / "postcodes.parquet"
    harm, problem = GAZETTEER_DAMAGE[damage]
    harm(gazetteer)  # reads the real table's path: settings are read again below
    fresh_settings.setenv("ADDR_GAZETTEER_PATH", str(gazetteer))
    get_settings.cache_clear()

    loaded = {
        "libpostal": True,
        "gazetteer": False,
        "index": False,
        "embedding_model": False,
        "classifier": False,
        "feedback": False,
        "warm": False,
    }
    _not_ready(
        ServiceSettings(index_path=built_index),
        loaded,
        "DataNotReadyError: postcode gazetteer",
        problem,
    )


# ------------------------------------------------------------------ 4. disk full


class DiskFullAfter:
    """``pq.write_table`` on a disk with room for ``rows`` rows: the write that does not
    fit leaves half its file behind, as a full disk does, and raises ENOSPC."""

    def __init__(self, rows: int) -> None:
        self.room = rows
        self.written = 0
        self.real = pq.write_table

    def __call__(self, table: pa.Table, where: Any, **options: Any) -> None:
        if self.written + table.num_rows > self.room:
            sink = pa.BufferOutputStream()
            self.real(table, sink, **options)
            data = sink.getvalue().to_pybytes()
            Path(where).write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
        self.real(table, where, **options)
        self.written += table.num_rows


def _clean(out: Path, index: Path, **options: Any) -> Any:
    config = CleanConfig(
        BULK_INPUT,
        out,
        index_dir=index,
        use_classifier=False,
        chunk_rows=4,
        progress=False,
        **options,
    )
    return run_clean(config)


def _assert_every_row_once(out: Path) -> None:
    source = pd.read_csv(BULK_INPUT, dtype=str, keep_default_na=False)
    result = pq.read_table(out).to_pandas()  # whole and readable
    assert list(result["row"]) == list(source["row"]) == [str(n) for n in range(1, 31)]
    pd.testing.assert_frame_equal(result[source.columns], source)
    assert result["verdict"].notna().all()


@pytest.fixture
def cli() -> Iterator[Callable[..., Any]]:
    """``addr clean ARGS`` in this process; the logging set-up it makes is undone after."""
    app = typer.Typer()
    app.command()(clean_command)
    app.command("other")(lambda: None)  # two commands: `clean` is then a subcommand
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(logger, logger.handlers[:], logger.propagate, logger.level) for logger in loggers]
    yield lambda *args: CliRunner().invoke(app, ["clean", *map(str, args)])
    for logger, handlers, propagate, level in saved:
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


def test_disk_full_while_writing_chunks_fails_clearly_and_resumes(
    built_index: Path,
    tmp_path: Path,
    libpostal: None,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Any],
) -> None:
    """`addr clean` runs out of disk at the third chunk of "3701 Fir Tree Dr NE, Cedar
    Rapids" & co: it exits 1 with a JSON error naming the file and --resume, keeps the two
    whole chunks and no half file; `--resume` then writes every row exactly once."""
    out = tmp_path / "clean.parquet"
    args = [BULK_INPUT, "--out", out, "--index", built_index, "--no-classifier"]
    args += ["--chunk-rows", 4]
    monkeypatch.setattr(pq, "write_table", DiskFullAfter(rows=10))
    failed = cli(*args)
    monkeypatch.undo()

    assert failed.exit_code == 1, failed.output
    error = json.loads(failed.stderr.strip().splitlines()[-1])
    assert error["type"] == "CleanOutputError"
    assert "chunk-000002.parquet" in error["error"]
    assert "No space left on device" in error["error"]
    assert "--resume" in error["error"]
    parts = parts_dir(out)
    manifest = json.loads((parts / "manifest.json").read_text())
    assert sorted(manifest["chunks"]) == ["0", "1"]
    assert sorted(p.name for p in parts.glob("chunk-*")) == [
        "chunk-000000.parquet",
        "chunk-000001.parquet",
    ]
    assert _tmp_files(parts) == []
    assert not out.exists()

    resumed = cli(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.stdout)
    assert (summary["resumed_chunks"], summary["rows"], summary["rows_this_run"]) == (2, 30, 22)
    _assert_every_row_once(out)
    assert not parts.exists()


class FullDiskWriter(pq.ParquetWriter):  # type: ignore[misc]
    """``pq.ParquetWriter`` whose disk is full once ``ROOM`` rows are written."""

    ROOM = 12
    written = 0

    def write_table(self, table: pa.Table, row_group_size: int | None = None) -> None:
        if FullDiskWriter.written + table.num_rows > self.ROOM:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write_table(table, row_group_size)
        FullDiskWriter.written += table.num_rows


def test_disk_full_while_assembling_keeps_the_old_output_and_resumes(
    built_index: Path, tmp_path: Path, libpostal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up while the chunks are joined into the output: yesterday's output
    file stays whole, no temporary file is left, and --resume only joins again."""
    out = tmp_path / "clean.parquet"
    yesterday = pa.table({"row": ["1"], "address": ["Laugavegur 12b, 101 Reykjavík"]})
    pq.write_table(yesterday, out)
    monkeypatch.setattr(FullDiskWriter, "written", 0)
    monkeypatch.setattr(pq, "ParquetWriter", FullDiskWriter)
    with pytest.raises(CleanOutputError, match="No space left on device") as failed:
        _clean(out, built_index)
    written = FullDiskWriter.written
    monkeypatch.undo()

    cause = failed.value.__cause__
    assert isinstance(cause, OSError) and cause.errno == errno.ENOSPC
    assert "clean.parquet" in str(failed.value) and "--resume" in str(failed.value)
    assert 0 < written < 30, "the disk filled up mid-file"
    assert pq.read_table(out).equals(yesterday)
    assert _tmp_files(tmp_path) == []
    manifest = json.loads((parts_dir(out) / "manifest.json").read_text())
    assert len(manifest["chunks"]) == manifest["total_chunks"] == 8

    summary = _clean(out, built_index, resume=True)
    assert (summary.resumed_chunks, summary.rows, summary.rows_this_run) == (8, 30, 0)
    _assert_every_row_once(out)


# ------------------------------------------------------------------ 5. a Dask worker killed


@dataclass(frozen=True)
class WaitToBeKilled:
    """The real partition function, except that the first worker to get chunk ``number``
    writes its pid to ``marker`` and waits there, mid-chunk, for the test to kill it."""

    number: int
    marker: Path

    def __call__(self, task: ChunkTask, spec: ResourceSpec) -> ChunkResult:
        if task.number == self.number:
            try:
                claim = os.open(self.marker.with_suffix(".claim"), os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                pass  # the chunk again, on a surviving or restarted worker
            else:
                os.close(claim)
                pending = self.marker.with_suffix(".tmp")
                pending.write_text(str(os.getpid()))
                pending.replace(self.marker)
                time.sleep(600)
        return clean_chunk(task, spec)


@pytest.mark.slow
def test_dask_worker_killed_mid_chunk_loses_and_doubles_no_row(
    built_index: Path, tmp_path: Path
) -> None:
    """SIGKILL to a Dask worker while it cleans chunk 5 of 30: the scheduler gives the chunk
    to another worker and the output has rows 1..300 exactly once, in input order."""
    source = tmp_path / "orders.csv"
    base = pd.read_csv(BULK_INPUT, dtype=str, keep_default_na=False)
    frame = pd.concat([base] * 10, ignore_index=True)
    frame["row"] = [str(n) for n in range(1, len(frame) + 1)]
    frame.to_csv(source, index=False)
    out = tmp_path / "clean.parquet"
    config = CleanConfig(
        source,
        out,
        index_dir=built_index,
        use_classifier=False,
        engine="dask",
        workers=2,
        chunk_rows=10,
        progress=False,
    )
    marker = tmp_path / "victim.pid"
    spec = ResourceSpec(index_dir=built_index.resolve(), use_classifier=False, threads=1)
    engine = DaskEngine(spec, workers=2, process=WaitToBeKilled(5, marker))

    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(run_clean, config, engine=engine)
        deadline = time.monotonic() + 400
        while not marker.exists():
            if job.done():
                job.result()  # raises what went wrong
                pytest.fail("the job finished without reaching chunk 5")
            assert time.monotonic() < deadline, "no worker reached chunk 5"
            time.sleep(0.05)
        victim = int(marker.read_text())
        assert victim != os.getpid(), "chunks must run in worker processes"
        os.kill(victim, signal.SIGKILL)
        summary = job.result(timeout=400)

    assert (summary.rows, summary.chunks, summary.resumed_chunks) == (300, 30, 0)
    result = pq.read_table(out).to_pandas()
    assert list(result["row"]) == [str(n) for n in range(1, 301)]
    pd.testing.assert_frame_equal(result[frame.columns], frame)
    assert result["verdict"].notna().all() and result["error"].isna().all()
    assert not parts_dir(out).exists()


# ------------------------------------------------------------------ 6. a client hangs up


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    """A running uvicorn server and its port."""

    port: int
    server: Any

    def wait_idle(self) -> None:
        """Until no connection is open and no request is being worked on."""
        state = self.server.server_state
        deadline = time.monotonic() + 120
        while state.connections or state.tasks:
            assert time.monotonic() < deadline, "a dropped request is still being worked on"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def served(built_index: Path, libpostal: None, base_model: tuple[Any, Any]) -> Iterator[Served]:
    """The app under a real uvicorn on a free loopback port, ready.

    It loads as ``addr serve`` does, except that the base model comes as a copy of the one
    already de-quantized for this module (30 s saved)."""
    import uvicorn

    from finetune import _model

    settings = ServiceSettings(
        index_path=built_index, rate_limit_per_second=1e6, rate_limit_burst=10**6
    )
    app = create_app(load_in_background=False, settings=settings)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_model, "load_sequence_classifier", lambda *_: _copy_of(base_model))
        thread.start()
        deadline = time.monotonic() + 300
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.1)
    yield Served(port, server)
    server.should_exit = True
    thread.join(timeout=30)


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _post(port: int, path: str, body: object) -> tuple[int, Any]:
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(
            "POST", path, json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


_COUNT = re.compile(r'^addr_request_seconds_count\{route="([^"]*)",status="(\d+)"\} (\S+)$', re.M)


def _answered(port: int) -> dict[tuple[str, str], float]:
    """Requests the app has answered so far, by route and status (from /metrics)."""
    status, text = _get(port, "/metrics")
    assert status == 200
    counts = {(r, s): float(n) for r, s, n in _COUNT.findall(text.decode())}
    return {key: n for key, n in counts.items() if key[0] != "/metrics"}


def _request_bytes(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _hang_up(port: int, sent: bytes, *, reset: bool) -> None:
    """Send ``sent`` and go away without reading a byte: FIN, or RST when ``reset``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(sent)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _half_body(request: bytes) -> bytes:
    head, body = request.split(b"\r\n\r\n", 1)
    return request[: len(head) + 4 + len(body) // 2]


# What the client sends before it hangs up, whether it resets the connection, and whether
# the whole request was sent (the app then starts on it, and stops).
HANG_UPS: dict[str, tuple[Callable[[bytes], bytes], bool, bool]] = {
    "half the headers": (lambda r: r[: r.index(b"Content-Length") + 8], False, False),
    "half the body": (_half_body, False, False),
    "half the body, then a reset": (_half_body, True, False),
    "whole request, reply never read": (lambda r: r, False, True),
    "whole request, then a reset": (lambda r: r, True, True),
}


@pytest.mark.parametrize("hang_up", list(HANG_UPS))
def test_client_hanging_up_mid_request_leaves_the_server_serving(
    hang_up: str,
    served: Served,
    reference_sample: pd.DataFrame,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A checkout client that drops its connection in the middle of a batch of 100
    addresses costs the server nothing: no 500, no error logged, no request left hanging,
    the work it had started stops (499), and the next customer's "verify" gets its
    answer."""
    known = reference_sample[reference_sample["house_number"].notna()]
    batch = json.dumps({"addresses": known["address"].head(100).tolist()}).encode()
    cut, reset, whole = HANG_UPS[hang_up]
    port = served.port
    served.wait_idle()
    before = _answered(port)

    with caplog.at_level(logging.WARNING):
        _hang_up(port, cut(_request_bytes("/v1/verify/batch", batch)), reset=reset)
        row = known.iloc[0]
        status, body = _post(port, "/v1/verify", {"address": row["address"]})
        served.wait_idle()  # the dropped batch too, when it got that far

    assert status == 200, body
    assert body["verdict"] == "valid" and body["match"]["id"] == row["id"]
    after = _answered(port)
    assert not [key for key in after if key[1].startswith("5")], after
    assert after[("/v1/verify", "200")] == before.get(("/v1/verify", "200"), 0) + 1
    if whole:  # the work started, for nobody: it stopped and was counted as 499
        batches = ("/v1/verify/batch", "499")
        assert after.get(batches, 0) == before.get(batches, 0) + 1, after
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
