"""Fast inference with the trained validity classifier: the one thing the service imports.

``Classifier.load()`` loads SmolLM2 (truncated to the adapter's layers), applies the LoRA
adapter, merges it into the weights and casts them to bfloat16 (int8 dynamic
quantization is available but costs accuracy). ``classify`` / ``classify_batch`` then answer in
milliseconds on 2 CPU cores. torch, transformers and peft are imported only in ``load``.

The model reads the postcode gazetteer's word on the text before the text itself
(``finetune.evidence``): ``address.verify`` has read each address already and calls
:meth:`Classifier.classify_read`; otherwise the classifier reads the text as verify does
(:func:`address.reading.evidence_for`) and asks the gazetteer.

Two readings of the answer: ``label`` (``valid`` at the adapter's tuned threshold, else
the likeliest reason) names a class, and ``verdict`` is what the valid probability says
on its own by the one rule verify uses (:func:`address.verification.classifier_verdict`).
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from address.model import Reason
from address.reading import clean_input, evidence_for
from address.rules import PlaceEvidence
from address.verification import Verdict, classifier_verdict
from finetune._labels import LABELS, VALID, decide
from finetune.errors import ClassifierNotReadyError
from finetune.evidence import model_text

if TYPE_CHECKING:
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

__all__ = ["DEFAULT_ADAPTER_DIR", "PRECISIONS", "Classification", "Classifier", "Precision"]

logger = logging.getLogger(__name__)

DEFAULT_ADAPTER_DIR = (
    Path(__file__).resolve().parent / "adapters" / "smollm2-135m-validity-lora-i18n"
)
"""The committed adapter the service loads at start-up."""

Precision = Literal["bf16", "int8", "fp32"]
"""How :meth:`Classifier.load` stores the merged weights for inference."""
PRECISIONS: tuple[Precision, ...] = ("bf16", "int8", "fp32")

_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "classifier.json")
# Probabilities are rounded so that float noise between runs never shows.
_DIGITS = 6


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's answer for one text.

    For "4570 Frozen Hill Rd, Anamosa, IA 52205": ``label="valid"``,
    ``valid_probability`` close to 1, ``reasons`` every reason with its (small)
    probability, most likely first. For "4570 Frozen Hill Rd, Anam": ``label="truncated"``.
    """

    label: str
    valid_probability: float
    reasons: tuple[tuple[Reason, float], ...]

    @property
    def is_valid(self) -> bool:
        """Whether the label is ``valid`` (see :meth:`Classifier.decide`)."""
        return self.label == VALID

    @property
    def verdict(self) -> Verdict:
        """The verdict the valid probability gives on its own, by verify's rule
        (:func:`address.verification.classifier_verdict`): ``valid`` at 0.9 or above."""
        return classifier_verdict(self.valid_probability)


def _int8(decoder: Any) -> Any:
    """Dynamic int8 quantization (per-channel weights) of every Linear but ``down_proj``.

    ``down_proj`` carries the decoder's outlier activations; quantizing it too cost
    ~12 points of held-out accuracy, without it ~1-2 (measured on 200 held-out texts).
    """
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in decoder.named_modules()
        if isinstance(module, torch.nn.Linear) and not name.endswith("down_proj")
    }
    with warnings.catch_warnings():
        # torch.ao's eager quantization is deprecated in favour of torchao (not a
        # dependency); it is still shipped and works.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(decoder, spec, dtype=torch.qint8)  # type: ignore[no-untyped-call]


