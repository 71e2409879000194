"""Import past delivery outcomes from a CSV file, resumably.

Columns: ``address`` and ``outcome`` (``delivered``, ``failed``, ``not_received``),
optionally ``country``, ``event_id``, ``reason``, ``lat``, ``lon``, ``occurred_at``
(unix seconds), e.g.::

    address,country,outcome,lat,lon
    "Laugavegur 12b, 101 Reykjavík",IS,delivered,64.1455,-21.9301

A sidecar ``<csv>.import-checkpoint`` records the byte offset done after each batch,
so a rerun continues where an interrupted one stopped (and picks up rows appended
since). A row without ``event_id`` gets ``csv:<file name>:<row number>``, so even a
full re-import records nothing twice. Events carry the caller ``import:<file name>``,
so :meth:`FeedbackStore.revoke` can take a bad file back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from address.errors import AddressError
from address.progress import progress as progress_bar
from index.feedback.model import FeedbackEvent, Outcome, delivery_key, whole_point
from index.feedback.store import FeedbackStore

__all__ = ["ImportReport", "import_events"]

ReadAddress = Callable[[str, str | None], tuple[str, str | None, Mapping[str, str]]]
"""``read_address(text, country) -> (standardized, country, components)``."""

_REQUIRED = ("address", "outcome")
_PREFIX_BYTES = 4096
"""The checkpoint holds a hash of the file's first bytes (up to this many, and not
past the offset done) to tell the same, possibly grown, file from another one."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: ``ImportReport(rows=1000, accepted=990, duplicates=0,
    skipped={"unknown outcome": 10}, known_good_added=700)``."""

    rows: int
    """Data rows read by this run (rows done before a resume are not counted)."""
    accepted: int
    duplicates: int
    skipped: dict[str, int] = field(default_factory=dict)
    """Rows not imported, per reason."""
    known_good_added: int = 0


class _SkipRow(Exception):
    """A row that cannot become an event; the message is the reason."""


def import_events(
    path: Path,
    store: FeedbackStore,
    read_address: ReadAddress,
    *,
    progress: bool = True,
    resume: bool = True,
    batch: int = 500,
) -> ImportReport:
    """Record the outcomes of a CSV file in ``store``, ``batch`` rows per transaction.

    Args:
        path: the CSV file (UTF-8, header row).
        read_address: reads and standardizes one address (the CLI passes
            ``address.reading.read`` + ``address.standardize``).
        resume: continue after the checkpoint of an earlier run of the same file.

    Raises:
        ValueError: the header lacks ``address`` or ``outcome``.
    """
    checkpoint = path.with_name(path.name + ".import-checkpoint")
    with path.open("rb") as raw:
        header_line = raw.readline()
        header = next(csv.reader([header_line.decode("utf-8-sig")]), [])
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise ValueError(f"{path.name}: the header lacks {', '.join(missing)}")
        start, done_rows = _resume_point(checkpoint, raw) if resume else (0, 0)
        begin = raw.seek(max(start, len(header_line)))
        reader = _OffsetReader(raw)
        rows = csv.DictReader(reader.lines(), fieldnames=header)
        skipped: Counter[str] = Counter()
        counts = Counter[str]()
        pending: list[FeedbackEvent] = []
        bar = progress_bar(
            total=path.stat().st_size - begin,
            unit="B",
            unit_scale=True,
            desc=path.name,
            disable=not progress,
        )
        row_number = done_rows
        for row in rows:
            row_number += 1
            try:
                pending.append(_event(row, path.name, row_number, read_address))
            except _SkipRow as skip:
                skipped[str(skip)] += 1
            if len(pending) >= batch:
                _flush(store, pending, counts)
                _save_checkpoint(checkpoint, raw, reader.offset, row_number)
                bar.update(reader.offset - begin - bar.n)
        _flush(store, pending, counts)
        _save_checkpoint(checkpoint, raw, reader.offset, row_number)
        bar.close()
    return ImportReport(
        rows=row_number - done_rows,
        accepted=counts["accepted"],
        duplicates=counts["duplicates"],
        skipped=dict(skipped),
        known_good_added=counts["known_good_added"],
    )


class _OffsetReader:
    """Decoded lines of a binary file, with the byte offset after the last line given
    out (``csv`` pulls exactly the lines of one record at a time)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.offset = raw.tell()

    def lines(self) -> Iterator[str]:
        for line in self._raw:
            self.offset += len(line)
            yield line.decode("utf-8", errors="replace")


def _flush(store: FeedbackStore, pending: list[FeedbackEvent], counts: Counter[str]) -> None:
    if pending:
        done = store.record(pending)
        counts.update(
            accepted=done.accepted,
            duplicates=done.duplicates,
            known_good_added=done.known_good_added,
        )
        pending.clear()


def _event(
    row: Mapping[str, str | None], file_name: str, row_number: int, read_address: ReadAddress
) -> FeedbackEvent:
    """The event of data row ``row_number`` of ``file_name``, or :class:`_SkipRow` with
    the reason."""
    text = (row.get("address") or "").strip()
    if not text:
        raise _SkipRow("empty address")
    try:
        outcome = Outcome((row.get("outcome") or "").strip().lower())
    except ValueError:
        raise _SkipRow("unknown outcome") from None
    lat, lon = _number(row, "lat"), _number(row, "lon")
    if not whole_point(lat, lon):
        raise _SkipRow("bad coordinates")
    occurred_at = _number(row, "occurred_at")
    try:
        standardized, country, components = read_address(
            text, (row.get("country") or "").strip() or None
        )
    except AddressError:
        raise _SkipRow("unreadable address") from None
    return FeedbackEvent(
        address_key=delivery_key(standardized, country),
        address=standardized,
        country=country,
        outcome=outcome,
        event_id=(row.get("event_id") or "").strip() or f"csv:{file_name}:{row_number}",
        reason=(row.get("reason") or "").strip() or None,
        lat=lat,
        lon=lon,
        components=components,
        caller=f"import:{file_name}",
        occurred_at=occurred_at,
    )


def _number(row: Mapping[str, str | None], column: str) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _SkipRow(f"bad {'coordinates' if column in ('lat', 'lon') else column}") from None
    if not math.isfinite(value):
        raise _SkipRow(f"bad {'coordinates' if column in ('lat', 'lon') else column}")
    return value


def _prefix_hash(raw: BinaryIO, upto: int) -> str:
    here = raw.tell()
    raw.seek(0)
    digest = hashlib.sha1(raw.read(min(upto, _PREFIX_BYTES))).hexdigest()
    raw.seek(here)
    return digest


def _resume_point(checkpoint: Path, raw: BinaryIO) -> tuple[int, int]:
    """(byte offset, data rows) done by an earlier run of this file; (0, 0) when there
    is none, it is unreadable, or the file is not the one it was written for."""
    try:
        done = json.loads(checkpoint.read_text(encoding="utf-8"))
        offset, rows, prefix = int(done["offset"]), int(done["rows"]), str(done["prefix"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0
    size = raw.seek(0, io.SEEK_END)
    if offset > size or _prefix_hash(raw, offset) != prefix:
        return 0, 0
    return offset, rows


def _save_checkpoint(checkpoint: Path, raw: BinaryIO, offset: int, rows: int) -> None:
    state = {"offset": offset, "rows": rows, "prefix": _prefix_hash(raw, offset)}
    temporary = checkpoint.with_name(checkpoint.name + ".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    temporary.replace(checkpoint)
