"""The partition function of the bulk job and the resources each process loads once.

:func:`clean_chunk` is what every engine runs (in-process, in a process pool, on
a Dask worker): it screens each row (:func:`screen`), verifies the good ones with
:func:`address.verify.verify_batch` and returns one output value per row and
column. libpostal, the index and the classifier are loaded on the first chunk a
process sees and kept for the rest (``_RESOURCES``), ~30 s and ~3 GB per process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from address.errors import AddressError, EmptyAddressError
from address.fields import AddressFields, FieldInputError
from address.model import DEFAULT_COUNTRY
from address.normalize import MAX_ADDRESS_LENGTH
from address.paths import DataPaths, data_paths, use_data
from address.reading import CleanInput, clean_input
from api.bulk.io import OUTPUT_COLUMNS, SUGGESTION_COLUMNS

if TYPE_CHECKING:
    from address.model import ParsedAddress
    from address.rules import PlaceEvidence
    from address.verification import Location
    from address.verify import Classification, Classifier, SearchCandidate, Verification
    from index.search import AddressIndex

__all__ = [
    "BINARY_SHARE",
    "SEARCH_LIMIT",
    "ChunkResult",
    "ChunkTask",
    "InputProblem",
    "Rejected",
    "ResourceSpec",
    "StageStats",
    "clean_chunk",
    "load_resources",
    "screen",
]

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 5
"""Suggestions asked of ``verify_batch``: the API's default, so verdicts match ``/v1/verify``."""
BINARY_SHARE = 0.25
"""A text with at least this share of control or replacement characters is binary junk."""
# Characters no typed address contains: C0 controls but tab/newlines, DEL, C1
# controls, and U+FFFD, which the readers put where bytes were not UTF-8.
BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


class InputProblem(StrEnum):
    """Why a row was rejected before verification (its ``reasons``, with ``verdict=invalid``)."""

    BINARY_DATA = "binary_data"
    BAD_ENCODING = "bad_encoding"
    EMPTY_INPUT = "empty_input"
    TOO_LONG = "too_long"
    UNREADABLE_ROW = "unreadable_row"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that is no address text: ``Rejected(InputProblem.EMPTY_INPUT, "...")``."""

    problem: InputProblem
    message: str


def screen(
    item: str | AddressFields, max_length: int = MAX_ADDRESS_LENGTH
) -> CleanInput | Rejected:
    """A row cleaned for ``verify_batch`` (a text normalized, or in ``--components`` mode
    each field of the form), or why it cannot be verified.

    Example:
        >>> screen("4570 Frozen Hill Rd ,, Anamosa IA\\x00").text()
        '4570 Frozen Hill Rd, Anamosa IA'
        >>> screen("Reykjav\\ufffdk").problem
        <InputProblem.BAD_ENCODING: 'bad_encoding'>

    A stray NUL or control character in an otherwise readable address is removed
    by :func:`address.normalize.normalize`, as for the HTTP API; a text that is
    mostly such characters (:data:`BINARY_SHARE`) is ``binary_data``.
    """
    text = item.text() if isinstance(item, AddressFields) else item
    junk = len(BINARY_CHARACTERS.findall(text))
    if text and junk / len(text) >= BINARY_SHARE:
        return Rejected(InputProblem.BINARY_DATA, f"{junk} of {len(text)} characters are binary")
    if "\ufffd" in text:
        return Rejected(InputProblem.BAD_ENCODING, "bytes that are not UTF-8 (shown as U+FFFD)")
    try:
        return clean_input(item, max_length)
    except FieldInputError as exc:
        cause: AddressError = exc.cause
    except AddressError as exc:
        cause = exc
    if isinstance(cause, EmptyAddressError):
        return Rejected(InputProblem.EMPTY_INPUT, str(cause))
    return Rejected(InputProblem.TOO_LONG, str(cause))


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What a worker process loads once; equal specs share the loaded resources."""

    index_dir: Path
    """Address index folder (``load_index``)."""
    adapter_dir: Path | None = None
    """Classifier adapter folder; ``None``: the committed one."""
    use_classifier: bool = True
    """Ask the classifier about open cases (else they stay ``uncertain``)."""
    threads: int = 1
    """torch and FAISS threads in each worker process."""
    data: DataPaths = field(default_factory=data_paths)
    """libpostal's data and the gazetteer, as the job's settings name them."""
    default_country: str | None = DEFAULT_COUNTRY
    """The country of an address that names none (the ``default_country`` setting)."""
    max_length: int = MAX_ADDRESS_LENGTH
    """Longest address accepted (the ``max_address_length`` setting)."""


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """Rows of one chunk: the address (a text, or fields in ``--components`` mode) and
    the country hint of each row."""

    number: int
    texts: tuple[str | AddressFields, ...]
    countries: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class StageStats:
    """Where a chunk's time went, in seconds, and how many rows went where."""

    rows: int = 0
    verified: int = 0
    classified: int = 0
    screen_s: float = 0.0
    search_s: float = 0.0
    verify_s: float = 0.0
    classify_s: float = 0.0
    load_s: float = 0.0
    pid: int = 0
    peak_rss_mb: float = 0.0


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """Output values of one chunk, by column (:data:`api.bulk.io.OUTPUT_COLUMNS`)."""

    number: int
    columns: dict[str, list[Any]]
    stats: StageStats = field(default_factory=StageStats)


