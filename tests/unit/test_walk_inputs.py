"""`changes_walk` is never wrong: an answer it calls irrelevant never changes the questions."""

from __future__ import annotations

import random

import pytest

from flows.engine import Answer, changes_walk, instance_key, questions, walk_inputs
from flows.schema import Flow
from tests.unit.test_compiled_rules import FLOWS, answer_sets, some_value


def every_key(flow: Flow) -> list[str]:
    """Every answer key the flow can hold, each copy of a repeated section's items included."""
    keys: list[str] = []
    for section in flow.sections:
        repeats: list[str | None] = [None]
        if section.repeat_for:
            repeats = [o.value for o in flow.item(section.repeat_for).options]
        for repeat in repeats:
            keys += [instance_key(item.id, repeat) for item in section.items]
    return keys


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.key)
@pytest.mark.parametrize("seed", range(8))
def test_an_answer_outside_the_walks_inputs_never_changes_the_questions(
    flow: Flow, seed: int
) -> None:
    rng = random.Random(seed)
    answers = answer_sets(flow, seed)
    before = questions(flow, answers)
    for key in every_key(flow):
        item = flow.item(key.partition("[")[0])
        changed = dict(answers)
        if key in changed and rng.random() < 0.3:
            del changed[key]  # an answer never given
        else:
            changed[key] = Answer(some_value(rng, item), rng.randint(0, 1))
        if questions(flow, changed) != before:
            assert changes_walk(flow, key), key


def test_most_answers_leave_the_walk_alone() -> None:
    """What makes skipping the walk worth it: few items decide which questions are asked."""
    for flow in FLOWS:
        items = {item.id for section in flow.sections for item in section.items}
        assert walk_inputs(flow) < items or not items, flow.key
    history = next(f for f in FLOWS if f.key.startswith("developmental_history"))
    assert {"child_age", "adv_types"} <= walk_inputs(history)  # an age rule, a repeat_for
