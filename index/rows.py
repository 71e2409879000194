"""The rows an index holds: reference rows with their match keys and a tombstone flag.

Example: ``with_keys(frame)`` gives ``"730 33rd Ave SW, Cedar Rapids, IA 52404"`` the key
``"730 33rd ave sw cedar rapids ia 52404"``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from index.keys import address_key, join_keys
from index.reference import POINT_COLUMNS, REFERENCE_COLUMNS, Completeness

__all__ = ["with_keys", "with_points"]


def _keys_of(series: pd.Series[Any]) -> pd.Series[Any]:
    """Match keys of a column, each distinct value keyed once; null stays null."""
    values = series.astype("string")
    distinct = values.dropna().unique()
    mapping = {v: (address_key(v) or None) for v in distinct}
    return values.map(mapping).astype("string")


def with_points(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``lat``/``lon`` as float64 (NaN where unknown) and ``completeness``
    filled (authoritative where missing), for rows made before those columns existed:
    an index folder written without them loads as authoritative rows without points."""
    rows = frame.copy()
    for name in POINT_COLUMNS:
        values = rows[name] if name in rows else pd.Series(float("nan"), index=rows.index)
        rows[name] = pd.to_numeric(values, errors="coerce").astype("float64")
    given = rows["completeness"] if "completeness" in rows else pd.Series(None, index=rows.index)
    rows["completeness"] = given.astype("string").fillna(Completeness.AUTHORITATIVE.value)
    return rows


def with_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Reference rows plus their match keys and a ``deleted`` flag (all ``False``).

    ``"730 33rd Ave SW, Cedar Rapids, IA 52404"`` gets ``key`` =
    ``"730 33rd ave sw cedar rapids ia 52404"``, ``number_first`` =
    ``"730 33rd ave sw cedar rapids ia 52404"`` and ``street_first`` =
    ``"33rd ave sw 730 52404 cedar rapids ia"`` (the autocomplete keys).
    """
    rows = with_points(frame.reset_index(drop=True))
    rows = rows.loc[:, list(REFERENCE_COLUMNS)].copy()
    rows["key"] = _keys_of(rows["address"])
    for column in ("house_number", "road", "unit", "postcode", "city"):
        name = "hn_key" if column == "house_number" else f"{column}_key"
        rows[name] = _keys_of(rows[column])
    state = _keys_of(rows["state"])
    hn, road, unit, pc, city = (
        rows[c] for c in ("hn_key", "road_key", "unit_key", "postcode_key", "city_key")
    )
    rows["number_first"] = join_keys(hn, road, unit, city, state, pc)
    rows["street_first"] = join_keys(road, hn, unit, pc, city, state)
    rows["key"] = rows["key"].fillna("")
    rows["deleted"] = False
    return rows
