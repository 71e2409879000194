"""Command-line front end of the index, mounted by ``api/cli.py`` as ``addr index …``.

Prints JSON on stdout; typed errors go to stderr as ``{"error": ..., "type": ...}``
with exit status 2 (bad input) or 1 (index not ready), like the rest of ``addr``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from address.cli import emit, fail
from address.errors import AddressError
from index.config import IndexConfig, IndexKind

if TYPE_CHECKING:
    from index.reference import Completeness

__all__ = ["autocomplete", "index_app", "suggest"]

index_app = typer.Typer(
    help="Build and update the FAISS index of known-good addresses.", no_args_is_help=True
)

_IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index folder; default <data_dir>/index/default.")
]
_LimitOption = Annotated[int, typer.Option("--limit", min=1, max=100, help="Suggestions.")]


_CompletenessOption = Annotated[
    str,
    typer.Option(
        help="Of the input files: authoritative (a register of every address) "
        "or observed (addresses seen in deliveries or orders)."
    ),
]


def _source_kind(value: str) -> Completeness:
    from index.reference import completeness_of

    try:
        return completeness_of(value)
    except AddressError as error:
        raise typer.BadParameter(str(error), param_hint="--completeness") from error


@index_app.command("build")
def build(
    out: Annotated[Path | None, typer.Option(help="Index folder to write.")] = None,
    inputs: Annotated[
        list[Path] | None,
        typer.Option("--input", help="Reference CSV/Parquet/JSONL file(s); none = default table."),
    ] = None,
    kind: Annotated[str, typer.Option(help="FAISS structure: hnsw or ivfpq.")] = "hnsw",
    if_stale: Annotated[
        bool, typer.Option("--if-stale", help="Do nothing when the index is already current.")
    ] = False,
    quantize: Annotated[
        bool,
        typer.Option(
            help="int8 feed-forward layers in the embedding model (faster build; "
            "see eval/results/index_scale.md for the accuracy cost)."
        ),
    ] = True,
    completeness: _CompletenessOption = "authoritative",
) -> None:
    """Embed reference addresses and write a FAISS index (atomically).

    One-line addresses are parsed into components; rows left out are counted by
    reason in ``skipped`` (``{"empty": 1, "no_road": 3}``).
    """
    from collections import Counter

    import pandas as pd

    from address.settings import get_settings
    from index.reference import read_reference
    from index.store import build_index, default_index_dir, index_is_current
    from index.user_files import load_reference_file

    if kind not in ("hnsw", "ivfpq"):
        raise typer.BadParameter("--kind must be hnsw or ivfpq")
    index_kind: IndexKind = "hnsw" if kind == "hnsw" else "ivfpq"
    source_kind = _source_kind(completeness)
    config = IndexConfig(kind=index_kind, quantize=quantize)
    target = (out or default_index_dir()).resolve()
    skipped: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    try:
        if inputs:
            frames = [
                load_reference_file(
                    p, completeness=source_kind, skipped=skipped, dropped_points=dropped
                )
                for p in inputs
            ]
            frame = pd.concat(frames, ignore_index=True)
        else:
            frame = read_reference(get_settings().reference_table)
        built = not (if_stale and index_is_current(target, frame, config))
        if built:
            target = build_index(frame, target, config)
    except AddressError as error:
        fail(error)
    emit(
        {
            "index": str(target),
            "built": built,
            "rows": len(frame),
            "skipped": dict(sorted(skipped.items())),
            "points_dropped": dict(sorted(dropped.items())),
        }
    )


@index_app.command("add")
def add(
    file: Annotated[Path, typer.Argument(help="CSV/Parquet/JSONL of addresses to add.")],
    index: _IndexOption = None,
    completeness: _CompletenessOption = "authoritative",
) -> None:
    """Add (or replace, by id) reference addresses without a rebuild.

    One-line addresses are parsed into components; rows left out are counted by
    reason in ``skipped``.
    """
    from collections import Counter

    from index.store import load_index
    from index.user_files import load_reference_file

    source_kind = _source_kind(completeness)
    skipped: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    try:
        loaded = load_index(index)
        added = loaded.add(
            load_reference_file(
                file, completeness=source_kind, skipped=skipped, dropped_points=dropped
            )
        )
        loaded.save()
    except AddressError as error:
        fail(error)
    emit(
        {
            "index": str(loaded.path),
            "added": added,
            "live": len(loaded),
            "skipped": dict(sorted(skipped.items())),
            "points_dropped": dict(sorted(dropped.items())),
        }
    )


@index_app.command("delete")
def delete(
    ids: Annotated[list[str], typer.Argument(help="Reference ids to remove.")],
    index: _IndexOption = None,
) -> None:
    """Remove addresses by id (tomb-stoned; kept out of every search)."""
    from index.store import load_index

    try:
        loaded = load_index(index)
        deleted = loaded.delete(ids)
        loaded.save()
    except AddressError as error:
        fail(error)
    emit({"index": str(loaded.path), "deleted": deleted, "live": len(loaded)})


def suggest(
    text: Annotated[str, typer.Argument(help='Address, e.g. "4570 Frozen Hil Rd Anamosa".')],
    index: _IndexOption = None,
    limit: _LimitOption = 5,
    country: Annotated[str | None, typer.Option(help="ISO alpha-2 country.")] = None,
) -> None:
    """Suggest known-good addresses for a free-text address."""
    from index.store import load_index

    try:
        candidates = load_index(index).search(text, k=limit, country=country)
    except AddressError as error:
        fail(error)
    emit([asdict(c) for c in candidates])


def autocomplete(
    prefix: Annotated[str, typer.Argument(help='Typed text, e.g. "4570 froz".')],
    index: _IndexOption = None,
    limit: _LimitOption = 5,
    country: Annotated[str | None, typer.Option(help="ISO alpha-2 country.")] = None,
    locality: Annotated[str | None, typer.Option(help="Only in this town.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Only in this postcode.")] = None,
) -> None:
    """Complete a partly typed address (from the third character)."""
    from index.store import load_index

    try:
        candidates = load_index(index).autocomplete(
            prefix, k=limit, country=country, locality=locality, postcode=postcode
        )
    except AddressError as error:
        fail(error)
    emit([asdict(c) for c in candidates])
