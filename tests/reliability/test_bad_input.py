"""Bad input: every odd thing a person (or someone forging links) sends gets a clear answer."""

from __future__ import annotations

import pytest

from bot.model import Kind
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.conftest import Person, ids, questions, said

Snapshot = dict[str, list[tuple[object, ...]]]


async def snapshot(store: Store) -> Snapshot:
    """What is saved about interviews and answers (deliveries and audit rows aside)."""

    def read(repo: UnitOfWork) -> Snapshot:
        return {
            table: sorted(repo.conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in ("answers", "current_answers", "interviews")
        }

    return await store.read(read)


async def at_question(person: Person, question: str) -> None:
    """Consent and answer until `question` ("name", "age", "sleep" or "siblings") is asked."""
    await person.command("start")
    await person.type("yes")
    for name, line in (("name", "Sam"), ("age", "2y 6m"), ("respondent", "1"), ("sleep", "3")):
        if name == question:
            return
        await person.type(line)
    assert question == "siblings"


#: (typed, the problem's code): "I didn't get an answer there", "That's a bit long".
ON_THE_NAME_QUESTION = [
    ("", "empty"),
    ("   \t  ", "empty"),
    ("\x00\x07\x1b\x7f", "empty"),
    ("\u200b\u202e", "empty"),
    ("x" * 100_000, "too_long"),
]


@pytest.mark.parametrize(("line", "expected"), ON_THE_NAME_QUESTION, ids=lambda v: repr(v)[:20])
async def test_name_question__bad_text__clear_message__nothing_changes(
    person: Person, store: Store, line: str, expected: str
) -> None:
    await at_question(person, "name")
    before = await snapshot(store)
    await person.type(line)
    assert person.keys == [f"problems.{expected}", "replies.ask"]
    if expected == "too_long":  # says how long it was
        assert "100000" in person.text
    assert person.asked == "child_name"  # the same question again
    assert await snapshot(store) == before


#: (question, typed, the problem's code, its values).
ON_NUMBER_QUESTIONS = [
    ("age", "مرحبا", "not_an_age", {}),
    ("age", "👶🏽👶🏽", "not_an_age", {}),
    ("age", "1,000 months", "age_out_of_range", None),
    ("age", "300", "age_unit_needed", {"number": 300}),
    ("age", "9" * 5_000, "too_long", None),
    ("sleep", "🙂", "scale_out_of_range", {"min": 0, "max": 4}),
    ("sleep", "שלוש", "scale_out_of_range", {"min": 0, "max": 4}),
    ("siblings", "1,000", "number_out_of_range", {"min": 0, "max": 15}),
    ("siblings", "-3 kids", "number_out_of_range", {"min": 0, "max": 15}),
    ("siblings", "three hundred", "not_a_number", {"min": 0, "max": 15}),
    ("siblings", "12 345,6 kg", "number_out_of_range", {"min": 0, "max": 15}),
]


@pytest.mark.parametrize(("question", "line", "expected", "values"), ON_NUMBER_QUESTIONS)
async def test_number_like_questions__bad_text__clear_message__nothing_changes(
    person: Person, store: Store, question: str, line: str, expected: str,
    values: dict[str, object] | None,
) -> None:
    await at_question(person, question)
    before = await snapshot(store)
    await person.type(line)
    problem = person.reply(f"problems.{expected}")
    if values is not None:  # what was expected, with its numbers
        assert problem.text == said(f"problems.{expected}", **values)
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("נועה", "נועה"),
        ("سارة 👧🏽", "سارة 👧🏽"),
        ("Sam\u202eevil\u202c", "Samevil"),  # an override would make the report read backwards
        ("Sa\x00m\x07", "Sam"),
        ("  Zoë  ", "Zoë"),
    ],
)
async def test_name__unicode_kept__invisible_controls_dropped(
    person: Person, store: Store, typed: str, kept: str
) -> None:
    await at_question(person, "name")
    await person.type(typed)
    assert "child_age" in questions(person)
    answers = await store.read(
        lambda repo: [v for v, _ in repo.answers.current(_interview_of(repo)).values()]
    )
    assert answers == [kept]


def _interview_of(repo: UnitOfWork) -> str:
    person = repo.people.find("console", "ana")
    assert person is not None and person.active_interview is not None
    return person.active_interview


FORGED_LINKS = [
    "garbage",
    "../../etc/passwd",
    "' OR 1=1 --",
    "A" * 10_000,
    "🙂" * 50,
    "1:AAAAAAAAAAAA:1:-:a",
]


async def test_start_with_forged_link__refused_clearly__interview_untouched(
    person: Person, store: Store
) -> None:
    await at_question(person, "age")
    before = await snapshot(store)
    for code in FORGED_LINKS:
        await person.command("start", code)
        assert (
            "clinician.invite_unknown" in ids(person)
            or "clinician.too_many_attempts" in ids(person)
        ), person.text
        assert await snapshot(store) == before
    await person.type("2y 6m")  # and the interview carries on
    assert "respondent" in questions(person)


@pytest.mark.parametrize("name", ["frobnicate", "DROP", "start2", "x" * 300, "éé"])
@pytest.mark.parametrize("where", ["nothing yet", "answering", "paused"])
async def test_unknown_command__says_so_and_lists_commands(
    person: Person, store: Store, name: str, where: str
) -> None:
    if where != "nothing yet":
        await at_question(person, "age")
    if where == "paused":
        await person.command("pause")
    before = await snapshot(store)
    await person.command(name)
    assert "replies.unknown_command" in ids(person) and "help" in person.text
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    "payload",
    ["", "garbage", "1:AAAAAAAAAAAA:1:-:a", "2:x:1:-:a", "1:x:99999999:1:o0", "lang:xx" * 20],
)
async def test_forged_button__moved_on_message__nothing_changes(
    person: Person, store: Store, payload: str
) -> None:
    await at_question(person, "age")
    before = await snapshot(store)
    await person.send(Kind.CHOICE, payload)
    assert person.keys[0] in ("replies.stale", "replies.language_unknown")
    assert await snapshot(store) == before
