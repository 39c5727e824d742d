"""The clinician's ratings beside the caregiver's and the informants' views, for the report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.informant_report import informant_views
from bot.replies import InformantForm, RatingNote
from scoring.ratings import function_views
from scoring.report import Report
from scoring.rules import bundled_rules


def ratings_section(report: Report, forms: Sequence[InformantForm],
                    ratings: Sequence[RatingNote], locale: str) -> dict[str, Any]:
    """What `ratings.html.j2: views` draws: per function, every view and which one the
    scores use. With no rating, only that the scores use the family's answers (no rows).
    A function nobody rated in any view (not asked at this age) has no row."""
    # What the scores rest on decides, not what was passed beside; ratings all withdrawn
    # still show (with their history), every score then on the family's answers.
    if not report.ratings and not any(n.status == "withdrawn" for n in ratings):
        return {"forms": [], "rated": 0, "rows": []}
    rules = bundled_rules(report.flow_id).scoring
    used = dict(report.ratings)
    caregiver, _ = report.caregiver_view
    shown = informant_views(report, forms)
    rows = function_views(rules, caregiver, [v.functions for _, _, v in shown], used)
    history: dict[str, list[RatingNote]] = {}
    for note in ratings:
        history.setdefault(note.function, []).append(note)
    return {
        "forms": [{"id": form.interview_id, "role": form.role} for form, _, _ in shown],
        "rated": len(used),
        "rows": [{
            "id": row.item_id, "region": row.region,
            "label": row.label.get(locale) or next(iter(row.label.values()), row.item_id),
            "caregiver": row.caregiver.value,
            "informants": [band.value for band in row.informants],
            "clinician": row.clinician.value if row.clinician is not None else None,
            "used": row.used.value,
            "history": [{"revision": n.revision, "value": n.value, "reason": n.reason,
                         "by": n.rated_by, "at": f"{n.rated_at:%Y-%m-%d %H:%M} UTC",
                         "status": n.status}
                        for n in reversed(history.get(row.item_id, []))],
        } for row in rows
            if row.clinician is not None or row.caregiver.value != "unrated"
            or row.item_id in history
            or any(band.value != "unrated" for band in row.informants)],
    }
