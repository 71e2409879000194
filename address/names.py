"""Folded place names: the one form in which typed and reference names are compared.

Example: ``fold_name("Hafnarfjörður")`` is ``"hafnarfjordur"``, ``fold_name("St. Albans")``
is ``"st albans"``, ``fold_name("Baden-Württemberg")`` is ``"baden wurttemberg"``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold_name"]

# Abbreviation dots and apostrophes, dropped inside names: "D.C." -> "dc", "L'Aquila" -> "laquila".
_DROPPED_PUNCTUATION_RE = re.compile(r"[.'\u2019]")
# Anything else that is not a letter or digit separates words: "Baden-Württemberg", "Co. Cork".
_WORD_SEPARATOR_RE = re.compile(r"[\W_]+")
# Letters that do not decompose into base letter + accent, folded the way people type them
# in ASCII: "Hafnarfjörður" -> "hafnarfjordur", "Þórshöfn" -> "thorshofn".
_LETTER_FOLDS = str.maketrans(
    {"ð": "d", "þ": "th", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"}
)


@lru_cache(maxsize=8192)
def fold_name(text: str) -> str:
    """Case-, accent- and punctuation-free form of a name: "Reykjavík" -> "reykjavik"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    letters = _DROPPED_PUNCTUATION_RE.sub("", letters.translate(_LETTER_FOLDS))
    return _WORD_SEPARATOR_RE.sub(" ", letters).strip()
