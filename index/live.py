"""The index the service searches: the built index plus the addresses deliveries
confirmed since, in every worker process, without a restart.

Each worker holds a :class:`LiveIndex` over its loaded :class:`AddressIndex` and the
shared :class:`index.feedback.FeedbackStore`; before a request it calls
:meth:`LiveIndex.sync`, a one-row read when nothing changed. A delivered address
already in the index (``match_id``) only moves that row's point; one the index lacks,
``"Laugavegur 12b, 101 Reykjavík"`` delivered to at (64.1455, -21.9301), goes into a
small in-memory overlay index (source ``delivery``, completeness ``observed``) that
every search merges with the main one by score.

The overlay is rebuilt and swapped in whole on a change, never changed in place: a
search running in another thread keeps a consistent overlay. It is lexical only (a
delivered address sharing no word with a query cannot score as its match), so nothing
is embedded when an address is delivered, and searching it embeds no query again. It
is skipped for a query the main index matches (score ≥ 0.95) and for a country none of
its addresses is in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from address.model import ParsedAddress
from address.verification import Location
from index.feedback import FeedbackStore, KnownGoodRow
from index.locate import nearest
from index.reference import COMPONENT_COLUMNS, REFERENCE_COLUMNS, Completeness
from index.rerank import SAME_ADDRESS
from index.rows import with_keys
from index.search import AddressIndex, Candidate, read_queries

if TYPE_CHECKING:
    pass

__all__ = ["DELIVERY_SOURCE", "LiveIndex"]

DELIVERY_SOURCE = "delivery"
"""``source`` of the rows deliveries made known-good."""


class LiveIndex:
    """An :class:`AddressIndex` with the known-good addresses of a feedback store.

    Example:
        >>> live = LiveIndex(load_index(), FeedbackStore(data_paths().feedback))
        >>> live.sync()  # before each request
        0
        >>> live.search("Laugavegur 12b, 101 Reykjavík", country="IS")[0].score
        1.0
    """

    def __init__(self, index: AddressIndex, store: FeedbackStore | None) -> None:
        self.index = index
        self.store = store
        self._lock = threading.Lock()
        self._watermark = 0
        self._rows: dict[str, KnownGoodRow] = {}
        self._overlay: _Overlay | None = None
        self.sync()

    # ------------------------------------------------------------------ sync

    def sync(self) -> int:
        """Take in the known-good rows recorded (by any process) since the last sync;
        the first takes every one. Thread-safe.

        Returns:
            The number of rows taken in (0 when nothing changed: one read of ~3 µs).
        """
        if self.store is None or self.store.last_known_good_seq() == self._watermark:
            return 0
        with self._lock:
            changed = self.store.known_good_since(self._watermark)
            if not changed:
                return 0
            overlay_changed = False
            for row in changed:
                if row.match_id in (None, row.id) and not row.deleted:
                    self._rows[row.id] = row
                    overlay_changed = True
                    continue
                overlay_changed |= self._rows.pop(row.id, None) is not None
                if row.deleted or row.match_id is None or row.lat is None or row.lon is None:
                    continue
                self.index.set_location(row.match_id, row.lat, row.lon)
            if overlay_changed:
                self._overlay = self._build_overlay()
            self._watermark = changed[-1].seq
            return len(changed)

    def _build_overlay(self) -> _Overlay | None:
        """The delivered addresses as a lexical-only index: it is searched with
        ``dense=False``, so nothing is embedded and a rebuild costs ~1 ms per 100 rows."""
        import faiss

        rows = list(self._rows.values())
        if not rows:
            return None
        embedder = self.index.embedder
        frame = pd.DataFrame([_reference_row(r) for r in rows], columns=list(REFERENCE_COLUMNS))
        no_vectors = faiss.IndexFlatIP(embedder.dimensions)
        index = AddressIndex(no_vectors, with_keys(frame), self.index.config, {}, embedder)
        return _Overlay(index, frozenset(r.country for r in rows))

    def _overlay_for(self, country: str | None) -> AddressIndex | None:
        """The overlay, when it may hold addresses in ``country`` (``None``: any)."""
        overlay = self._overlay
        if overlay is None or (country and country.upper() not in overlay.countries):
            return None
        return overlay.index

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
        overlay = self._overlay_for(country)
        unsure = [i for i, f in enumerate(found) if not f or f[0].score < SAME_ADDRESS]
        if overlay is None or not unsure:
            return found
        extra = overlay.search_parsed(
            [texts[i] for i in unsure], [parsed[i] for i in unsure], k, country, dense=False
        )
        for i, more in zip(unsure, extra, strict=True):
            found[i] = _merged(found[i], more, k)
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
        overlay = self._overlay_for(country)
        if overlay is None:
            return found
        return _merged(found, overlay.autocomplete(prefix, k, country, locality, postcode), k)

    def locate(self, parsed: ParsedAddress, country: str | None) -> Location | None:
        """:meth:`AddressIndex.locate`: a point on the street, else a centroid."""
        return self.index.locate(parsed, country)

    def nearby(
        self, lat: float, lon: float, k: int = 40, radius_m: float = 400.0
    ) -> list[tuple[str, str, float, float]]:
        """:meth:`AddressIndex.nearby` over the index and the delivered addresses:
        ``(id, address, lat, lon)``, nearest first."""
        found = self.index.nearby(lat, lon, k, radius_m)
        overlay = self._overlay_for(None)
        if overlay is None:
            return found
        both = [*found, *overlay.nearby(lat, lon, k, radius_m)]
        lats = np.array([p[2] for p in both], dtype=np.float64)
        lons = np.array([p[3] for p in both], dtype=np.float64)
        order = nearest(np.arange(len(both)), lats, lons, (lat, lon), k, radius_m)
        return [both[i] for i, _ in order]

    def load_embedder(self) -> None:
        """Load the query embedding model now (shared with the overlay)."""
        self.index.load_embedder()

    def __len__(self) -> int:
        """Live addresses, delivered ones included."""
        overlay = self._overlay_for(None)
        return len(self.index) + (len(overlay) if overlay is not None else 0)

    @property
    def rows(self) -> pd.DataFrame:
        """The main index's rows (``AddressIndex.rows``)."""
        return self.index.rows


@dataclass(frozen=True, slots=True)
class _Overlay:
    """The delivered addresses' index and the countries they are in (swapped together)."""

    index: AddressIndex
    countries: frozenset[str]


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
