"""Candidate search over known-good addresses: dense + lexical, then re-ranked.

A query goes through :func:`address.normalize.normalize` and libpostal's parse;
candidates come from two paths,

* **dense**: the MiniLM embedding of the query's match key, nearest neighbours
  in FAISS (catches paraphrase and word-order changes), and
* **lexical**: the token index of :mod:`index.lexical` (catches typos and
  abbreviations the embedding misses, and exact house numbers),

and their union is scored by :func:`index.rerank.agreement`, whose score has
the same meaning for every query (see :mod:`index.rerank`). The lexical path
runs first; the dense path (embedding one query costs ~10 ms on a CPU core,
everything else ~1 ms) runs when the best lexical candidate scores below
``IndexConfig.dense_below`` (0.9), i.e. when no candidate is the same address
with at most a minor difference. Autocomplete uses
neither model nor parser: it is a sorted-array prefix look-up
(:mod:`index.autocomplete`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from address.errors import ReferenceDataError
from address.model import ParsedAddress
from address.normalize import normalize
from address.verification import Location, Precision
from index._files import save_index
from index.autocomplete import KeyColumn, PrefixIndex, postcodes_agreeing, towns_agreeing
from index.config import IndexConfig
from index.embed import Embedder
from index.keys import component_key, join_keys
from index.lexical import LexicalIndex
from index.locate import Locator, SharedPoints, centroid, nearest, on_globe
from index.reference import COMPONENT_COLUMNS, Completeness
from index.rerank import QueryParts, RowParts, query_parts, rank
from index.rows import with_keys, with_points

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["AddressIndex", "Candidate", "read_queries"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A known-good address suggested for a query.

    Example:
        ``Candidate(id="us-ia-linn-000001", address="4570 Frozen Hill Rd, Anamosa,
        IA 52205", components={"house_number": "4570", ...}, country="US",
        score=0.97, matched=("house_number", "road", "locality"),
        location=Location(42.1078, -91.2851, Precision.POSTCODE),
        completeness="authoritative")``
    """

    id: str
    address: str
    components: dict[str, str] = field(hash=False, compare=True)
    country: str
    score: float
    """Agreement in [0, 1]; >= 0.95 the same address (bands in :mod:`index.rerank`)."""
    matched: tuple[str, ...]
    """Components of the query that agree with this address."""
    location: Location | None = None
    """Where the address is, as finely as known."""
    completeness: str = Completeness.AUTHORITATIVE.value
    """Its source's :class:`index.reference.Completeness`."""


