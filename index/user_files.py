"""User files of known-good addresses (CSV, Parquet, JSONL) read into the reference
schema (:mod:`index.reference`).

Example: a ``shops.csv`` line ``4570 Frozen Hill Rd, Anamosa, IA 52205`` becomes the row
``house_number="4570", road="Frozen Hill Rd", city="Anamosa", state="IA",
postcode="52205", country="US"``.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from address.errors import (
    AddressTooLongError,
    DataNotReadyError,
    EmptyAddressError,
    ReferenceDataError,
)
from address.gazetteer import postcode_centroid
from address.model import DEFAULT_COUNTRY, LOCALITY_LABELS
from address.parquet import write_parquet_atomically
from address.standardize import format_address_line
from index.locate import distance_km
from index.reference import (
    COMPONENT_COLUMNS,
    REFERENCE_COLUMNS,
    REFERENCE_SCHEMA,
    Completeness,
    check_unique_ids,
    completeness_of,
    fetch_default_reference,
    table_to_frame,
)

__all__ = ["POINT_PROBLEMS", "SKIP_REASONS", "build_reference", "load_reference_file"]

logger = logging.getLogger(__name__)

# An ISO 3166-1 alpha-2 code once upper-cased: "us" -> "US".
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")

# Our column -> the OpenAddresses columns (lower case) or libpostal labels that feed it,
# first found first; our own names, which are libpostal's, come first. One table for file
# columns and for the components libpostal parses out of one-line addresses.
_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "house_number": ("house_number", "number"),
    "road": ("road", "street"),
    "unit": ("unit",),
    "postcode": ("postcode",),
    # district (OpenAddresses) or libpostal's suburb, city_district, … only where city is missing
    "city": ("city", "district", *LOCALITY_LABELS[1:]),
    "state": ("state", "region"),
}

SKIP_REASONS = ("empty", "no_road", "too_long")
"""Why a row of a user file is left out of the reference table: nothing left after
normalization (or neither an address nor a component), no road found by libpostal in a
one-line address, or an address line over the ``max_address_length`` setting."""

POINT_PROBLEMS = ("not_a_number", "out_of_range", "zero", "swapped")
"""Why a row's coordinates are dropped (the row stays): a value that is not a number, or
only one of the two given; a latitude beyond ±90 or a longitude beyond ±180; exactly
0,0 (a missing point written as zeros); latitude and longitude swapped: a latitude beyond
±90 that is a valid latitude once swapped, or a point over :data:`SWAP_KM` from its
postcode's centroid whose swapped point lies within it."""

SWAP_KM = 200.0
"""A point this far from its postcode's centroid, whose swap is nearer, is swapped."""

# Our coordinate column -> the names (lower case) it is read from.
_POINT_ALIASES = {"lat": ("lat", "latitude"), "lon": ("lon", "lng", "longitude")}


