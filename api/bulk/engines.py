"""Where chunks run: in this process, in a local process pool, or on a Dask cluster.

Every engine runs the same partition function (:func:`api.bulk.worker.clean_chunk`)
and keeps at most ``2 x workers`` chunks in flight, so that a slow cluster never
makes the reader run ahead and fill memory. Results come back in completion order;
the job puts them in input order.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

from address.errors import AddressError
from api.bulk.worker import ChunkResult, ChunkTask, ResourceSpec, clean_chunk, load_resources

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "IN_FLIGHT_PER_WORKER",
    "DaskEngine",
    "Engine",
    "EngineName",
    "InProcessEngine",
    "ProcessPoolEngine",
    "make_engine",
]

logger = logging.getLogger(__name__)

EngineName = Literal["local", "dask"]
IN_FLIGHT_PER_WORKER = 2
"""Chunks queued per worker: one running, one waiting, none piling up."""

Process = Callable[[ChunkTask, ResourceSpec], ChunkResult]


class Engine(Protocol):
    """Runs chunk tasks and yields their results as they complete."""

    @property
    def workers(self) -> int: ...

    def run(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...


class _Closing:
    """Context-manager support for engines: ``with engine: ...`` closes it."""

    def close(self) -> None:
        """Release workers; idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class InProcessEngine(_Closing):
    """Chunks run one after another in this process (``--workers 1``)."""

    def __init__(self, spec: ResourceSpec, process: Process = clean_chunk) -> None:
        self._spec = spec
        self._process = process

    @property
    def workers(self) -> int:
        return 1

    def run(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]:
        for task in tasks:
            yield self._process(task, self._spec)


def _start_worker(spec: ResourceSpec) -> None:
    """Pool initializer: load the resources now; a failure is raised again, typed,
    by the first chunk (an initializer that raises only breaks the pool)."""
    try:
        load_resources(spec)
    except AddressError as exc:
        logger.error("worker could not load its resources: %s", exc)


class ProcessPoolEngine(_Closing):
    """A pool of ``workers`` spawned processes, each loading the resources once."""

    def __init__(self, spec: ResourceSpec, workers: int, process: Process = clean_chunk) -> None:
        self._spec = spec
        self._workers = workers
        self._process = process
        # spawn, not fork: torch and libpostal's memory do not survive a fork safely.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(spec,),
        )

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]:
        window = IN_FLIGHT_PER_WORKER * self._workers
        pending: set[Future[ChunkResult]] = set()
        for task in tasks:
            pending.add(self._pool.submit(self._process, task, self._spec))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine(_Closing):
    """Chunks as tasks on ``dask.distributed``: an existing scheduler, or a
    ``LocalCluster`` of ``workers`` single-threaded processes.

    Each Dask worker loads the resources on its first chunk and keeps them (the
    per-process cache of :mod:`api.bulk.worker`); it reads libpostal's data from
    its own ``ADDR_*`` settings and the index and adapter from the paths the job
    sends, which must exist on the worker machines.
    """

    def __init__(
        self,
        spec: ResourceSpec,
        workers: int,
        scheduler: str | None = None,
        process: Process = clean_chunk,
    ) -> None:
        # distributed has no type hints: its names are used as Any.
        dask: Any = importlib.import_module("distributed")
        self._spec = spec
        self._process = process
        self._cluster: Any = None
        if scheduler:
            self._client: Any = dask.Client(scheduler)
        else:
            self._cluster = dask.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client = dask.Client(self._cluster)
        self._workers: int = max(1, sum(self._client.nthreads().values()))

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, tasks: Iterable[ChunkTask]) -> Iterator[ChunkResult]:
        dask: Any = importlib.import_module("distributed")
        window = IN_FLIGHT_PER_WORKER * self._workers
        completed: Any = dask.as_completed()
        in_flight = 0
        for task in tasks:
            completed.add(self._client.submit(self._process, task, self._spec, pure=False))
            in_flight += 1
            if in_flight >= window:
                result: ChunkResult = next(completed).result()
                in_flight -= 1
                yield result
        for future in completed:
            yield future.result()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(
    name: EngineName,
    spec: ResourceSpec,
    workers: int,
    scheduler: str | None = None,
) -> Engine:
    """The engine for ``--engine local|dask --workers N [--scheduler tcp://…]``.

    Example: ``make_engine("dask", spec, 2, "tcp://10.0.0.5:8786")`` joins that cluster.
    """
    if name == "dask":
        return DaskEngine(spec, workers, scheduler)
    if workers <= 1:
        return InProcessEngine(spec)
    return ProcessPoolEngine(spec, workers)
