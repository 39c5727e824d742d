"""The workspace's store: sign-in links, sessions and the caseload read behave the same on
the fake, a SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from store.backend import Backend
from store.contract import UnitOfWork
from store.records import CaseloadRow

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_link__single_use__counted__pruned(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> int:
        dr = uow.people.get_or_create("console", "dr", now=NOW)
        uow.clinic.add_link("h1", dr.id, now=NOW - timedelta(hours=2),
                            expires_at=NOW - timedelta(hours=2) + timedelta(minutes=15))
        uow.clinic.add_link("h2", dr.id, now=NOW, expires_at=NOW + timedelta(minutes=15))
        return dr.id

    dr = await any_store.run(setup)
    assert await any_store.run(lambda uow: uow.clinic.use_link("h2", now=NOW)) is True
    assert await any_store.run(lambda uow: uow.clinic.use_link("h2", now=NOW)) is False
    hour_ago = NOW - timedelta(hours=1)
    assert await any_store.read(lambda uow: uow.clinic.links_since(dr, hour_ago)) == 1
    assert await any_store.run(lambda uow: uow.clinic.prune_links(NOW)) == 1
    left = await any_store.read(lambda uow: [uow.clinic.link(h) for h in ("h1", "h2")])
    assert left[0] is None and left[1] is not None and left[1].used_at == NOW


async def test_erase_person__takes_their_sessions_and_links_only(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> int:
        dr = uow.people.get_or_create("console", "dr", now=NOW)
        other = uow.people.get_or_create("console", "other", now=NOW)
        uow.clinic.add_session("s-dr", dr.id, now=NOW)
        uow.clinic.add_session("s-other", other.id, now=NOW)
        uow.clinic.add_link("l-dr", dr.id, now=NOW, expires_at=NOW + timedelta(minutes=15))
        return dr.id

    dr = await any_store.run(setup)
    await any_store.run(lambda uow: uow.erase_person(dr, now=NOW))
    left = await any_store.read(lambda uow: (
        uow.clinic.session_of("s-dr"), uow.clinic.session_of("s-other"), uow.clinic.link("l-dr")))
    assert left[0] is None and left[1] is not None and left[2] is None


async def test_caseload__one_read__same_rows_everywhere(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> tuple[str, str, str]:
        dr = uow.people.get_or_create("console", "dr", now=NOW)
        other = uow.people.get_or_create("console", "other", now=NOW)

        def interview(owner: int, nickname: str, state: str) -> str:
            return uow.interviews.create(flow_id="sample", flow_version=1, owner_id=owner,
                                         respondent_id=None, nickname=nickname, state=state,
                                         now=NOW).id

        sam = interview(dr.id, "Sam", "submitted")
        uow.answers.append(sam, "a", "x", revision=1, by=dr.id, now=NOW)
        uow.answers.append(sam, "a", "y", revision=2, by=dr.id, now=NOW)  # one item, 2 revs
        uow.answers.append(sam, "b", None, revision=1, by=dr.id, now=NOW)  # a skip: not counted
        uow.answers.append(sam, "c", "z", revision=1, by=dr.id, now=NOW)
        uow.audit.add("safety_flag", interview_id=sam, person_id=None, now=NOW, detail="{}")
        uow.audit.add("safety_disclosure", interview_id=sam, person_id=None, now=NOW)
        uow.audit.add("answered", interview_id=sam, person_id=dr.id, now=NOW, detail="a")
        follow = interview(dr.id, "Sam", "answering")
        uow.interviews.set_follow_up_of(follow, sam)
        teacher = interview(dr.id, "T", "consent")
        uow.interviews.set_informant_of(teacher, sam, "teacher")
        interview(other.id, "Zed", "answering")
        return sam, follow, teacher

    sam, follow, teacher = await any_store.run(setup)
    dr = await any_store.read(lambda uow: uow.people.find("console", "dr"))
    assert dr is not None
    rows = {r.interview_id: r for r in await any_store.read(lambda uow: uow.clinic.caseload(dr.id))}
    assert set(rows) == {sam, follow, teacher}
    assert (rows[sam].nickname, rows[sam].answered, rows[sam].flags,
            rows[sam].follow_ups_open) == ("Sam", 2, 2, 1)
    assert (rows[follow].answered, rows[follow].flags, rows[follow].follow_ups_open) == (0, 0, 0)
    assert rows[teacher].informant_of == sam and rows[sam].informant_of is None

    # The light read (for sorting thousands) leaves out nicknames and answer counts; the
    # page's rows come back whole, in the order asked.
    light = {r.interview_id: r for r in await any_store.read(
        lambda uow: uow.clinic.caseload(dr.id, nicknames=False, answered=False))}
    assert (light[sam].nickname, light[sam].answered, light[sam].flags) == (None, 0, 2)
    whole = await any_store.read(lambda uow: uow.clinic.caseload_rows([teacher, "nope", sam]))
    assert [r.interview_id for r in whole] == [teacher, sam] and whole[1] == rows[sam]


def page_of(uow: UnitOfWork, *, dr: int, state: str | None, flagged: bool, sort: str,
            descending: bool, offset: int) -> tuple[int, list[CaseloadRow]]:
    return uow.clinic.caseload_page(dr, state=state, flagged=flagged, follow_up=False,
                                    sort=sort, descending=descending, offset=offset, limit=7)


@pytest.mark.parametrize("sort", ["activity", "created", "state", "flags", "progress"])
async def test_caseload_page__sql_order_is_the_python_order(any_store: Backend,
                                                            sort: str) -> None:
    """Paging in SQL lists what sorting every row in Python would (ties by id included),
    and the light read lists the same order."""
    states = ["consent", "answering", "paused", "review", "submitted", "withdrawn"]

    def setup(uow: UnitOfWork) -> int:
        dr = uow.people.get_or_create("console", "dr", now=NOW)
        for n in range(23):
            # Few distinct times and counts: ties are many, and must still page cleanly.
            iid = uow.interviews.create(flow_id="sample", flow_version=1, owner_id=dr.id,
                                        respondent_id=None, nickname=f"k{n}",
                                        state=states[n % 6], now=NOW + timedelta(hours=n % 3)).id
            for item in range(n % 4):
                uow.answers.append(iid, f"i{item}", "x", revision=1, by=dr.id, now=NOW)
            if n % 5 == 0:
                uow.audit.add("safety_flag", interview_id=iid, person_id=None, now=NOW)
        return dr.id

    def python_order(r: CaseloadRow) -> tuple[object, ...]:
        return {
            "activity": (r.updated_at, r.interview_id),
            "created": (r.created_at, r.interview_id),
            "state": (states.index(r.state), r.updated_at, r.interview_id),
            "flags": (r.flags, r.updated_at, r.interview_id),
            "progress": (r.answered, r.interview_id),
        }[sort]

    dr = await any_store.run(setup)
    every = await any_store.read(lambda uow: uow.clinic.caseload(dr))
    for descending in (False, True):
        for state, flagged in ((None, False), ("paused", False), (None, True)):
            kept = [r for r in every if (not state or r.state == state)
                    and (not flagged or r.flags)]
            expected = [r.interview_id
                        for r in sorted(kept, key=python_order, reverse=descending)]
            got: list[str] = []
            for offset in range(0, 30, 7):
                total, rows = await any_store.read(partial(
                    page_of, dr=dr, state=state, flagged=flagged, sort=sort,
                    descending=descending, offset=offset))
                assert total == len(kept)
                got += [r.interview_id for r in rows]
            assert got == expected, (sort, descending, state, flagged)
            light = await any_store.read(lambda uow, state=state, flagged=flagged, d=descending: (
                uow.clinic.caseload_order(dr, state=state, flagged=flagged, follow_up=False,
                                          sort=sort, descending=d)))
            assert [iid for iid, _ in light] == expected
