"""Resume codes and invitation channels on the in-memory store: message ids, not wording."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.access import AccessPolicy
from bot.data.load import current_answers
from bot.features.resume import ALPHABET, LENGTH, normalised, resume_hash, shown
from bot.model import Kind
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork
from store.memory import MemoryStore
from tests.conftest import Clock, Person

BOT = "hearth_test_bot"
#: A code as shown in a reply: two groups of four of the code alphabet.
SHOWN = re.compile(rf"\b([{ALPHABET}]{{4}}-[{ALPHABET}]{{4}})\b")


class Someone(Person):
    """One person on one channel."""

    def __init__(self, service: DialogueService, user: str, channel: str = "console") -> None:
        super().__init__(service, user, channel)

    async def code(self) -> str:
        """`code`: the resume code the reply shows (data, not wording)."""
        await self.command("code")
        assert self.keys == ["resume.code_issued"], self.keys
        found = SHOWN.search(self.text)
        assert found, self.text
        return found.group(1)


@pytest.fixture(scope="module")
def sample() -> FlowCatalog:
    return FlowCatalog.bundled("sample")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def make_service(store: MemoryStore, sample: FlowCatalog, clock: Clock, **policy: object) -> (
    DialogueService
):
    access = AccessPolicy.build(["console:op"], bot_username=BOT, **policy)  # type: ignore[arg-type]
    return DialogueService(store, sample, clock=clock, access=access)


@pytest.fixture
def service(store: MemoryStore, sample: FlowCatalog, clock: Clock) -> DialogueService:
    return make_service(store, sample, clock)


async def started(person: Someone) -> None:
    """Consent given and the first two questions answered."""
    await person.command("start")
    await person.tap_key("agree")
    await person.type("Sam")
    await person.type("2 years 6 months")
    assert person.asked == "respondent"


async def answers_of(service: DialogueService, interview_id: str) -> dict[str, object]:
    def read(uow: UnitOfWork) -> dict[str, object]:
        return {k: a.value for k, a in current_answers(uow, interview_id).items()}

    return await service.store.read(read)


async def active_of(service: DialogueService, channel: str, user: str) -> str | None:
    def read(uow: UnitOfWork) -> str | None:
        person = uow.people.find(channel, user)
        return person.active_interview if person else None

    return await service.store.read(read)


# -- the code's shape ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ABCD-2345", "ABCD2345"),
        ("abcd2345", "ABCD2345"),
        (" ab cd 23 45 ", "ABCD2345"),
        ("abcd_2345", "ABCD2345"),
        ("OIL0-1ABC", "0110" + "1ABC"),  # look-alikes read as the digits they resemble
        ("ABCD-234", None),
        ("ABCD-23456", None),
        ("ABCU-2345", None),  # U is not in the alphabet
        ("", None),
    ],
)
def test_typed_code__any_case_dash_or_spaces__or_refused(typed: str, code: str | None) -> None:
    assert normalised(typed) == code


def test_code_alphabet__32_unambiguous_symbols__40_bits() -> None:
    assert len(set(ALPHABET)) == 32 and not set("ILOU") & set(ALPHABET)
    assert LENGTH == 8  # 8 x 5 bits
    assert shown("ABCD2345") == "ABCD-2345"


# -- issuing ------------------------------------------------------------------------------


async def test_code__for_an_open_interview__shown_once_stored_as_hash(
    service: DialogueService, store: MemoryStore
) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    code = await ana.code()
    stored = list(store.tables.resume_codes)
    assert stored == [resume_hash(normalised(code) or "")]
    everything = repr(store.tables.events) + repr(store.tables.deliveries)
    assert normalised(code) not in everything and code not in everything
    # A second code replaces the first.
    second = await ana.code()
    assert len(store.tables.resume_codes) == 1 and second != code


async def test_code__no_open_interview__refused(service: DialogueService) -> None:
    ana = Someone(service, "ana")
    await ana.command("code")
    assert ana.keys == ["resume.code_no_interview"]


async def test_pause__reply_and_then_a_code(service: DialogueService) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    await ana.command("pause")
    assert ana.keys == ["replies.paused"]
    await ana.code()  # a paused interview is still open: it can be handed on


# -- continuing elsewhere -----------------------------------------------------------------


@pytest.mark.parametrize("channel", ["web", "telegram", "console"])
async def test_continue__elsewhere__answers_kept_same_question_first_person_out(
    service: DialogueService, store: MemoryStore, channel: str
) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    interview_id = await active_of(service, "console", "ana")
    assert interview_id is not None
    before = await answers_of(service, interview_id)
    code = await ana.code()
    await ana.command("pause")
    web = Someone(service, "w-7f3a", channel)
    await web.command("continue", code.lower().replace("-", " "))
    assert web.keys[0] == "resume.continued" and web.asked == "respondent"
    assert await answers_of(service, interview_id) == before
    assert set(before) == {"child_name", "child_age"}
    assert await active_of(service, channel, "w-7f3a") == interview_id
    assert await active_of(service, "console", "ana") is None
    record = store.tables.interviews[interview_id]
    newcomer = store.tables.people[record.respondent_id or 0]
    assert (newcomer.channel, newcomer.external_id) == (channel, "w-7f3a")
    assert record.owner_id == newcomer.id  # a family's own interview moves whole
    # The first person can no longer answer: no interview, and old buttons are stale.
    await ana.type("foster")
    assert ana.keys == ["replies.no_interview"]
    # The newcomer answers on, and the answer lands in the same interview.
    await web.tap_key("foster")
    assert (await answers_of(service, interview_id))["respondent"] == "foster"
    kinds = [(e.kind, e.detail) for e in store.tables.events if e.interview_id == interview_id]
    assert ("continued", f"{ana_id(store)}:{newcomer.id}") in kinds
    assert not any(code in repr(e) or (normalised(code) or "") in repr(e)
                   for e in store.tables.events)


def ana_id(store: MemoryStore) -> int:
    return next(p.id for p in store.tables.people.values() if p.external_id == "ana")


async def test_continue__first_persons_old_button__changes_nothing(
    service: DialogueService, store: MemoryStore
) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    interview_id = await active_of(service, "console", "ana")
    assert interview_id is not None
    on_screen = ana.last  # the question "respondent" with its buttons
    code = await ana.code()
    ana.last = on_screen
    await Someone(service, "leo", "web").command("continue", code)
    await ana.tap_key("foster")
    assert "respondent" not in await answers_of(service, interview_id)


async def test_continue__spanish_word_with_a_code__and_plain_resume_still_resumes(
    service: DialogueService,
) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    code = await ana.code()
    leo = Someone(service, "leo")
    await leo.command("resume", code)  # "continuar ABCD-2345" on the console
    assert leo.keys[0] == "resume.continued"
    await leo.command("pause")
    await leo.command("resume")
    assert leo.asked == "respondent"


async def test_continue__wrong_used_expired_and_ended__each_says_so(
    service: DialogueService, clock: Clock
) -> None:
    ana, leo, mia = Someone(service, "ana"), Someone(service, "leo"), Someone(service, "mia")
    await started(ana)
    await leo.command("continue", "ZZZZ-ZZZZ")
    assert leo.keys == ["resume.continue_unknown"]
    await leo.command("continue", "not a code")
    assert leo.keys == ["resume.continue_unknown"]
    await leo.command("continue")
    assert leo.keys == ["resume.continue_usage"]
    code = await ana.code()
    await leo.command("continue", code)
    assert leo.keys[0] == "resume.continued"
    await mia.command("continue", code)
    assert mia.keys == ["resume.continue_used"]
    later = await leo.code()
    clock.advance(days=7)
    await mia.command("continue", later)
    assert mia.keys == ["resume.continue_expired"]
    assert await active_of(service, "console", "mia") is None
    # An interview that ended takes its codes with it.
    fresh = await leo.code()
    await leo.command("pause")
    await leo.command("start")
    await leo.tap_key("start_over")
    await leo.tap_key("start_over_yes")
    await mia.command("continue", fresh)
    assert mia.keys == ["resume.continue_expired"]


async def test_continue__a_day_before_expiry__works(
    service: DialogueService, clock: Clock
) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    code = await ana.code()
    clock.advance(days=6, hours=23)
    leo = Someone(service, "leo", "web")
    await leo.command("continue", code)
    assert leo.keys[0] == "resume.continued"


async def test_continue__guessing__stops_at_the_limit_even_with_the_right_code(
    service: DialogueService, store: MemoryStore, clock: Clock
) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    code = await ana.code()
    guesser = Someone(service, "g", "web")
    for n in range(5):
        await guesser.command("continue", f"ZZZZ-ZZZ{n}")
        assert guesser.keys == ["resume.continue_unknown"]
    await guesser.command("continue", code)
    assert guesser.keys == ["resume.continue_too_many"]
    assert await active_of(service, "web", "g") is None
    clock.advance(hours=1, seconds=1)
    await guesser.command("continue", code)
    assert guesser.keys[0] == "resume.continued"


async def test_continue__clinician__refused_nothing_moves(
    service: DialogueService,
) -> None:
    op = Someone(service, "op")
    await op.command("clinician", "add doc")
    ana = Someone(service, "ana")
    await started(ana)
    code = await ana.code()
    doc = Someone(service, "doc")
    await doc.command("continue", code)
    assert doc.keys == ["resume.continue_clinician"]
    await Someone(service, "leo").command("continue", code)  # the code is still good
    assert (await active_of(service, "console", "leo")) is not None


# -- invitations: channels, and a link opened again by someone else ----------------------


async def new_interview(doc: Someone, args: str) -> dict[str, str]:
    await doc.command("new", args)
    assert doc.keys == ["clinician.invite_created"], doc.keys
    links = {}
    web = re.search(r"(\S+)/start/([A-Za-z0-9_-]+)", doc.text)
    telegram = re.search(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)", doc.text)
    if web:
        links["web"] = web.group(0)
    if telegram:
        links["telegram"] = telegram.group(0)
    return links


@pytest.mark.parametrize(
    ("web_url", "args", "expected"),
    [
        (None, "Sam", {"telegram"}),
        ("https://h.example.org", "Sam", {"web", "telegram"}),
        ("https://h.example.org", "Sam web", {"web"}),
        ("https://h.example.org", "Sam telegram", {"telegram"}),
        (None, "Sam ambos", {"web", "telegram"}),
        (None, "Sam navegador", {"web"}),
    ],
)
async def test_new__channel_word__those_links(
    store: MemoryStore, sample: FlowCatalog, clock: Clock,
    web_url: str | None, args: str, expected: set[str],
) -> None:
    service = make_service(store, sample, clock, web_url=web_url)
    op = Someone(service, "op")
    await op.command("clinician", "add doc")
    links = await new_interview(Someone(service, "doc"), args)
    assert set(links) == expected
    (interview,) = store.tables.interviews.values()
    assert interview.subject_nickname == "Sam"
    if "web" in links:
        base = web_url or "http://127.0.0.1:8080"
        assert re.fullmatch(rf"{re.escape(base)}/start/[A-Za-z0-9_-]{{22}}", links["web"])
    if len(links) == 2:  # one code behind both links
        assert links["web"].rsplit("/", 1)[1] == links["telegram"].rsplit("=", 1)[1]


async def test_invite_link__reopened_by_someone_else__asks_for_a_code__then_code_works(
    service: DialogueService, store: MemoryStore
) -> None:
    await Someone(service, "op").command("clinician", "add doc")
    doc = Someone(service, "doc")
    links = await new_interview(doc, "Sam")
    code = links["telegram"].rsplit("=", 1)[1]
    fam = Someone(service, "fam", "telegram")
    await fam.command("start", code)
    assert "replies.consent" in fam.keys
    await fam.tap_key("agree")
    await fam.type("Sam")
    browser = Someone(service, "b-1", "web")
    await browser.command("start", code)
    assert browser.keys == ["resume.invite_resume"]
    assert "Sam" not in browser.text and browser.asked is None
    assert await active_of(service, "web", "b-1") is None
    # The family tapping their own link again carries on.
    await fam.command("start", code)
    assert fam.asked == "child_age"
    # With a code from the family, the browser carries on; then the family's own link
    # asks them for a code in turn.
    resume = await fam.code()
    await browser.command("continue", resume)
    assert browser.asked == "child_age"
    await fam.command("start", code)
    assert fam.keys == ["resume.invite_resume"]
    (interview,) = store.tables.interviews.values()
    doc_id = next(p.id for p in store.tables.people.values() if p.external_id == "doc")
    assert interview.owner_id == doc_id  # a clinician's interview stays theirs


async def test_erasure__codes_go(service: DialogueService, store: MemoryStore) -> None:
    ana = Someone(service, "ana")
    await started(ana)
    await ana.code()
    assert store.tables.resume_codes
    await ana.command("forget")
    await ana.tap_key("button_erase")
    assert ana.keys == ["clinician.erased"]
    assert store.tables.resume_codes == {}


async def test_expired_codes__pruned_when_a_new_one_is_issued(
    service: DialogueService, store: MemoryStore, clock: Clock
) -> None:
    ana, leo = Someone(service, "ana"), Someone(service, "leo")
    await started(ana)
    await started(leo)
    await ana.code()
    clock.advance(days=8)
    await leo.code()
    assert [c.interview_id for c in store.tables.resume_codes.values()] == [
        await active_of(service, "console", "leo")
    ]
    assert timedelta(days=7) == AccessPolicy().resume_ttl


# -- the console's words --------------------------------------------------------------------


async def test_console__typed_words__code_then_continue_in_another_terminal(
    service: DialogueService,
) -> None:
    from bot.console import ConsoleChat

    screens: dict[str, list[str]] = {"ana": [], "leo": []}
    terminals = {
        user: ConsoleChat(service, user, write=screens[user].append) for user in screens
    }
    ana, leo = terminals["ana"], terminals["leo"]
    for line in ("/start", "a", "Sam", "2 years 6 months"):
        await ana.send(ana.classify(line))
    await ana.send(ana.classify("code"))
    found = SHOWN.search("\n".join(screens["ana"][-2:]))
    assert found
    for typed in (f"continue {found.group(1)}", f"continuar {found.group(1).lower()}"):
        inbound = leo.classify(typed)
        assert (inbound.kind, inbound.args.upper()) == (Kind.COMMAND, found.group(1))
    assert leo.classify("código").payload == "code"
    await leo.send(leo.classify(f"continuar {found.group(1)}"))
    assert await active_of(service, "console", "leo") is not None
    assert await active_of(service, "console", "ana") is None
