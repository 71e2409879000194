"""Evaluate the LoRA validity classifier beside two baselines, in one run.

Sets:
  * ``heldout``: the adapter's held-out regions (US cities and Icelandic postcode areas
    never seen in training), regenerated from the adapter's saved data config.
  * ``uk``, ``de``, ``fr``: real addresses from countries absent from training
    (``../shared/datasets``) as positives, broken by the same negative generators;
    skipped when that folder is absent. ``other`` pools the three. Positives must be
    complete (number, street, postcode and town: all three countries require a
    postcode): French geocoder queries without a postcode or town are not used, and
    German postcodes that lost their leading zero in the file are padded back.

Methods:
  * ``lora``: the shipped classifier (merged LoRA, bfloat16 weights), reading the
    postcode gazetteer's word on each text (``finetune.evidence``, asked with the
    example's country as a checkout passes it); ``lora_fp32`` (merged, float32 as
    trained) and ``lora_int8`` (dynamic int8) for the precision delta.
  * ``lora_text_only``: the same model with the gazetteer's word withheld (``none`` for
    every text): what the text alone gives.
  * ``rules``: libpostal ``parse`` + ``rules.check``, both with the example's country
    (the caller of ``verify`` passes it; the classifier sees only the text); no reason
    means valid, the first reason in the classifier's label set is the prediction, a
    reason outside it (missing_postcode, postcode_format, unknown_region) counts as
    ``other``.
  * ``zeroshot``: the same base LLM (all 30 layers, as a causal LM) prompted to answer
    with one word; the label is the word with the highest next-token likelihood.

Run: ``.venv/bin/python -m eval.classifier_eval`` (writes ``eval/results/classifier_eval.*``
and ``classifier_confusion.png``).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from address.settings import get_settings
from eval._common import DATASETS, REPO, RESULTS, pyplot, save_figure, write_json
from eval.classifier_sets import de_addresses, fr_addresses, other_country_set, uk_addresses
from finetune._labels import LABELS, VALID
from finetune.data import AddressParts, DataConfig, Example, build_default_dataset
from finetune.metrics import Report, confusion_matrix, report

OTHER = "other"  # a rules verdict outside the classifier's label set


ZERO_SHOT_WORDS: dict[str, str] = {
    "valid": "valid",
    "missing_house_number": "number",
    "missing_road": "street",
    "missing_locality": "city",
    "postcode_locality_mismatch": "postcode",
    "not_an_address": "other",
    "gibberish": "gibberish",
    "truncated": "truncated",
}
ZERO_SHOT_PROMPT = """You check delivery addresses typed by online shoppers.
Decide whether the text is a complete postal address a courier can deliver to.
Answer with exactly one word:
valid - a complete address (house number, street, town)
number - the house number is missing
street - the street is missing
city - the town or city is missing
postcode - the postcode belongs to another town
other - not an address (a note, a name, a phone number, an e-mail, a web link)
gibberish - random characters
truncated - the address is cut off in the middle
Text: """

# --------------------------------------------------------------------------- methods


def rules_predict(texts: Sequence[str], countries: Sequence[str]) -> tuple[list[str], list[float]]:
    """Rules-only baseline: label and 0/1 valid score per text, from ``rules.check`` on
    libpostal's parse with the example's country, as ``verify`` does when a checkout form
    passes it; ``other`` when the text cannot be parsed."""
    from address.errors import AddressError
    from address.libpostal import parse
    from address.rules import check

    labels, scores = [], []
    for text, country in zip(texts, countries, strict=True):
        try:
            reasons = [r.value for r in check(parse(text, country), country)]
        except AddressError:
            reasons = [OTHER]
        if not reasons:
            labels.append(VALID)
        else:
            known = [r for r in reasons if r in LABELS]
            labels.append(known[0] if known else OTHER)
        scores.append(1.0 if not reasons else 0.0)
    return labels, scores


def zeroshot_predict(texts: Sequence[str], batch_size: int = 16) -> tuple[list[str], list[float]]:
    """Zero-shot baseline: next-token likelihood of each label word after the prompt."""
    import torch

    from finetune._model import load_causal_lm

    model, tokenizer = load_causal_lm()
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": ZERO_SHOT_PROMPT + "{TEXT}"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    prefix, suffix = chat.split("{TEXT}")
    prefix_ids = tokenizer(prefix, add_special_tokens=False, return_tensors="pt")["input_ids"]
    word_ids = [
        tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in ZERO_SHOT_WORDS.values()
    ]
    assert len(set(word_ids)) == len(word_ids), "label words must start with distinct tokens"
    labels, scores = [], []
    pad = int(tokenizer.pad_token_id)
    with torch.inference_mode():
        prefix_cache = model(input_ids=prefix_ids, use_cache=True).past_key_values
        for start in range(0, len(texts), batch_size):
            chunk = [
                tokenizer(text + suffix, add_special_tokens=False)["input_ids"]
                for text in texts[start : start + batch_size]
            ]
            width = max(map(len, chunk))
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), prefix_ids.shape[1] + width), dtype=torch.long)
            mask[:, : prefix_ids.shape[1]] = 1
            for row, item in enumerate(chunk):
                ids[row, : len(item)] = torch.tensor(item)
                mask[row, prefix_ids.shape[1] : prefix_ids.shape[1] + len(item)] = 1
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(chunk))
            logits = model(input_ids=ids, attention_mask=mask, past_key_values=cache).logits
            for row, item in enumerate(chunk):
                word_logits = logits[row, len(item) - 1, word_ids].float()
                probs = torch.softmax(word_logits, dim=-1).tolist()
                labels.append(list(ZERO_SHOT_WORDS)[max(range(len(probs)), key=probs.__getitem__)])
                scores.append(probs[0])
    return labels, scores


def lora_predict(
    classifier: Any, texts: Sequence[str], evidence: Sequence[str]
) -> tuple[list[str], list[float]]:
    """The classifier's labels (its tuned valid threshold, if the adapter has one) for
    texts and the gazetteer's word on each."""
    rows = classifier.probabilities(list(texts), list(evidence))
    labels = [classifier.decide(row) for row in rows]
    return labels, [row[LABELS.index(VALID)] for row in rows]


