"""Delivery notes: "leave at back door", "gate code 1234", "bitte beim Nachbarn abgeben".

A note verb only opens a note at the start of a part ("Ring Road", "Call Lane" are
streets); the strong phrases are also found after the postcode in the same part.
"""

from __future__ import annotations

import re

from address.extras.cutting import Take, has_digit
from address.extras.people import is_place_name
from address.extras.vocabulary import PLACE_WORDS, STREET_SUFFIX, looks_like_street

# Words and phrases that open a delivery note, per language. Verbs are only read as a note
# at the start of a part; the strong phrases also after the postcode in the same part.
_NOTE_VERBS = (
    r"leave|left|call|ring|deliver|delivery|please|pls|plz|knock|buzz|text|drop|put|"
    r"don['’]?t|do\s+not|if\s+not|if\s+no|if\s+out|no\s+one|nobody|use|enter|beware|"
    r"careful|fragile|handle|signature|sign|back\s+door|side\s+door|front\s+door|porch|"
    r"next\s+to|neighbou?r|reception|concierge|doorman|back\s+entrance|side\s+entrance|"
    r"rear\s+entrance|garage|garden|shed|mailbox|letterbox|parcel\s+box|doorbell|bell|"
    r"bitte|klingeln|klingel|abstellen|abgeben|ablegen|hinterlegen|beim\s+nachbarn|nachbar|"
    r"anrufen|nicht|paket|lieferung|zustellung|briefkasten|paketkasten|hintereingang|"
    r"seiteneingang|abstellort|garten|terrasse|"
    r"sonnez|sonner|livrer|livraison|laisser|déposer|deposer|appeler|merci|svp|"
    r"s['’]il\s+vous\s+pla[iî]t|interphone|gardien|boîte|boite|chez\s+le\s+voisin|portail|"
    r"accueil|voisin|jardin|"
    r"por\s+favor|dejar|llamar|timbre|entregar|entrega|portero|conserjer[ií]a|no\s+funciona|"
    r"vecino|porter[ií]a|buzón|buzon|garaje|jard[ií]n|"
    r"per\s+favore|lasciare|citofonare|citofono|suonare|consegnare|consegna|chiamare|"
    r"portineria|portiere|cortile|vicino|giardino|cassetta\s+postale|"
    r"aanbellen|graag|alstublieft|achterlaten|afleveren|bij\s+de\s+buren|niet|buren|"
    r"achterdeur|brievenbus|tuin|schuur|"
    r"gate|door|buzzer|digicode|code|türcode|torcode|código|codice|deurcode|poortcode|"
    r"entry|access|intercom"
)
_NOTE_START = re.compile(rf"^\s*(?:{_NOTE_VERBS})\b", re.IGNORECASE)
NOTE_STRONG = re.compile(
    r"(?<!\w)(?:please|pls|bitte|por\s+favor|per\s+favore|svp|s['’]il\s+vous\s+pla[iî]t|"
    r"leave\s+(?:at|with|in|on|by|behind|it|the|parcel|package)|ring\s+(?:the|twice|bell|door)|"
    r"knock\s+(?:loudly|twice|hard|on\s+the)|"
    r"call\s+(?:before|on|when|me|upon|ahead|if)|deliver\s+(?:to|before|after|between|only)|"
    r"(?:gate|door|entry|access|building)\s+code|buzzer|digicode|code\s+porte|code\s+d['’]entrée|"
    r"klingeln|abstellen|abgeben|beim\s+nachbarn|sonnez|sonner|livrer|laisser|déposer|"
    r"dejar\s+en|llamar\s+al|citofonare|lasciare|consegnare|aanbellen|achterlaten|afleveren|"
    r"do\s+not|don['’]t|if\s+not\s+home|no\s+signature|timbre|türcode|codice|código|deurcode|"
    r"citofonare|suonare|aanbellen|graag|hintereingang|abstellort|benutzen|gardien|"
    r"doorbell|vecino|porter[ií]a|bij\s+de\s+buren)\b",
    re.IGNORECASE,
)
# A code cue may be followed by digits ("gate code 1234"); a verb followed by a number or a
# street word is a street ("Ring 5", "Call Lane").
_CODE_CUE = re.compile(
    r"^\s*(?:(?:gate|door|entry|access|building|tür|tor|deur|poort)\s*code|code|digicode|"
    r"buzzer|türcode|torcode|código|codice|deurcode|poortcode|interphone|intercom|"
    r"citofono|timbre|klingel)\b",
    re.IGNORECASE,
)


def is_note(piece: str) -> bool:
    """ "leave at back door", "gate code 1234", "bitte beim Nachbarn abgeben" are;
    "Ring Road", "Call Lane", "Am Ring 5" are not."""
    if _CODE_CUE.match(piece):
        return True
    start = _NOTE_START.match(piece)
    if not start:
        return False
    rest = piece[start.end() :].split()
    if not rest:
        return len(piece.split()) == 1 and piece.strip().lower() in ("please", "fragile")
    nxt = rest[0].lower().strip(".,")
    compound = len(nxt) > 6 and STREET_SUFFIX.search(nxt)
    street = nxt in PLACE_WORDS and nxt not in ("ring", "gate", "side", "end")
    return not (nxt[0].isdigit() or street or compound)


def continues_note(piece: str, region: str) -> bool:
    """The part after a note that goes on with it: "doorbell broken" after "Knock loudly",
    "Baby schläft" after "Nicht klingeln"; not a town ("Chicago") or a county ("Essex")."""
    words = piece.split()
    return (
        0 < len(words) <= 4
        and not has_digit(piece)
        and any(w[0].islower() for w in words)
        and not looks_like_street(piece)
        and not is_place_name(piece, region)
    )


def note_end(piece: str) -> int:
    """Where a note stops when the address follows it in the same part:
    "gate code 1234 12 Main St" and "bitte klingeln Zur Kirchenburg 5" stop before the
    address; "bitte 2x klingeln" and "timbre 3B" run to the end."""
    code = _CODE_CUE.match(piece)
    if code:
        rest = re.match(r"\s*\S*\d\S*(?=\s+\S)", piece[code.end() :])
        return code.end() + rest.end() if rest else len(piece)
    tokens = list(re.finditer(r"\S+", piece))
    for i in range(1, len(tokens)):
        if not has_digit(tokens[i].group(0)):
            continue
        following = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        previous = tokens[i - 1].group(0)
        if following[:1].isupper() or (not following and previous[:1].isupper() and i > 1):
            j = i
            while j > 1 and tokens[j - 1].group(0)[:1].isupper():
                j -= 1
            return tokens[j].start()
    return len(piece)


def take_inline_note(piece: str, start: int, end: int, take: Take) -> bool:
    """A note in the same part as the address: "…, NY 10118 leave at back door"; true
    when it runs to the end of the part, so the next part may go on with it."""
    strong = NOTE_STRONG.search(piece)
    if not strong or strong.start() == 0:
        return False
    at = strong.start()
    negation = re.search(
        r"(?:(?<!\w)(?:nicht|not|ne|pas|no|niet|non|bitte)\s+)+$", piece[:at], re.I
    )
    at = negation.start() if negation and negation.start() else at
    head = piece[:at]
    words = head.split()
    whole = not has_digit(head) and len(words) <= 3 and words[0].islower()
    stop = at + note_end(piece[at:])
    take("instructions", start if whole else start + at, start + stop)
    return stop == len(piece)
