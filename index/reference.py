"""Known-good reference addresses: the default table and user reference files.

Every source ends up in one Parquet table, one row per known-good address::

    id            non-null, unique, stable across rebuilds ("us-ia-linn-000001")
    address       non-null, one line as a person writes it
                  ("4570 Frozen Hill Rd, Anamosa, IA 52205", "Laugavegur 12b, 101 Reykjavík")
    country       non-null, ISO 3166-1 alpha-2 upper case ("US", "IS")
    house_number, road, unit, postcode, city, state
                  components under libpostal's labels, nullable
    source        non-null ("openaddresses-us-ia-linn", "registers-iceland", "shops.csv")

All columns are Arrow ``string``. The default table combines Linn County, Iowa
(OpenAddresses, via usaddress's training data) and Iceland's national address
register (via iceaddr); see ``DATA_LICENSES.md``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from address.downloads import pip_download
from address.errors import ReferenceDataError
from address.parquet import write_parquet_atomically
from address.settings import get_settings
from address.standardize import format_address_line
from index._iceland import ICELAND_SOURCE, count_iceland_rows, iter_iceland_components
from index._linn import LINN_PACKAGE, LINN_SOURCE, iter_linn_components

__all__ = [
    "COMPONENT_COLUMNS",
    "REFERENCE_COLUMNS",
    "REFERENCE_SCHEMA",
    "build_reference",
    "fetch_default_reference",
    "load_reference_file",
    "read_reference",
]

logger = logging.getLogger(__name__)

COMPONENT_COLUMNS = ("house_number", "road", "unit", "postcode", "city", "state")
"""Address components, named with libpostal's labels."""

REFERENCE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("address", pa.string(), nullable=False),
        pa.field("country", pa.string(), nullable=False),
        *(pa.field(name, pa.string()) for name in COMPONENT_COLUMNS),
        pa.field("source", pa.string(), nullable=False),
    ]
)
"""Arrow schema of every reference table."""

REFERENCE_COLUMNS = tuple(REFERENCE_SCHEMA.names)
_REQUIRED_COLUMNS = ("id", "address", "country", "source")

# An ISO 3166-1 alpha-2 code once upper-cased: "us" -> "US".
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")

# OpenAddresses column (lower case) -> our column; our own names are accepted too.
_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "house_number": ("house_number", "number"),
    "road": ("road", "street"),
    "unit": ("unit",),
    "postcode": ("postcode",),
    "city": ("city", "district"),  # district only where city is missing
    "state": ("state", "region"),
}


# --------------------------------------------------------------------------- tables


class _Columns:
    """Column lists of a reference table being assembled row by row."""

    def __init__(self) -> None:
        self.data: dict[str, list[str | None]] = {name: [] for name in REFERENCE_COLUMNS}

    def add(
        self, id_: str, components: Mapping[str, str | None], country: str, source: str
    ) -> None:
        self.data["id"].append(id_)
        self.data["address"].append(format_address_line(components, country))
        self.data["country"].append(country)
        for name in COMPONENT_COLUMNS:
            self.data[name].append(components.get(name) or None)
        self.data["source"].append(source)

    def to_table(self) -> pa.Table:
        return pa.table(
            {name: pa.array(values, pa.string()) for name, values in self.data.items()},
            schema=REFERENCE_SCHEMA,
        )


def _check_unique_ids(ids: Iterable[str | None]) -> None:
    counts = Counter(ids)
    duplicated = [(i, n) for i, n in counts.items() if n > 1]
    if duplicated:
        shown = ", ".join(f"{i!r} ({n} rows)" for i, n in duplicated[:10])
        more = f" and {len(duplicated) - 10} more" if len(duplicated) > 10 else ""
        raise ReferenceDataError(f"duplicate ids in reference data: {shown}{more}")


def _schema_problem(schema: pa.Schema) -> str | None:
    missing = [name for name in REFERENCE_COLUMNS if name not in schema.names]
    if missing:
        return f"missing columns {missing}"
    wrong = [
        f"{name}: {schema.field(name).type}"
        for name in REFERENCE_COLUMNS
        if not (pa.types.is_string(t := schema.field(name).type) or pa.types.is_large_string(t))
    ]
    return f"columns that are not strings: {wrong}" if wrong else None