# --------------------------------------------------------------------------- output


def _plot(confusions: dict[str, dict[str, list[list[int]]]], path: Path) -> None:
    plt = pyplot()
    sets = [name for name in confusions if name in ("heldout", "other")]
    methods = ["lora", "lora_text_only", "rules", "zeroshot"]
    fig, axes = plt.subplots(len(sets), len(methods), figsize=(5 * len(methods), 4.6 * len(sets)))
    short = [label.replace("postcode_locality_mismatch", "pc_mismatch") for label in LABELS]
    for r, name in enumerate(sets):
        for c, method in enumerate(methods):
            ax = axes[r][c] if len(sets) > 1 else axes[c]
            matrix = confusions[name].get(method)
            if matrix is None:
                ax.axis("off")
                continue
            totals = [max(sum(row), 1) for row in matrix]
            shares = [[v / t for v in row] for row, t in zip(matrix, totals, strict=True)]
            ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
            for i, row in enumerate(matrix):
                for j, v in enumerate(row):
                    if v:
                        ax.text(
                            j,
                            i,
                            str(v),
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if shares[i][j] > 0.5 else "black",
                        )
            ax.set_xticks(range(len(short)), short, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(len(short)), short, fontsize=7)
            ax.set_title(f"{name}: {method}", fontsize=9)
            ax.set_xlabel("predicted", fontsize=7)
            ax.set_ylabel("true", fontsize=7)
    save_figure(fig, path)


