"""Parquet tables written so that a reader sees the old file or the new one, never half.

Example:
    >>> write_parquet_atomically(table, Path("/srv/addr/reference/default.parquet"))
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["write_parquet_atomically"]


def write_parquet_atomically(table: pa.Table, out: Path, **options: object) -> Path:
    """Write ``table`` beside ``out`` and rename it into place; returns ``out``.

    ``options`` go to ``pyarrow.parquet.write_table`` (``row_group_size=…``).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp_name, **options)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; the table is shared data
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return out
