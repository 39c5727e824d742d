"""The clinician's web workspace: sign-in links, sessions, and the caseload read."""

from __future__ import annotations

from datetime import datetime

from store.records import CaseloadRow, ClinicLink, ClinicSession
from store.repos.audit import SEALED_KIND, SENSITIVE_KINDS
from store.repos.base import Repository, dt, ts

#: Event kinds the caseload counts as safety flags ('sealed' is their kind under a key).
_FLAG_KINDS = tuple(sorted(SENSITIVE_KINDS | {SEALED_KIND}))
_OPEN_STATES = ("consent", "answering", "paused", "review")

_ANSWERED = "(SELECT count(*) FROM current_answers c WHERE c.interview_id = i.id AND c.skips = 0)"
#: Flags and open follow-ups are few: counted once, grouped, and joined (an index by kind
#: finds the flag events), instead of one lookup per interview.
_COUNTS = (
    "LEFT JOIN (SELECT interview_id, count(*) AS n FROM events WHERE kind IN "
    f"({', '.join('?' for _ in _FLAG_KINDS)}) GROUP BY interview_id) fl "
    "ON fl.interview_id = i.id "
    "LEFT JOIN (SELECT follow_up_of, count(*) AS n FROM interviews WHERE follow_up_of IS NOT "
    f"NULL AND state IN ({', '.join('?' for _ in _OPEN_STATES)}) GROUP BY follow_up_of) fu "
    "ON fu.follow_up_of = i.id"
)


#: The caseload's sort orders in SQL (ties: the interview id, so pages never overlap).
_STATE_RANK = ("CASE i.state WHEN 'consent' THEN 0 WHEN 'answering' THEN 1 WHEN 'paused' "
               "THEN 2 WHEN 'review' THEN 3 WHEN 'submitted' THEN 4 WHEN 'withdrawn' THEN 5 "
               "ELSE 99 END")
CASELOAD_ORDERS = {
    "activity": ("i.updated_at",),
    "created": ("i.created_at",),
    "state": (_STATE_RANK, "i.updated_at"),
    "flags": ("coalesce(fl.n, 0)", "i.updated_at"),
    "progress": (_ANSWERED,),
}


def _order(sort: str, descending: bool) -> str:
    direction = " DESC" if descending else ""
    return ", ".join(f"{term}{direction}" for term in (*CASELOAD_ORDERS[sort], "i.id"))


def _caseload_sql(where: str, *, nicknames: bool, answered: bool) -> str:
    return (
        "SELECT i.id, i.flow_id, i.flow_version, i.state, "
        f"{'i.subject_nickname' if nicknames else 'NULL'}, i.respondent_id IS NOT NULL, "
        f"i.created_at, i.updated_at, i.submitted_at, {_ANSWERED if answered else '0'}, "
        f"coalesce(fl.n, 0), coalesce(fu.n, 0), i.informant_of FROM interviews i {_COUNTS} "
        f"WHERE {where}"
    )