def _markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        "# Address validity classifier: evaluation",
        "",
        f"Command: `{command}`  ",
        f"Adapter: `{result['adapter']}`; {result['note']}",
        "",
        "## Summary (valid-vs-invalid F1 has `valid` as the positive class)",
        "",
        "| set | method | n | accuracy | macro-F1 | valid F1 | invalid F1 | ROC-AUC |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, methods in result["sets"].items():
        for method, m in methods.items():
            lines.append(
                f"| {name} | {method} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} "
                f"| {m['valid_f1']:.3f} | {m['invalid_f1']:.3f} | {m['roc_auc']:.3f} |"
            )
    lines += ["", "## Per class (F1; precision / recall in the JSON)", ""]
    header = "| set | method | " + " | ".join(LABELS) + " |"
    lines += [header, "|---|---|" + "---:|" * len(LABELS)]
    for name, methods in result["sets"].items():
        for method, m in methods.items():
            cells = " | ".join(f"{m['per_class'][label]['f1']:.2f}" for label in LABELS)
            lines.append(f"| {name} | {method} | {cells} |")
    lines += ["", "## Set sizes and sources", ""]
    for name, info in result["set_info"].items():
        lines.append(f"- **{name}**: {info}")
    lines += [
        "",
        f"Confusion matrices: `{result['png']}` (counts; colour = row share).",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from finetune.classifier import DEFAULT_ADAPTER_DIR, Classifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", type=Path, default=DEFAULT_ADAPTER_DIR)
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--per-country", type=int, default=700, help="examples per country")
    parser.add_argument("--zeroshot", type=int, default=300, help="zero-shot examples per set")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="classifier_eval")
    parser.add_argument(
        "--lora-only",
        action="store_true",
        help="skip both baselines (e.g. to compare adapters trained with other settings)",
    )
    args = parser.parse_args(argv)
    command = "python -m eval.classifier_eval " + " ".join(argv or sys.argv[1:])

    saved = json.loads((args.adapter / "train_config.json").read_text())
    data_cfg = DataConfig(**saved["data"])
    started = time.perf_counter()
    dataset = build_default_dataset(data_cfg, get_settings().reference_table)
    sets: dict[str, list[Example]] = {"heldout": list(dataset.test)}
    info = {
        "heldout": f"{len(dataset.test)} examples from {len(dataset.test_groups)} held-out "
        f"regions ({', '.join(dataset.test_groups)}); seed {data_cfg.seed}"
    }
    if args.datasets.is_dir():
        rng = random.Random(data_cfg.seed)
        other: list[Example] = []
        for name, loader in (("uk", uk_addresses), ("de", de_addresses), ("fr", fr_addresses)):
            loaded: Callable[[Path, int, random.Random], list[tuple[str, AddressParts]]] = loader
            real = loaded(args.datasets, args.per_country, rng)
            examples = other_country_set(
                name, real, args.per_country, data_cfg.seed, data_cfg.valid_fraction
            )
            other += examples
            sets[name] = examples
            info[name] = (
                f"{len(examples)} examples, {sum(e.label == VALID for e in examples)} real "
                f"addresses as positives, negatives generated from their parts"
            )
        sets["other"] = other
        info["other"] = "uk + de + fr pooled"
    else:
        print(f"{args.datasets} is absent: evaluating the held-out region only", file=sys.stderr)

    shipped = Classifier.load(args.adapter)
    fp32 = Classifier.load(args.adapter, precision="fp32")
    int8 = Classifier.load(args.adapter, precision="int8")
    zs_rng = random.Random(f"{data_cfg.seed}:zeroshot")
    result: dict[str, Any] = {
        "adapter": str(
            args.adapter.relative_to(REPO) if args.adapter.is_relative_to(REPO) else args.adapter
        ),
        "note": f"zero-shot on a seeded sample of {args.zeroshot} examples per set",
        "set_info": info,
        "sets": {},
        "confusion": {},
        "labels": list(LABELS),
        "png": f"{args.name.replace('_eval', '')}_confusion.png",
    }
    confusions: dict[str, dict[str, list[list[int]]]] = {}
    for name, examples in sets.items():
        texts, gold = [e.text for e in examples], [e.label for e in examples]
        countries = [e.country for e in examples]
        evidence = [e.evidence for e in examples]
        unheard = ["none"] * len(examples)
        reports: dict[str, Report] = {}
        methods: list[tuple[str, Callable[[Sequence[str]], tuple[list[str], list[float]]]]] = [
            ("lora", lambda t, e=evidence: lora_predict(shipped, t, e)),
            ("lora_fp32", lambda t, e=evidence: lora_predict(fp32, t, e)),
            ("lora_int8", lambda t, e=evidence: lora_predict(int8, t, e)),
            ("lora_text_only", lambda t, e=unheard: lora_predict(shipped, t, e)),
        ]
        if not args.lora_only:
            methods.append(("rules", lambda t, c=countries: rules_predict(t, c)))
        for method, predict in methods:
            pred, score = predict(texts)
            reports[method] = report(gold, pred, score, LABELS)
            confusions.setdefault(name, {})[method] = confusion_matrix(gold, pred, LABELS)
        if not args.lora_only and args.zeroshot > 0 and name in ("heldout", "other"):
            sample = zs_rng.sample(range(len(examples)), min(args.zeroshot, len(examples)))
            pred, score = zeroshot_predict([texts[i] for i in sample])
            sample_gold = [gold[i] for i in sample]
            reports["zeroshot"] = report(sample_gold, pred, score, LABELS)
            confusions[name]["zeroshot"] = confusion_matrix(sample_gold, pred, LABELS)
            lora_pred, lora_score = lora_predict(
                shipped, [texts[i] for i in sample], [evidence[i] for i in sample]
            )
            reports["lora_on_zeroshot_sample"] = report(sample_gold, lora_pred, lora_score, LABELS)
        result["sets"][name] = {k: v.as_dict() for k, v in reports.items()}
        result["confusion"][name] = confusions[name]
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / f"{args.name}.json", result)
    (args.out / f"{args.name}.md").write_text(_markdown(result, command))
    _plot(confusions, args.out / result["png"])
    print((args.out / f"{args.name}.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
