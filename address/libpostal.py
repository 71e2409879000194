"""libpostal through ctypes: parse, expand and near-duplicate hashes.

This is the only module that touches libpostal. It loads the compiled
libpostal 1.0.1 bundled in the ``libpypostal`` wheel, declares the few C
structs it needs from libpostal's public header (``libpostal.h``), and turns
libpostal's ``(value, label)`` pairs into :class:`ParsedAddress`.

The data folder is checked before libpostal sees it, so a missing or corrupt
folder raises :class:`DataNotReadyError` instead of a crash inside C.
Loading takes ~7 s and ~2 GB of memory, once per process.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from address.errors import REFETCH_HINT, DataNotReadyError
from address.libpostal_data import check_data_dir
from address.model import COMPONENT_LABELS, ParsedAddress
from address.normalize import normalize
from address.paths import data_paths

__all__ = ["expand", "load", "near_dupe_hashes", "parse", "parse_batch"]

_c_char_pp = ctypes.POINTER(ctypes.c_char_p)


class _NormalizeOptions(ctypes.Structure):
    """``libpostal_normalize_options_t``."""

    _fields_ = [
        ("languages", _c_char_pp),
        ("num_languages", ctypes.c_size_t),
        ("address_components", ctypes.c_uint16),
        *[
            (name, ctypes.c_bool)
            for name in (
                "latin_ascii",
                "transliterate",
                "strip_accents",
                "decompose",
                "lowercase",
                "trim_string",
                "drop_parentheticals",
                "replace_numeric_hyphens",
                "delete_numeric_hyphens",
                "split_alpha_from_numeric",
                "replace_word_hyphens",
                "delete_word_hyphens",
                "delete_final_periods",
                "delete_acronym_periods",
                "drop_english_possessives",
                "delete_apostrophes",
                "expand_numex",
                "roman_numerals",
            )
        ],
    ]


class _ParserResponse(ctypes.Structure):
    """``libpostal_address_parser_response_t``."""

    _fields_ = [
        ("num_components", ctypes.c_size_t),
        ("components", _c_char_pp),
        ("labels", _c_char_pp),
    ]


class _ParserOptions(ctypes.Structure):
    """``libpostal_address_parser_options_t``."""

    _fields_ = [("language", ctypes.c_char_p), ("country", ctypes.c_char_p)]


class _NearDupeHashOptions(ctypes.Structure):
    """``libpostal_near_dupe_hash_options_t``."""

    _fields_ = [
        ("with_name", ctypes.c_bool),
        ("with_address", ctypes.c_bool),
        ("with_unit", ctypes.c_bool),
        ("with_city_or_equivalent", ctypes.c_bool),
        ("with_small_containing_boundaries", ctypes.c_bool),
        ("with_postal_code", ctypes.c_bool),
        ("with_latlon", ctypes.c_bool),
        ("latitude", ctypes.c_double),
        ("longitude", ctypes.c_double),
        ("geohash_precision", ctypes.c_uint32),
        ("name_and_address_keys", ctypes.c_bool),
        ("name_only_keys", ctypes.c_bool),
        ("address_only_keys", ctypes.c_bool),
    ]


def _library_path() -> Path:
    libs = resources.files("libpypostal").joinpath("..", "libpypostal.libs")
    candidates = sorted(Path(str(libs)).resolve().glob("libpostal-*.so*"))
    if not candidates:
        raise DataNotReadyError(
            "the libpostal shared library is missing from the libpypostal wheel; "
            "reinstall with `make setup`"
        )
    return candidates[0]


class _Libpostal:
    """The loaded shared library with its data set up; one per process."""

    def __init__(self, data_dir: Path) -> None:
        check_data_dir(data_dir)
        lib = ctypes.CDLL(str(_library_path()))
        for name in (
            "libpostal_setup_datadir",
            "libpostal_setup_parser_datadir",
            "libpostal_setup_language_classifier_datadir",
        ):
            setup = getattr(lib, name)
            setup.argtypes = [ctypes.c_char_p]
            setup.restype = ctypes.c_bool
            if not setup(str(data_dir).encode()):
                raise DataNotReadyError(
                    f"libpostal could not load {data_dir} ({name}): a data file is "
                    f"unreadable or corrupt although its size is right; {REFETCH_HINT}"
                )

        lib.libpostal_get_default_options.restype = _NormalizeOptions
        lib.libpostal_expand_address.argtypes = [
            ctypes.c_char_p,
            _NormalizeOptions,
            ctypes.POINTER(ctypes.c_size_t),
        ]
        lib.libpostal_expand_address.restype = _c_char_pp
        lib.libpostal_expansion_array_destroy.argtypes = [_c_char_pp, ctypes.c_size_t]
        lib.libpostal_expansion_array_destroy.restype = None

        lib.libpostal_get_address_parser_default_options.restype = _ParserOptions
        lib.libpostal_parse_address.argtypes = [ctypes.c_char_p, _ParserOptions]
        lib.libpostal_parse_address.restype = ctypes.POINTER(_ParserResponse)
        lib.libpostal_address_parser_response_destroy.argtypes = [ctypes.POINTER(_ParserResponse)]
        lib.libpostal_address_parser_response_destroy.restype = None

        lib.libpostal_get_near_dupe_hash_default_options.restype = _NearDupeHashOptions
        lib.libpostal_near_dupe_hashes.argtypes = [
            ctypes.c_size_t,
            _c_char_pp,
            _c_char_pp,
            _NearDupeHashOptions,
            ctypes.POINTER(ctypes.c_size_t),
        ]
        lib.libpostal_near_dupe_hashes.restype = _c_char_pp
        self.lib = lib

    @staticmethod
    def _take_strings(
        lib: ctypes.CDLL, array: ctypes.Array[ctypes.c_char_p] | None, count: int
    ) -> list[str]:
        if not array:
            return []
        try:
            return [(array[i] or b"").decode("utf-8", "replace") for i in range(count)]
        finally:
            lib.libpostal_expansion_array_destroy(array, count)

    def parse(self, text: str, country: str | None) -> list[tuple[str, str]]:
        options = self.lib.libpostal_get_address_parser_default_options()
        if country:
            options.country = country.lower().encode()
        response = self.lib.libpostal_parse_address(text.encode(), options)
        if not response:
            return []
        try:
            r = response.contents
            return [
                (r.components[i].decode("utf-8", "replace"), r.labels[i].decode())
                for i in range(r.num_components)
            ]
        finally:
            self.lib.libpostal_address_parser_response_destroy(response)

    def expand(self, text: str) -> list[str]:
        count = ctypes.c_size_t(0)
        options = self.lib.libpostal_get_default_options()
        array = self.lib.libpostal_expand_address(text.encode(), options, ctypes.byref(count))
        return self._take_strings(self.lib, array, count.value)

    def near_dupe_hashes(self, components: dict[str, str]) -> list[str]:
        labels = (ctypes.c_char_p * len(components))(*[k.encode() for k in components])
        values = (ctypes.c_char_p * len(components))(*[v.encode() for v in components.values()])
        options = self.lib.libpostal_get_near_dupe_hash_default_options()
        options.with_name = False
        options.with_unit = "unit" in components
        options.with_postal_code = "postcode" in components
        options.with_city_or_equivalent = any(
            k in components for k in ("city", "suburb", "city_district", "state_district")
        )
        options.address_only_keys = True
        count = ctypes.c_size_t(0)
        array = self.lib.libpostal_near_dupe_hashes(
            len(components), labels, values, options, ctypes.byref(count)
        )
        return self._take_strings(self.lib, array, count.value)


_instance: _Libpostal | None = None
_instance_lock = threading.Lock()
# libpostal's parser is not documented as thread-safe; calls are serialized.
_call_lock = threading.Lock()


def load(data_dir: Path | None = None) -> None:
    """Load libpostal and its data now (otherwise the first call does it).

    Raises:
        DataNotReadyError: the data folder is missing, incomplete or unreadable.
    """
    _get(data_dir)


def _get(data_dir: Path | None = None) -> _Libpostal:
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                _instance = _Libpostal(data_dir or data_paths().libpostal)
    return _instance


def _to_parsed(pairs: Iterable[tuple[str, str]]) -> ParsedAddress:
    values: dict[str, str] = {}
    for value, label in pairs:
        if label in COMPONENT_LABELS:
            # libpostal may label two separate spans the same way; keep both.
            values[label] = f"{values[label]} {value}" if label in values else value
    return ParsedAddress(**values)


def parse(text: str, country: str | None = None) -> ParsedAddress:
    """Split an address into components with libpostal's CRF parser.

    Args:
        text: free text, e.g. ``"Flat 3, 12 Baker St, London NW1 6XE"``.
        country: optional ISO alpha-2 hint (``"GB"``).

    Returns:
        ``ParsedAddress(unit="flat 3", house_number="12", road="baker st",
        city="london", postcode="nw1 6xe")``.

    Raises:
        EmptyAddressError, AddressTooLongError: from :func:`normalize`.
        DataNotReadyError: libpostal's data is not set up.
    """
    clean = normalize(text)
    lib = _get()
    with _call_lock:
        pairs = lib.parse(clean, country)
    return _to_parsed(pairs)


def parse_batch(texts: Sequence[str], country: str | None = None) -> list[ParsedAddress]:
    """:func:`parse` for many texts; raises on the first bad one."""
    return [parse(text, country) for text in texts]


def expand(text: str) -> list[str]:
    """libpostal's normalized variants of an address.

    ``expand("123 Main St")`` contains ``"123 main street"``; two spellings of
    one address share at least one expansion.
    """
    clean = normalize(text)
    lib = _get()
    with _call_lock:
        return lib.expand(clean)


def near_dupe_hashes(parsed: ParsedAddress) -> list[str]:
    """libpostal's near-duplicate keys for an address (street, number, postcode, city).

    ``"123 Main St, Springfield"`` and ``"123 Main Street, Springfield"``
    share a key; ``"125 Main St, Springfield"`` does not.
    """
    components = parsed.components()
    if not components:
        return []
    lib = _get()
    with _call_lock:
        return lib.near_dupe_hashes(components)
