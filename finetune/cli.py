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
    from address.settings import get_settings
    from finetune.config import TrainConfig
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
    typer.echo(str(run_training(cfg, reference=get_settings().reference_table)))


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
    """Print the classifier's answer on one text as JSON: its label (``valid`` at the
    adapter's tuned threshold, else the likeliest reason), the verdict its valid
    probability gives by verify's rule (``valid`` at 0.9 or above, ``invalid`` at 0.1 or
    below), the reasons and the gazetteer's word on the text."""
    from address.reading import clean_input, evidence_for
    from address.settings import get_settings
    from finetune.classifier import Classifier

    settings = get_settings()
    try:
        clean = clean_input(text, settings.max_address_length)
        evidence = evidence_for(clean, country, default_country=settings.default_country)
        (result,) = Classifier.load(adapter).classify_read([clean.text()], [evidence])
    except AddressError as error:
        fail(error)
    emit(
        {
            "label": result.label,
            "verdict": result.verdict.value,
            "valid_probability": result.valid_probability,
            "reasons": [{"reason": reason.value, "probability": p} for reason, p in result.reasons],
            "place_evidence": evidence.value,
        }
    )
