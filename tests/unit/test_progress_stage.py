"""`progress` and `stage` (one pass each) say what the plain reading of their rules says."""

from __future__ import annotations

import random

import pytest

from flows.engine import (
    SECONDS_PER_QUESTION,
    Answers,
    Progress,
    Question,
    Stage,
    progress,
    questions,
    stage,
    typical_counts,
)
from flows.schema import Flow
from tests.unit.test_compiled_rules import FLOWS, answer_sets


def progress_as_read(answers: Answers, current: str | None, enabled: list[Question]) -> Progress:
    keys = [q.key for q in enabled]
    answered = sum(1 for k in keys if k in answers and answers[k].given)
    position = keys.index(current) + 1 if current in keys else len(keys)
    return Progress(position, len(keys), answered)


def stage_as_read(
    flow: Flow, answers: Answers, current: str | None, enabled: list[Question]
) -> Stage:
    here = next((q.section.id for q in enabled if q.key == current), None)
    order = [section.id for section in flow.sections]
    if here is None:
        here = next((q.section.id for q in reversed(enabled) if q.key in answers), order[0])
    position = order.index(here)
    active = {q.section.id for q in enabled}
    typical = typical_counts(flow)
    shown = [
        sid for n, sid in enumerate(order)
        if sid in active or (n > position and typical.get(sid, 0) > 0) or sid == here
    ]
    unseen_here = [
        q for q in enabled if q.section.id == here and (q.key not in answers or q.key == current)
    ]
    unseen = len(unseen_here) + sum(typical.get(sid, 0) for sid in order[position + 1 :])
    seconds = unseen * SECONDS_PER_QUESTION
    return Stage(shown.index(here) + 1, len(shown), here, len(unseen_here),
                 max(1, -(-seconds // 60)) if unseen else 0)


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.key)
@pytest.mark.parametrize("seed", range(30))
def test_progress_and_stage__as_their_rules_read(flow: Flow, seed: int) -> None:
    rng = random.Random(seed)
    answers = answer_sets(flow, seed)
    if seed % 3 == 0:  # early on: few answers
        answers = dict(list(answers.items())[: rng.randint(0, 6)])
    enabled = questions(flow, answers)
    currents = [None, "not-a-question", *(q.key for q in rng.sample(enabled, min(5, len(enabled))))]
    for current in currents:
        assert progress(flow, answers, current, enabled) == progress_as_read(
            answers, current, enabled), current
        assert stage(flow, answers, current, enabled) == stage_as_read(
            flow, answers, current, enabled), current
