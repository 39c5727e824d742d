"""What an answer gives away, sealed at rest with the operator's key (AES-GCM, AES-SIV)."""

from __future__ import annotations

import base64
import binascii
import os
import re

# cryptography loads with the first key used (~15-25 ms): a store without
# HEARTH_DATA_KEY, and `hearth chat` before its first question, never need it.

#: Marks a value sealed by earlier versions (Fernet: AES-128-CBC + HMAC-SHA256); still read.
PREFIX = "enc1:"
#: Marks a value sealed now (AES-256-GCM, random 96-bit nonce). Anything without either
#: mark was written before a key was set and is read as it is (and resealed at open:
#: store/reseal.py).
SEALED = "g1:"
#: Marks the sealed option of a repeated item's key: `adv_severity[~<token>]`.
ITEM_MARK = "~"
#: What the key check seals: a database remembers that it is encrypted, and with which key.
CHECK = "hearth-data-key-check"

_INTERVIEW_ID = re.compile(r'"interview_id":("[A-Za-z0-9_-]{1,32}")')
_NONCE = 12


class DataKeyError(ValueError):
    """The key is malformed, missing or not this database's; the message says which."""


def new_key() -> str:
    """A fresh random key in the form HEARTH_DATA_KEY expects."""
    from cryptography.fernet import Fernet

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


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(key: str, purpose: bytes, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(
        base64.urlsafe_b64decode(key.encode())
    )


class Cipher:
    """Seals and opens text with one key; the repositories call it, the engine never sees it.

    `context` binds a sealed value to its row (the interview id): a value copied into
    another interview's row does not open there.
    """

    def __init__(self, key: str) -> None:
        from cryptography.exceptions import InvalidTag
        from cryptography.fernet import Fernet, InvalidToken
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

        #: What a value that does not open with this key raises, besides bad base64.
        self._refused: tuple[type[Exception], ...] = (InvalidTag, binascii.Error, ValueError)
        self._refused_old = (InvalidToken, *self._refused)
        self._fernet = Fernet(check_key(key).encode())
        # AES-GCM costs ~12 us a round trip here, Fernet ~200 us: a step opens the
        # interview's cursor, draft and nickname and every current answer.
        self._gcm = AESGCM(_derive(key, b"hearth value key v1", 32))
        # The one place a seal must be deterministic: the option in a repeated item's
        # key, which the current-answer index looks up.
        self._siv = AESSIV(_derive(key, b"hearth item key v1", 64))

    def seal(self, text: str, context: str = "") -> str:
        nonce = os.urandom(_NONCE)
        return SEALED + _b64(nonce + self._gcm.encrypt(nonce, text.encode(), context.encode()))

    def open(self, stored: str, context: str = "") -> str:
        token = stored.split(" ", 1)[0]
        try:
            if stored.startswith(SEALED):
                raw = _unb64(token.removeprefix(SEALED))
                return self._gcm.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
            if stored.startswith(PREFIX):
                return self._fernet.decrypt(token.removeprefix(PREFIX)).decode()
        except self._refused_old:
            raise DataKeyError("a stored value does not open with HEARTH_DATA_KEY") from None
        return stored

    def seal_item(self, interview_id: str, item_key: str) -> str:
        """Seal the option of a repeated item's key (`adv_severity[sexual_harm]`).

        AES-SIV is deterministic for one interview (the interview id is its associated
        data), so the sealed key is found again through the same index, and the same
        option seals differently in two interviews: nothing can be counted across a
        database. The item id before the bracket stays readable (which question, not how).
        """
        item_id, bracket, rest = item_key.partition("[")
        if not bracket or not rest.endswith("]") or rest.startswith(ITEM_MARK):
            return item_key
        token = self._siv.encrypt(rest[:-1].encode(), [interview_id.encode()])
        return f"{item_id}[{ITEM_MARK}{_b64(token)}]"

    def open_item(self, interview_id: str, stored: str) -> str:
        """The plain item key of `seal_item`'s result (a plain key is returned as it is)."""
        item_id, bracket, rest = stored.partition("[")
        if not bracket or not rest.startswith(ITEM_MARK) or not rest.endswith("]"):
            return stored
        try:
            raw = _unb64(rest[len(ITEM_MARK) : -1])
            option = self._siv.decrypt(raw, [interview_id.encode()]).decode()
        except self._refused:
            raise DataKeyError("a stored item key does not open with HEARTH_DATA_KEY") from None
        return f"{item_id}[{option}]"

    def seal_outcome(self, outcome: str) -> str:
        """Seal a stored reply, keeping the interview ids it names in the clear after it.

        Erasure finds the outcomes of an erased interview by its quoted id; the id is a
        random reference, not content, so leaving it visible costs nothing.
        """
        ids = sorted(set(_INTERVIEW_ID.findall(outcome)))
        return self.seal(outcome) + (" [" + ",".join(ids) + "]" if ids else "")


def is_sealed(stored: str) -> bool:
    """Whether a stored value was written with a key."""
    return stored.startswith((SEALED, PREFIX))
