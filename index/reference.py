"""Known-good reference addresses: the table every source ends up in, and the default one.
User files are read by :mod:`index.user_files`.

Every source ends up in one Parquet table, one row per known-good address::

    id            non-null, unique, stable across rebuilds ("us-ia-linn-000001")
    address       non-null, one line as a person writes it
                  ("4570 Frozen Hill Rd, Anamosa, IA 52205", "Laugavegur 12b, 101 Reykjavík")
    country       non-null, ISO 3166-1 alpha-2 upper case ("US", "IS")
    house_number, road, unit, postcode, city, state
                  components under libpostal's labels, nullable
    source        non-null ("openaddresses-us-ia-linn", "registers-iceland", "shops.csv")
    lat, lon      the address's own point (WGS84 degrees, float64), nullable
                  (64.1455, -21.9301 for Laugavegur 12b)
    completeness  non-null, :class:`Completeness` of the source ("authoritative")

All other columns are Arrow ``string``. The default table combines Linn County, Iowa
(OpenAddresses, via usaddress's training data, without coordinates) and Iceland's
national address register (via iceaddr, with its points); both are authoritative.
See ``DATA_LICENSES.md``.
"""

from __future__ import annotations

import logging
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
from address.paths import data_paths
from address.standardize import format_address_line
from address.verification import Completeness
from index._iceland import ICELAND_SOURCE, count_iceland_rows, iter_iceland_components
from index._linn import LINN_PACKAGE, LINN_SOURCE, iter_linn_components

__all__ = [
    "COMPONENT_COLUMNS",
    "POINT_COLUMNS",
    "REFERENCE_COLUMNS",
    "REFERENCE_SCHEMA",
    "Completeness",
    "check_unique_ids",
    "completeness_of",
    "fetch_default_reference",
    "read_reference",
    "table_to_frame",
]

logger = logging.getLogger(__name__)

COMPONENT_COLUMNS = ("house_number", "road", "unit", "postcode", "city", "state")
"""Address components, named with libpostal's labels."""
POINT_COLUMNS = ("lat", "lon")
"""An address's own point, WGS84 degrees."""


def completeness_of(value: str) -> Completeness:
    """``"observed"`` -> ``Completeness.OBSERVED`` (case and spaces ignored).

    Raises:
        ReferenceDataError: any other value, naming the valid ones.
    """
    try:
        return Completeness(value.strip().lower())
    except ValueError:
        valid = ", ".join(c.value for c in Completeness)
        raise ReferenceDataError(f"completeness must be one of {valid}, not {value!r}") from None


REFERENCE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("address", pa.string(), nullable=False),
        pa.field("country", pa.string(), nullable=False),
        *(pa.field(name, pa.string()) for name in COMPONENT_COLUMNS),
        pa.field("source", pa.string(), nullable=False),
        *(pa.field(name, pa.float64()) for name in POINT_COLUMNS),
        pa.field("completeness", pa.string(), nullable=False),
    ]
)
"""Arrow schema of every reference table."""

REFERENCE_COLUMNS = tuple(REFERENCE_SCHEMA.names)
_REQUIRED_COLUMNS = ("id", "address", "country", "source", "completeness")


# --------------------------------------------------------------------------- tables


class _Columns:
    """Column lists of a reference table being assembled row by row."""

    def __init__(self) -> None:
        self.data: dict[str, list[Any]] = {name: [] for name in REFERENCE_COLUMNS}

    def add(
        self,
        id_: str,
        components: Mapping[str, str | None],
        point: tuple[float, float] | None,
        country: str,
        source: str,
    ) -> None:
        self.data["id"].append(id_)
        self.data["address"].append(format_address_line(components, country))
        self.data["country"].append(country)
        for name in COMPONENT_COLUMNS:
            self.data[name].append(components.get(name) or None)
        self.data["source"].append(source)
        self.data["lat"].append(None if point is None else point[0])
        self.data["lon"].append(None if point is None else point[1])
        self.data["completeness"].append(Completeness.AUTHORITATIVE.value)

    def to_table(self) -> pa.Table:
        return pa.table(
            {f.name: pa.array(self.data[f.name], f.type) for f in REFERENCE_SCHEMA},
            schema=REFERENCE_SCHEMA,
        )


