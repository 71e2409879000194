"""LoRA-tuned LLM address validity classifier.

The rest of the project imports only the inference wrapper from here::

    from finetune import Classifier
    Classifier.load().classify("Laugavegur 12b, 101 Reykjavík").label  # "valid"

Training (``finetune.train``), data generation (``finetune.data``) and the CLI
(``finetune.cli``) are separate modules; nothing heavy is imported by this package.
"""

from __future__ import annotations

from finetune.classifier import Classification, Classifier
from finetune.errors import ClassifierNotReadyError

__all__ = ["Classification", "Classifier", "ClassifierNotReadyError"]
