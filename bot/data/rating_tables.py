"""Clinician ratings in a CSV export: one row per rating revision, author and source marked."""

from __future__ import annotations

from collections.abc import Iterable

from bot.data.load import InterviewData
from flows.schema import Flow
from messages.render import macro
from scoring import has_rules
from scoring.rules import bundled_rules

LIBRARY = "ratings_data.j2"
#: Every rating is the clinician's: the column says so, so a merged file cannot mistake it
#: for a family's or an informant's answer.
SOURCE = "clinician"
COLUMNS = ("interview_id", "function", "revision", "value", "points", "reason", "author",
           "source", "rated_at", "current", "status")


def rows(flow: Flow, interviews: Iterable[InterviewData]
         ) -> tuple[list[str], list[list[str | int | float]]]:
    """The header and one row per rating revision, oldest first; `current` is 1 for the
    revision the report's scores use (the latest of its function, unless that is a
    withdrawal: then none), else 0; `status` is rated or withdrawn."""
    points = bundled_rules(flow.id).scoring.functioning.points if has_rules(flow.id) else {}
    body: list[list[str | int | float]] = []
    for data in interviews:
        latest = {r.function: r.revision for r in data.ratings}
        latest = {f: n for f, n in latest.items() if not any(
            r.function == f and r.revision == n and r.status == "withdrawn" for r in data.ratings)}
        for rating in data.ratings:
            score = points.get(rating.value)
            body.append([
                data.record.id, rating.function, rating.revision, rating.value,
                "" if score is None else f"{score:g}", rating.reason,
                "" if rating.rated_by is None else rating.rated_by, SOURCE,
                rating.rated_at.isoformat(timespec="seconds"),
                int(latest.get(rating.function) == rating.revision), rating.status,
            ])
    return list(COLUMNS), body


def codebook(flow: Flow) -> list[list[str | int]]:
    """The ratings file's columns, in the codebook's shape (see tables.codebook)."""
    text = macro("en", LIBRARY, "codebook_rating")
    return [[f"ratings.{name}", "", "", "", str(text(column=name)).strip(), "rating", "", "",
             flow.id, flow.version] for name in COLUMNS]
