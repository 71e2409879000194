"""Batched forward pass of the sequence classifier, shared by training and inference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch
    from numpy.typing import NDArray
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

__all__ = ["pad_batch", "predict_probabilities"]


def pad_batch(ids: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token ids to the batch's longest; returns ``(input_ids, attention_mask)``."""
    import torch

    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for position, row in enumerate(ids):
        input_ids[position, : len(row)] = torch.tensor(row)
        mask[position, : len(row)] = 1
    return input_ids, mask


def predict_probabilities(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    max_length: int,
    batch_size: int = 64,
) -> NDArray[np.float32]:
    """Class probabilities, one row per text, in the order of ``texts``.

    Texts are sorted by token count and batched so that each batch pads only to its own
    longest text ("Laugavegur 12b, 101 Reykjavík" beside another ~12-token address,
    not beside a 48-token one).

    Args:
        model: a ``LlamaForSequenceClassification`` (plain, LoRA-wrapped or quantized).
        tokenizer: its tokenizer, padding on the right.
        texts: normalized address texts.
        max_length: longest input in tokens; longer texts are cut.
        batch_size: texts per forward pass.
    """
    import numpy as np
    import torch

    if not texts:
        return np.zeros((0, int(model.config.num_labels)), dtype=np.float32)
    ids: list[list[int]] = tokenizer(
        list(texts), truncation=True, max_length=max_length, add_special_tokens=False
    )["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
    out = np.zeros((len(ids), int(model.config.num_labels)), dtype=np.float32)
    pad = int(tokenizer.pad_token_id)
    device = next(model.parameters()).device if any(True for _ in model.parameters()) else "cpu"
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            input_ids, mask = pad_batch([ids[i] for i in chunk], pad)
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            out[chunk] = probs
    return out
