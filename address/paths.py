"""Where the library finds its data: libpostal's model, the postcode gazetteer, the
default known-good table and the default index.

The library never reads the environment. An entry point (``addr``, the service, a
benchmark) reads its settings (:mod:`address.settings`) and hands the folders over once
with :func:`use_data`; libpostal and the gazetteer are process-wide resources, so their
location is too. Without that call everything lives under ``<venv>/share/addr``.

Example:
    >>> use_data(DataPaths.under(Path("/srv/addr")))
    >>> data_paths().gazetteer
    PosixPath('/srv/addr/gazetteer/postcodes.parquet')
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DataPaths", "data_paths", "default_data_dir", "use_data"]


def default_data_dir() -> Path:
    """``<venv>/share/addr``: inside the virtual environment, so removing it removes
    the data too."""
    return Path(sys.prefix) / "share" / "addr"


@dataclass(frozen=True, slots=True)
class DataPaths:
    """The data folders and tables one process uses."""

    libpostal: Path
    """Folder that directly holds libpostal's ``address_parser/``, ``numex/`` and the rest."""
    gazetteer: Path
    """Parquet table of postcodes, their places and coordinates."""
    reference: Path
    """Parquet table of the default known-good addresses."""
    index: Path
    """Address index folder the service and the CLI use by default."""
    feedback: Path
    """SQLite database of delivery outcomes and the addresses they made known-good."""

    @classmethod
    def under(cls, data_dir: Path) -> DataPaths:
        """The standard layout below one folder (``<data_dir>/libpostal``, ...)."""
        return cls(
            libpostal=data_dir / "libpostal",
            gazetteer=data_dir / "gazetteer" / "postcodes.parquet",
            reference=data_dir / "reference" / "default.parquet",
            index=data_dir / "index" / "default",
            feedback=data_dir / "feedback" / "outcomes.sqlite3",
        )


_lock = threading.Lock()
_current = DataPaths.under(default_data_dir())


def use_data(paths: DataPaths) -> None:
    """Make ``paths`` the data this process reads from now on (entry points call it
    once, before loading anything)."""
    global _current
    with _lock:
        _current = paths


def data_paths() -> DataPaths:
    """The data this process reads: what :func:`use_data` set, else the default layout."""
    return _current
