"""Verification ids: the signed token a verify answer carries, so that a later
``POST /v1/feedback`` can name the address it reports on without sending it again.

A token is ``<payload>.<signature>``, both url-safe base64 without padding: the payload
is compact JSON of what feedback needs (delivery key, standardized address, country,
verdict, match id, components), the signature its HMAC-SHA256 under the service's
secret. The payload is readable by whoever holds the token (it is the caller's own
address); only the service can make one that verifies.

Example: ``"Laugavegur 12b, 101 Reykjavík"`` verified ``valid`` gets an id whose payload
reads ``{"a": "Laugavegur 12b, 101 Reykjavík", "c": "IS", "d": "valid", "k": "IS|laugavegur
12b 101 reykjavik", "m": "is-10017508", "p": {"road": "laugavegur", ...}, "v": 1}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from api.errors import ApiError

__all__ = [
    "SECRET_FILE_NAME",
    "InvalidVerificationIdError",
    "SecretUnavailableError",
    "VerificationClaims",
    "VerificationIds",
    "load_secret",
]

SECRET_FILE_NAME = "verification_id.key"
"""The secret's file, beside the feedback database, when ADDR_FEEDBACK_SECRET is unset."""
_VERSION = 1
_DOMAIN = b"addr-verification-id:v1:"
"""Signed before the payload, so that no other HMAC under the same secret verifies."""
_SECRET_BYTES = 32


class InvalidVerificationIdError(ApiError, ValueError):
    """A verification id this service did not make, or one changed since."""


class SecretUnavailableError(ApiError, OSError):
    """The secret file could neither be read nor created."""


@dataclass(frozen=True, slots=True)
class VerificationClaims:
    """What a verification id vouches for: ``VerificationClaims("IS|laugavegur 12b 101
    reykjavik", "Laugavegur 12b, 101 Reykjavík", "IS", "valid", "is-10017508", {...})``."""

    delivery_key: str
    address: str
    country: str
    verdict: str
    match_id: str | None
    components: Mapping[str, str] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VerificationIds:
    """Signs and checks verification ids under one secret.

    Example:
        >>> ids = VerificationIds(b"k" * 32)
        >>> claims = VerificationClaims("k", "Laugavegur 12b, 101 Reykjavík", "IS", "valid", None)
        >>> ids.read(ids.sign(claims)) == claims
        True
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, payload: str) -> bytes:
        return hmac.new(self._secret, _DOMAIN + payload.encode("ascii"), hashlib.sha256).digest()

    def sign(self, claims: VerificationClaims) -> str:
        body = {
            "v": _VERSION,
            "k": claims.delivery_key,
            "a": claims.address,
            "c": claims.country,
            "d": claims.verdict,
            "m": claims.match_id,
            "p": dict(claims.components),
        }
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        payload = _b64(text.encode("utf-8"))
        return f"{payload}.{_b64(self._signature(payload))}"

    def read(self, token: str) -> VerificationClaims:
        """The claims of a token this service signed.

        Raises:
            InvalidVerificationIdError: malformed, signed under another secret, or changed.
        """
        payload, _, signature = token.partition(".")
        try:
            given = _unb64(signature)
            valid = payload.isascii() and hmac.compare_digest(given, self._signature(payload))
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise InvalidVerificationIdError("not a verification id of this service")
        body = json.loads(_unb64(payload))
        if body.get("v") != _VERSION:
            raise InvalidVerificationIdError(f"verification id version {body.get('v')!r}")
        return VerificationClaims(
            delivery_key=body["k"],
            address=body["a"],
            country=body["c"],
            verdict=body["d"],
            match_id=body["m"],
            components=body["p"],
        )


def load_secret(feedback_db: Path, configured: str | None = None) -> bytes:
    """The signing secret: ``configured`` (ADDR_FEEDBACK_SECRET) when given, else the
    random one in :data:`SECRET_FILE_NAME` beside ``feedback_db``, made on first use.

    Workers starting together agree: the secret is written whole to a private temporary
    file (mode 0600, ``O_EXCL``) and hard-linked into place, which fails for all but the
    first; the others read the winner's, never a half-written one.

    Raises:
        SecretUnavailableError: the folder or the file cannot be written or read.
    """
    if configured:
        return configured.encode("utf-8")
    path = feedback_db.parent / SECRET_FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
        secret = path.read_bytes()
    except OSError as error:
        raise SecretUnavailableError(f"verification id secret {path}: {error}") from error
    if len(secret) < _SECRET_BYTES:
        raise SecretUnavailableError(f"verification id secret {path} is shorter than 32 bytes")
    return secret


def _create(path: Path) -> None:
    """Write a new secret to ``path`` unless another process got there first."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(secrets.token_bytes(_SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another worker's secret is in place
    finally:
        temporary.unlink(missing_ok=True)
