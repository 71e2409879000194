"""On-disk layout of an index folder, its manifest and the checks made on load.

::

    <dir>/vectors.faiss   FAISS index; vector i is metadata row i
    <dir>/rows.parquet    metadata: reference columns (points and completeness included;
                          a folder written before those loads as authoritative rows
                          without points), match keys, ``deleted`` flag
    <dir>/manifest.json   what was built from what, with sizes and checksums

Folders are written next to their final place and renamed into it, so a reader
sees the old index or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from address._files import write_atomically, write_folder_atomically
from address.errors import IndexNotReadyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BUILD_HINT",
    "MANIFEST",
    "ROWS",
    "VECTORS",
    "file_sha256",
    "not_ready",
    "read_manifest",
    "save_index",
    "verify_checksums",
    "write_folder",
    "write_manifest",
]

VECTORS = "vectors.faiss"
ROWS = "rows.parquet"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
BUILD_HINT = "rebuild it with `addr index build --out DIR` (or `make setup` for the default index)"


def not_ready(path: Path, problem: str) -> IndexNotReadyError:
    """The error for an index folder that cannot be used, with the fix."""
    return IndexNotReadyError(f"address index at {path} is not usable: {problem}; {BUILD_HINT}")


def file_sha256(path: Path) -> str:
    """``"sha256:<hex>"`` of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an index folder.

    Raises:
        IndexNotReadyError: the folder, a file or the manifest is missing or unreadable.
    """
    if not folder.is_dir():
        raise not_ready(folder, "the folder does not exist")
    for name in (MANIFEST, VECTORS, ROWS):
        if not (folder / name).is_file():
            raise not_ready(folder, f"{name} is missing")
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise not_ready(folder, f"{MANIFEST} is unreadable ({error})") from error
    if manifest.get("format_version") != FORMAT_VERSION:
        raise not_ready(
            folder, f"format version {manifest.get('format_version')!r} is not {FORMAT_VERSION}"
        )
    for name in (VECTORS, ROWS):
        expected = manifest.get("files", {}).get(name, {})
        size = (folder / name).stat().st_size
        if expected.get("bytes") != size:
            raise not_ready(
                folder,
                f"{name} is {size} bytes, the manifest says "
                f"{expected.get('bytes')} (truncated or replaced)",
            )
    return manifest


def verify_checksums(folder: Path, manifest: dict[str, Any]) -> None:
    """Compare every file's SHA-256 with the manifest (~0.3 s per 100 MB)."""
    for name, expected in manifest["files"].items():
        actual = file_sha256(folder / name)
        if actual != expected.get("sha256"):
            raise not_ready(folder, f"{name} does not match its checksum (corrupt)")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` of ``folder`` atomically."""
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    write_atomically(folder / MANIFEST, lambda temporary: temporary.write_text(text))


def write_folder(out: Path, write_files: Callable[[Path], dict[str, Any]]) -> Path:
    """Write an index folder atomically.

    ``write_files(tmp)`` writes the data files into ``tmp`` and returns the
    manifest without its ``files`` entry; sizes and checksums are added here,
    the manifest is written last, and ``tmp`` is renamed to ``out`` (replacing
    an older index).
    """

    def write(tmp: Path) -> None:
        manifest = write_files(tmp)
        manifest["format_version"] = FORMAT_VERSION
        manifest["files"] = {
            name: {"bytes": (tmp / name).stat().st_size, "sha256": file_sha256(tmp / name)}
            for name in (VECTORS, ROWS)
        }
        write_manifest(tmp, manifest)

    return write_folder_atomically(out.resolve(), write)


def save_index(vectors: Any, rows: pd.DataFrame, manifest: dict[str, Any], out: Path) -> Path:
    """Write FAISS index, rows and manifest to ``out`` atomically (used by build and save)."""
    import faiss

    def write(tmp: Path) -> dict[str, Any]:
        faiss.write_index(vectors, str(tmp / VECTORS))
        rows.to_parquet(tmp / ROWS, index=False)
        updated = dict(manifest)
        updated["count"] = int(vectors.ntotal)
        updated["live"] = int((~rows["deleted"].astype(bool)).sum())
        updated["saved_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return updated

    return write_folder(out, write)
