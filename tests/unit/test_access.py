"""The access policy and its settings: operator ids, invitation codes, who may see what."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.access import AccessPolicy, code_hash, may_access, may_export_full_report, new_code
from bot.settings import SettingsError, load_settings
from store.records import InterviewRecord, Person

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def interview(owner: int, respondent: int | None) -> InterviewRecord:
    return InterviewRecord(
        id="abc",
        flow_id="sample",
        flow_version=1,
        owner_id=owner,
        respondent_id=respondent,
        subject_nickname="Sam",
        state="answering",
        consented=True,
        cursor=None,
        revision=0,
        draft=None,
        created_at=NOW,
        updated_at=NOW,
        submitted_at=None,
    )


def person(person_id: int, role: str = "caregiver") -> Person:
    return Person(person_id, "telegram", str(person_id), role, "en", None)


def test_admin_ids__bare_means_telegram__blanks_ignored() -> None:
    policy = AccessPolicy.build(["111", " console:op ", ""], bot_username="@hearth_bot")
    assert policy.admins == {"telegram:111", "console:op"}
    assert policy.is_admin("telegram", "111") and policy.is_admin("console", "op")
    assert not policy.is_admin("console", "111")  # a console name is never a Telegram id
    assert policy.invite_link("CODE") == "https://t.me/hearth_bot?start=CODE"


def test_invite_link__no_username__none() -> None:
    assert AccessPolicy().invite_link("CODE") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"invite_ttl": timedelta(0)}, "invite_ttl must be positive"),
        ({"resume_ttl": timedelta(0)}, "resume_ttl must be positive"),
        ({"wrong_codes_allowed": 0}, "wrong_codes_allowed must be at least 1"),
        ({"bot_username": "no spaces"}, "bot_username must be a Telegram username"),
        ({"admins": frozenset({"telegram:"})}, "admin ids must look like 'channel:id'"),
    ],
)
def test_policy__bad_value__precise_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AccessPolicy(**kwargs)  # type: ignore[arg-type]


def test_settings__admin_ids_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_ADMIN_IDS", "111, telegram:222,console:op")
    monkeypatch.setenv("HEARTH_BOT_USERNAME", "@hearth_bot")
    monkeypatch.setenv("HEARTH_INVITE_DAYS", "3")
    policy = AccessPolicy.from_settings(load_settings())
    assert policy.admins == {"telegram:111", "telegram:222", "console:op"}
    assert policy.bot_username == "hearth_bot"
    assert policy.invite_ttl == timedelta(days=3)


@pytest.mark.parametrize(
    ("name", "value"),
    [("HEARTH_ADMIN_IDS", "12 34"), ("HEARTH_BOT_USERNAME", "x y"), ("HEARTH_INVITE_DAYS", "0")],
)
def test_settings__bad_access_value__names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_codes__random_urlsafe__hash_is_sha256() -> None:
    codes = {new_code() for _ in range(100)}
    assert len(codes) == 100
    assert all(len(c) == 22 and c.replace("-", "").replace("_", "").isalnum() for c in codes)
    code = next(iter(codes))
    assert code_hash(code) == hashlib.sha256(code.encode()).hexdigest() != code


def test_codes__never_a_book_club_start_link(monkeypatch: pytest.MonkeyPatch) -> None:
    # A random code starting "r_" (1 in 4,096) opened "unknown book-club link" instead of
    # the interview: such draws are thrown away, whatever the random source gives.
    from bot import access
    from bot.bookclub import LINK_PREFIX

    assert LINK_PREFIX in access.NOT_AN_INVITATION
    draws = iter([LINK_PREFIX + "x" * 20, LINK_PREFIX + "y" * 20, "ok" + "z" * 20])
    monkeypatch.setattr(access.secrets, "token_urlsafe", lambda n: next(draws))
    assert new_code() == "ok" + "z" * 20


def test_may_access__owner_or_respondent_only() -> None:
    clinician, family, stranger = person(1, "clinician"), person(2), person(3)
    record = interview(owner=1, respondent=2)
    assert may_access(clinician, record) and may_access(family, record)
    assert not may_access(stranger, record)
    assert may_export_full_report(clinician, record)
    assert not may_export_full_report(family, record)
    assert not may_export_full_report(person(1), record)  # owner, but no longer a clinician


def test_policy__web_url__only_when_the_operator_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import load_settings

    monkeypatch.delenv("HEARTH_WEB_URL", raising=False)
    unset = AccessPolicy.from_settings(load_settings())
    assert unset.web_url is None and unset.default_channel() == "telegram"
    assert unset.invite_links("c0de").web is None
    assert unset.invite_links("c0de", "web").web == "http://127.0.0.1:8080/start/c0de"
    monkeypatch.setenv("HEARTH_WEB_URL", "https://hearth.example.org/")
    configured = AccessPolicy.from_settings(load_settings())
    assert configured.default_channel() == "both"
    assert configured.invite_links("c0de").web == "https://hearth.example.org/start/c0de"
