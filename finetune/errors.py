"""Typed errors of the classifier; they extend ``address.errors``::

AddressError
└── ClassifierNotReadyError (RuntimeError)   base model or adapter missing or corrupt
"""

from __future__ import annotations

from address.errors import AddressError

__all__ = ["ClassifierNotReadyError"]


class ClassifierNotReadyError(AddressError, RuntimeError):
    """The base model or the LoRA adapter is missing, incomplete or corrupt."""