class AddressIndex:
    """A loaded address index; build with :func:`index.store.build_index`, open with
    :func:`index.store.load_index`.

    Example:
        >>> index = load_index(Path(".venv/share/addr/index/default"))
        >>> index.search("4570 Frozen Hil Rd, Anamosa IA")[0].address
        '4570 Frozen Hill Rd, Anamosa, IA 52205'
    """

    def __init__(
        self,
        vectors: Any,
        rows: pd.DataFrame,
        config: IndexConfig,
        manifest: dict[str, Any],
        embedder: Embedder,
        path: Path | None = None,
        mapped: bool = False,
    ) -> None:
        self._vectors = vectors
        self._embedder = embedder
        self._mapped = mapped
        self.config = config
        self.manifest = manifest
        self.path = path
        self._set_rows(rows.reset_index(drop=True))

    # ------------------------------------------------------------------ state

    def _set_rows(self, rows: pd.DataFrame) -> None:
        rows = with_points(rows)
        self.rows = rows
        self._deleted: NDArray[np.bool_] = rows["deleted"].to_numpy(dtype=bool, copy=True)
        self._lat: NDArray[np.float64] = rows["lat"].to_numpy(dtype=np.float64, copy=True)
        self._lon: NDArray[np.float64] = rows["lon"].to_numpy(dtype=np.float64, copy=True)
        codes, names = pd.factorize(rows["completeness"])
        self._completeness: NDArray[np.int8] = codes.astype(np.int8)
        self._completeness_names: list[str] = [str(name) for name in names]
        self._point_rows: NDArray[np.int64] | None = None
        self._ids: list[str] = rows["id"].tolist()
        self._addresses: list[str] = rows["address"].tolist()
        self._countries: NDArray[np.str_] = rows["country"].to_numpy(dtype=str)
        self._keys = {
            c: _nullable(rows[c]) for c in ("hn_key", "road_key", "postcode_key", "city_key")
        }
        postcode_keys, city_keys = self._keys["postcode_key"], self._keys["city_key"]
        self._parts = [
            RowParts(key, hn, road, pc, city)
            for key, hn, road, pc, city in zip(
                rows["key"].tolist(),
                self._keys["hn_key"],
                self._keys["road_key"],
                postcode_keys,
                city_keys,
                strict=True,
            )
        ]
        self._towns = KeyColumn(city_keys, towns_agreeing)
        self._postcodes = KeyColumn(postcode_keys, postcodes_agreeing)
        component_values = {c: _nullable(rows[c]) for c in COMPONENT_COLUMNS}
        self._components = [
            {c: v for c in COMPONENT_COLUMNS if (v := component_values[c][i]) is not None}
            for i in range(len(rows))
        ]
        self._live_row = {id_: i for i, id_ in enumerate(self._ids) if not self._deleted[i]}
        self._lexical = LexicalIndex(rows["key"].tolist())
        postcode_first = join_keys(
            *(rows[c] for c in ("hn_key", "road_key", "unit_key", "postcode_key", "city_key"))
        )
        self._prefix = PrefixIndex(
            [rows["number_first"].tolist(), rows["street_first"].tolist(), postcode_first],
            self._countries.tolist(),
        )
        self._masks: dict[str | None, NDArray[np.bool_]] = {}
        self._locator = Locator(rows, self._lat, self._lon)
        self._shared = SharedPoints.build(rows["key"], self._countries, self._lat, self._lon)
        self._country_codes: list[str] = [str(c) for c in pd.unique(rows["country"])]

    def _mask(self, country: str | None) -> NDArray[np.bool_]:
        key = country.upper() if country else None
        mask = self._masks.get(key)
        if mask is None:
            mask = ~self._deleted
            if key is not None:
                mask = mask & (self._countries == key)
            self._masks[key] = mask
        return mask

    @property
    def embedder(self) -> Embedder:
        """The query embedding model (an overlay of new rows embeds with the same one)."""
        return self._embedder

    def load_embedder(self) -> None:
        """Load the query embedding model now, not at the first search that needs it."""
        self._embedder.load()

    def __len__(self) -> int:
        """Number of live (not deleted) addresses."""
        return len(self._live_row)

    # ------------------------------------------------------------------ search

    def _candidate(self, row: int, score: float, matched: tuple[str, ...]) -> Candidate:
        return Candidate(
            id=self._ids[row],
            address=self._addresses[row],
            components=dict(self._components[row]),
            country=str(self._countries[row]),
            score=round(float(score), 4),
            matched=matched,
            location=self._row_location(row),
            completeness=self._completeness_names[self._completeness[row]],
        )

    def _row_location(self, row: int) -> Location | None:
        if (shared := self._shared.location(row)) is not None:
            return shared
        if not (np.isnan(self._lat[row]) or np.isnan(self._lon[row])):
            return Location(float(self._lat[row]), float(self._lon[row]), Precision.PREMISE)
        keys = self._keys
        components = self._components[row]
        return self._locator.estimate(
            str(self._countries[row]),
            keys["road_key"][row],
            keys["hn_key"][row],
            keys["postcode_key"][row],
            keys["city_key"][row],
            components.get("postcode"),
            components.get("city"),
        )

    def _dense_rows(self, vectors: NDArray[np.float32], mask: NDArray[np.bool_]) -> list[list[int]]:
        k = self.config.dense_k
        allowed = float(mask.mean()) if len(mask) else 1.0
        fetch = min(len(mask), int(k / max(allowed, 0.05)) + 8)
        if fetch == 0:
            return [[] for _ in range(len(vectors))]
        _, found = self._vectors.search(vectors, fetch)
        return [[int(r) for r in row if r >= 0 and mask[r]][:k] for row in found]

    def _rank(self, parts: QueryParts, rows: set[int], k: int) -> list[Candidate]:
        best = rank(parts, ((row, self._parts[row]) for row in rows), k)
        return [self._candidate(row, score, matched) for row, score, matched in best]

    def search(self, query: str, k: int = 5, country: str | None = None) -> list[Candidate]:
        """The ``k`` known-good addresses closest to a free-text query, best first.

        Args:
            query: e.g. ``"4570 Frozen Hil Road Anamosa"``.
            k: number of candidates.
            country: ISO alpha-2 code to restrict to (``"IS"``).

        Returns:
            Candidates with calibrated scores; ``[]`` when nothing shares a word
            or a neighbourhood with the query.

        Raises:
            EmptyAddressError, AddressTooLongError: from :func:`normalize`.
            DataNotReadyError: libpostal's data is not set up.
        """
        return self.search_batch([query], k, country)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, country: str | None = None
    ) -> list[list[Candidate]]:
        """:meth:`search` for many queries (one embedding batch); raises on the first bad one."""
        return self.search_parsed(*read_queries(queries, country), k, country)

    def search_parsed(
        self,
        texts: Sequence[str],
        parsed: Sequence[ParsedAddress],
        k: int = 5,
        country: str | None = None,
        *,
        dense: bool = True,
    ) -> list[list[Candidate]]:
        """:meth:`search_batch` for queries already normalized and parsed, as ``verify``
        reads them (a unit found anywhere, a town given in its own field): nothing is
        normalized or parsed again. With ``dense=False`` only the lexical path runs (no
        query is embedded).

        Example: ``search_parsed(["4570 frozen hil rd anamosa ia"], [parse(...)])``.
        """
        mask = self._mask(country)
        parts = [query_parts(text, p) for text, p in zip(texts, parsed, strict=True)]
        pools = [
            {
                int(r)
                for r in self._lexical.candidates(p.key.split(), self.config.lexical_k, mask)[0]
            }
            for p in parts
        ]
        ranked = [self._rank(p, pool, k) for p, pool in zip(parts, pools, strict=True)]
        unsure = [
            i
            for i, found in enumerate(ranked)
            if dense and (not found or found[0].score < self.config.dense_below)
        ]
        if unsure:
            vectors = self._embedder.embed([texts[i] for i in unsure])
            for i, dense_rows in zip(unsure, self._dense_rows(vectors, mask), strict=True):
                ranked[i] = self._rank(parts[i], pools[i] | set(dense_rows), k)
        return ranked

    def autocomplete(
        self,
        prefix: str,
        k: int = 5,
        country: str | None = None,
        locality: str | None = None,
        postcode: str | None = None,
    ) -> list[Candidate]:
        """Completions of a partly typed address, from the third character on, in the
        town and postcode the shopper already gave.

        Narrowing is strict: with ``locality="Anamosa"`` only addresses in Anamosa
        are suggested, and none at all when no Anamosa address completes the prefix
        (a suggestion from elsewhere would overwrite the town the shopper typed).

        Args:
            prefix: e.g. ``"4570 froz"``, ``"frozen hill rd 45"``, ``"Laugaveg"``.
            k: number of suggestions.
            country: ISO alpha-2 code to restrict to.
            locality: the town given (``"Anamosa"``); a town agrees when its key is
                the same, starts with it (``"Cedar"``) or is within a typo of it
                (``"Anamsoa"``, :data:`index.autocomplete.TOWN_TYPO_RATIO`).
            postcode: the postcode given, compared without spaces (``"NW1 6XE"`` =
                ``"nw16xe"``); a partial one (``"522"``) agrees with the postcodes it
                starts, a ZIP+4 (``"52205-1234"``) with its ZIP.

        Returns:
            Candidates whose ``score`` is 1.0 for an exact prefix match and 0.9
            for a match after one typo correction; ``[]`` for fewer than three
            characters (not an error). A town or postcode with no letter or digit
            does not narrow.
        """
        narrow = [
            test
            for column, typed in ((self._towns, locality), (self._postcodes, postcode))
            if typed and (test := column.agreeing(typed)) is not None
        ]
        found = self._prefix.lookup(
            prefix, k, alive=self._mask(None), country=country, narrow=narrow
        )
        return [self._candidate(c.row, 0.9 if c.corrected else 1.0, ()) for c in found]

    # ------------------------------------------------------------------ locations

    def locate(self, parsed: ParsedAddress, country: str | None) -> Location | None:
        """The best location for an address that is no row: a point on its street within
        its postcode or town, else the postcode's centroid, else the town's; ``None``
        when none is known. A postcode's centroid is the middle of its known points when
        the index has some, else the gazetteer's. No model runs (~20 µs).

        Example: ``locate(parse("Laugavegur 16, 101 Reykjavík"), "IS")`` lies between
        Laugavegur 15 and 17 (``Precision.STREET``); ``"Nowhere Lane 5, 101 Reykjavík"``
        gets 101's centroid (``Precision.POSTCODE``).
        """
        road, number, postcode, town = (
            component_key(value)
            for value in (parsed.road, parsed.house_number, parsed.postcode, parsed.locality)
        )
        countries = [country.strip().upper()] if country else self._country_codes
        for code in countries:
            if point := self._locator.street(code, road, number, postcode, town):
                return Location(point[0], point[1], Precision.STREET)
        for code in countries:
            if found := self._locator.postcode(code, postcode) or centroid(
                code, parsed.postcode, parsed.locality
            ):
                return found
        return None

    def set_location(self, id: str, lat: float, lon: float) -> bool:
        """Give a live row its own point, e.g. where a courier delivered to
        ``"is-10017508"`` (Laugavegur 12b); its candidates then say ``Precision.PREMISE``.
        Persisted by :meth:`save`.

        Returns:
            ``False`` for an id that is not a live row.

        Raises:
            ValueError: ``lat`` outside [-90, 90] or ``lon`` outside [-180, 180].
        """
        if not on_globe(lat, lon):
            raise ValueError(f"not a WGS84 point: lat={lat}, lon={lon}")
        row = self._live_row.get(id)
        if row is None:
            return False
        self._lat[row], self._lon[row] = lat, lon
        self._shared.forget(row)
        self._point_rows = None
        return True

    def nearby(
        self, lat: float, lon: float, k: int = 40, radius_m: float = 400.0
    ) -> list[tuple[str, str, float, float]]:
        """``(id, address, lat, lon)`` of up to ``k`` live rows with their own point within
        ``radius_m`` of a point, nearest first (~1 ms over 139,000 points).

        Example: ``nearby(64.14597, -21.93096, k=1)`` is
        ``[("is-10017508", "Laugavegur 12b, 101 Reykjavík", 64.14597, -21.93096)]``.
        """
        if self._point_rows is None:
            has_point = ~(np.isnan(self._lat) | np.isnan(self._lon))
            self._point_rows = np.flatnonzero(has_point & ~self._deleted)
        found = nearest(self._point_rows, self._lat, self._lon, (lat, lon), k, radius_m)
        return [
            (self._ids[r], self._addresses[r], float(self._lat[r]), float(self._lon[r]))
            for r, _ in found
        ]

    # ------------------------------------------------------------------ updates

    def add(self, frame: pd.DataFrame) -> int:
        """Add (or replace, by ``id``) reference rows without re-embedding the rest.

        ``frame`` has the reference schema (:func:`index.reference.load_reference_file`).
        A row whose ``id`` is already in the index replaces the old row, which
        is tomb-stoned. The lexical and prefix structures are rebuilt in memory
        (~3 s at 234k rows); call :meth:`save` to persist.

        Returns:
            The number of rows added.
        """
        if frame["id"].duplicated().any():
            raise ReferenceDataError("duplicate ids in the rows to add")
        new = with_keys(frame)
        vectors = self._embedder.embed(new["address"].tolist(), progress=False)
        self._ensure_writable()
        self._vectors.add(vectors)
        rows = self._synced_rows().copy()
        replaced = [self._live_row[i] for i in new["id"] if i in self._live_row]
        rows.loc[replaced, "deleted"] = True
        combined = pd.concat([rows, new], ignore_index=True)
        self._set_rows(combined)
        return len(new)

    def delete(self, ids: Sequence[str]) -> int:
        """Tomb-stone rows by id; searched no more, persisted by :meth:`save`.

        Returns:
            The number of rows deleted (unknown ids are ignored).
        """
        rows = [self._live_row.pop(i) for i in ids if i in self._live_row]
        self._deleted[rows] = True
        self.rows["deleted"] = self._deleted
        self._masks.clear()
        self._point_rows = None
        return len(rows)

    def _ensure_writable(self) -> None:
        if self._mapped and self.path is not None:
            import faiss

            from index._files import VECTORS

            self._vectors = faiss.read_index(str(self.path / VECTORS))
            self._mapped = False

    def save(self, path: Path | None = None) -> Path:
        """Write the index (with tombstones) to ``path`` (default: where it was loaded)."""
        target = path or self.path
        if target is None:
            raise ValueError("no path to save to")
        self.path = save_index(self._vectors, self._synced_rows(), self.manifest, target)
        return self.path

    def _synced_rows(self) -> pd.DataFrame:
        """:attr:`rows` with the tombstones and points set since loading."""
        self.rows["deleted"] = self._deleted
        self.rows["lat"], self.rows["lon"] = self._lat, self._lon
        return self.rows


def read_queries(
    queries: Sequence[str], country: str | None
) -> tuple[list[str], list[ParsedAddress]]:
    """Free-text queries normalized and parsed, for :meth:`AddressIndex.search_parsed`:
    ``"4570 Frozen Hil Rd  Anamosa"`` -> ``"4570 Frozen Hil Rd Anamosa"`` and its parse.

    Raises:
        EmptyAddressError, AddressTooLongError: from :func:`normalize`.
    """
    from address.libpostal import parse

    clean = [normalize(q) for q in queries]
    return clean, [parse(text, country) for text in clean]


def _nullable(series: pd.Series[Any]) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in series.tolist()]
