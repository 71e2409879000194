"""Bulk address cleaning: streaming, resumable, in a local process pool or on Dask.

::

    from api.bulk import CleanConfig, run_clean
    run_clean(CleanConfig(Path("orders.csv"), Path("clean.parquet"), workers=2))

Modules: :mod:`~api.bulk.io` (readers, writers, errors), :mod:`~api.bulk.worker`
(the partition function and per-process resources), :mod:`~api.bulk.engines`,
:mod:`~api.bulk.job` (chunks, checkpoint manifest, resume, summary) and
:mod:`~api.bulk.cli` (``addr clean``). Nothing heavy is imported here.
"""

from __future__ import annotations

from api.bulk.io import CleanInputError, CleanJobError, CleanOutputError, ResumeError
from api.bulk.job import CleanConfig, CleanSummary, run_clean
from api.bulk.worker import InputProblem

__all__ = [
    "CleanConfig",
    "CleanInputError",
    "CleanJobError",
    "CleanOutputError",
    "CleanSummary",
    "InputProblem",
    "ResumeError",
    "run_clean",
]
