"""Answer content sealed at rest with the operator's key (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.fernet import Fernet, InvalidToken

#: Marks a sealed value. Anything without it was written before a key was set and is
#: read as it is, so a key can be introduced on a database that already holds answers.
PREFIX = "enc1:"
#: What the key check seals: a database remembers that it is encrypted, and with which key.
CHECK = "hearth-data-key-check"

_INTERVIEW_ID = re.compile(r'"interview_id":("[A-Za-z0-9_-]{1,32}")')


class DataKeyError(ValueError):
    """The key is malformed, missing or not this database's; the message says which."""


def new_key() -> str:
    """A fresh random key in the form HEARTH_DATA_KEY expects."""
    return Fernet.generate_key().decode()


def check_key(key: str) -> str:
    """Return `key` if it is 32 bytes of URL-safe base64; else raise `DataKeyError`."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise DataKeyError(
            "expected 44 characters of URL-safe base64 (32 bytes); make one with: hearth keygen"
        )
    return key


class Cipher:
    """Seals and opens text with one key; the repository calls it, the engine never sees it."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(check_key(key).encode())

    def seal(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).split(" ", 1)[0]).decode()
        except InvalidToken:
            raise DataKeyError("a stored answer does not open with HEARTH_DATA_KEY") from None

    def seal_outcome(self, outcome: str) -> str:
        """Seal a stored reply, keeping the interview ids it names in the clear after it.

        Erasure finds the outcomes of an erased interview by its quoted id; the id is a
        random reference, not content, so leaving it visible costs nothing.
        """
        ids = sorted(set(_INTERVIEW_ID.findall(outcome)))
        return self.seal(outcome) + (" [" + ",".join(ids) + "]" if ids else "")


def is_sealed(stored: str) -> bool:
    """Whether a stored value was written with a key."""
    return stored.startswith(PREFIX)
