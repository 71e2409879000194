"""Classification metrics for the validity classifier (numpy only, no scikit-learn).

Used by training (the model card) and by ``eval/classifier_eval.py`` so both report the
same numbers the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from finetune._labels import VALID

__all__ = ["Report", "confusion_matrix", "report", "roc_auc"]


@dataclass(frozen=True, slots=True)
class Report:
    """Metrics of one model on one labelled set.

    ``per_class`` maps a label ("valid", "missing_house_number", ...) to
    ``{"precision", "recall", "f1", "support"}``; ``valid_f1`` is the F1 of the binary
    valid-vs-invalid decision with ``valid`` as the positive class (predicted valid =
    the top class is ``valid``), ``invalid_f1`` the same with invalid as positive.
    """

    n: int
    accuracy: float
    macro_f1: float
    valid_f1: float
    invalid_f1: float
    roc_auc: float
    per_class: dict[str, dict[str, float]]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "valid_f1": self.valid_f1,
            "invalid_f1": self.invalid_f1,
            "roc_auc": self.roc_auc,
            "per_class": self.per_class,
        }


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def confusion_matrix(
    true: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    """Counts ``[true label][predicted label]`` in the order of ``labels``; a prediction
    outside ``labels`` (the rules baseline's ``other``) counts in no column."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(true, pred, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return matrix


def roc_auc(is_valid: Sequence[bool], valid_score: Sequence[float]) -> float:
    """Area under the ROC curve of ``valid_score`` for the valid class (ties count half)."""
    pairs = sorted(zip(valid_score, is_valid, strict=True))
    n_pos = sum(is_valid)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        average_rank = (i + j + 1) / 2  # ranks are 1-based
        rank_sum += average_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def report(
    true: Sequence[str],
    pred: Sequence[str],
    valid_score: Sequence[float],
    labels: Sequence[str],
) -> Report:
    """Per-class precision/recall/F1, macro-F1, accuracy, valid-vs-invalid F1 and ROC-AUC.

    Args:
        true: gold labels, e.g. ``["valid", "truncated"]``.
        pred: predicted labels (may include labels outside ``labels``).
        valid_score: the model's probability (or 0/1 vote) that each text is valid.
        labels: the classes to average over (macro-F1 is over those with support).
    """
    per_class: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for t, p in zip(true, pred, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(true, pred, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(true, pred, strict=True) if t == label and p != label)
        precision, recall, f1 = _f1(tp, fp, fn)
        support = sum(1 for t in true if t == label)
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    supported = [v["f1"] for v in per_class.values() if v["support"]]
    is_valid = [t == VALID for t in true]
    said_valid = [p == VALID for p in pred]
    pairs = list(zip(is_valid, said_valid, strict=True))
    tp = sum(1 for t, p in pairs if t and p)
    fp = sum(1 for t, p in pairs if not t and p)
    fn = sum(1 for t, p in pairs if t and not p)
    tn = len(pairs) - tp - fp - fn
    return Report(
        n=len(true),
        accuracy=sum(1 for t, p in zip(true, pred, strict=True) if t == p) / max(len(true), 1),
        macro_f1=sum(supported) / max(len(supported), 1),
        valid_f1=_f1(tp, fp, fn)[2],
        invalid_f1=_f1(tn, fn, fp)[2],
        roc_auc=roc_auc(is_valid, valid_score),
        per_class=per_class,
    )
