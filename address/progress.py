"""Progress bars that suit both a terminal and a log file.

Example:
    >>> for row in progress(rows, desc="embedding", unit=" rows"):
    ...     embed(row)  # "4570 Frozen Hill Rd, Anamosa, IA 52205", …
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

__all__ = ["progress"]


def progress(iterable: Any = None, **options: Any) -> tqdm[Any]:
    """A ``tqdm`` bar that redraws twice a second on a terminal but only every
    30 s when stderr is a file or pipe (CI, a service's log), so logs stay short.

    Takes ``tqdm``'s own options (``total``, ``desc``, ``unit``, ``disable``, …).
    """
    options.setdefault("mininterval", 0.5 if sys.stderr.isatty() else 30.0)
    return tqdm(iterable, **options)
