"""The safety net: danger now gets help at once, a paused interview, a flagged clinician."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.model import Kind
from bot.safety import SafetyNet
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork
from store.records import Event
from store.sqlite import Store
from tests.conftest import Clock, Person, ids, inbound, questions, said
from tests.e2e.test_console import PROMPT, Terminal

EXPLICIT = [
    "I'm going to kill myself",
    "im going to kill myself tonight",
    "I want to die",
    "he is hitting her right now",
    "He's hitting her RIGHT NOW!!",
    "my partner keeps beating me",
    "we are not safe at home",
    "I don't feel safe",
    "he threatened to kill us",
    "she took too many pills",
    "he has a knife to my throat",
    "I have been thinking about suicide",
    "she wants to take her own life",
    "I just want to end it all",
    "feeling suicidal again",
    "he says we'd be better off dead",
    "there is no reason to live",
    "I might overdose",
    "he beats me every day",
    "she was sexually abused last night",
    "he keeps touching her inappropriately",
    "he is holding a knife",
    "it's unsafe at home",
    "the kids are not safe",
    "I'm scared he will kill me",
    "terrified for my life",
    "Me está pegando ahora",
    "quiero morir",
    "no estamos a salvo en casa",
    "voy a matarme",
    "pienso en el suicidio",
    "no quiero vivir",
    "me va a matar",
    "hay abuso sexual en casa",
    "no me siento segura",
    "estamos en peligro ahora",
    "¡Socorro!",
]

ORDINARY = [
    "Sam",
    "2 years 6 months",
    "She loves puzzles and killing time at the park",
    "he used to cry a lot at night",
    "not sure",
    "Nothing right now",
    "mi hija duerme bien",
    "ayúdame con esta pregunta",
    "he keeps his toys in the box",
    "",
]


@pytest.mark.parametrize("text", EXPLICIT)
def test_explicit_phrases__caught(text: str) -> None:
    assert SafetyNet().in_danger(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_answers__not_caught(text: str) -> None:
    assert not SafetyNet().in_danger(text)


def emergency_line(locale: str = "en") -> str:
    """The support message's opening line: the same with or without the deployment's
    contacts, saved or not (the templates' wording)."""
    return said("safety.support", locale, contacts=[], saved=False, paused=False).splitlines()[0]


async def events_of(store: Store, user: str) -> list[Event]:
    def query(repo: UnitOfWork) -> list[Event]:
        person = repo.people.find("console", user)
        assert person is not None
        rows = repo.conn.execute(
            "SELECT interview_id, person_id, kind, detail, at FROM events WHERE person_id = ? "
            "ORDER BY id",
            (person.id,),
        ).fetchall()
        return [Event(i, p, k, d, datetime.fromisoformat(a)) for i, p, k, d, a in rows]

    return await store.read(query)


async def state_and_answers(store: Store, user: str) -> tuple[str, dict[str, object]]:
    def query(repo: UnitOfWork) -> tuple[str, dict[str, object]]:
        person = repo.people.find("console", user)
        assert person is not None and person.active_interview is not None
        interview = repo.interviews.get(person.active_interview)
        assert interview is not None
        answers = {k: v for k, (v, _) in repo.answers.current(interview.id).items()}
        return interview.state, answers

    return await store.read(query)


async def test_danger_in_free_text__help_at_once__saved__paused__resumable(
    person: Person, store: Store
) -> None:
    await person.command("start")
    await person.type("yes")
    replies = await person.type("I'm going to kill myself")

    assert len(replies) == 1 and replies[0].key == "safety.support"
    text = replies[0].text
    assert text == said("safety.support", contacts=[], saved=True, paused=True)
    # No phone number is made up for a country we don't know.
    assert not re.search(r"\d{3}", text)
    state, answers = await state_and_answers(store, "ana")
    assert state == "paused"
    assert answers == {"child_name": "I'm going to kill myself"}  # the answer is still kept
    kinds = [e.kind for e in await events_of(store, "ana")]
    assert "safety_flag" in kinds
    # The clinician's report shows what was caught: concern and words, kept with the event
    # (sealed like an answer when a key is set).
    flags = [e for e in await events_of(store, "ana") if e.kind == "safety_flag"]
    assert len(flags) == 1 and flags[0].detail is not None
    kept = json.loads(flags[0].detail)
    assert kept["concern"] == "self_harm" and kept["message"] == "I'm going to kill myself"

    await person.command("start")
    assert "replies.resume_offer" in ids(person)
    await person.tap_key("continue")
    assert "child_age" in questions(person)


async def test_past_harm__disclosure_marked__interview_goes_on(
    person: Person, store: Store
) -> None:
    await person.command("start")
    await person.type("yes")
    await person.type("his dad hit him when he was 2")  # the first question: a name, saved
    assert "safety.support" not in [m.key for m in person.last]
    assert person.last[-1].key == "replies.ask"  # the next question, as usual
    assert person.last[-1].question == "child_age"
    state, _ = await state_and_answers(store, "ana")
    assert state == "answering"
    events = await events_of(store, "ana")
    assert "safety_flag" not in [e.kind for e in events]
    disclosures = [e for e in events if e.kind == "safety_disclosure"]
    assert len(disclosures) == 1 and disclosures[0].detail is not None
    assert json.loads(disclosures[0].detail)["message"] == "his dad hit him when he was 2"


async def test_danger_where_a_number_is_expected__help__nothing_saved(
    person: Person, store: Store
) -> None:
    await person.command("start")
    await person.type("yes")
    await person.type("Sam")
    replies = await person.type("he is hitting her right now")

    assert replies[0].key == "safety.support"
    assert replies[0].text == said("safety.support", contacts=[], saved=False, paused=True)
    assert "problems.not_an_age" not in person.keys  # the help is not buried under a problem
    state, answers = await state_and_answers(store, "ana")
    assert state == "paused" and answers == {"child_name": "Sam"}


async def test_danger_before_any_interview__help_still_shown(person: Person) -> None:
    replies = await person.type("we are not safe at home")
    assert replies[0].key == "safety.support"
    assert replies[0].text.startswith(emergency_line())


async def test_deployment_contacts__shown_after_emergency_line(
    store: Store, catalog: FlowCatalog, clock: Clock
) -> None:
    service = DialogueService(
        store, catalog, clock=clock, safety=SafetyNet(("Samaritans (UK and Ireland): 116 123",))
    )
    ana = Person(service)
    await ana.command("start")
    reply = (await ana.type("I want to die"))[0]
    contacts = ["Samaritans (UK and Ireland): 116 123"]
    # The template puts the deployment's contacts after the emergency number it always gives.
    assert reply.key == "safety.support"
    assert reply.text in {said("safety.support", contacts=contacts, saved=saved, paused=paused)
                          for saved in (True, False) for paused in (True, False)}


async def test_redelivered_danger_message__one_flag__same_reply(
    service: DialogueService, store: Store
) -> None:
    event = inbound(Kind.TEXT, "he is hitting me right now", delivery="danger-1")
    await service.handle(inbound(Kind.COMMAND, "start"))
    first = await service.handle(event)
    second = await service.handle(event)
    assert first == second
    assert [e.kind for e in await events_of(store, "ana")].count("safety_flag") == 1


async def test_clinicians_interview__clinician_notified_without_the_words(
    service: DialogueService, store: Store, clock: Clock
) -> None:
    def setup(repo: UnitOfWork) -> str:
        doctor = repo.people.get_or_create("console", "dr-lee", now=clock())
        repo.people.set_role(doctor.id, "clinician")  # only a clinician is told
        family = repo.people.get_or_create("console", "ana", now=clock())
        interview = repo.interviews.create(
            flow_id="sample",
            flow_version=1,
            owner_id=doctor.id,
            respondent_id=family.id,
            nickname="Robin",
            state="consent",
            now=clock(),
        )
        family.active_interview = interview.id
        repo.people.save(family)
        return interview.id

    interview_id = await store.run(setup)
    ana = Person(service)
    await ana.type("yes")
    replies = await ana.type("my partner is hurting me")

    notes = [m for m in replies if m.chat_id == "dr-lee"]
    assert len(notes) == 1
    assert "safety.clinician_flag" in ids(notes[0]) and interview_id in notes[0].text
    assert "partner" not in notes[0].text and "hurting" not in notes[0].text
    assert replies[0].key == "safety.support" and replies[0].chat_id is None
    flags = [e for e in await events_of(store, "ana") if e.kind == "safety_flag"]
    assert [e.interview_id for e in flags] == [interview_id]


def test_console__contacts_from_the_deployments_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_SAFETY_CONTACTS", "Example Helpline: 0000 000; Text HOME to 000")
    terminal = Terminal(tmp_path / "chat.db", "ana")
    try:
        terminal.wait_for(PROMPT)
        terminal.answer("yes")
        screen = terminal.answer("he is hitting her right now")
        assert "\n[safety.support]\n" in screen  # `hearth chat --show-keys`
        contacts = ["Example Helpline: 0000 000", "Text HOME to 000"]
        assert said("safety.support", contacts=contacts, saved=True, paused=True) in screen
        assert "Traceback" not in terminal.screen
    finally:
        terminal.close()


async def test_spanish_speaker__help_in_spanish(person: Person) -> None:
    await person.command("language", "es")
    await person.command("start")
    reply = (await person.type("me está pegando ahora mismo"))[0]
    assert reply.key == "safety.support" and reply.text.startswith(emergency_line("es"))
    assert emergency_line("es") != emergency_line("en")


def test_every_locale__same_safety_messages() -> None:
    from messages.render import LOCALES, environment

    def names(locale: str) -> set[str]:
        module = environment().get_template(f"{locale}/safety.j2").module
        return {n for n in dir(module) if not n.startswith("_")}

    assert all(names(locale) == names("en") for locale in LOCALES)


class CountingNet:
    """The real danger net, counting the messages it is asked about."""

    def __init__(self) -> None:
        self.real = SafetyNet().net
        self.asked: list[str] = []

    def classify(self, text: str, locale: str | None = None):  # type: ignore[no-untyped-def]
        self.asked.append(text)
        return self.real.classify(text, locale)


@pytest.mark.parametrize("agree", ["yes", "I agree", "  OK ", "Sí", "acepto"])
async def test_a_bare_answer_word__not_read_by_the_net__anything_more_is(
    agree: str, store: Store, catalog: FlowCatalog, clock: Clock
) -> None:
    # "yes" to the consent says nothing the net could find: not checking it keeps the net's
    # first load off the way to the first question (`hearth chat`). One word more and it is.
    spy = CountingNet()
    service = DialogueService(store, catalog, clock=clock, safety=SafetyNet(_loaded=spy))  # type: ignore[arg-type]
    person = Person(service, "ana")
    await person.command("start")
    await person.type(agree)
    assert person.last[-1].key == "replies.ask"  # agreed: the first question
    assert spy.asked == []
    await person.type("3")  # a number: nothing to find either
    await person.type("yes but he hits me every night")
    assert spy.asked == ["yes but he hits me every night"]
    assert "safety.support" in [m.key for m in person.last]


async def test_codes_and_ids_in_commands__not_read_by_the_net__words_are(
    store: Store, catalog: FlowCatalog, clock: Clock
) -> None:
    # Resume and invitation codes are random: the model once called one danger. Whatever
    # letters a code draws, it is not a message; words after the same command are.
    import secrets

    from bot.access import new_code
    from bot.features.resume import new_resume_code, shown
    from store.repos.interviews import new_interview_id

    spy = CountingNet()
    service = DialogueService(store, catalog, clock=clock, safety=SafetyNet(_loaded=spy))  # type: ignore[arg-type]
    leo = Person(service, "leo")
    codes = [new_resume_code() for _ in range(40)] + ["KXLLMYSE", "D1EN0W00"]
    for code in codes:
        await leo.command("continue", secrets.choice([code, shown(code), code.lower()]))
    for _ in range(10):
        await leo.command("start", new_code())
    for _ in range(40):  # an interview id after a clinician's command
        await leo.command("report", new_interview_id())
    assert spy.asked == []
    await leo.command("continue", "i want to die tonight")
    assert spy.asked == ["i want to die tonight"]
    await leo.command("note", f"{new_interview_id()} he hit me again")
    assert spy.asked[-1] == "he hit me again"  # the id left out, the words read
    assert "safety.support" in [m.key for m in leo.last]
