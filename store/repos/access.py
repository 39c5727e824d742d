"""Access: invitations and resume codes (kept as hashes), failed attempts, erasure requests."""

from __future__ import annotations

from datetime import datetime

from store.records import Invite, ResumeCode
from store.repos.base import Repository, dt, ts


class Access(Repository):
    """The `invites`, `resume_codes`, `attempts` and `erasure_requests` tables."""

    # -- invitations ---------------------------------------------------------------------

    def add_invite(
        self,
        code_hash: str,
        *,
        interview_id: str,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new invitation by the hash of its code."""
        self.conn.execute(
            "INSERT INTO invites (code_hash, interview_id, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (code_hash, interview_id, created_by, ts(now), ts(expires_at)),
        )

    def invite(self, code_hash: str) -> Invite | None:
        """The invitation whose code hashes to `code_hash`, or None."""
        row = self.conn.execute(
            "SELECT code_hash, interview_id, created_by, created_at, expires_at, used_at, "
            "used_by FROM invites WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        if row is None:
            return None
        return Invite(
            code_hash=row[0],
            interview_id=row[1],
            created_by=row[2],
            created_at=dt(row[3]),
            expires_at=dt(row[4]),
            used_at=dt(row[5]) if row[5] else None,
            used_by=row[6],
        )

    def use_invite(self, code_hash: str, *, person_id: int, now: datetime) -> bool:
        """Claim an unused invitation; False if it was used meanwhile (single use)."""
        cur = self.conn.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL",
            (ts(now), person_id, code_hash),
        )
        return cur.rowcount == 1

    def revoke_invites(self, interview_id: str, *, now: datetime) -> int:
        """Retire an interview's unused invitations (a newer one replaces them)."""
        cur = self.conn.execute(
            "UPDATE invites SET used_at = ? WHERE interview_id = ? AND used_at IS NULL",
            (ts(now), interview_id),
        )
        return cur.rowcount

    def has_created_invites(self, person_id: int) -> bool:
        """Whether a person ever invited a family (so holds families' interviews)."""
        row = self.conn.execute(
            "SELECT 1 FROM invites WHERE created_by = ? LIMIT 1", (person_id,)
        ).fetchone()
        return row is not None

    # -- resume codes ---------------------------------------------------------------------

    def add_resume_code(
        self,
        code_hash: str,
        *,
        interview_id: str,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store an interview's resume code by its hash; older codes of it stop working."""
        self.conn.execute("DELETE FROM resume_codes WHERE interview_id = ?", (interview_id,))
        self.conn.execute(
            "INSERT INTO resume_codes (code_hash, interview_id, created_by, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?)",
            (code_hash, interview_id, created_by, ts(now), ts(expires_at)),
        )

    def resume_code(self, code_hash: str) -> ResumeCode | None:
        """The resume code that hashes to `code_hash`, or None."""
        row = self.conn.execute(
            "SELECT code_hash, interview_id, created_by, created_at, expires_at, used_at "
            "FROM resume_codes WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        if row is None:
            return None
        used = dt(row[5]) if row[5] else None
        return ResumeCode(row[0], row[1], row[2], dt(row[3]), dt(row[4]), used)

    def use_resume_code(self, code_hash: str, *, now: datetime) -> bool:
        """Redeem a code once; False if it was used meanwhile (single use)."""
        cur = self.conn.execute(
            "UPDATE resume_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (ts(now), code_hash),
        )
        return cur.rowcount == 1

    def drop_resume_codes(self, interview_id: str) -> int:
        """Forget every resume code of an interview (it ended, or was erased)."""
        cur = self.conn.execute("DELETE FROM resume_codes WHERE interview_id = ?", (interview_id,))
        return cur.rowcount

    def prune_resume_codes(self, before: datetime) -> int:
        """Delete the codes that expired before `before` (they can never work again)."""
        cur = self.conn.execute("DELETE FROM resume_codes WHERE expires_at < ?", (ts(before),))
        return cur.rowcount

    # -- failed attempts (rate limits) -----------------------------------------------------

    def add_attempt(self, person_id: int, kind: str, *, now: datetime) -> None:
        """Count one failed attempt (a wrong code)."""
        self.conn.execute(
            "INSERT INTO attempts (person_id, kind, at) VALUES (?, ?, ?)",
            (person_id, kind, ts(now)),
        )

    def forget_attempts(self, person_id: int, kind: str, before: datetime) -> None:
        """Drop attempts that no longer count (the table holds only the current window)."""
        self.conn.execute(
            "DELETE FROM attempts WHERE person_id = ? AND kind = ? AND at <= ?",
            (person_id, kind, ts(before)),
        )

    def attempts_since(self, person_id: int, kind: str, since: datetime) -> int:
        """Failed attempts of this kind after `since` (timestamps compare as UTC text)."""
        row = self.conn.execute(
            "SELECT count(*) FROM attempts WHERE person_id = ? AND kind = ? AND at > ?",
            (person_id, kind, ts(since)),
        ).fetchone()
        return int(row[0])

    def oldest_attempt_since(self, person_id: int, kind: str, since: datetime) -> datetime | None:
        """When the oldest attempt still inside the window was made (to say when to retry)."""
        row = self.conn.execute(
            "SELECT min(at) FROM attempts WHERE person_id = ? AND kind = ? AND at > ?",
            (person_id, kind, ts(since)),
        ).fetchone()
        return dt(row[0]) if row[0] else None

    # -- erasure requests -------------------------------------------------------------------

    def request_erasure(self, person_id: int, *, now: datetime) -> None:
        """Remember that a person asked to be forgotten (confirmation pending)."""
        self.conn.execute(
            "INSERT INTO erasure_requests (person_id, requested_at) VALUES (?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET requested_at = excluded.requested_at",
            (person_id, ts(now)),
        )

    def erasure_requested_at(self, person_id: int) -> datetime | None:
        """When a pending erasure was asked for, or None."""
        row = self.conn.execute(
            "SELECT requested_at FROM erasure_requests WHERE person_id = ?", (person_id,)
        ).fetchone()
        return None if row is None else dt(row[0])

    def cancel_erasure(self, person_id: int) -> None:
        """Drop a pending erasure request."""
        self.conn.execute("DELETE FROM erasure_requests WHERE person_id = ?", (person_id,))