def _cell_text(value: object) -> str | None:
    """A cell as text: ``52205`` and ``52205.0`` both become ``"52205"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_csv(path: Path) -> pd.DataFrame:
    # Everything as text: keeps postcodes such as "00501" and the country "NA".
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _read_parquet(path: Path) -> pd.DataFrame:
    table = pq.read_table(path)
    return pd.DataFrame(
        {
            name: [_cell_text(v) for v in table.column(name).to_pylist()]
            for name in table.column_names
        },
        dtype="str",
    )


def _read_jsonl(path: Path) -> pd.DataFrame:
    records: list[dict[str, str | None]] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReferenceDataError(f"{path}: line {number} is not JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise ReferenceDataError(f"{path}: line {number} is not a JSON object")
            records.append({str(k): _cell_text(v) for k, v in record.items()})
    return pd.DataFrame.from_records(records).astype("str")


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".jsonl": _read_jsonl,
}


def _read_any(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise ReferenceDataError(
            f"{path.name}: unsupported reference file type {suffix or '(none)'!r}; "
            f"use one of {', '.join(_READERS)}"
        )
    if not path.is_file():
        raise ReferenceDataError(f"reference file not found: {path}")
    try:
        return _READERS[suffix](path)
    except ReferenceDataError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ReferenceDataError(f"cannot read reference file {path}: {exc}") from exc


def _clean(series: pd.Series[Any]) -> pd.Series[str]:
    text = series.astype("str").str.strip()
    return text.mask(text == "")


def _resolve_country(raw: pd.Series[str] | None, default: str | None, size: int) -> pd.Series[str]:
    fallback = default.strip().upper() if default else None
    country = pd.Series([fallback] * size, dtype="str")
    if raw is not None:
        country = raw.str.upper().combine_first(country)
    if country.isna().any():
        raise ReferenceDataError(
            f"{int(country.isna().sum())} rows have no country: "
            "add a 'country' column or pass country='US' (ISO alpha-2)"
        )
    bad = sorted(set(country[~country.str.fullmatch(_COUNTRY_CODE)]))
    if bad:
        raise ReferenceDataError(f"country values that are not ISO alpha-2 codes: {bad[:10]}")
    return country


def _format_rows(frame: pd.DataFrame) -> list[str]:
    columns = {name: frame[name].tolist() for name in COMPONENT_COLUMNS}
    return [
        format_address_line({n: _cell_text(v[i]) for n, v in columns.items()}, str(country))
        for i, country in enumerate(frame["country"].tolist())
    ]


def _components(columns: Mapping[str, pd.Series[str]]) -> dict[str, pd.Series[str] | None]:
    """Our component columns from source columns keyed by lower-case name, through
    :data:`_COLUMN_ALIASES`; ``None`` where no source column feeds one."""
    found: dict[str, pd.Series[str] | None] = {}
    for name, aliases in _COLUMN_ALIASES.items():
        merged: pd.Series[str] | None = None
        for alias in aliases:
            if alias in columns:
                source = columns[alias]
                merged = source if merged is None else merged.combine_first(source)
        found[name] = merged
    return found


def _as_written(value: str, text: str) -> str:
    """libpostal's lower-cased ``value`` in the case ``text`` writes it ("baker" -> "Baker")."""
    # The value's words, separated by any run of spaces, anywhere in the text.
    written = re.search(r"\s+".join(map(re.escape, value.split())), text, re.IGNORECASE)
    return written.group(0) if written else value


def _parse_lines(
    lines: pd.Series[str], countries: pd.Series[str]
) -> tuple[dict[str, pd.Series[str] | None], pd.Series[str]]:
    """Components of one-line addresses, parsed by libpostal, and why rows are left out.

    ``"1952 Florida Avenue, Baker, LA 70714"`` gives ``house_number="1952"``,
    ``road="Florida Avenue"``, ``city="Baker"``, ``state="LA"``, ``postcode="70714"``
    (as written; libpostal lower-cases). Loads libpostal (~7 s, ~2 GB) on first use.

    Returns:
        Our component columns (see :func:`_components`), indexed like ``lines``, and
        for each line ``None`` or its reason in :data:`SKIP_REASONS`.
    """
    from address.libpostal import parse
    from address.normalize import normalize

    parsed: dict[Any, dict[str, str]] = {}
    reasons: dict[Any, str | None] = {}
    for key, line, country in zip(lines.index, lines.tolist(), countries.tolist(), strict=True):
        try:
            clean = normalize(line)
        except EmptyAddressError:
            reasons[key] = "empty"
            continue
        except AddressTooLongError:
            reasons[key] = "too_long"
            continue
        components = parse(clean, country).components()
        parsed[key] = {label: _as_written(v, clean) for label, v in components.items()}
        reasons[key] = None
    table = pd.DataFrame.from_dict(parsed, orient="index", dtype="str").reindex(lines.index)
    found = _components({str(label): table[label] for label in table.columns})
    road = found["road"]
    for key in lines.index:
        if reasons[key] is None and (road is None or pd.isna(road[key])):
            reasons[key] = "no_road"
    return found, pd.Series(reasons, dtype="str").reindex(lines.index)


def _far_from_postcode(
    lat: pd.Series[float],
    lon: pd.Series[float],
    countries: pd.Series[str],
    postcodes: pd.Series[str],
) -> pd.Series[bool]:
    """Whether each point lies over :data:`SWAP_KM` from its postcode's centroid while its
    swapped point lies within it (``False`` where the gazetteer has no centroid)."""
    centres = pd.DataFrame({"country": countries, "postcode": postcodes}).dropna()
    lookup: dict[tuple[str, str], tuple[float, float] | None] = {}
    try:
        for pair in set(zip(centres["country"], centres["postcode"], strict=True)):
            lookup[pair] = postcode_centroid(*pair)
    except DataNotReadyError:  # no gazetteer: only the range checks apply
        return pd.Series(False, index=lat.index)
    centre = [
        lookup.get(pair) or (np.nan, np.nan) for pair in zip(countries, postcodes, strict=True)
    ]
    c_lat, c_lon = (np.array([c[i] for c in centre], dtype=np.float64) for i in (0, 1))
    here = distance_km(lat.to_numpy(), lon.to_numpy(), c_lat, c_lon)
    swapped = distance_km(lon.to_numpy(), lat.to_numpy(), c_lat, c_lon)
    return pd.Series((here > SWAP_KM) & (swapped <= SWAP_KM), index=lat.index)