@dataclass(slots=True)
class _Timed:
    seconds: float = 0.0
    items: int = 0


class _TimedSearcher:
    """The index, counting the time its searches take (``verify_batch`` searches a
    whole group of rows in one call, one embedding batch)."""

    def __init__(self, index: AddressIndex, timer: _Timed) -> None:
        self._index = index
        self._timer = timer

    def search_parsed(
        self,
        texts: Sequence[str],
        parsed: Sequence[ParsedAddress],
        k: int = 5,
        country: str | None = None,
    ) -> Sequence[Sequence[SearchCandidate]]:
        started = time.perf_counter()
        try:
            return self._index.search_parsed(texts, parsed, k, country)
        finally:
            self._timer.seconds += time.perf_counter() - started

    def locate(self, parsed: ParsedAddress, country: str | None) -> Location | None:
        return self._index.locate(parsed, country)


class _TimedClassifier:
    """The classifier, counting the texts it judges and the time it takes."""

    def __init__(self, classifier: Classifier, timer: _Timed) -> None:
        self._classifier = classifier
        self._timer = timer

    def classify_read(
        self, texts: Sequence[str], evidence: Sequence[PlaceEvidence]
    ) -> Sequence[Classification]:
        started = time.perf_counter()
        result = self._classifier.classify_read(texts, evidence)
        self._timer.seconds += time.perf_counter() - started
        self._timer.items += len(texts)
        return result


@dataclass(frozen=True, slots=True)
class _Resources:
    index: AddressIndex
    classifier: Classifier | None


_RESOURCES: dict[ResourceSpec, _Resources] = {}
# Loading time not yet reported in a chunk's stats (a pool initializer loads before any chunk).
_UNREPORTED_LOAD: dict[ResourceSpec, float] = {}
_LOCK = threading.Lock()


def load_resources(spec: ResourceSpec) -> float:
    """Load libpostal, the index and the classifier into this process, once per spec.

    Returns:
        Seconds spent loading now (0 when already loaded).

    Raises:
        DataNotReadyError, IndexNotReadyError, ClassifierNotReadyError: a resource
            is missing or corrupt.
    """
    with _LOCK:
        if spec in _RESOURCES:
            return 0.0
        started = time.perf_counter()
        import faiss
        import torch

        from address.libpostal import load as load_libpostal
        from finetune.classifier import Classifier as ValidityClassifier
        from index.store import load_index

        torch.set_num_threads(spec.threads)
        faiss.omp_set_num_threads(spec.threads)
        use_data(spec.data)
        load_libpostal()
        index = load_index(spec.index_dir)
        classifier = ValidityClassifier.load(spec.adapter_dir) if spec.use_classifier else None
        _RESOURCES[spec] = _Resources(index, classifier)
        seconds = time.perf_counter() - started
        _UNREPORTED_LOAD[spec] = seconds
        return seconds


