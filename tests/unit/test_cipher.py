"""The cipher: values bound to their row, item keys deterministic per interview only."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from store.cipher import PREFIX, Cipher, DataKeyError, new_key


def test_seal__opens_only_in_its_own_row() -> None:
    cipher = Cipher(new_key())
    sealed = cipher.seal('["sexual_harm"]', "iv1")
    assert "sexual_harm" not in sealed
    assert cipher.open(sealed, "iv1") == '["sexual_harm"]'
    with pytest.raises(DataKeyError):
        cipher.open(sealed, "iv2")


def test_seal_item__same_interview_same_key__another_interview_another() -> None:
    cipher = Cipher(new_key())
    one = cipher.seal_item("iv1", "adv_severity[sexual_harm]")
    assert one == cipher.seal_item("iv1", "adv_severity[sexual_harm]")
    assert one != cipher.seal_item("iv2", "adv_severity[sexual_harm]")
    assert one.startswith("adv_severity[") and "sexual_harm" not in one
    assert cipher.open_item("iv1", one) == "adv_severity[sexual_harm]"
    assert cipher.seal_item("iv1", one) == one  # sealing twice changes nothing
    assert cipher.seal_item("iv1", "child_age") == "child_age"


def test_open__values_sealed_by_earlier_versions__still_read() -> None:
    key = new_key()
    legacy = PREFIX + Fernet(key.encode()).encrypt(b'"Quokka"').decode()
    assert Cipher(key).open(legacy) == '"Quokka"'
    assert Cipher(key).open("plain, written before a key") == "plain, written before a key"
