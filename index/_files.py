"""On-disk layout of an index folder, its manifest and the checks made on load.

::

    <dir>/vectors.faiss   FAISS index; vector i is metadata row i
    <dir>/rows.parquet    metadata: reference columns, match keys, ``deleted`` flag
    <dir>/manifest.json   what was built from what, with sizes and checksums

Folders are written next to their final place and renamed into it, so a reader
sees the old index or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from address.errors import IndexNotReadyError

__all__ = [
    "BUILD_HINT",
    "MANIFEST",
    "ROWS",
    "VECTORS",
    "file_sha256",
    "not_ready",
    "read_manifest",
    "verify_checksums",
    "write_folder",
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


def write_folder(out: Path, write_files: Callable[[Path], dict[str, Any]]) -> Path:
    """Write an index folder atomically.

    ``write_files(tmp)`` writes the data files into ``tmp`` and returns the
    manifest without its ``files`` entry; sizes and checksums are added here,
    the manifest is written last, and ``tmp`` is renamed to ``out`` (replacing
    an older index).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        manifest = write_files(tmp)
        manifest["format_version"] = FORMAT_VERSION
        manifest["files"] = {
            name: {"bytes": (tmp / name).stat().st_size, "sha256": file_sha256(tmp / name)}
            for name in (VECTORS, ROWS)
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
