"""Take out of an address text what is not the address.

Callers mix recipients, companies, phone numbers, e-mails, URLs and delivery notes into
the address: ``"John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134"``.
:func:`split_extras` cuts them out and returns them apart. It never takes a street, town
or building word: a part is only taken on a cue (a title, "c/o", a company suffix, an
instruction verb, a phone label), as a person's name when its first word is a known first
name and it names no place the gazetteer knows, or as a company when a lone surname stands
where no address part does ("Schmitt, 24 Rue des Closiers, 45000 Orléans").
"""

from address.extras.cutting import cut_spans
from address.extras.model import Extracted, Extras
from address.extras.parsed import from_house, from_road
from address.extras.split import split_extras

__all__ = ["Extracted", "Extras", "cut_spans", "from_house", "from_road", "split_extras"]