def check_unique_ids(ids: Iterable[str | None]) -> None:
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
        f"{field.name}: {schema.field(field.name).type}, not {field.type}"
        for field in REFERENCE_SCHEMA
        if not _fits(schema.field(field.name).type, field.type)
    ]
    return f"columns of the wrong type: {wrong}" if wrong else None


def _fits(found: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``found`` casts losslessly to the schema's type."""
    if pa.types.is_floating(expected):
        return bool(
            pa.types.is_floating(found) or pa.types.is_integer(found) or pa.types.is_null(found)
        )
    return bool(pa.types.is_string(found) or pa.types.is_large_string(found))


def _is_reference_table(path: Path) -> bool:
    try:
        return path.is_file() and _schema_problem(pq.read_schema(path)) is None
    except (OSError, pa.ArrowException):
        return False


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = table.select(list(REFERENCE_COLUMNS)).cast(REFERENCE_SCHEMA).to_pandas()
    return frame


def read_reference(path: Path) -> pd.DataFrame:
    """Read a reference table written by this module.

    Example:
        >>> frame = read_reference(data_paths().reference)
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
    if problem is None:
        values = set(table.column("completeness").unique().to_pylist())
        unknown = sorted(values - {c.value for c in Completeness})
        problem = f"completeness values {unknown} are not {[c.value for c in Completeness]}"
        problem = problem if unknown else None
    if problem is not None:
        raise ReferenceDataError(f"{path} is not a reference table: {problem}")
    return table_to_frame(table)


# ------------------------------------------------------------------ default data


def _progress(items: Iterable[Any], enabled: bool, desc: str, total: int | None) -> Iterator[Any]:
    from address.progress import progress

    yield from progress(items, desc=desc, total=total, unit=" rows", disable=not enabled)


def _add_source(
    columns: _Columns,
    rows: Iterable[tuple[int, dict[str, str | None], tuple[float, float] | None]],
    make_id: Callable[[int], str],
    country: str,
    source: str,
) -> None:
    for key, components, point in rows:
        if components.get("road"):  # an address without a street cannot be matched
            columns.add(make_id(key), components, point, country, source)


def fetch_default_reference(
    out: Path | None = None, *, force: bool = False, progress: bool = True
) -> Path:
    """Build the default table of known-good addresses, unless it is there already.

    Combines ~95,000 OpenAddresses rows for Linn County, Iowa (e.g.
    ``4570 Frozen Hill Rd, Anamosa, IA 52205``, read from the
    ``usaddress==0.5.16`` sdist, downloaded pinned by sha256) and Iceland's
    national address register (e.g. ``Laugavegur 12b, 101 Reykjavík`` at
    64.1455, -21.9301, read from the SQLite file inside the installed ``iceaddr``
    package); Linn County's rows have no point. Both are authoritative. Ids are
    ``us-ia-linn-<position in file>`` and ``is-<hnitnum>``.

    Args:
        out: where to write the Parquet table; default
            ``data_paths().reference``.
        force: rebuild even when ``out`` already holds a valid table.
        progress: show tqdm progress bars.

    Returns:
        ``out``.

    Raises:
        DataFetchError: the usaddress sdist could not be downloaded or verified.
        ReferenceDataError: a source could not be read.
    """
    out = out or data_paths().reference
    if not force and _is_reference_table(out):
        return out
    columns = _Columns()
    with tempfile.TemporaryDirectory(prefix="addr-reference-") as tmp:
        (sdist,) = pip_download([LINN_PACKAGE], Path(tmp), source=True)
        _add_source(
            columns,
            _progress(
                # usaddress's training data tags the text only: no point for these rows.
                ((position, row, None) for position, row in iter_linn_components(sdist)),
                progress,
                "Linn County, Iowa",
                None,
            ),
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
    check_unique_ids(columns.data["id"])
    return write_parquet_atomically(columns.to_table(), out)
