"""Resume codes and invitation links on Telegram: the real Application, the offline Bot API,
and a second person on another channel (the web's Inbound) carrying the interview on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.access import AccessPolicy
from bot.model import Inbound, Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock
from tests.e2e.telegram_harness import BOT_USERNAME, FakeBotApi, Phone
from tests.e2e.test_telegram import Running, answers_of, launch
from tests.unit.test_resume_codes import SHOWN

OPERATOR, DOC, FAM = 1901, 1902, 1903
WEB_URL = "https://hearth.example.org"


@pytest.fixture
async def bot(db_path: Path, catalog: FlowCatalog, clock: Clock) -> AsyncIterator[Running]:
    access = AccessPolicy.build([str(OPERATOR)], bot_username=BOT_USERNAME, web_url=WEB_URL)
    service = DialogueService(await Store.open(db_path), catalog, clock=clock, access=access)
    running = await launch(service, FakeBotApi())
    yield running
    await running.stop()


async def clinician(bot: Running) -> Phone:
    operator = Phone(bot.api, bot.app.bot, OPERATOR, first_name="Op")
    await bot.send(operator.command("clinician", f"add {DOC}"))
    assert operator.last.key == "clinician.clinician_added"
    return Phone(bot.api, bot.app.bot, DOC, first_name="Doc")


def links_in(text: str) -> dict[str, str]:
    found = {}
    if web := re.search(rf"{re.escape(WEB_URL)}/start/([A-Za-z0-9_-]+)", text):
        found["web"] = web.group(1)
    if telegram := re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", text):
        found["telegram"] = telegram.group(1)
    return found


class Browser:
    """A web person, as the web adapter will send them: channel "web", an opaque id."""

    def __init__(self, service: DialogueService, user: str) -> None:
        self.service, self.user, self.n = service, user, 0
        self.last: list[Outbound] = []

    async def command(self, name: str, args: str = "") -> list[Outbound]:
        self.n += 1
        self.last = await self.service.handle(
            Inbound("web", self.user, self.user, Kind.COMMAND, name, f"{self.user}-{self.n}", args)
        )
        return self.last

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.last]


async def test_new_web__a_web_link_only(bot: Running) -> None:
    doc = await clinician(bot)
    await bot.send(doc.command("new", "Sam web"))
    assert doc.last.key == "clinician.invite_created"
    assert set(links_in(doc.last.text)) == {"web"}
    await bot.send(doc.command("new", "Mia"))  # HEARTH_WEB_URL set: both by default
    found = links_in(doc.last.text)
    assert set(found) == {"web", "telegram"} and found["web"] == found["telegram"]


async def test_code_on_telegram__continued_in_the_browser__the_phone_is_out(
    bot: Running,
) -> None:
    doc = await clinician(bot)
    await bot.send(doc.command("new", "Sam"))
    invite = links_in(doc.last.text)["telegram"]
    fam = Phone(bot.api, bot.app.bot, FAM, first_name="Fam")
    await bot.send(fam.command("start", invite))
    await bot.send(fam.tap_key("agree"))
    await bot.send(fam.text("Sam"), fam.text("2 years 6 months"))
    assert fam.last.question == "respondent"
    await bot.send(fam.command("pause"))
    assert fam.last.key == "replies.paused"
    await bot.send(fam.command("code"))
    assert fam.last.key == "resume.code_issued"
    found = SHOWN.search(fam.last.text)
    assert found
    code = found.group(1)
    answers = await answers_of(bot.service, FAM)
    assert set(answers) == {"child_name", "child_age"}

    # The invitation link opened again in a browser: a resume code is asked for, no more.
    browser = Browser(bot.service, "c0ffee")
    await browser.command("start", invite)
    assert browser.keys == ["resume.invite_resume"]
    await browser.command("continue", code)
    assert browser.keys[0] == "resume.continued"
    asks = [m.question for m in browser.last if m.key == "replies.ask"]
    assert asks == ["respondent"]

    # The phone can no longer answer; its link now asks for a code too.
    await bot.send(fam.text("foster"))
    assert fam.last.key == "replies.no_interview"
    await bot.send(fam.command("start", invite))
    assert fam.last.key == "resume.invite_resume"
    # The same code does not work twice.
    await bot.send(fam.command("continue", code))
    assert fam.last.key == "resume.continue_used"


async def test_continue_on_telegram__wrong_code__and_clinician_refused(bot: Running) -> None:
    doc = await clinician(bot)
    fam = Phone(bot.api, bot.app.bot, FAM, first_name="Fam")
    await bot.send(fam.command("continue", "ABCD-2345"))
    assert fam.last.key == "resume.continue_unknown"
    await bot.send(fam.command("continue"))
    assert fam.last.key == "resume.continue_usage"
    await bot.send(doc.command("continue", "ABCD-2345"))
    assert doc.last.key == "resume.continue_clinician"