def _points(
    columns: Mapping[str, pd.Series[str]], countries: pd.Series[str], postcodes: pd.Series[str]
) -> tuple[pd.Series[float], pd.Series[float], pd.Series[str]]:
    """Each row's ``lat`` and ``lon`` (NaN where none is given or it is dropped) and the
    :data:`POINT_PROBLEMS` reason it is dropped for (``None`` where kept or not given)."""
    raw: dict[str, pd.Series[str]] = {}
    for name, aliases in _POINT_ALIASES.items():
        found = [columns[a] for a in aliases if a in columns]
        raw[name] = found[0] if found else pd.Series(None, index=countries.index, dtype="str")
    lat, lon = (
        pd.to_numeric(raw[n], errors="coerce").astype("float64").where(np.isfinite)
        for n in ("lat", "lon")
    )
    given = raw["lat"].notna() | raw["lon"].notna()
    not_a_number = given & (lat.isna() | lon.isna())
    swapped = (lat.abs() > 90) & (lon.abs() <= 90)
    out_of_range = (lat.abs() > 90) | (lon.abs() > 180)
    zero = (lat == 0) & (lon == 0)
    kept = given & ~(not_a_number | out_of_range | zero)
    swapped |= kept & _far_from_postcode(lat.where(kept), lon.where(kept), countries, postcodes)
    problem = pd.Series(
        np.select(
            [not_a_number, zero, swapped, out_of_range],
            ["not_a_number", "zero", "swapped", "out_of_range"],
            default="",
        ),
        index=countries.index,
        dtype="str",
    )
    problem = problem.mask(problem == "")
    return lat.mask(problem.notna()), lon.mask(problem.notna()), problem