class Classifier:
    """SmolLM2 (first layers only) + merged LoRA adapter, bfloat16 for CPU.

    Example:
        >>> clf = Classifier.load()
        >>> clf.classify("Laugavegur 12b, 101 Reykjavík").label
        'valid'
    """

    def __init__(
        self,
        model: Any,
        tokenizer: PreTrainedTokenizerBase,
        *,
        labels: Sequence[str],
        max_length: int,
        batch_size: int = 16,
        valid_threshold: float | None = None,
    ) -> None:
        """Wrap a ready model; use :meth:`load` instead of calling this directly."""
        if tuple(labels) != LABELS:
            raise ClassifierNotReadyError(f"adapter labels {list(labels)} are not {list(LABELS)}")
        self._model = model
        self._tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.valid_threshold = valid_threshold
        # One forward pass at a time: torch's intra-op threads already use every core.
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        adapter_dir: Path | None = None,
        *,
        precision: Precision = "bf16",
        base: tuple[Any, PreTrainedTokenizerBase] | None = None,
    ) -> Classifier:
        """Load base model + adapter, merge the LoRA weights and optimize for CPU.

        Args:
            adapter_dir: folder written by ``finetune.train.train``; default the
                committed :data:`DEFAULT_ADAPTER_DIR`.
            precision: ``"bf16"`` (default: bfloat16 weights, which the CPU's AVX-512
                BF16 units run ~2x faster than float32 at the same accuracy), ``"int8"``
                (dynamic quantization of the decoder's Linear layers except ``down_proj``:
                fastest, but ~1-2 points less accurate, see
                ``eval/results/classifier_bench.md``) or ``"fp32"`` (as trained).
            base: an already loaded ``(model, tokenizer)`` of the adapter's shape
                (tests load it once); it is modified in place.

        Raises:
            ClassifierNotReadyError: the adapter or the base model is missing or corrupt.
        """
        folder = Path(adapter_dir) if adapter_dir is not None else DEFAULT_ADAPTER_DIR
        missing = [name for name in _ADAPTER_FILES if not (folder / name).is_file()]
        if missing:
            raise ClassifierNotReadyError(
                f"classifier adapter {folder} lacks {', '.join(missing)}; "
                "train one with `addr finetune train`"
            )
        try:
            meta = json.loads((folder / "classifier.json").read_text(encoding="utf-8"))
            labels = [str(x) for x in meta["labels"]]
            num_layers = None if meta["num_layers"] is None else int(meta["num_layers"])
            max_length = int(meta["max_length"])
            threshold = meta.get("valid_threshold")
            valid_threshold = None if threshold is None else float(threshold)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ClassifierNotReadyError(f"{folder / 'classifier.json'} is corrupt") from exc

        import torch
        from peft import PeftModel

        from finetune._model import load_sequence_classifier

        model, tokenizer = base or load_sequence_classifier(len(labels), num_layers)
        try:
            peft_model = PeftModel.from_pretrained(model, str(folder))
            merged = peft_model.merge_and_unload()
        except Exception as exc:  # safetensors, peft and torch each raise their own
            raise ClassifierNotReadyError(f"cannot apply the adapter in {folder}: {exc}") from exc
        merged.eval()
        if precision == "bf16":
            merged = merged.to(torch.bfloat16)
        elif precision == "int8":
            merged.model = _int8(merged.model)
        elif precision != "fp32":
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        logger.info("classifier loaded", extra={"adapter": folder.name, "precision": precision})
        return cls(
            merged,
            tokenizer,
            labels=labels,
            max_length=max_length,
            valid_threshold=valid_threshold,
        )

    def probabilities(
        self, texts: Sequence[str], evidence: Sequence[PlaceEvidence | str]
    ) -> list[list[float]]:
        """Class probabilities per text in the order of ``LABELS``, for normalized texts
        and the gazetteer's word on each (:func:`address.reading.evidence_for`)."""
        from finetune._infer import predict_probabilities

        inputs = [model_text(t, e) for t, e in zip(texts, evidence, strict=True)]
        with self._lock:
            probs = predict_probabilities(
                self._model,
                self._tokenizer,
                inputs,
                max_length=self.max_length,
                batch_size=self.batch_size,
            )
        return [[round(float(p), _DIGITS) for p in row] for row in probs]

    def classify(
        self, text: str, country: str | None = None, evidence: PlaceEvidence | None = None
    ) -> Classification:
        """Judge one address text.

        Example: ``classify("4570 Frozen Hill Rd, Anamosa, IA 52205").label == "valid"``.

        Args:
            text: the address as typed.
            country: the checkout's country, for the gazetteer; detected when ``None``.
            evidence: the gazetteer's word on the text, when the caller has it already.

        Raises:
            EmptyAddressError: nothing is left of ``text`` after normalization.
            AddressTooLongError: ``text`` is over the ``max_address_length`` setting.
        """
        return self.classify_batch([text], country, None if evidence is None else [evidence])[0]

    def classify_batch(
        self,
        texts: Sequence[str],
        country: str | None = None,
        evidence: Sequence[PlaceEvidence] | None = None,
    ) -> list[Classification]:
        """Judge many texts at once (batched by length); one answer per text, in order.

        ``country`` and ``evidence`` as for :meth:`classify`, ``evidence`` one per text.

        Raises:
            EmptyAddressError: one of the texts is empty after normalization.
            ValueError: ``evidence`` is not one per text.
        """
        clean = [clean_input(text) for text in texts]
        if evidence is None:
            evidence = [evidence_for(c, country) for c in clean]
        return self.classify_read([c.text() for c in clean], evidence)

    def classify_read(
        self, texts: Sequence[str], evidence: Sequence[PlaceEvidence]
    ) -> list[Classification]:
        """Judge texts already normalized, with the gazetteer's word on each, as
        ``verify`` reads them (:class:`address.reading.Reading`); nothing is read again.

        Raises:
            ValueError: ``evidence`` is not one per text.
        """
        if len(evidence) != len(texts):
            raise ValueError(f"{len(evidence)} evidence words for {len(texts)} texts")
        return [self._answer(row) for row in self.probabilities(texts, evidence)]

    def decide(self, row: Sequence[float]) -> str:
        """The label for one row of :meth:`probabilities`.

        With the adapter's ``valid_threshold`` (chosen on the tune split at training
        time, in ``classifier.json``): ``valid`` when its probability reaches the
        threshold, else the most likely reason. Without one: the most likely class.
        """
        return decide(row, self.valid_threshold)

    def _answer(self, row: Sequence[float]) -> Classification:
        reasons = sorted(
            ((Reason(label), row[i]) for i, label in enumerate(LABELS) if label != VALID),
            key=lambda pair: (-pair[1], pair[0].value),
        )
        return Classification(
            label=self.decide(row),
            valid_probability=row[LABELS.index(VALID)],
            reasons=tuple(reasons),
        )
