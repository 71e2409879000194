"""``addr clean``: the bulk cleaning job on the command line.

Mount it with ``app.command()(clean)`` in ``api/cli.py``; it also runs on its
own as ``python -m api.bulk.cli INPUT --out OUTPUT ...``. Its arguments are the
fields of :class:`~api.bulk.config.CleanConfig` that carry a
:class:`~api.bulk.config.CliOption`, with their types and defaults. It prints the
summary as JSON on stdout; errors go through :func:`address.cli.fail`.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields
from typing import Annotated, Any, get_type_hints

import typer

from address.cli import emit, fail
from address.errors import AddressError
from api.bulk.config import CLI, CleanConfig, CliOption
from api.bulk.job import run_clean

__all__ = ["clean", "main"]


def _options() -> dict[str, CliOption]:
    """Field name -> how the command offers it, in field order."""
    return {f.name: f.metadata[CLI] for f in fields(CleanConfig) if CLI in f.metadata}


def _parameter(name: str, option: CliOption, field_type: Any, default: Any) -> inspect.Parameter:
    """The typer parameter of one field: its type and default, or text and ``None`` when parsed."""
    info = (
        typer.Argument(metavar=name.upper(), help=option.help)
        if option.argument
        else typer.Option(*option.flags, help=option.help)
    )
    if option.parse is not None:
        default = None
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=inspect.Parameter.empty if default is MISSING else default,
        annotation=Annotated[option.cli_type or field_type, info],
    )


def _signature() -> inspect.Signature:
    """``clean``'s parameters as typer reads them: one per offered field."""
    types = get_type_hints(CleanConfig)
    defaults = {f.name: f.default for f in fields(CleanConfig)}
    return inspect.Signature(
        [
            _parameter(name, option, types[name], defaults[name])
            for name, option in _options().items()
        ],
        return_annotation=None,
    )


def _config_values(arguments: dict[str, Any]) -> dict[str, Any]:
    """Command-line values -> :class:`CleanConfig` keyword arguments."""
    values = {}
    for name, option in _options().items():
        value = arguments[name]
        if option.parse is None:
            values[name] = value
        elif value is not None:
            values[name] = option.parse(value)
    return values


def clean(**arguments: Any) -> None:
    """Verify every address of a file; resumable, local or on a Dask cluster."""
    from api.logs import configure_logging
    from api.settings import get_service_settings

    if arguments["engine"] not in ("local", "dask"):
        raise typer.BadParameter("use local or dask", param_hint="--engine")
    configure_logging(get_service_settings().log_level)
    try:
        summary = run_clean(CleanConfig(**_config_values(arguments)))
    except AddressError as error:
        fail(error)
    emit(summary.to_json())


clean.__signature__ = _signature()  # type: ignore[attr-defined]


def main() -> None:
    """Run ``clean`` as a program of its own."""
    typer.run(clean)


if __name__ == "__main__":
    main()
