"""Linn County, Iowa: OpenAddresses rows shipped in usaddress's training data.

The ``usaddress==0.5.16`` source distribution holds
``training/openaddress_us_ia_linn.xml``: ~95,000 real addresses, each one an
``<AddressString>`` whose tokens are tagged with usaddress's labels, e.g.
``<AddressNumber>4570</AddressNumber> <StreetName>Frozen</StreetName>
<StreetName>Hill</StreetName> <StreetNamePostType>Rd</StreetNamePostType>
<PlaceName>Anamosa</PlaceName> <StateName>IA</StateName> <ZipCode>52205</ZipCode>``.
This module turns those tags into libpostal's component names; it formats nothing.
The file holds text only: its rows have no coordinates.
"""

from __future__ import annotations

import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from address.downloads import PinnedPackage
from address.errors import ReferenceDataError

__all__ = ["LINN_PACKAGE", "LINN_SOURCE", "iter_linn_components"]

LINN_PACKAGE = PinnedPackage(
    "usaddress", "0.5.16", "f7e614e2489c159cf85be1b6f86edbfaf329dbeedef4d002a025757afd1ec6c6"
)
LINN_MEMBER = "usaddress-0.5.16/training/openaddress_us_ia_linn.xml"
LINN_SOURCE = "openaddresses-us-ia-linn"

# usaddress label -> libpostal component. Tokens of one component are joined with
# spaces in document order, so "Hwy" + "13" gives road "Hwy 13" and
# "4250" + "1/2" gives house_number "4250 1/2".
_TAG_COMPONENT = {
    "AddressNumberPrefix": "house_number",
    "AddressNumber": "house_number",
    "AddressNumberSuffix": "house_number",
    "StreetNamePreModifier": "road",
    "StreetNamePreDirectional": "road",
    "StreetNamePreType": "road",
    "StreetName": "road",
    "StreetNamePostType": "road",
    "StreetNamePostDirectional": "road",
    "StreetNamePostModifier": "road",
    "OccupancyType": "unit",
    "OccupancyIdentifier": "unit",
    "SubaddressType": "unit",
    "SubaddressIdentifier": "unit",
    "PlaceName": "city",
    "StateName": "state",
    "ZipCode": "postcode",
}
# A unit made only of a type word ("132 20th Ave SW Apt") names no unit at all.
_UNIT_IDENTIFIERS = frozenset({"OccupancyIdentifier", "SubaddressIdentifier"})


def _components(element: ET.Element) -> dict[str, str | None]:
    tokens: dict[str, list[str]] = {}
    has_unit_identifier = False
    for child in element:
        component = _TAG_COMPONENT.get(child.tag)
        text = (child.text or "").strip()
        if component is None or not text:
            continue
        tokens.setdefault(component, []).append(text)
        has_unit_identifier |= child.tag in _UNIT_IDENTIFIERS
    if not has_unit_identifier:
        tokens.pop("unit", None)
    return {name: " ".join(words) for name, words in tokens.items()}


def iter_linn_components(sdist: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Yield ``(position in file, components)`` for every address in the sdist.

    Reads the XML member straight out of the ``.tar.gz``, streaming, so the
    ~95,000 rows never sit in memory as a tree. Positions start at 1.

    Args:
        sdist: the downloaded ``usaddress-0.5.16.tar.gz``.

    Raises:
        ReferenceDataError: the archive or its member is missing or malformed.
    """
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            stream = archive.extractfile(LINN_MEMBER)
            if stream is None:
                raise ReferenceDataError(f"{sdist.name}: {LINN_MEMBER} is not a regular file")
            position = 0
            root: ET.Element | None = None
            for event, element in ET.iterparse(stream, events=("start", "end")):
                if event == "start":
                    root = element if root is None else root
                    continue
                if element.tag != "AddressString":
                    continue
                position += 1
                yield position, _components(element)
                if root is not None:
                    root.clear()  # keep memory flat while streaming
    except KeyError as exc:
        raise ReferenceDataError(f"{sdist.name} has no member {LINN_MEMBER}") from exc
    except (tarfile.TarError, ET.ParseError, OSError, EOFError) as exc:
        raise ReferenceDataError(f"cannot read {LINN_MEMBER} from {sdist}: {exc}") from exc
