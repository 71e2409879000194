"""Parquet tables written so that a reader sees the old file or the new one, never half.

Example:
    >>> write_parquet_atomically(table, Path("/srv/addr/reference/default.parquet"))
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from address._files import write_atomically

__all__ = ["write_parquet_atomically"]


def write_parquet_atomically(table: pa.Table, out: Path, **options: object) -> Path:
    """Write ``table`` beside ``out`` and rename it into place; returns ``out``.

    ``options`` go to ``pyarrow.parquet.write_table`` (``row_group_size=…``).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(out, lambda temporary: pq.write_table(table, temporary, **options))
