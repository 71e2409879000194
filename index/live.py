"""The index the service searches: the built index plus the addresses deliveries
confirmed since, in every worker process, without a restart.

Each worker holds a :class:`LiveIndex` over its loaded :class:`AddressIndex` and the
shared :class:`index.feedback.FeedbackStore`; before a request it calls
:meth:`LiveIndex.sync`, a one-row read when nothing changed. A delivered address
already in the index (``match_id``) only moves that row's point; one the index lacks,
``"Laugavegur 12b, 101 Reykjavík"`` delivered to at (64.1455, -21.9301), goes into a
small in-memory overlay index (source ``delivery``, completeness ``observed``) that
every search merges with the main one by score.

Taking a delivery in costs a request almost nothing: the new row is searched one by one
(its keys scored against each query, ~20 µs a row) until a background thread folds it
into the overlay index (every 10 s, or at once when 64 are pending), rebuilt and swapped
in whole (~25 ms for 300 addresses), never changed in place, so that a search in another
thread always sees one consistent state.
The overlay is lexical only (a delivered address sharing no word with a query cannot
score as its match), so nothing is embedded. It is skipped for a query the main index
matches (score ≥ 0.95) and for a country none of its addresses is in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from address.model import ParsedAddress
from address.verification import Location, Precision
from index.feedback import FeedbackStore, KnownGoodRow
from index.keys import address_key, component_key
from index.locate import nearest
from index.reference import COMPONENT_COLUMNS, REFERENCE_COLUMNS, Completeness
from index.rerank import SAME_ADDRESS, QueryParts, RowParts, query_parts, rank
from index.rows import with_keys
from index.search import AddressIndex, Candidate, read_queries

__all__ = ["DELIVERY_SOURCE", "LiveIndex"]

DELIVERY_SOURCE = "delivery"
"""``source`` of the rows deliveries made known-good."""
FOLD_PENDING = 64
"""Pending delivered addresses that are folded into the overlay index at once."""
FOLD_AFTER_S = 10.0
"""Pending ones are folded in at least this often (until then autocomplete misses them;
searches and verify find them from the first request)."""


class LiveIndex:
    """An :class:`AddressIndex` with the known-good addresses of a feedback store.

    Example:
        >>> live = LiveIndex(load_index(), FeedbackStore(data_paths().feedback))
        >>> live.sync()  # before each request
        0
        >>> live.search("Laugavegur 12b, 101 Reykjavík", country="IS")[0].score
        1.0
    """

    def __init__(
        self, index: AddressIndex, store: FeedbackStore | None, *, background: bool = True
    ) -> None:
        """``background=False``: no folding thread; rows taken in stay pending until
        :meth:`fold` is called."""
        self.index = index
        self.store = store
        self._lock = threading.Lock()
        self._folding = threading.Lock()
        self._watermark = 0
        self._rows: dict[str, KnownGoodRow] = {}
        self._pending_cache: dict[tuple[str, int], _Pending] = {}
        self._overlay = _Overlay(None, {}, (), frozenset(), frozenset())
        self._wake = threading.Event()
        self.sync()
        self.fold()
        if background:
            threading.Thread(
                target=self._fold_when_due, name="fold-deliveries", daemon=True
            ).start()

    # ------------------------------------------------------------------ sync

    def sync(self) -> int:
        """Take in the known-good rows recorded (by any process) since the last sync;
        the first takes every one. They are searched at once; a background thread folds
        them into the overlay index. Thread-safe.

        Returns:
            The number of rows taken in (0 when nothing changed: one read of ~3 µs).
        """
        if self.store is None or self.store.last_known_good_seq() == self._watermark:
            return 0
        with self._lock:
            changed = self.store.known_good_since(self._watermark)
            if not changed:
                return 0
            for row in changed:
                if row.match_id in (None, row.id) and not row.deleted:
                    self._rows[row.id] = row
                    continue
                self._rows.pop(row.id, None)
                if row.deleted or row.match_id is None or row.lat is None or row.lon is None:
                    continue
                self.index.set_location(row.match_id, row.lat, row.lon)
            self._watermark = changed[-1].seq
            current = self._overlay
            self._overlay = self._overlay_over(current.index, current.built)
        if len(self._overlay.pending) >= FOLD_PENDING:
            self._wake.set()
        return len(changed)

    def _fold_when_due(self) -> None:
        """The background thread: fold every :data:`FOLD_AFTER_S` seconds while rows are
        pending, at once when :data:`FOLD_PENDING` are."""
        while True:
            self._wake.wait(FOLD_AFTER_S)
            self._wake.clear()
            if self._overlay.pending or self._overlay.hidden:
                self.fold()

    def fold(self) -> None:
        """Rebuild the overlay index from every delivered address and swap it in, until
        nothing is pending (what arrives meanwhile is folded in the next round); one fold
        at a time. The background thread calls it when due."""
        with self._folding:
            while self._overlay.pending or self._overlay.hidden:
                with self._lock:
                    rows = list(self._rows.values())
                built = {row.id: row.seq for row in rows}
                index = self._overlay_index(rows)
                with self._lock:
                    self._overlay = self._overlay_over(index, built)

    def _overlay_index(self, rows: Sequence[KnownGoodRow]) -> AddressIndex | None:
        """The delivered addresses as a lexical-only index: it is searched with
        ``dense=False``, so nothing is embedded."""
        import faiss

        if not rows:
            return None
        embedder = self.index.embedder
        frame = pd.DataFrame([_reference_row(r) for r in rows], columns=list(REFERENCE_COLUMNS))
        no_vectors = faiss.IndexFlatIP(embedder.dimensions)
        return AddressIndex(no_vectors, with_keys(frame), self.index.config, {}, embedder)

    def _overlay_over(self, index: AddressIndex | None, built: dict[str, int]) -> _Overlay:
        """The overlay given the index of the rows ``built`` (id -> change number): rows
        new or changed since are pending, and the index's stale rows hidden."""
        pending = []
        for row in self._rows.values():
            if built.get(row.id) != row.seq:
                key = (row.id, row.seq)
                if key not in self._pending_cache:
                    self._pending_cache[key] = _Pending.of(row)
                pending.append(self._pending_cache[key])
        live = {key for key in self._pending_cache if key[0] in self._rows}
        self._pending_cache = {key: self._pending_cache[key] for key in live}
        hidden = frozenset(
            id_ for id_, seq in built.items() if id_ not in self._rows or self._rows[id_].seq != seq
        )
        countries = frozenset(row.country for row in self._rows.values())
        return _Overlay(index, built, tuple(pending), hidden, countries)

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 5, country: str | None = None) -> list[Candidate]:
        """:meth:`AddressIndex.search` over the index and the delivered addresses."""
        return self.search_batch([query], k, country)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, country: str | None = None
    ) -> list[list[Candidate]]:
        """:meth:`AddressIndex.search_batch` over the index and the delivered addresses."""
        return self.search_parsed(*read_queries(queries, country), k, country)

    def search_parsed(
        self,
        texts: Sequence[str],
        parsed: Sequence[ParsedAddress],
        k: int = 5,
        country: str | None = None,
    ) -> list[list[Candidate]]:
        """:meth:`AddressIndex.search_parsed` over the index and the delivered addresses,
        merged by score (a delivered ``"Laugavegur 12b, 101 Reykjavík"`` scores as the
        index's rows do). A query the index already matches (score ≥ ``SAME_ADDRESS``,
        0.95) is not looked up among the delivered addresses."""
        found = self.index.search_parsed(texts, parsed, k, country)
        overlay = self._overlay
        unsure = [i for i, f in enumerate(found) if not f or f[0].score < SAME_ADDRESS]
        if not unsure or not overlay.holds(country):
            return found
        extra: list[list[Candidate]] = [[] for _ in unsure]
        if overlay.index is not None:
            extra = overlay.index.search_parsed(
                [texts[i] for i in unsure], [parsed[i] for i in unsure], k, country, dense=False
            )
        for i, more in zip(unsure, extra, strict=True):
            looked_up = overlay.visible(more) + overlay.search_pending(
                query_parts(texts[i], parsed[i]), country, k
            )
            found[i] = _merged(found[i], looked_up, k)
        return found

    def autocomplete(
        self,
        prefix: str,
        k: int = 5,
        country: str | None = None,
        locality: str | None = None,
        postcode: str | None = None,
    ) -> list[Candidate]:
        """:meth:`AddressIndex.autocomplete` over the index and the delivered addresses."""
        found = self.index.autocomplete(prefix, k, country, locality, postcode)
        overlay = self._overlay
        if overlay.index is None or not overlay.holds(country):
            return found
        more = overlay.index.autocomplete(prefix, k, country, locality, postcode)
        return _merged(found, overlay.visible(more), k)

    def locate(self, parsed: ParsedAddress, country: str | None) -> Location | None:
        """:meth:`AddressIndex.locate`: a point on the street, else a centroid."""
        return self.index.locate(parsed, country)

    def nearby(
        self, lat: float, lon: float, k: int = 40, radius_m: float = 400.0
    ) -> list[tuple[str, str, float, float]]:
        """:meth:`AddressIndex.nearby` over the index and the delivered addresses:
        ``(id, address, lat, lon)``, nearest first."""
        found = self.index.nearby(lat, lon, k, radius_m)
        delivered = [
            (row.id, row.address, row.lat, row.lon)
            for row in list(self._rows.values())
            if row.lat is not None and row.lon is not None
        ]
        if not delivered:
            return found
        both = [*found, *delivered]
        lats = np.array([p[2] for p in both], dtype=np.float64)
        lons = np.array([p[3] for p in both], dtype=np.float64)
        order = nearest(np.arange(len(both)), lats, lons, (lat, lon), k, radius_m)
        return [both[i] for i, _ in order]

    def load_embedder(self) -> None:
        """Load the query embedding model now (shared with the overlay)."""
        self.index.load_embedder()

    def __len__(self) -> int:
        """Live addresses, delivered ones included."""
        return len(self.index) + len(self._rows)

    @property
    def rows(self) -> pd.DataFrame:
        """The main index's rows (``AddressIndex.rows``)."""
        return self.index.rows


