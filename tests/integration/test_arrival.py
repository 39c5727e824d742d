"""One read at the start of a step: the same facts as the separate reads, on every back end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.backend import Backend
from store.contract import UnitOfWork
from store.records import Arrival

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


async def test_a_newcomer_is_created_with_nothing_pending(any_store: Backend) -> None:
    def arrive(uow: UnitOfWork) -> tuple[Arrival, str | None]:
        arrival = uow.people.arrive("telegram", "41", "c41", now=NOW, locale="es")
        return arrival, uow.people.chat_of(arrival.person.id)

    arrival, chat = await any_store.run(arrive)
    assert (arrival.person.external_id, arrival.person.locale) == ("41", "es")
    assert (arrival.low_exposure, arrival.erasure_requested_at, arrival.bookclub_pending) == (
        False, None, None)
    assert chat == "c41"
    again = await any_store.read(lambda uow: uow.people.find("telegram", "41"))
    assert again == arrival.person


async def test_a_known_person_arrives_with_what_the_separate_reads_say(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> int:
        ana = uow.people.get_or_create("telegram", "7", now=NOW)
        uow.people.get_or_create("telegram", "8", now=NOW)  # another person's facts stay theirs
        uow.people.set_low_exposure(ana.id, True)
        uow.access.request_erasure(ana.id, now=NOW - timedelta(minutes=3))
        uow.bookclub.set_pending(ana.id, "sleep", 2, now=NOW - timedelta(minutes=5))
        return ana.id

    ana = await any_store.run(setup)

    def arrive(uow: UnitOfWork) -> tuple[Arrival, Arrival, Arrival]:
        return (uow.people.arrive("telegram", "7", "chat-7", now=NOW),
                uow.people.arrive("telegram", "8", None, now=NOW),
                Arrival(uow.people.by_id(ana) or uow.people.arrive("x", "y", None, now=NOW).person,
                        uow.people.low_exposure(ana), uow.access.erasure_requested_at(ana),
                        uow.bookclub.pending(ana)))

    ana_arrives, leo_arrives, separately = await any_store.run(arrive)
    assert ana_arrives == separately
    assert ana_arrives.bookclub_pending == ("sleep", 2, NOW - timedelta(minutes=5))
    assert ana_arrives.erasure_requested_at == NOW - timedelta(minutes=3)
    assert (leo_arrives.low_exposure, leo_arrives.erasure_requested_at,
            leo_arrives.bookclub_pending) == (False, None, None)


async def test_the_chat_is_remembered_only_from_a_private_chat_and_when_it_moved(
    any_store: Backend,
) -> None:
    def steps(uow: UnitOfWork) -> list[str | None]:
        person = uow.people.arrive("telegram", "9", "first", now=NOW).person
        seen = [uow.people.chat_of(person.id)]
        uow.people.arrive("telegram", "9", None, now=NOW)  # a group message: unchanged
        seen.append(uow.people.chat_of(person.id))
        uow.people.arrive("telegram", "9", "second", now=NOW)
        seen.append(uow.people.chat_of(person.id))
        return seen

    assert await any_store.run(steps) == ["first", "first", "second"]
