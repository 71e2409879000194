"""``addr``: the command-line front end.

Every command prints JSON on stdout; errors go to stderr as
``{"error": ..., "type": ...}`` with exit status 2 (bad input) or 1 (not ready).
Like the HTTP API, it only translates arguments into library calls.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from address.errors import AddressError, InvalidAddressInputError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Address verification and suggestion service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(
    help="Download and build the data the service runs on.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


def _emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def _fail(error: AddressError) -> NoReturn:
    typer.echo(json.dumps({"error": str(error), "type": type(error).__name__}), err=True)
    raise typer.Exit(code=2 if isinstance(error, InvalidAddressInputError) else 1)


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help='Address, e.g. "12 Baker St, London NW1 6XE".')],
    country: Annotated[str | None, typer.Option(help="ISO alpha-2 country hint.")] = None,
) -> None:
    """Split an address into libpostal components."""
    from address.libpostal import parse as parse_address

    try:
        _emit(parse_address(text, country).components())
    except AddressError as error:
        _fail(error)


@app.command()
def expand(
    text: Annotated[str, typer.Argument(help='Address, e.g. "123 Main St".')],
) -> None:
    """List libpostal's normalized variants of an address (St -> street)."""
    from address.libpostal import expand as expand_address

    try:
        _emit(expand_address(text))
    except AddressError as error:
        _fail(error)


@app.command()
def normalize(text: Annotated[str, typer.Argument(help="Raw address text.")]) -> None:
    """Clean an address text (Unicode, whitespace, punctuation, controls)."""
    from address.normalize import normalize as normalize_text

    try:
        _emit(normalize_text(text))
    except AddressError as error:
        _fail(error)


@data_app.command("fetch")
def data_fetch(
    force: Annotated[bool, typer.Option(help="Download and rebuild even if present.")] = False,
) -> None:
    """Download libpostal's data and build the default reference table (idempotent)."""
    from address.libpostal_data import fetch_libpostal_data
    from address.settings import get_settings
    from index.reference import fetch_default_reference

    settings = get_settings()
    try:
        libpostal_dir = fetch_libpostal_data(settings.libpostal_dir, force=force)
        reference = fetch_default_reference(settings.reference_table, force=force)
    except AddressError as error:
        _fail(error)
    _emit({"libpostal_data_dir": str(libpostal_dir), "reference_table": str(reference)})


@data_app.command("build-reference")
def data_build_reference(
    out: Annotated[Path, typer.Option(help="Parquet file to write.")],
    inputs: Annotated[
        list[Path] | None,
        typer.Option("--input", help="CSV, Parquet or JSONL file(s); none = the default data."),
    ] = None,
) -> None:
    """Build a reference table of known-good addresses from files."""
    from index.reference import build_reference, read_reference

    try:
        path = build_reference(list(inputs or []), out)
        rows = len(read_reference(path))
    except AddressError as error:
        _fail(error)
    _emit({"reference_table": str(path), "rows": rows})


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (~2 GB each).")] = 1,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


def main() -> None:
    """Console-script entry point."""
    # Arguments with invalid UTF-8 arrive as lone surrogates; normalize() drops them.
    sys.exit(app())


if __name__ == "__main__":
    main()
