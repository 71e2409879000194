"""Accent-free and folded names: the forms in which typed and reference names are compared.

Example: ``fold_name("Hafnarfjörður")`` is ``"hafnarfjordur"``, ``fold_name("St. Albans")``
is ``"st albans"``, ``fold_name("Baden-Württemberg")`` is ``"baden wurttemberg"``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["drop_marks", "fold_name", "strip_accents"]

# Abbreviation dots and apostrophes, dropped inside names: "D.C." -> "dc", "L'Aquila" -> "laquila".
_DROPPED_PUNCTUATION_RE = re.compile(r"[.'\u2019]")
# Anything else that is not a letter or digit separates words: "Baden-Württemberg", "Co. Cork".
_WORD_SEPARATOR_RE = re.compile(r"[\W_]+")
# Lower-case letters that do not decompose into base letter + accent, spelt the way people
# type them in ASCII: "hafnarfjörður" -> "hafnarfjordur", "þórshöfn" -> "thorshofn".
_SPECIAL_LETTERS = str.maketrans(
    {"ð": "d", "þ": "th", "æ": "ae", "ø": "o", "ß": "ss", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"}
)


def drop_marks(text: str) -> str:
    """NFKD decomposition without the combining marks: "Françoise" -> "Francoise".

    Letters that do not decompose stay: "Bjørn" -> "Bjørn".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strip_accents(text: str) -> str:
    """Lower-case text without accents, its special letters spelt out in ASCII:
    "þórunnartún" -> "thorunnartun", "straße" -> "strasse", "łódź" -> "lodz".

    The letters are spelt out before decomposition, so a letter that decomposes into one
    of them keeps it: "ǿ" -> "ø".
    """
    return drop_marks(text.translate(_SPECIAL_LETTERS))


@lru_cache(maxsize=8192)
def fold_name(text: str) -> str:
    """Case-, accent- and punctuation-free form of a name: "Reykjavík" -> "reykjavik".

    Marks are dropped once more before :func:`strip_accents`, so letters that decompose
    into a special letter are spelt out too: "Ǿrsta" -> "orsta".
    """
    letters = strip_accents(drop_marks(text.casefold()))
    letters = _DROPPED_PUNCTUATION_RE.sub("", letters)
    return _WORD_SEPARATOR_RE.sub(" ", letters).strip()
