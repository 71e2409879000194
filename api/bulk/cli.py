"""``addr clean``: the bulk cleaning job on the command line.

Mount it with ``app.command()(clean)`` in ``api/cli.py``; it also runs on its
own as ``python -m api.bulk.cli INPUT --out OUTPUT ...``. It prints the summary
as JSON on stdout; errors go through :func:`address.cli.fail`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from address.cli import emit, fail
from address.errors import AddressError

__all__ = ["clean", "main"]


def clean(
    input_file: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT", help="CSV, Parquet or JSONL file of addresses, e.g. orders.csv."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV, Parquet or JSONL file to write.")],
    column: Annotated[
        str | None, typer.Option(help="Column with the address text (default: address).")
    ] = None,
    components: Annotated[
        str | None,
        typer.Option(
            help="Build the text from these columns, in order: "
            "number,street,unit,city,region,postcode,country."
        ),
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="ISO alpha-2 country of every row, e.g. US.")
    ] = None,
    index: Annotated[
        Path | None, typer.Option(help="Index folder (default: the built one).")
    ] = None,
    engine: Annotated[str, typer.Option(help="local (process pool) or dask.")] = "local",
    workers: Annotated[int, typer.Option(help="Worker processes, ~3 GB each.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler to join, e.g. tcp://10.0.0.5:8786.")
    ] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per chunk and checkpoint.")] = 1000,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run.")] = False,
    classifier: Annotated[
        bool, typer.Option(help="Ask the validity classifier about open cases.")
    ] = True,
) -> None:
    """Verify every address of a file; resumable, local or on a Dask cluster."""
    from address.settings import get_settings
    from api.bulk.job import CleanConfig, run_clean
    from api.logs import configure_logging

    if engine not in ("local", "dask"):
        raise typer.BadParameter("use local or dask", param_hint="--engine")
    configure_logging(get_settings().log_level)
    try:
        config = CleanConfig(
            input=input_file,
            output=out,
            column=column,
            components=tuple(c.strip() for c in components.split(",") if c.strip())
            if components
            else (),
            country=country,
            index_dir=index,
            use_classifier=classifier,
            engine="dask" if engine == "dask" else "local",
            workers=workers,
            scheduler=scheduler,
            chunk_rows=chunk_rows,
            resume=resume,
        )
        summary = run_clean(config)
    except AddressError as error:
        fail(error)
    emit(summary.to_json())


def main() -> None:
    """Run ``clean`` as a program of its own."""
    typer.run(clean)


if __name__ == "__main__":
    main()
