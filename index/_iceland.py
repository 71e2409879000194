"""Iceland: the national address register (Staðfangaskrá) shipped with ``iceaddr``.

``iceaddr`` bundles Registers Iceland's register as the SQLite file
``iceaddr.db``; its ``stadfong`` table has one row per address point, e.g.
``hnitnum=10017508, heiti_nf='Laugavegur', husnr=12, bokst='B', postnr=101,
lat_wgs84=64.1455, long_wgs84=-21.9301`` for Laugavegur 12b, 101 Reykjavík. This
module reads that table read-only and turns it into libpostal's component names
and a point; it formats nothing.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

from address.errors import ReferenceDataError

__all__ = ["ICELAND_SOURCE", "count_iceland_rows", "iceaddr_db_path", "iter_iceland_components"]

ICELAND_SOURCE = "registers-iceland"

_QUERY = (
    "SELECT hnitnum, heiti_nf, husnr, bokst, postnr, lat_wgs84, long_wgs84 "
    "FROM stadfong ORDER BY hnitnum"
)


def iceaddr_db_path() -> Path:
    """Path of ``iceaddr.db`` inside the installed ``iceaddr`` package.

    Raises:
        ReferenceDataError: ``iceaddr`` is not installed or lacks its database.
    """
    try:
        path = Path(str(files("iceaddr") / "iceaddr.db"))
    except ModuleNotFoundError as exc:
        raise ReferenceDataError("the iceaddr package is not installed") from exc
    if not path.is_file():
        raise ReferenceDataError(f"iceaddr's address register is missing: {path}")
    return path


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ReferenceDataError(f"cannot open {path}: {exc}") from exc


def _place_names() -> dict[int, str]:
    """Postcode -> place name in the nominative, e.g. ``101 -> "Reykjavík"``.

    The register stores only the postcode; iceaddr ships Iceland Post's postcode
    table as a plain dict (``iceaddr.postcodes.POSTCODES``), read here as data.
    """
    try:
        table = importlib.import_module("iceaddr.postcodes").POSTCODES
    except (ImportError, AttributeError):
        return {}
    return {
        int(code): str(entry["stadur_nf"])
        for code, entry in table.items()
        if isinstance(entry, dict) and entry.get("stadur_nf")
    }


def _house_number(number: int | None, letter: str | None) -> str | None:
    """``12`` + ``"B"`` -> ``"12b"``, the way Icelanders write Laugavegur 12b.

    Only a single letter is a house letter; the register also holds marks such
    as ``"*"`` or ``"!"`` and a few words, which are not part of the address.
    """
    if number is None:
        return None
    letter = (letter or "").strip()
    suffix = letter.lower() if len(letter) == 1 and letter.isalpha() else ""
    return f"{number}{suffix}"


def count_iceland_rows(path: Path | None = None) -> int:
    """Number of address points in the register (for a progress bar's total)."""
    connection = _connect(path or iceaddr_db_path())
    try:
        (count,) = connection.execute("SELECT count(*) FROM stadfong").fetchone()
    except sqlite3.Error as exc:
        raise ReferenceDataError(f"cannot read the iceaddr register: {exc}") from exc
    finally:
        connection.close()
    return int(count)


def iter_iceland_components(
    path: Path | None = None,
) -> Iterator[tuple[int, dict[str, str | None], tuple[float, float] | None]]:
    """Yield ``(hnitnum, components, (lat, lon))`` for every address point, by ``hnitnum``;
    the point is ``None`` where the register gives none.

    Rows without a house number (farms, named plots) are kept as street-level
    addresses with ``house_number`` ``None``.

    Raises:
        ReferenceDataError: the database cannot be opened or lacks the table.
    """
    places = _place_names()
    connection = _connect(path or iceaddr_db_path())
    try:
        for hnitnum, street, number, letter, postcode, lat, lon in connection.execute(_QUERY):
            yield (
                int(hnitnum),
                {
                    "road": (street or "").strip() or None,
                    "house_number": _house_number(number, letter),
                    "postcode": None if postcode is None else str(postcode),
                    "city": places.get(int(postcode)) if postcode is not None else None,
                },
                None if lat is None or lon is None else (float(lat), float(lon)),
            )
    except sqlite3.Error as exc:
        raise ReferenceDataError(f"cannot read the iceaddr register: {exc}") from exc
    finally:
        connection.close()
