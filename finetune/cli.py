"""Thin typer CLI over ``finetune.train.train`` and ``finetune.classifier.Classifier``.

Mounted by ``api.cli`` as ``addr finetune train`` (``finetune_app``) and ``addr classify``
(:func:`classify`). Settings live in ``TrainConfig`` only; ``--set field=value``
overrides them, so no parameter is declared twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from address.cli import emit, fail
from address.errors import AddressError

__all__ = ["classify", "finetune_app", "train"]

finetune_app = typer.Typer(help="Train the LoRA validity classifier.", no_args_is_help=True)


@finetune_app.callback()
def _group() -> None:
    """Train the LoRA validity classifier (a group, so `train` keeps its name)."""


@finetune_app.command("train")
def train(
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="TrainConfig field=value, repeatable: --set num_layers=12 "
            "--set data.n_train=3000 --set name=my-adapter",
        ),
    ] = None,
) -> None:
    """Fine-tune SmolLM2 with LoRA and write finetune/adapters/<name>/ with its model card."""
    from finetune.train import TrainConfig
    from finetune.train import train as run_training

    pairs: dict[str, str] = {}
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected field=value, got {item!r}", param_hint="--set")
        pairs[key.strip()] = value.strip()
    try:
        cfg = TrainConfig.from_overrides(pairs)
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from exc
    typer.echo(str(run_training(cfg)))


def classify(
    text: Annotated[str, typer.Argument(help='address text, e.g. "Laugavegur 12b, 101 Reykjavík"')],
    country: Annotated[
        str | None,
        typer.Option(
            help="ISO country code (GB, DE); default: the one the text names, else the "
            "default_country setting"
        ),
    ] = None,
    adapter: Annotated[
        Path | None, typer.Option(help="adapter folder; default the committed adapter")
    ] = None,
) -> None:
    """Print the classifier's verdict on one text as JSON (valid probability, reasons and
    the gazetteer's word on the text)."""
    from address.normalize import normalize
    from finetune.classifier import Classifier
    from finetune.evidence import evidence_for

    try:
        evidence = evidence_for(normalize(text), country)
        result = Classifier.load(adapter).classify(text, country, evidence)
    except AddressError as error:
        fail(error)
    emit(
        {
            "label": result.label,
            "valid_probability": result.valid_probability,
            "reasons": [{"reason": reason.value, "probability": p} for reason, p in result.reasons],
            "place_evidence": evidence.value,
        }
    )
