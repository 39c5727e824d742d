"""Teams: organisations and who belongs to one as a clinician or as its supervisor."""

from __future__ import annotations

from datetime import datetime

from store.records import Membership, Organisation
from store.repos.base import Repository, dt, ts

#: The roles a member may have (the schema checks them too).
MEMBER_ROLES = ("clinician", "supervisor")


class Teams(Repository):
    """The `organisations` and `memberships` tables (migration 0011)."""

    def add_org(self, name: str, *, now: datetime) -> Organisation | None:
        """A new organisation; None when one has that name already."""
        if self.org_named(name) is not None:
            return None
        cur = self.conn.execute(
            "INSERT INTO organisations (name, created_at) VALUES (?, ?)", (name, ts(now))
        )
        assert cur.lastrowid is not None
        return Organisation(cur.lastrowid, name, now)

    def org_named(self, name: str) -> Organisation | None:
        row = self.conn.execute(
            "SELECT id, name, created_at FROM organisations WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Organisation(int(row[0]), str(row[1]), dt(row[2]))

    def orgs(self) -> list[Organisation]:
        """Every organisation, by name."""
        rows = self.conn.execute(
            "SELECT id, name, created_at FROM organisations ORDER BY name"
        ).fetchall()
        return [Organisation(int(r[0]), str(r[1]), dt(r[2])) for r in rows]

    def set_member(self, org_id: int, person_id: int, role: str, *, now: datetime) -> None:
        """Make a person a member with this role (a member's role changes in place)."""
        if role not in MEMBER_ROLES:
            raise ValueError(f"member role must be one of {MEMBER_ROLES}, got {role!r}")
        self.conn.execute(
            "INSERT INTO memberships (org_id, person_id, role, since) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (org_id, person_id) DO UPDATE SET role = excluded.role",
            (org_id, person_id, role, ts(now)),
        )

    def drop_member(self, org_id: int, person_id: int) -> bool:
        """End one membership; False if there was none."""
        cur = self.conn.execute(
            "DELETE FROM memberships WHERE org_id = ? AND person_id = ?", (org_id, person_id)
        )
        return cur.rowcount == 1

    def drop_person(self, person_id: int) -> int:
        """End every membership of a person (their role ended, or they were erased)."""
        cur = self.conn.execute("DELETE FROM memberships WHERE person_id = ?", (person_id,))
        return cur.rowcount

    def memberships_of(self, person_id: int) -> list[Membership]:
        rows = self.conn.execute(
            "SELECT org_id, person_id, role, since FROM memberships WHERE person_id = ? "
            "ORDER BY org_id",
            (person_id,),
        ).fetchall()
        return [Membership(int(r[0]), int(r[1]), str(r[2]), dt(r[3])) for r in rows]

    def members(self, org_id: int) -> list[Membership]:
        rows = self.conn.execute(
            "SELECT org_id, person_id, role, since FROM memberships WHERE org_id = ? "
            "ORDER BY person_id",
            (org_id,),
        ).fetchall()
        return [Membership(int(r[0]), int(r[1]), str(r[2]), dt(r[3])) for r in rows]

    def supervised_by(self, supervisor_id: int) -> list[int]:
        """Everyone in the organisations this person supervises (themselves included)."""
        rows = self.conn.execute(
            "SELECT DISTINCT m.person_id FROM memberships m JOIN memberships s "
            "ON s.org_id = m.org_id WHERE s.person_id = ? AND s.role = 'supervisor' "
            "ORDER BY m.person_id",
            (supervisor_id,),
        ).fetchall()
        return [int(r[0]) for r in rows]
