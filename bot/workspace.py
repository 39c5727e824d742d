"""The clinician's workspace views, channel-neutral: authorised and audited here, drawn by
the web (bot/web/clinic/). Same ownership rule as `/interviews` (bot/caseload.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.access import caseload_owners, is_clinician
from flows.catalog import FlowCatalog
from flows.engine import questions
from flows.lifecycle import State
from store.contract import UnitOfWork
from store.records import CaseloadRow

PAGE_SIZE = 50
SORTS = ("activity", "nickname", "state", "progress", "flags", "created")
STATES = tuple(s.value for s in State)
_NEWEST_FIRST = ("activity", "flags", "created")
#: Audit detail of a caseload listing (the Telegram `/interviews` writes "list").
LISTED = "web_list"


@dataclass(frozen=True)
class CaseloadQuery:
    """What the caseload's links and filter form ask for; anything unknown is ignored."""

    sort: str = "activity"
    descending: bool = True
    state: str = ""
    flagged: bool = False
    follow_up: bool = False
    search: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> CaseloadQuery:
        sort = params.get("sort", "activity")
        sort = sort if sort in SORTS else "activity"
        page = params.get("page", "1")
        state = params.get("state", "")
        order = params.get("order", "")
        return cls(
            sort=sort,
            # Newest and most flagged first unless asked otherwise; names A to Z.
            descending=order == "desc" or (order != "asc" and sort in _NEWEST_FIRST),
            state=state if state in STATES else "",
            flagged=params.get("flagged") == "1",
            follow_up=params.get("followup") == "1",
            search=params.get("q", "").strip()[:40],
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    def link(self, **changes: Any) -> str:
        """This query's address with `changes` (a sort link resets to the first page)."""
        q = replace(self, **changes)
        parts = [f"sort={q.sort}", f"order={'desc' if q.descending else 'asc'}"]
        if q.state:
            parts.append(f"state={q.state}")
        if q.flagged:
            parts.append("flagged=1")
        if q.follow_up:
            parts.append("followup=1")
        if q.search:
            parts.append(f"q={quote(q.search)}")
        if q.page > 1:
            parts.append(f"page={q.page}")
        return "/clinic/?" + "&".join(parts)

    def sort_link(self, key: str) -> str:
        """A column heading's link: by `key`, flipping the order if it is the sort now."""
        if key == self.sort:
            return self.link(descending=not self.descending, page=1)
        return self.link(sort=key, descending=key in _NEWEST_FIRST, page=1)


@dataclass
class CaseloadView:
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    states: tuple[str, ...] = STATES


def _questions_in(catalog: FlowCatalog, flow_key: str) -> int:
    """How many questions a flow asks before any answer narrows it (progress's scale)."""
    try:
        return len(questions(catalog.get(flow_key), {}))
    except KeyError:
        return 0


def _row(r: CaseloadRow, totals: dict[str, int]) -> dict[str, Any]:
    total = totals[f"{r.flow_id}@{r.flow_version}"]
    return {
        "interview_id": r.interview_id,
        "nickname": r.nickname or "",
        "state": r.state,
        "answered": r.answered,
        "total": total,
        "percent": 100 if r.state == State.SUBMITTED.value else (
            min(99, round(100 * r.answered / total)) if total else 0),
        "updated": f"{r.updated_at:%Y-%m-%d %H:%M}",
        "flags": r.flags,
        "follow_ups_open": r.follow_ups_open,
        "claimed": r.claimed,
        "informant_of": r.informant_of,
    }


def caseload_view(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, query: CaseloadQuery,
                  now: datetime) -> CaseloadView | None:
    """A clinician's caseload (a supervisor's: with their team's), filtered, sorted and
    paged; None for anyone else.

    Filtered, sorted and paged in SQL (store/repos/clinic.py: `caseload_page`), except by
    nickname (sealed: `_by_nickname`); each interview shown is audited as viewed, as
    `/interviews` does.
    """
    person = uow.people.by_id(person_id)
    if person is None or not is_clinician(person):
        uow.audit.add("denied", interview_id=None, person_id=person_id, now=now, detail=LISTED)
        return None
    # Their own interviews, and their team's for a supervisor (bot/access.py).
    owners = caseload_owners(uow, person)
    if query.sort == "nickname" or query.search:
        total, shown = _by_nickname(uow, owners, query)
    else:
        # Filtered, sorted and paged in SQL: only the page's rows are read whole.
        page = query.page
        total, shown = uow.clinic.caseload_page(
            owners, state=query.state or None, flagged=query.flagged,
            follow_up=query.follow_up, sort=query.sort, descending=query.descending,
            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        if not shown and page > 1 and total:  # past the end: the last page
            return caseload_view(uow, catalog, person_id,
                                 replace(query, page=-(-total // PAGE_SIZE)), now)
    pages = max(1, -(-total // PAGE_SIZE))
    for r in shown:
        uow.audit.add("viewed", interview_id=r.interview_id, person_id=person_id, now=now,
                      detail=LISTED)
    totals = {key: _questions_in(catalog, key)
              for key in {f"{r.flow_id}@{r.flow_version}" for r in shown}}
    # Scheduled re-assessments (bot/features/plan.py): one read for the page's rows.
    due = uow.plans.next_due([r.interview_id for r in shown])
    return CaseloadView(
        [{**_row(r, totals), "next_due": str(due.get(r.interview_id) or "")} for r in shown],
        total, min(query.page, pages), pages)


def _by_nickname(uow: UnitOfWork, owners: list[int],
                 query: CaseloadQuery) -> tuple[int, list[CaseloadRow]]:
    """Sorted or searched by nickname, which is sealed under a key: every matching
    interview's id and nickname in one light read, compared here; then the page's rows."""
    pairs = uow.clinic.caseload_order(
        owners, state=query.state or None, flagged=query.flagged, follow_up=query.follow_up,
        sort="activity" if query.sort == "nickname" else query.sort,
        descending=query.descending)
    if query.search:
        needle = query.search.casefold()
        pairs = [p for p in pairs if needle in (p[1] or "").casefold()]
    if query.sort == "nickname":
        pairs.sort(key=lambda p: ((p[1] or "").casefold(), p[0]), reverse=query.descending)
    page = min(query.page, max(1, -(-len(pairs) // PAGE_SIZE)))
    wanted = pairs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return len(pairs), uow.clinic.caseload_rows([iid for iid, _ in wanted])
