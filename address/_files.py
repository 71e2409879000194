"""Files and folders written so that a reader sees the old one or the new one, never half.

Each is written under a temporary name beside its final place, then renamed into it
in one step; if the writing fails, the temporary file or folder is removed.

Example:
    >>> write_atomically(Path("clean.summary.json"), lambda tmp: tmp.write_text("{}"))
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["FILE_MODE", "FOLDER_MODE", "write_atomically", "write_folder_atomically"]

FILE_MODE = 0o644
"""Permissions of a file written here (``mkstemp`` makes it 0600; files here are shared data)."""
FOLDER_MODE = 0o755
"""Permissions of a folder written here (``mkdtemp`` makes it 0700)."""


def write_atomically(path: Path, write: Callable[[Path], object], *, suffix: str = ".tmp") -> Path:
    """Write ``path`` with ``write(temporary)``, then rename it into place; returns ``path``.

    The temporary file, ``.<name>.<random><suffix>`` in ``path``'s folder (which must
    exist), is flushed to disk and made readable by all before the rename. ``suffix``
    matters to writers that take the format from the name (``.png``).
    """
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        temporary.chmod(FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_folder_atomically(out: Path, write: Callable[[Path], object]) -> Path:
    """Write the folder ``out`` with ``write(temporary_folder)``, then rename it into place,
    replacing an older ``out``; returns ``out``. Parent folders are made as needed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        write(temporary)
        os.chmod(temporary, FOLDER_MODE)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(temporary, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return out