@dataclass(frozen=True, slots=True)
class _Pending:
    """A delivered address not yet folded into the overlay index: its answer, scored
    against each query by its keys."""

    candidate: Candidate
    parts: RowParts

    @classmethod
    def of(cls, row: KnownGoodRow) -> _Pending:
        """``"Laugavegur 12b, 101 Reykjavík"`` delivered to at (64.14597, -21.93096): a
        premise candidate at that point, keyed as the index keys its rows."""
        components = {c: value for c in COMPONENT_COLUMNS if (value := row.components.get(c))}
        parts = RowParts(
            address_key(row.address),
            *(
                component_key(components.get(c))
                for c in ("house_number", "road", "postcode", "city")
            ),
        )
        location = None
        if row.lat is not None and row.lon is not None:
            location = Location(row.lat, row.lon, Precision.PREMISE)
        candidate = Candidate(
            row.id, row.address, components, row.country, 0.0, (), location,
            Completeness.OBSERVED.value,
        )  # fmt: skip
        return cls(candidate, parts)


@dataclass(frozen=True, slots=True)
class _Overlay:
    """The delivered addresses as one consistent state, swapped whole: the index of those
    folded in (``built``: id -> change number), those taken in since (``pending``), the
    index's rows changed or withdrawn since (``hidden``), and their countries."""

    index: AddressIndex | None
    built: dict[str, int]
    pending: tuple[_Pending, ...]
    hidden: frozenset[str]
    countries: frozenset[str]

    def holds(self, country: str | None) -> bool:
        """Whether any delivered address may be in ``country`` (``None``: any)."""
        return bool(self.countries) and (not country or country.upper() in self.countries)

    def visible(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """The index's candidates that are still current."""
        return [c for c in candidates if c.id not in self.hidden]

    def search_pending(self, query: QueryParts, country: str | None, k: int) -> list[Candidate]:
        """The pending addresses best agreeing with a query, scored as the index scores."""
        wanted = country.upper() if country else None
        rows = (
            (i, pending.parts)
            for i, pending in enumerate(self.pending)
            if wanted is None or pending.candidate.country == wanted
        )
        return [
            replace(self.pending[i].candidate, score=score, matched=matched)
            for i, score, matched in rank(query, rows, k)
        ]


def _reference_row(row: KnownGoodRow) -> dict[str, Any]:
    """The reference row of a delivered address: ``id="delivery-3f2a…"``, its
    components, its point, source ``delivery``, completeness ``observed``."""
    return {
        "id": row.id,
        "address": row.address,
        "country": row.country,
        **{c: row.components.get(c) or None for c in COMPONENT_COLUMNS},
        "source": DELIVERY_SOURCE,
        "lat": row.lat,
        "lon": row.lon,
        "completeness": Completeness.OBSERVED.value,
    }


def _merged(first: Sequence[Candidate], second: Sequence[Candidate], k: int) -> list[Candidate]:
    """The ``k`` best of two ranked lists by score, each id once; ties keep ``first``'s."""
    best: dict[str, Candidate] = {}
    for candidate in (*first, *second):
        kept = best.get(candidate.id)
        if kept is None or candidate.score > kept.score:
            best[candidate.id] = candidate
    return sorted(best.values(), key=lambda c: -c.score)[:k]
