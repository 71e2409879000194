"""Lexical candidates: an inverted index over match-key tokens with typo tolerance.

Every reference row is indexed under the tokens of its match key
(:func:`index.keys.address_key`), so ``"730 33rd Avenue SW"`` and
``"730 33rd Ave SW"`` hit the same postings. A query token that is not in the
vocabulary (``"frozn"``) is replaced by the vocabulary tokens within one edit
(two for tokens of eight letters or more), found with rapidfuzz among tokens
of similar length. Rows are scored by the summed IDF of the query tokens they
contain; very common tokens (``"reykjavik"``, ``"ia"``) are skipped for
candidate generation because they select a third of the table and carry almost
no information; the re-ranker still sees them.

Memory: postings are one int32 per token occurrence (~8 per address, ~32 B).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["LexicalIndex"]

# A token is "common" (skipped for candidate generation) above this share of rows.
_COMMON_SHARE = 0.08
# Fuzzy matches count a little less than exact ones.
_FUZZY_WEIGHT = 0.85
_MIN_FUZZY_LENGTH = 4


class LexicalIndex:
    """Token postings over the match keys of the reference rows.

    Example:
        >>> lex = LexicalIndex(["4570 frozen hl rd anamosa ia 52205"])
        >>> lex.candidates(["4570", "frozn", "hl", "rd"], k=5)[0].tolist()
        [0]
    """

    def __init__(self, keys: Sequence[str]) -> None:
        vocab: dict[str, int] = {}
        row_ids: list[int] = []
        token_ids: list[int] = []
        for row, key in enumerate(keys):
            for token in set(key.split()):
                token_ids.append(vocab.setdefault(token, len(vocab)))
                row_ids.append(row)
        tokens = np.asarray(token_ids, dtype=np.int32)
        rows = np.asarray(row_ids, dtype=np.int32)
        order = np.argsort(tokens, kind="stable")
        self._postings: NDArray[np.int32] = rows[order]
        counts = np.bincount(tokens, minlength=len(vocab))
        self._offsets: NDArray[np.int64] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._vocab = vocab
        self._size = len(keys)
        self._idf: NDArray[np.float64] = np.log((self._size + 1) / (counts + 0.5))
        self._common = counts > max(50, _COMMON_SHARE * self._size)
        # Alphabetic tokens by length, for the fuzzy look-up of unknown tokens.
        self._by_length: dict[int, list[str]] = {}
        for token in vocab:
            if token.isalpha() and len(token) >= _MIN_FUZZY_LENGTH - 1:
                self._by_length.setdefault(len(token), []).append(token)

    @property
    def size(self) -> int:
        """Number of rows indexed."""
        return self._size

    def _fuzzy(self, token: str) -> list[str]:
        if not token.isalpha() or len(token) < _MIN_FUZZY_LENGTH:
            return []
        limit = 2 if len(token) >= 8 else 1
        found: list[str] = []
        for length in range(len(token) - limit, len(token) + limit + 1):
            choices = self._by_length.get(length)
            if choices:
                matches = process.extract(
                    token, choices, scorer=Levenshtein.distance, score_cutoff=limit, limit=4
                )
                found.extend(match for match, _, _ in matches)
        return found

    def token_weights(self, tokens: Sequence[str]) -> dict[int, float]:
        """Vocabulary ids and weights for the query tokens (typo'd ones fuzzily)."""
        weights: dict[int, float] = {}
        for token in tokens:
            token_id = self._vocab.get(token)
            if token_id is not None:
                weights[token_id] = max(weights.get(token_id, 0.0), float(self._idf[token_id]))
                continue
            for match in self._fuzzy(token):
                match_id = self._vocab[match]
                weight = _FUZZY_WEIGHT * float(self._idf[match_id])
                weights[match_id] = max(weights.get(match_id, 0.0), weight)
        return weights

    def candidates(
        self, tokens: Sequence[str], k: int, mask: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The ``k`` rows sharing the most informative tokens with the query.

        Args:
            tokens: canonical query tokens (:func:`index.keys.canonical_tokens`).
            k: number of rows wanted.
            mask: rows allowed (country filter, tombstones); ``None`` = all.

        Returns:
            Row numbers and their IDF scores, best first; fewer than ``k`` when
            fewer rows share a token.
        """
        weights = self.token_weights(tokens)
        rare = {t: w for t, w in weights.items() if not self._common[t]}
        chosen = rare or weights
        if not chosen:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        parts = [self._postings[self._offsets[t] : self._offsets[t + 1]] for t in chosen]
        lengths = [len(p) for p in parts]
        hits = np.concatenate(parts)
        values = np.repeat(np.fromiter(chosen.values(), dtype=np.float64), lengths)
        rows, inverse = np.unique(hits, return_inverse=True)
        scores = np.bincount(inverse, weights=values)
        if mask is not None:
            keep = mask[rows]
            rows, scores = rows[keep], scores[keep]
        if len(rows) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            rows, scores = rows[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        best_scores: NDArray[np.float64] = scores[order].astype(np.float64)
        return rows[order].astype(np.int64), best_scores
