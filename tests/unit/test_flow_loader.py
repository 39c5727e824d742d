"""Loading flow files: every problem reported at once, located, with its fix."""

from __future__ import annotations

import textwrap

import pytest

from flows.errors import FlowError, ProblemCode
from flows.loader import bundled_flow_paths, load_flow_file, load_flow_text

HEAD = """\
id: t
version: 1
locales: [en, es]
title: {en: Test, es: Prueba}
consent: {en: "Ok?", es: "¿Vale?"}
sections:
  - id: s1
    title: {en: One, es: Uno}
    items:
"""


def indented(items: str) -> str:
    """Items written flush in a test, indented under a section's `items:`."""
    return textwrap.indent(textwrap.dedent(items), "      ")


def load(items: str, head: str = HEAD):
    return load_flow_text(head + indented(items), "t.yaml")


def problems(items: str, head: str = HEAD) -> FlowError:
    with pytest.raises(FlowError) as info:
        load(items, head)
    return info.value


def test_bundled_flows__load_without_warnings() -> None:
    for path in bundled_flow_paths():
        assert load_flow_file(path).warnings == [], path


def test_valid_flow__loads_with_every_item_type() -> None:
    flow = load("""
        - id: a
          type: text
          prompt: {en: A, es: A}
        - id: b
          type: yes_no_unknown
          prompt: {en: B, es: B}
        - id: c
          type: age
          prompt: {en: C, es: C}
          enable_when: {item: b, op: equals, value: "yes"}
    """).flow
    assert [i.id for i in flow.sections[0].items] == ["a", "b", "c"]
    assert [o.value for o in flow.item("b").options] == ["yes", "no", "unknown"]
    assert flow.item("b").options[0].label["es"] == "Sí"


def test_item_type__unknown__rejected_with_allowed_types() -> None:
    error = problems("""
        - id: a
          type: dropdown
          prompt: {en: A, es: A}
    """)
    assert error.codes() == [ProblemCode.UNKNOWN_TYPE]
    problem = error.problems[0]
    assert problem.line == 12 and problem.item_id == "a" and problem.file == "t.yaml"
    assert "single_choice" in problem.fix and "dropdown" in problem.message


def test_item_ids__duplicated__rejected_pointing_to_first() -> None:
    error = problems("""
        - id: a
          type: text
          prompt: {en: A, es: A}
        - id: a
          type: text
          prompt: {en: A2, es: A2}
    """)
    assert error.codes() == [ProblemCode.DUPLICATE_ID]
    assert error.problems[0].line == 14
    assert "line 11" in error.problems[0].message


def test_enable_when__unknown_item__rejected() -> None:
    error = problems("""
        - id: a
          type: text
          prompt: {en: A, es: A}
          enable_when: {item: nope, op: answered}
    """)
    assert error.codes() == [ProblemCode.UNKNOWN_REFERENCE]
    assert error.problems[0].item_id == "a" and error.problems[0].line == 14


def test_enable_when__later_item__rejected() -> None:
    error = problems("""
        - id: a
          type: text
          prompt: {en: A, es: A}
          enable_when: {all: [{item: b, op: answered}]}
        - id: b
          type: text
          prompt: {en: B, es: B}
    """)
    assert error.codes() == [ProblemCode.FORWARD_REFERENCE]
    assert "move this item" in error.problems[0].fix


def test_enable_when__value_not_an_option__rejected() -> None:
    error = problems("""
        - id: a
          type: yes_no_unknown
          prompt: {en: A, es: A}
        - id: b
          type: text
          prompt: {en: B, es: B}
          enable_when: {item: a, op: equals, value: "maybe"}
    """)
    assert error.codes() == [ProblemCode.UNKNOWN_OPTION_VALUE]
    assert "yes" in error.problems[0].fix


def test_option_values__duplicated__rejected() -> None:
    error = problems("""
        - id: a
          type: single_choice
          prompt: {en: A, es: A}
          options:
            - {value: x, label: {en: X, es: X}}
            - {value: x, label: {en: Y, es: Y}}
    """)
    assert error.codes() == [ProblemCode.DUPLICATE_OPTION]
    assert error.problems[0].line == 16


def test_translation__missing__rejected_for_item_and_option() -> None:
    error = problems("""
        - id: a
          type: single_choice
          prompt: {en: A}
          options:
            - {value: x, label: {en: X, es: X}}
            - {value: y, label: {en: Y}}
    """)
    assert error.codes() == [ProblemCode.MISSING_TRANSLATION] * 2
    assert all(p.item_id == "a" and "'es'" in p.message for p in error.problems)
    assert [p.line for p in error.problems] == [13, 16]


def test_several_problems__all_reported_at_once_in_file_order() -> None:
    error = problems("""
        - id: a
          type: dropdown
          prompt: {en: A}
        - id: a
          type: text
          prompt: {en: A, es: A}
          enable_when: {item: ghost, op: answered}
    """)
    assert set(error.codes()) == {
        ProblemCode.UNKNOWN_TYPE,
        ProblemCode.MISSING_TRANSLATION,
        ProblemCode.DUPLICATE_ID,
        ProblemCode.UNKNOWN_REFERENCE,
    }
    lines = [p.line or 0 for p in error.problems]
    assert lines == sorted(lines)
    assert "t.yaml:12: item 'a':" in str(error)


@pytest.mark.parametrize(
    ("items", "code"),
    [
        pytest.param("""
        - id: a
          type: single_choice
          prompt: {en: A, es: A}
          options: colours
    """, ProblemCode.UNKNOWN_OPTION_SET, id="option_set__unknown"),
        pytest.param("""
        - id: a
          type: scale
          prompt: {en: A, es: A}
    """, ProblemCode.BAD_BOUNDS, id="scale__without_bounds"),
    ],
)
def test_one_problem__rejected_with_its_code(items: str, code: ProblemCode) -> None:
    assert problems(items).codes() == [code]


def test_repeat_for__not_multiple_choice__rejected() -> None:
    head = (
        HEAD
        + indented("""
        - id: a
          type: text
          prompt: {en: A, es: A}
    """)
        + ("  - id: s2\n    title: {en: Two, es: Dos}\n    repeat_for: a\n    items:\n")
    )
    error = problems(
        """
        - id: b
          type: text
          prompt: {en: B, es: B}
    """,
        head=head,
    )
    assert error.codes() == [ProblemCode.BAD_REPEAT]


def test_field__misspelled__rejected_with_fix() -> None:
    error = problems("""
        - id: a
          type: text
          promt: {en: A, es: A}
    """)
    assert set(error.codes()) == {ProblemCode.INVALID_FIELD}
    fixes = " ".join(p.fix for p in error.problems)
    assert "check its spelling" in fixes and "add `prompt`" in fixes


def test_yaml__syntax_error__located() -> None:
    with pytest.raises(FlowError) as info:
        load_flow_text("id: t\nversion: [1\n", "bad.yaml")
    assert info.value.codes() == [ProblemCode.YAML_SYNTAX]
    assert info.value.problems[0].line is not None


def test_long_prompt__loads_with_a_warning() -> None:
    result = load(f"""
        - id: a
          type: text
          prompt: {{en: "{"x" * 500}", es: B}}
    """)
    assert [w.code for w in result.warnings] == [ProblemCode.LONG_PROMPT]
