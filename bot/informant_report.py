"""The second informants' views beside the family's, for the clinician's HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bot.data.load import decoded
from bot.replies import InformantForm
from flows.loader import load_flows
from flows.schema import Flow
from scoring.informants import (
    InformantView,
    has_informant_rules,
    informant_rules,
    score_informant,
    side_by_side,
)
from scoring.report import Report
from scoring.rules import bundled_rules


@lru_cache(maxsize=1)
def _flows() -> dict[str, Flow]:
    return load_flows()


def _option(flow: Flow, item_id: str | None, value: str | None, locale: str) -> str | None:
    if value is None or item_id is None or not flow.has_item(item_id):
        return None
    option = flow.item(item_id).option(value)
    return flow.text(option.label, locale) if option is not None else value


def informant_views(report: Report, forms: Sequence[InformantForm]
                    ) -> list[tuple[InformantForm, Flow, InformantView]]:
    """Each form scored on the family's map with its own rules (scoring/informants.py);
    a form on another map (or of a flow with no informant rules) is left out."""
    shown: list[tuple[InformantForm, Flow, InformantView]] = []
    for form in forms:
        flow = _flows().get(form.flow)
        if flow is None or not has_informant_rules(flow.id):
            continue
        rules = informant_rules(flow.id)
        if rules.map != report.flow_id:
            continue
        answers = decoded({row.key: (row.value, 0) for row in form.rows})
        view = score_informant(rules, bundled_rules(rules.map).scoring, flow, answers)
        shown.append((form, flow, view))
    return shown


def informant_section(report: Report, forms: Sequence[InformantForm],
                      locale: str) -> dict[str, Any] | None:
    """What `informants.html.j2: side_by_side` draws; None when there is nothing to show.

    The family's column is the caregiver's own view, whatever a clinician rated (the
    ratings have their own section: bot/rating_report.py).
    """
    shown = informant_views(report, forms)
    if not shown:
        return None
    rules = informant_rules(shown[0][1].id)
    functions, regions = report.caregiver_view
    rows = side_by_side(rules, regions, functions, [v for _, _, v in shown])
    return {
        "differ_at_steps": rules.agreement.differ_at_steps,
        "forms": [{
            "id": form.interview_id,
            "role": form.role,
            "submitted": f"{form.submitted_at:%Y-%m-%d}" if form.submitted_at else None,
            "setting": _option(flow, rules.items.setting, view.setting, locale),
            "known_for": _option(flow, rules.items.known_for, view.known_for, locale),
            "note": view.note,
            "known": sum(r.basis.known for r in view.regions),
            "unknown": sum(r.basis.unknown for r in view.regions),
        } for form, flow, view in shown],
        "rows": [{
            "id": row.id, "kind": row.kind,
            "label": row.label.get(locale) or next(iter(row.label.values()), row.id),
            "caregiver": row.caregiver.value,
            "cells": [{"band": c.band.value, "agreement": c.agreement.value}
                      for c in row.informants],
        } for row in rows],
    }
