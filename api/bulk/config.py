"""What a bulk cleaning job is asked to do: :class:`CleanConfig`.

Each field that ``addr clean`` offers carries its :class:`CliOption` in its metadata
(under :data:`CLI`): the command's options are made from these fields, their types and
their defaults (:mod:`api.bulk.cli`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.bulk.engines import EngineName
from api.bulk.io import CleanInputError, file_format

__all__ = ["CLI", "COMPONENT_LABELS", "CleanConfig", "CliOption"]

COMPONENT_LABELS: Mapping[str, str] = {
    "number": "house_number",
    "street": "road",
    "unit": "unit",
    "city": "city",
    "region": "state",
    "postcode": "postcode",
    "country": "country",
}
"""OpenAddresses input column -> libpostal label, for ``--components``."""

CLI = "cli"
"""Key of a field's :class:`CliOption` in its metadata."""


@dataclass(frozen=True, slots=True)
class CliOption:
    """How ``addr clean`` offers a :class:`CleanConfig` field."""

    help: str
    flags: tuple[str, ...] = ()
    """Option names when not ``--<field-name>``, e.g. ``("--out",)``."""
    argument: bool = False
    """A positional argument rather than an option."""
    cli_type: Any = None
    """Type read from the command line when not the field's."""
    parse: Callable[[str], Any] | None = None
    """Command-line text -> field value; without the option the field keeps its default."""


def _cli(help: str, **how: Any) -> dict[str, CliOption]:
    return {CLI: CliOption(help, **how)}


def _column_list(text: str) -> tuple[str, ...]:
    """``"number, street"`` -> ``("number", "street")``."""
    return tuple(c.strip() for c in text.split(",") if c.strip())


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """One bulk cleaning job (``addr clean``).

    Example:
        ``CleanConfig(Path("orders.csv"), Path("clean.parquet"), column="address")``
        cleans rows such as ``address="4570 Frozen Hil Rd, Anamosa IA"``.
    """

    input: Path = field(
        metadata=_cli("CSV, Parquet or JSONL file of addresses, e.g. orders.csv.", argument=True)
    )
    """CSV, Parquet or JSONL file (by extension)."""
    output: Path = field(metadata=_cli("CSV, Parquet or JSONL file to write.", flags=("--out",)))
    """CSV, Parquet or JSONL file to write (by extension); replaced atomically."""
    column: str | None = field(
        default=None, metadata=_cli("Column with the address text (default: address).")
    )
    """Column holding the address text; default ``address`` unless ``components`` is given."""
    components: tuple[str, ...] = field(
        default=(),
        metadata=_cli(
            f"Build the text from these columns, in order: {','.join(COMPONENT_LABELS)}.",
            cli_type=str | None,
            parse=_column_list,
        ),
    )
    """OpenAddresses column names (:data:`COMPONENT_LABELS`) to build the text from, in order."""
    country: str | None = field(
        default=None, metadata=_cli("ISO alpha-2 country of every row, e.g. US.")
    )
    """ISO alpha-2 country of every row; else each row's ``country`` component, else detected."""
    index_dir: Path | None = field(
        default=None, metadata=_cli("Index folder (default: the built one).", flags=("--index",))
    )
    """Address index folder; default the ``index_dir`` setting."""
    adapter_dir: Path | None = None
    """Classifier adapter; default the ``adapter_path`` setting or the committed one."""
    use_classifier: bool = field(
        default=True,
        metadata=_cli(
            "Ask the validity classifier about open cases.",
            flags=("--classifier/--no-classifier",),
        ),
    )
    """Ask the classifier about the cases rules and index leave open."""
    engine: EngineName = field(
        default="local", metadata=_cli("local (process pool) or dask.", cli_type=str)
    )
    """``local`` (process pool) or ``dask``."""
    workers: int = field(default=1, metadata=_cli("Worker processes, ~3 GB each."))
    """Worker processes (~3 GB each); ``1`` with ``local`` runs in this process."""
    scheduler: str | None = field(
        default=None, metadata=_cli("Dask scheduler to join, e.g. tcp://10.0.0.5:8786.")
    )
    """Dask scheduler address (``tcp://10.0.0.5:8786``); none: a ``LocalCluster``."""
    chunk_rows: int = field(default=1000, metadata=_cli("Rows per chunk and checkpoint."))
    """Rows per chunk: the unit of work, of checkpointing and of redoing after a crash."""
    resume: bool = field(default=False, metadata=_cli("Continue an interrupted run."))
    """Continue from the checkpoint of an interrupted run of the same job."""
    threads: int | None = None
    """torch/FAISS threads per worker; default cores / workers (1 on Dask)."""
    progress: bool | None = None
    """Progress bar; default: when stderr is a terminal (else a log line every ``log_every_s``)."""
    log_every_s: float = 30.0
    """Seconds between progress log lines when there is no bar."""

    def __post_init__(self) -> None:
        file_format(self.input)
        file_format(self.output)
        if self.column is not None and self.components:
            raise CleanInputError("give either an address column or component columns, not both")
        unknown = [c for c in self.components if c.lower() not in COMPONENT_LABELS]
        if unknown:
            raise CleanInputError(
                f"unknown component column(s) {unknown}; use {', '.join(COMPONENT_LABELS)}"
            )
        if self.workers < 1 or self.chunk_rows < 1:
            raise CleanInputError("workers and chunk_rows must be at least 1")
        if self.scheduler and self.engine != "dask":
            raise CleanInputError("--scheduler needs --engine dask")
        if self.input.resolve() == self.output.resolve():
            raise CleanInputError("the output must not be the input file")

    @property
    def address_column(self) -> str | None:
        """The column read as address text, ``None`` in components mode."""
        return None if self.components else (self.column or "address")