class Clinic(Repository):
    """The `clinic_links` and `clinic_sessions` tables (migration 0010), and the caseload."""

    # -- sign-in links ------------------------------------------------------------------------

    def add_link(self, token_hash: str, person_id: int, *, now: datetime,
                 expires_at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO clinic_links (token_hash, person_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash, person_id, ts(now), ts(expires_at)),
        )

    def link(self, token_hash: str) -> ClinicLink | None:
        row = self.conn.execute(
            "SELECT person_id, created_at, expires_at, used_at FROM clinic_links "
            "WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return ClinicLink(token_hash, int(row[0]), dt(row[1]), dt(row[2]),
                          dt(row[3]) if row[3] else None)

    def use_link(self, token_hash: str, *, now: datetime) -> bool:
        """Claim an unused link; False if it was used meanwhile (single use)."""
        cur = self.conn.execute(
            "UPDATE clinic_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
            (ts(now), token_hash),
        )
        return cur.rowcount == 1

    def links_since(self, person_id: int, since: datetime) -> int:
        """Links issued to a person after `since` (their issuing is rate-limited)."""
        row = self.conn.execute(
            "SELECT count(*) FROM clinic_links WHERE person_id = ? AND created_at > ?",
            (person_id, ts(since)),
        ).fetchone()
        return int(row[0])

    def prune_links(self, before: datetime) -> int:
        """Delete links that expired before `before` (they can never work again)."""
        cur = self.conn.execute("DELETE FROM clinic_links WHERE expires_at < ?", (ts(before),))
        return int(cur.rowcount)

    # -- sessions -----------------------------------------------------------------------------

    def add_session(self, token_hash: str, person_id: int, *, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO clinic_sessions (token_hash, person_id, created_at, seen_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash, person_id, ts(now), ts(now)),
        )

    def session_of(self, token_hash: str) -> ClinicSession | None:
        row = self.conn.execute(
            "SELECT person_id, created_at, seen_at FROM clinic_sessions WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return ClinicSession(token_hash, int(row[0]), dt(row[1]), dt(row[2]))

    def seen(self, token_hash: str, *, now: datetime) -> None:
        self.conn.execute(
            "UPDATE clinic_sessions SET seen_at = ? WHERE token_hash = ?", (ts(now), token_hash)
        )

    def end_session(self, token_hash: str) -> None:
        self.conn.execute("DELETE FROM clinic_sessions WHERE token_hash = ?", (token_hash,))

    def end_sessions_of(self, person_id: int) -> int:
        """Every workspace session and unused link of a person (role taken back, erased)."""
        self.conn.execute("DELETE FROM clinic_links WHERE person_id = ?", (person_id,))
        cur = self.conn.execute("DELETE FROM clinic_sessions WHERE person_id = ?", (person_id,))
        return int(cur.rowcount)

    def prune_sessions(self, *, idle_before: datetime, created_before: datetime) -> int:
        cur = self.conn.execute(
            "DELETE FROM clinic_sessions WHERE seen_at < ? OR created_at < ?",
            (ts(idle_before), ts(created_before)),
        )
        return int(cur.rowcount)

    # -- the caseload -------------------------------------------------------------------------

    def caseload(self, owner_id: int, *, nicknames: bool = True,
                 answered: bool = True) -> list[CaseloadRow]:
        """Every interview a person owns with its counts, in one read (unordered).

        Without `nicknames` (None) and `answered` (0) the read skips what costs most at
        thousands of rows (opening each sealed nickname, counting every answer): the caseload
        sorts and pages on the rest, then reads its page's rows whole (`caseload_rows`).
        """
        sql = _caseload_sql("i.owner_id = ?", nicknames=nicknames, answered=answered)
        return self._rows(sql, (*_FLAG_KINDS, *_OPEN_STATES, owner_id))

    def caseload_page(self, owner_id: int | list[int], *, state: str | None, flagged: bool,
                      follow_up: bool, sort: str, descending: bool, offset: int,
                      limit: int) -> tuple[int, list[CaseloadRow]]:
        """One page of a person's interviews, filtered and sorted in SQL: (how many match,
        the page's rows whole). `sort` is a key of CASELOAD_ORDERS. Only the page's rows
        are read whole: the sort sees ids alone (a wide sorted row, and the answer count
        computed twice, made sorting by progress twice as slow). A nickname under a key
        cannot be sorted on in SQL: `caseload_order` for that."""
        condition, params, joins = self._filter(owner_id, state, flagged, follow_up)
        joins = _COUNTS if joins or sort == "flags" else ""
        counts = _FLAG_KINDS + _OPEN_STATES if joins else ()
        counted = self.conn.execute(
            f"SELECT count(*) FROM interviews i {joins} WHERE {condition}", (*counts, *params),
        ).fetchone()
        ids = self.conn.execute(
            f"SELECT i.id FROM interviews i {joins} WHERE {condition} "
            f"ORDER BY {_order(sort, descending)} LIMIT ? OFFSET ?",
            (*counts, *params, limit, offset),
        ).fetchall()
        return int(counted[0]), self.caseload_rows([str(r[0]) for r in ids])

    def caseload_order(self, owner_id: int | list[int], *, state: str | None, flagged: bool,
                       follow_up: bool, sort: str, descending: bool
                       ) -> list[tuple[str, str | None]]:
        """Every matching interview's (id, nickname), in the order `sort`: the light read a
        search or sort by nickname (sealed: opened here, compared by the caller) pages on."""
        condition, params, _ = self._filter(owner_id, state, flagged, follow_up)
        rows = self.conn.execute(
            f"SELECT i.id, i.subject_nickname FROM interviews i {_COUNTS} WHERE {condition} "
            f"ORDER BY {_order(sort, descending)}",
            (*_FLAG_KINDS, *_OPEN_STATES, *params),
        ).fetchall()
        session = self.session
        return [(str(r[0]), session.open_opt(r[1], str(r[0]))) for r in rows]

    @staticmethod
    def _filter(owner_id: int | list[int], state: str | None, flagged: bool,
                follow_up: bool) -> tuple[str, list[object], str]:
        """WHERE condition, its parameters, and the count joins it needs ('' if none).

        `owner_id` may be several people: a supervisor's team (bot/access.py)."""
        owners = [owner_id] if isinstance(owner_id, int) else owner_id
        where = [f"i.owner_id IN ({', '.join('?' * len(owners))})"]
        params: list[object] = [*owners]
        if state:
            where.append("i.state = ?")
            params.append(state)
        if flagged:
            where.append("fl.n > 0")
        if follow_up:
            where.append("fu.n > 0")
        return " AND ".join(where), list(params), _COUNTS if flagged or follow_up else ""

    def caseload_rows(self, interview_ids: list[str]) -> list[CaseloadRow]:
        """These interviews' caseload rows, whole, in one read (the order given)."""
        if not interview_ids:
            return []
        where = f"i.id IN ({', '.join('?' for _ in interview_ids)})"
        sql = _caseload_sql(where, nicknames=True, answered=True)
        found = {r.interview_id: r
                 for r in self._rows(sql, (*_FLAG_KINDS, *_OPEN_STATES, *interview_ids))}
        return [found[i] for i in interview_ids if i in found]

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[CaseloadRow]:
        session = self.session
        return [
            CaseloadRow(
                interview_id=str(r[0]), flow_id=r[1], flow_version=int(r[2]), state=r[3],
                nickname=session.open_opt(r[4], str(r[0])), claimed=bool(r[5]),
                created_at=dt(r[6]), updated_at=dt(r[7]),
                submitted_at=dt(r[8]) if r[8] else None, answered=int(r[9]),
                flags=int(r[10]), follow_ups_open=int(r[11]), informant_of=r[12],
            )
            for r in self.conn.execute(sql, params).fetchall()
        ]