def load_reference_file(
    path: Path,
    *,
    country: str | None = DEFAULT_COUNTRY,
    completeness: Completeness | str = Completeness.AUTHORITATIVE,
    skipped: Counter[str] | None = None,
    dropped_points: Counter[str] | None = None,
) -> pd.DataFrame:
    """Load a user file of known-good addresses into the reference schema.

    Accepts CSV, Parquet or JSONL (by extension) with an ``address`` column,
    OpenAddresses-style component columns (``number, street, unit, city,
    district, region, postcode, country``; also the schema's own names), or
    both; column names are matched case-insensitively. A row such as
    ``number=4570, street=Frozen Hill Rd, city=Anamosa, region=IA,
    postcode=52205`` becomes ``house_number="4570", road="Frozen Hill Rd",
    state="IA"`` with the address line ``4570 Frozen Hill Rd, Anamosa, IA 52205``.
    Where a row has its own ``address`` text that text is kept as given. A row
    with an ``address`` but no road (one-line files: ``1952 Florida Avenue,
    Baker, LA 70714``) is parsed by libpostal after normalization, and the
    components it finds fill those the row lacks (libpostal is loaded only for
    such rows). Left out, counted by reason (:data:`SKIP_REASONS`) and logged:
    rows with neither address nor components or whose line normalizes to
    nothing (``empty``), lines libpostal finds no road in (``no_road``) and
    lines too long to parse (``too_long``). Ids come from an ``id`` column,
    else ``<file stem>-<row number>`` (from 1); ``source`` is the file name.
    Each address's own point comes from ``lat``/``lon`` columns (also ``latitude``,
    ``longitude``, ``lng``: ``64.1460, -21.9310`` for Laugavegur 12b); bad ones are
    dropped, the row kept, counted by reason (:data:`POINT_PROBLEMS`) and logged in one
    warning per file.

    Args:
        path: the file to read.
        country: ISO alpha-2 code for rows without a ``country`` value (the CLI passes
            the ``default_country`` setting).
        completeness: ``authoritative`` for a register of every address,
            ``observed`` for addresses seen in deliveries or orders.
        skipped: if given, the rows left out are counted into it by reason
            (``{"no_road": 3, "empty": 1}``).
        dropped_points: if given, the dropped coordinates are counted into it by
            reason (``{"zero": 2, "swapped": 1}``).

    Raises:
        ReferenceDataError: unsupported extension, unreadable file, no
            ``address`` nor component column, a missing or invalid country, an
            unknown completeness, or duplicate ids.
    """
    kind = completeness_of(str(completeness))
    raw = _read_any(path)
    columns: dict[str, pd.Series[str]] = {}
    for column in raw.columns:
        key = str(column).strip().lower()
        if key in columns:
            raise ReferenceDataError(f"{path.name}: column {key!r} appears twice")
        columns[key] = _clean(raw[column])

    address = columns.get("address")
    components = _components(columns)
    if address is None and all(c is None for c in components.values()):
        raise ReferenceDataError(
            f"{path.name} has neither an 'address' column nor any component column "
            f"(number, street, unit, city, district, region, postcode); found {list(columns)}"
        )
    size = len(raw)
    empty = pd.Series([None] * size, dtype="str")
    frame = pd.DataFrame({name: empty if c is None else c for name, c in components.items()})
    frame["country"] = _resolve_country(
        columns.get("country"),
        country,
        size,
    )
    frame["address"] = empty if address is None else address
    reasons = pd.Series([None] * size, dtype="str")
    one_line = frame.loc[frame["address"].notna() & frame["road"].isna()]
    if len(one_line):
        parsed, reasons = _parse_lines(one_line["address"], one_line["country"])
        reasons = reasons.reindex(frame.index)
        for name, values in parsed.items():
            if values is not None:
                frame[name] = frame[name].combine_first(values)
    missing = frame.loc[frame["address"].isna()]
    if len(missing):
        lines = pd.Series(_format_rows(missing), index=missing.index, dtype="str")
        frame["address"] = frame["address"].combine_first(lines)
    frame["address"] = _clean(frame["address"])
    reasons = reasons.mask(frame["address"].isna(), "empty")
    generated = pd.Series([f"{path.stem}-{n}" for n in range(1, size + 1)], dtype="str")
    ids = columns.get("id")
    frame["id"] = generated if ids is None else ids.combine_first(generated)
    frame["source"] = path.name
    frame["completeness"] = kind.value
    frame["lat"], frame["lon"], problems = _points(columns, frame["country"], frame["postcode"])
    bad_points = Counter(problems[reasons.isna()].dropna().tolist())
    if bad_points:
        logger.warning("%s: dropped coordinates %s", path, dict(sorted(bad_points.items())))
        if dropped_points is not None:
            dropped_points.update(bad_points)
    left_out = Counter(reasons.dropna().tolist())
    if left_out:
        logger.warning("%s: left out %s", path, dict(sorted(left_out.items())))
        frame = frame.loc[reasons.isna()]
        if skipped is not None:
            skipped.update(left_out)
    check_unique_ids(frame["id"])
    try:
        table = pa.Table.from_pandas(
            frame[list(REFERENCE_COLUMNS)], schema=REFERENCE_SCHEMA, preserve_index=False
        )
    except (pa.ArrowException, ValueError) as exc:
        raise ReferenceDataError(
            f"{path.name}: cannot convert to the reference schema: {exc}"
        ) from exc
    return table_to_frame(table)


def build_reference(
    inputs: list[Path],
    out: Path,
    *,
    completeness: Completeness | str = Completeness.AUTHORITATIVE,
    skipped: Counter[str] | None = None,
    dropped_points: Counter[str] | None = None,
) -> Path:
    """Build one reference table from user files, or the default one.

    Example:
        >>> build_reference([Path("shops.csv"), Path("depots.jsonl")], Path("ref.parquet"))
        PosixPath('ref.parquet')

    where ``shops.csv`` holds e.g. ``4570 Frozen Hill Rd, Anamosa, IA 52205``.

    Args:
        inputs: CSV, Parquet or JSONL files (see :func:`load_reference_file`);
            an empty list builds the default table with
            :func:`fetch_default_reference`.
        out: the Parquet file to write (atomically).
        completeness: of every row of ``inputs`` (see :func:`load_reference_file`).
        skipped: if given, the rows of ``inputs`` left out are counted into it by
            reason (see :func:`load_reference_file`).
        dropped_points: if given, the coordinates of ``inputs`` dropped are counted
            into it by reason (see :func:`load_reference_file`).

    Raises:
        ReferenceDataError: a file cannot be loaded, an unknown completeness, or ids
            repeat across files.
    """
    if not inputs:
        return fetch_default_reference(out)
    frames = [
        load_reference_file(
            path, completeness=completeness, skipped=skipped, dropped_points=dropped_points
        )
        for path in inputs
    ]
    combined = pd.concat(frames, ignore_index=True)
    check_unique_ids(combined["id"])
    table = pa.Table.from_pandas(combined, schema=REFERENCE_SCHEMA, preserve_index=False)
    return write_parquet_atomically(table, out)
