"""Words that several readers of an address share.

Compass points: ``COMPASS_ABBREVIATIONS`` as streets abbreviate them ("Linden Dr SE",
"W 1405 Main St"), ``COMPASS_WORDS`` as they are written out ("Water Ave West").
"""

from __future__ import annotations

__all__ = ["COMPASS_ABBREVIATIONS", "COMPASS_WORDS"]

COMPASS_ABBREVIATIONS = frozenset({"n", "s", "e", "w", "ne", "nw", "se", "sw"})
COMPASS_WORDS = frozenset(
    {"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
)
