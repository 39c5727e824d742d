"""Compiled enable_when rules decide exactly as the rules read one by one, in every bundled flow."""

from __future__ import annotations

import random

import pytest

from flows.engine import (
    AgeValue,
    Answer,
    Value,
    instance_key,
    interpreted_rule_holds,
    questions,
    rule_holds,
)
from flows.loader import bundled_flow_paths, load_flow_file
from flows.schema import AllOf, AnyOf, Condition, Flow, Item, ItemType, Op, Rule, Section

FLOWS = [load_flow_file(path).flow for path in bundled_flow_paths()]


def some_value(rng: random.Random, item: Item) -> Value | None:
    """Any value the item could hold, a skip, or something it would never hold."""
    roll = rng.random()
    if roll < 0.2:
        return None
    options = [o.value for o in item.options] or ["yes", "no", "unknown"]
    if item.type is ItemType.MULTI_CHOICE:
        return rng.sample(options, rng.randint(0, len(options)))
    if item.type is ItemType.AGE:
        low = rng.randint(0, 200)
        return AgeValue(low, low + rng.choice([0, 6, 12]))
    if item.type in (ItemType.NUMBER, ItemType.SCALE):
        return rng.choice([0, 1, 2, 3, 5, 10, 2.5, 40])
    if item.type is ItemType.TEXT:
        return rng.choice(["", "words", options[0]])
    return rng.choice([*options, "never-an-option", 3])


def answer_sets(flow: Flow, seed: int) -> dict[str, Answer]:
    rng = random.Random(seed)
    answers: dict[str, Answer] = {}
    for section in flow.sections:
        repeats: list[str | None] = [None]
        if section.repeat_for:
            repeats = [o.value for o in flow.item(section.repeat_for).options]
        for repeat in repeats:
            for item in section.items:
                value = some_value(rng, item)
                if value is not None or rng.random() < 0.5:
                    answers[instance_key(item.id, repeat)] = Answer(value, rng.randint(0, 1))
    return answers


def places(flow: Flow) -> list[tuple[Rule, Section | None, list[str | None]]]:
    """Every rule with the section it is read in and the repeat copies it is read for."""
    found: list[tuple[Rule, Section | None, list[str | None]]] = []
    for section in flow.sections:
        repeats: list[str | None] = [None]
        if section.repeat_for:
            repeats = [None, *(o.value for o in flow.item(section.repeat_for).options)]
        if section.enable_when is not None:
            found.append((section.enable_when, None, [None]))
        for item in section.items:
            for rule in [item.enable_when, *(o.enable_when for o in item.options)]:
                if rule is not None:
                    found.append((rule, section, repeats))
    return found


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.key)
@pytest.mark.parametrize("seed", range(40))
def test_every_rule_decides_as_read_one_by_one(flow: Flow, seed: int) -> None:
    answers = answer_sets(flow, seed)
    rules = places(flow)
    for rule, section, repeats in rules:
        for repeat in repeats:
            assert rule_holds(flow, rule, answers, section, repeat) == interpreted_rule_holds(
                flow, rule, answers, section, repeat
            ), (rule, section.id if section else None, repeat)
    # And the walk built on them runs whatever the answers hold.
    assert all(q.key for q in questions(flow, answers))


def ops_of(rule: Rule) -> set[str]:
    if isinstance(rule, AllOf):
        return set().union(*(ops_of(r) for r in rule.all))
    if isinstance(rule, AnyOf):
        return set().union(*(ops_of(r) for r in rule.any))
    return {rule.op.value}


def test_the_flows_use_every_kind_of_rule_the_compiler_specialises() -> None:
    used = set().union(*(ops_of(rule) for flow in FLOWS for rule, _, _ in places(flow)))
    assert {"equals", "in", "not_answered", ">=", "<="} <= used, used


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_every_operator_on_every_kind_of_value(op: Op) -> None:
    flow = FLOWS[0]
    values: list[Value | None] = [None, "a", "b", 3, 2.5, 0, True, ["a"], ["b", "c"], [],
                                  AgeValue(10, 20), AgeValue(30, 30)]
    wanted_values = ["a", 3, ["a", "c"], 12, None, 2.5]
    for wanted in wanted_values:
        rule = Condition(item="x", op=op, value=wanted)
        for value in values:
            answers = {} if value is None else {"x": Answer(value)}
            assert rule_holds(flow, rule, answers) == interpreted_rule_holds(
                flow, rule, answers), (op, wanted, value)