def _is_reference_table(path: Path) -> bool:
    try:
        return path.is_file() and _schema_problem(pq.read_schema(path)) is None
    except (OSError, pa.ArrowException):
        return False


def _table_to_frame(table: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = table.select(list(REFERENCE_COLUMNS)).cast(REFERENCE_SCHEMA).to_pandas()
    return frame


def read_reference(path: Path) -> pd.DataFrame:
    """Read a reference table written by this module.

    Example:
        >>> frame = read_reference(get_settings().reference_table)
        >>> frame.loc[frame["id"] == "is-10017508", "address"].item()
        'Laugavegur 12b, 101 Reykjavík'

    Raises:
        ReferenceDataError: the file is missing, unreadable, lacks a column of
            the schema, or has nulls in ``id``, ``address``, ``country`` or
            ``source``.
    """
    if not path.is_file():
        raise ReferenceDataError(
            f"reference table not found: {path} "
            "(build it with fetch_default_reference() or build_reference())"
        )
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ReferenceDataError(f"cannot read reference table {path}: {exc}") from exc
    problem = _schema_problem(table.schema)
    if problem is None:
        nulls = [name for name in _REQUIRED_COLUMNS if table.column(name).null_count]
        problem = f"nulls in required columns {nulls}" if nulls else None
    if problem is not None:
        raise ReferenceDataError(f"{path} is not a reference table: {problem}")
    return _table_to_frame(table)


# ------------------------------------------------------------------ default data


def _progress(items: Iterable[Any], enabled: bool, desc: str, total: int | None) -> Iterator[Any]:
    from address.progress import progress

    yield from progress(items, desc=desc, total=total, unit=" rows", disable=not enabled)


def _add_source(
    columns: _Columns,
    rows: Iterable[tuple[int, dict[str, str | None]]],
    make_id: Callable[[int], str],
    country: str,
    source: str,
) -> None:
    for key, components in rows:
        if components.get("road"):  # an address without a street cannot be matched
            columns.add(make_id(key), components, country, source)


def fetch_default_reference(
    out: Path | None = None, *, force: bool = False, progress: bool = True
) -> Path:
    """Build the default table of known-good addresses, unless it is there already.

    Combines ~95,000 OpenAddresses rows for Linn County, Iowa (e.g.
    ``4570 Frozen Hill Rd, Anamosa, IA 52205``, read from the
    ``usaddress==0.5.16`` sdist, downloaded pinned by sha256) and Iceland's
    national address register (e.g. ``Laugavegur 12b, 101 Reykjavík``, read
    from the SQLite file inside the installed ``iceaddr`` package). Ids are
    ``us-ia-linn-<position in file>`` and ``is-<hnitnum>``.

    Args:
        out: where to write the Parquet table; default
            ``get_settings().reference_table``.
        force: rebuild even when ``out`` already holds a valid table.
        progress: show tqdm progress bars.

    Returns:
        ``out``.

    Raises:
        DataFetchError: the usaddress sdist could not be downloaded or verified.
        ReferenceDataError: a source could not be read.
    """
    out = out or get_settings().reference_table
    if not force and _is_reference_table(out):
        return out
    columns = _Columns()
    with tempfile.TemporaryDirectory(prefix="addr-reference-") as tmp:
        (sdist,) = pip_download([LINN_PACKAGE], Path(tmp), source=True)
        _add_source(
            columns,
            _progress(iter_linn_components(sdist), progress, "Linn County, Iowa", None),
            lambda position: f"us-ia-linn-{position:06d}",
            "US",
            LINN_SOURCE,
        )
    _add_source(
        columns,
        _progress(iter_iceland_components(), progress, "Iceland", count_iceland_rows()),
        lambda hnitnum: f"is-{hnitnum}",
        "IS",
        ICELAND_SOURCE,
    )
    _check_unique_ids(columns.data["id"])
    return write_parquet_atomically(columns.to_table(), out)


# -------------------------------------------------------------------- user files


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


def load_reference_file(path: Path, *, country: str | None = None) -> pd.DataFrame:
    """Load a user file of known-good addresses into the reference schema.

    Accepts CSV, Parquet or JSONL (by extension) with an ``address`` column,
    OpenAddresses-style component columns (``number, street, unit, city,
    district, region, postcode, country``; also the schema's own names), or
    both; column names are matched case-insensitively. A row such as
    ``number=4570, street=Frozen Hill Rd, city=Anamosa, region=IA,
    postcode=52205`` becomes ``house_number="4570", road="Frozen Hill Rd",
    state="IA"`` with the address line ``4570 Frozen Hill Rd, Anamosa, IA 52205``.
    Where a row has its own ``address`` text that text is kept as given; rows
    with only ``address`` have null components. Rows with neither are dropped.
    Ids come from an ``id`` column, else ``<file stem>-<row number>`` (from 1);
    ``source`` is the file name.

    Args:
        path: the file to read.
        country: ISO alpha-2 code for rows without a ``country`` value; default
            ``get_settings().default_country``.

    Raises:
        ReferenceDataError: unsupported extension, unreadable file, no
            ``address`` nor component column, a missing or invalid country, or
            duplicate ids.
    """
    raw = _read_any(path)
    by_name: dict[str, str] = {}
    for column in raw.columns:
        key = str(column).strip().lower()
        if key in by_name:
            raise ReferenceDataError(f"{path.name}: column {key!r} appears twice")
        by_name[key] = str(column)

    def pick(*names: str) -> pd.Series[str] | None:
        found = [_clean(raw[by_name[n]]) for n in names if n in by_name]
        if not found:
            return None
        merged = found[0]
        for other in found[1:]:
            merged = merged.combine_first(other)
        return merged

    address = pick("address")
    components = {name: pick(*aliases) for name, aliases in _COLUMN_ALIASES.items()}
    if address is None and all(c is None for c in components.values()):
        raise ReferenceDataError(
            f"{path.name} has neither an 'address' column nor any component column "
            f"(number, street, unit, city, district, region, postcode); found {list(by_name)}"
        )
    size = len(raw)
    empty = pd.Series([None] * size, dtype="str")
    frame = pd.DataFrame({name: empty if c is None else c for name, c in components.items()})
    frame["country"] = _resolve_country(
        pick("country"), country if country is not None else get_settings().default_country, size
    )
    frame["address"] = empty if address is None else address
    missing = frame.loc[frame["address"].isna()]
    if len(missing):
        lines = pd.Series(_format_rows(missing), index=missing.index, dtype="str")
        frame["address"] = frame["address"].combine_first(lines)
    frame["address"] = _clean(frame["address"])
    generated = pd.Series([f"{path.stem}-{n}" for n in range(1, size + 1)], dtype="str")
    ids = pick("id")
    frame["id"] = generated if ids is None else ids.combine_first(generated)
    frame["source"] = path.name
    dropped = int(frame["address"].isna().sum())
    if dropped:
        logger.warning("%s: dropped %d rows with neither address nor components", path, dropped)
        frame = frame.loc[frame["address"].notna()]
    _check_unique_ids(frame["id"])
    try:
        table = pa.Table.from_pandas(
            frame[list(REFERENCE_COLUMNS)], schema=REFERENCE_SCHEMA, preserve_index=False
        )
    except (pa.ArrowException, ValueError) as exc:
        raise ReferenceDataError(
            f"{path.name}: cannot convert to the reference schema: {exc}"
        ) from exc
    return _table_to_frame(table)


def build_reference(inputs: list[Path], out: Path) -> Path:
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

    Raises:
        ReferenceDataError: a file cannot be loaded, or ids repeat across files.
    """
    if not inputs:
        return fetch_default_reference(out)
    frames = [load_reference_file(path) for path in inputs]
    combined = pd.concat(frames, ignore_index=True)
    _check_unique_ids(combined["id"])
    table = pa.Table.from_pandas(combined, schema=REFERENCE_SCHEMA, preserve_index=False)
    return write_parquet_atomically(table, out)
