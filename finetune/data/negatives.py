"""Negatives: a real address with one thing broken, as its :class:`address.model.Reason`
says ("4570 Frozen Hill Rd, Anam" is ``truncated``), or text that is no address at all."""

from __future__ import annotations

import random
import re
import string
from dataclasses import replace

from address.model import Reason
from address.names import strip_accents
from finetune.data.postcodes import looks_like_postcode, postcode_region
from finetune.data.records import AddressParts, Donors, Expander
from finetune.data.rendering import render
from finetune.data.resources import word_list

__all__ = ["negative"]

# A word long enough to cut in the middle: "Frozen", "Anamosa", "52205".
_CUTTABLE_WORD = re.compile(r"[^\W_]{3,}")


def _truncate(text: str, rng: random.Random) -> str | None:
    """Cut the text inside a word in its second half: "4570 Frozen Hill Rd, Anam"."""
    words = [m for m in _CUTTABLE_WORD.finditer(text) if m.start() >= len(text) * 0.3]
    lettered = [m for m in words if not m.group().isdigit()]
    if lettered and rng.random() < 0.95:
        # Cut a name: a cut postcode ("10115" -> "1011") still has some country's shape.
        words = lettered
    if not words:
        return None
    word = rng.choice(words)
    cut = rng.randint(word.start() + 1, word.end() - 1)
    return text[:cut]


def _phone(rng: random.Random) -> str:
    digits = [str(rng.randint(0, 9)) for _ in range(10)]
    area, mid, last = "".join(digits[:3]), "".join(digits[3:6]), "".join(digits[6:])
    return rng.choice(
        [
            f"({area}) {mid}-{last}",
            f"+1 {area}-{mid}-{last}",
            f"{area}.{mid}.{last}",
            f"+354 {mid} {last}",
            f"{area}{mid}{last}",
            f"tel: {area} {mid} {last}",
        ]
    )


def _not_an_address(rng: random.Random) -> str:
    """Text typed into the address field that is no address: a note, name, phone, e-mail."""
    first, last = rng.choice(word_list("first_names.txt")), rng.choice(word_list("last_names.txt"))
    domain = rng.choice(word_list("email_domains.txt"))
    kind = rng.randrange(7)
    if kind == 0:
        return rng.choice(word_list("delivery_notes.txt"))
    if kind == 1:
        return f"{first} {last}"
    if kind == 2:
        return _phone(rng)
    if kind == 3:
        user = strip_accents(f"{first}.{last}" if rng.random() < 0.5 else f"{first[0]}{last}")
        return f"{user.lower()}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{domain}"
    if kind == 4:
        return f"https://www.{domain}/{rng.choice(word_list('url_paths.txt'))}"
    if kind == 5:
        return f"{rng.choice(word_list('delivery_notes.txt'))} {_phone(rng)}"
    return f"{first} {last} {_phone(rng)}"


def _gibberish(rng: random.Random, real: str) -> str:
    """Keyboard mash, random letters, or a real address with its letters scrambled."""
    kind = rng.randrange(4)
    if kind == 0:
        row = rng.choice(["qwertyuiop", "asdfghjkl", "zxcvbnm", "qazwsxedc"])
        start = rng.randrange(len(row) - 3)
        chunk = row[start : start + rng.randint(3, len(row) - start)]
        return " ".join(chunk for _ in range(rng.randint(1, 3)))
    if kind == 1:
        # Random letter words, a few digits: never a postcode shape ("ab1 2cd" is one).
        alphabet = string.ascii_lowercase * 4 + string.digits
        for _ in range(20):
            words = [
                "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 9)))
                for _ in range(rng.randint(1, 4))
            ]
            text = " ".join(words)
            if not looks_like_postcode(text) and not text.isdigit():
                return text
        return "xqzv wkpt"
    if kind == 2:
        return rng.choice("a.x-?!z") * rng.randint(3, 12)
    letters = list(real)
    rng.shuffle(letters)
    return "".join(letters).strip() or "zz"


def _mismatched_postcode(
    parts: AddressParts, donors: Donors, rng: random.Random
) -> AddressParts | None:
    """The address with a real postcode of another region of the same country:
    "Laugavegur 12, 600 Reykjavík" (600 is Akureyri's), "4570 Frozen Hill Rd, Anamosa,
    IA 60601" (Chicago's). Swaps inside one region ("Anamosa 52302", Marion's ZIP) are
    left to the reference index, which knows every postcode; text alone cannot tell."""
    region = postcode_region(parts.postcode or "")
    pool = [d for d in donors.get(parts.country, ()) if postcode_region(d[0]) != region]
    return replace(parts, postcode=rng.choice(pool)[0]) if pool else None


def negative(
    reason: Reason,
    parts: AddressParts,
    rng: random.Random,
    donors: Donors,
    expand: Expander | None,
) -> str | None:
    """Text of one negative of the given reason made from a real address, or ``None``."""
    broken: AddressParts | None
    if reason is Reason.MISSING_HOUSE_NUMBER:
        broken = replace(parts, house_number=None, unit=None)
    elif reason is Reason.MISSING_ROAD:
        keep = parts.house_number if rng.random() < 0.5 else None
        broken = replace(parts, road=None, unit=None, house_number=keep)
    elif reason is Reason.MISSING_LOCALITY:
        broken = replace(parts, city=None, postcode=None)
    elif reason is Reason.POSTCODE_LOCALITY_MISMATCH:
        broken = _mismatched_postcode(parts, donors, rng) if parts.city and parts.postcode else None
    elif reason is Reason.TRUNCATED:
        return _truncate(render(parts, rng, expand), rng)
    elif reason is Reason.NOT_AN_ADDRESS:
        return _not_an_address(rng)
    elif reason is Reason.GIBBERISH:
        return _gibberish(rng, render(parts, rng, expand))
    else:  # pragma: no cover - LABELS holds only the reasons above
        raise ValueError(f"no generator for {reason}")
    if broken is None:
        return None
    if reason is Reason.POSTCODE_LOCALITY_MISMATCH:
        # The mismatch must be visible: keep both the town and the postcode.
        text = render(broken, rng, expand)
        return text if (broken.postcode or "").casefold() in text.casefold() else None
    return render(broken, rng, expand)
