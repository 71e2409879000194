"""Bulk address cleaning: streaming, resumable, in a local process pool or on Dask.

::

    from api.bulk import CleanConfig, run_clean
    run_clean(CleanConfig(Path("orders.csv"), Path("clean.parquet"), workers=2))

Modules: :mod:`~api.bulk.config` (the job's options), :mod:`~api.bulk.io` (readers,
writers, errors), :mod:`~api.bulk.worker` (the partition function and per-process
resources), :mod:`~api.bulk.engines`, :mod:`~api.bulk.checkpoint` (the manifest a
resumed run continues from), :mod:`~api.bulk.job` (the run: chunks in and out,
progress), :mod:`~api.bulk.report` (summary JSON and chart) and :mod:`~api.bulk.cli`
(``addr clean``). Nothing heavy is imported here.
"""

from __future__ import annotations

from api.bulk.config import CleanConfig
from api.bulk.io import CleanInputError, CleanJobError, CleanOutputError, ResumeError
from api.bulk.job import run_clean
from api.bulk.report import CleanSummary
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
