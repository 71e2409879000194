"""Output helpers of every ``addr`` command, and the address commands themselves.

``emit`` prints JSON on stdout; ``fail`` prints a typed error as
``{"error": ..., "type": ...}`` on stderr and exits 2 (bad input) or 1 (not
ready). ``api/cli.py`` mounts the commands below as ``addr parse``,
``addr expand`` and ``addr normalize``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, NoReturn

import typer

from address.errors import AddressError, InvalidAddressInputError

__all__ = ["emit", "expand", "fail", "normalize", "parse"]


def emit(payload: Any) -> None:
    """Print ``payload`` as indented JSON (non-ASCII kept: "Reykjavík")."""
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def fail(error: AddressError) -> NoReturn:
    """Report a typed error on stderr and exit non-zero."""
    typer.echo(json.dumps({"error": str(error), "type": type(error).__name__}), err=True)
    raise typer.Exit(code=2 if isinstance(error, InvalidAddressInputError) else 1)


def parse(
    text: Annotated[str, typer.Argument(help='Address, e.g. "12 Baker St, London NW1 6XE".')],
    country: Annotated[str | None, typer.Option(help="ISO alpha-2 country hint.")] = None,
) -> None:
    """Split an address into libpostal components."""
    from address.libpostal import parse as parse_address

    try:
        emit(parse_address(text, country).components())
    except AddressError as error:
        fail(error)


def expand(
    text: Annotated[str, typer.Argument(help='Address, e.g. "123 Main St".')],
) -> None:
    """List libpostal's normalized variants of an address (St -> street)."""
    from address.libpostal import expand as expand_address

    try:
        emit(expand_address(text))
    except AddressError as error:
        fail(error)


def normalize(text: Annotated[str, typer.Argument(help="Raw address text.")]) -> None:
    """Clean an address text (Unicode, whitespace, punctuation, controls)."""
    from address.normalize import normalize as normalize_text
    from address.settings import get_settings

    try:
        emit(normalize_text(text, max_length=get_settings().max_address_length))
    except AddressError as error:
        fail(error)