def _row_values(result: Verification) -> dict[str, Any]:
    suggestions: list[str | None] = [s.address for s in result.suggestions[:SUGGESTION_COLUMNS]]
    suggestions += [None] * (SUGGESTION_COLUMNS - len(suggestions))
    return {
        "standardized": result.standardized,
        "verdict": result.verdict.value,
        "confidence": result.confidence,
        "reasons": ";".join(r.value for r in result.reasons),
        "match_id": result.match.id if result.match else None,
        "match_address": result.match.address if result.match else None,
        **{f"suggestion_{n}": s for n, s in enumerate(suggestions, start=1)},
        "components": json.dumps(dict(result.components), ensure_ascii=False),
        "extras": json.dumps(dict(result.extras), ensure_ascii=False) if result.extras else None,
        "coverage": result.coverage.value,
        "lat": location.lat if (location := result.location) else None,
        "lon": location.lon if location else None,
        "precision": location.precision.value if location else None,
        "error": None,
    }


def _rejected_values(rejected: Rejected) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(name for name, _ in OUTPUT_COLUMNS)
    values.update(
        verdict="invalid",
        reasons=rejected.problem.value,
        error=f"{rejected.problem.value}: {rejected.message}",
    )
    return values


def _error_values(error: Exception) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(name for name, _ in OUTPUT_COLUMNS)
    values["error"] = f"{type(error).__name__}: {error}"
    return values


def _verify_group(
    texts: list[CleanInput],
    country: str | None,
    searcher: _TimedSearcher,
    classifier: _TimedClassifier | None,
    default_country: str | None,
) -> list[dict[str, Any]]:
    """Verify rows of one country hint together; if the batch fails, row by row, so
    that one row that breaks ``verify_batch`` costs only itself."""
    from address.verify import verify_batch

    try:
        results = verify_batch(
            texts,
            country,
            searcher=searcher,
            classifier=classifier,
            limit=SEARCH_LIMIT,
            default_country=default_country,
        )
        return [_row_values(r) for r in results]
    except Exception as exc:  # retried row by row below, where each failure is reported
        logger.warning("a batch of %d rows failed (%s); verifying them one by one", len(texts), exc)
    values = []
    for text in texts:
        try:
            one = verify_batch(
                [text],
                country,
                searcher=searcher,
                classifier=classifier,
                limit=SEARCH_LIMIT,
                default_country=default_country,
            )
            values.append(_row_values(one[0]))
        except Exception as exc:  # a bad row must never stop the job
            values.append(_error_values(exc))
    return values


def clean_chunk(task: ChunkTask, spec: ResourceSpec) -> ChunkResult:
    """Verify one chunk of rows; the partition function of every engine.

    Example:
        ``clean_chunk(ChunkTask(0, ("4570 Frozen Hill Rd, Anamosa, IA 52205", ""),
        (None, None)), spec)`` gives ``columns["verdict"] == ["valid", "invalid"]``
        and ``columns["reasons"][1] == "empty_input"``.
    """
    load_resources(spec)
    load_s = _UNREPORTED_LOAD.pop(spec, 0.0)
    loaded = _RESOURCES[spec]
    search_timer, classify_timer = _Timed(), _Timed()
    searcher = _TimedSearcher(loaded.index, search_timer)
    classifier = _TimedClassifier(loaded.classifier, classify_timer) if loaded.classifier else None

    started = time.perf_counter()
    rows: list[dict[str, Any] | None] = [None] * len(task.texts)
    groups: dict[str | None, list[tuple[int, CleanInput]]] = {}
    for i, (text, country) in enumerate(zip(task.texts, task.countries, strict=True)):
        screened = screen(text, spec.max_length)
        if isinstance(screened, Rejected):
            rows[i] = _rejected_values(screened)
        else:
            groups.setdefault(country, []).append((i, screened))
    screen_s = time.perf_counter() - started

    started = time.perf_counter()
    for country, members in groups.items():
        values = _verify_group(
            [t for _, t in members], country, searcher, classifier, spec.default_country
        )
        for (i, _), value in zip(members, values, strict=True):
            rows[i] = value
    verify_s = time.perf_counter() - started - search_timer.seconds - classify_timer.seconds

    columns: dict[str, list[Any]] = {
        name: [row[name] if row else None for row in rows] for name, _ in OUTPUT_COLUMNS
    }
    stats = StageStats(
        rows=len(task.texts),
        verified=sum(len(m) for m in groups.values()),
        classified=classify_timer.items,
        screen_s=screen_s,
        search_s=search_timer.seconds,
        verify_s=max(verify_s, 0.0),
        classify_s=classify_timer.seconds,
        load_s=load_s,
        pid=os.getpid(),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return ChunkResult(task.number, columns, stats)
