"""Prompt series: the bundled series loads clean, and each mistake is reported where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.errors import FlowError, Problem, ProblemCode
from flows.loader import LONG_PROMPT_CHARS
from flows.series import (
    MAX_PROMPTS,
    MIN_PROMPTS,
    bundled_series_paths,
    load_bundled_series,
    load_series_file,
    load_series_text,
)

HEAD = """\
kind: series
id: demo
version: 1
locales: [en]
title: {en: Demo series}
book: {title: A Book, authors: [A. Author], year: 2021}
weeks:
"""


def week(number: int | str, prompts: int = 2, *, extra: str = "") -> str:
    """One week in YAML, with `prompts` prompts and optional extra lines (indented 4)."""
    lines = [f"  - number: {number}", "    theme: {en: A theme}", "    prompts:"]
    lines += [f"      - {{en: Prompt {k}}}" for k in range(1, prompts + 1)]
    lines += [
        "    brain_fact: {text: {en: A fact}, source: A source}",
        "    try_at_home: {en: Try this}",
        "    check_in: {en: 'How did it go?'}",
    ]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def series(*weeks: str, head: str = HEAD) -> str:
    return head + "".join(weeks)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line holding the `occurrence`-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def problems(text: str) -> list[Problem]:
    with pytest.raises(FlowError) as caught:
        load_series_text(text, "demo.yaml")
    return caught.value.problems


def only(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# -- the bundled series -------------------------------------------------------------------------


def test_bundled_series__loads_with_no_problems_and_no_warnings() -> None:
    paths = bundled_series_paths()
    assert [p.name for p in paths] == ["what_happened.yaml"]
    for path in paths:
        assert load_series_file(path).warnings == []


def test_bundled_what_happened__ten_weeks_in_order_each_complete() -> None:
    bundle = load_bundled_series()
    assert list(bundle) == ["what_happened@1"]
    loaded = bundle["what_happened@1"]
    assert loaded.locales == ["en", "es"]
    assert loaded.total_weeks == 10
    assert [w.number for w in loaded.weeks] == list(range(1, 11))
    assert loaded.book.year == 2021
    for w in loaded.weeks:
        assert MIN_PROMPTS <= len(w.prompts) <= MAX_PROMPTS
        texts = [w.theme, *w.prompts, w.brain_fact.text, w.try_at_home, w.check_in]
        assert all(t["en"].strip() for t in texts)
        assert w.brain_fact.source.strip()
        # One week must fit in one Telegram message (4096 characters).
        assert sum(len(t["en"]) for t in texts) < 4096


def test_bundled_what_happened__names_no_chapters() -> None:
    # Chapter titles differ between editions: the series refers to themes only.
    text = bundled_series_paths()[0].read_text(encoding="utf-8")
    body = text.split("weeks:", 1)[1].lower()
    assert "chapter" not in body


# -- a valid series ------------------------------------------------------------------------------


def test_minimal_series__loads() -> None:
    result = load_series_text(series(week(1), week(2, prompts=3)), "demo.yaml")
    assert result.warnings == []
    loaded = result.series
    assert loaded.key == "demo@1"
    assert loaded.week(2).prompts[2] == {"en": "Prompt 3"}
    assert loaded.text(loaded.week(1).theme, "fr") == "A theme"  # falls back to first locale


def test_series_week__out_of_range__key_error() -> None:
    loaded = load_series_text(series(week(1)), "demo.yaml").series
    with pytest.raises(KeyError, match="weeks 1 to 1, not 2"):
        loaded.week(2)


# -- located problems ----------------------------------------------------------------------------


def test_translation__missing_for_declared_locale__located_at_the_text() -> None:
    head = HEAD.replace("locales: [en]", "locales: [en, es]").replace(
        "title: {en: Demo series}", "title: {en: Demo series, es: Serie}"
    )
    text = series(
        week(1)
        .replace("{en: Prompt 2}", "{en: Prompt 2, es: Pregunta 2}")
        .replace("{en: A theme}", "{en: A theme, es: Un tema}")
        .replace("{en: A fact}", "{en: A fact, es: Un dato}")
        .replace("{en: Try this}", "{en: Try this, es: Prueba}")
        .replace("{en: 'How did it go?'}", "{en: 'How did it go?', es: '¿Qué tal?'}"),
        head=head,
    )
    problem = only(text)
    assert problem.code is ProblemCode.MISSING_TRANSLATION
    assert problem.line == line_of(text, "{en: Prompt 1}")
    assert problem.item_id == "week 1"
    assert "'es'" in problem.message
    assert problem.file == "demo.yaml"


def test_translation__missing_in_title_and_fact__each_reported() -> None:
    head = HEAD.replace("locales: [en]", "locales: [en, es]")
    text = series(week(1), head=head)
    found = problems(text)
    # title, theme, two prompts, brain_fact text, try_at_home, check_in.
    assert [p.code for p in found] == [ProblemCode.MISSING_TRANSLATION] * 7
    assert found[0].line == line_of(text, "title:")
    fact = [p for p in found if "brain_fact" in p.message]
    assert [p.line for p in fact] == [line_of(text, "brain_fact:")]


def test_week_number__duplicated__rejected_at_the_second() -> None:
    text = series(week(1), week(2), week(2), week(3))
    problem = only(text)
    assert problem.code is ProblemCode.DUPLICATE_ID
    assert problem.line == line_of(text, "number: 2", occurrence=2)
    assert f"line {line_of(text, 'number: 2')}" in problem.message
    assert problem.item_id == "week 2"


def test_week_number__gap__rejected_with_the_number_expected() -> None:
    text = series(week(1), week(2), week(4))
    problem = only(text)
    assert problem.code is ProblemCode.WEEK_NUMBERING
    assert problem.line == line_of(text, "number: 4")
    assert problem.item_id == "week 4"
    assert problem.fix == "number this week 3"


def test_week_number__out_of_order__rejected() -> None:
    text = series(week(2), week(1))
    found = problems(text)
    assert [p.code for p in found] == [ProblemCode.WEEK_NUMBERING] * 2
    assert [p.line for p in found] == [line_of(text, "number: 2"), line_of(text, "number: 1")]
    assert "is the first week" in found[0].message


@pytest.mark.parametrize("bad", ["two", "true", "'2'"])
def test_week_number__not_a_number__invalid_field_only(bad: str) -> None:
    text = series(week(1), week(bad), week(3))
    problem = only(text)
    assert problem.code is ProblemCode.INVALID_FIELD
    assert problem.line == line_of(text, f"number: {bad}")


@pytest.mark.parametrize("count", [0, 1, 4])
def test_prompts__wrong_count__rejected(count: int) -> None:
    text = series(week(1), week(2, prompts=count))
    if count == 0:
        text = text.replace("    prompts:\n    brain_fact", "    prompts: []\n    brain_fact")
    problem = only(text)
    assert problem.code is ProblemCode.WRONG_PROMPT_COUNT
    assert problem.line == line_of(text, "prompts:", occurrence=2)
    assert problem.item_id == "week 2"
    assert f"has {count} discussion prompt" in problem.message


def test_week_field__unknown__rejected_at_its_line() -> None:
    text = series(week(1, extra="    homework: {en: Read more}"))
    problem = only(text)
    assert problem.code is ProblemCode.INVALID_FIELD
    assert problem.line == line_of(text, "homework:")
    assert problem.item_id == "week 1"
    assert "check its spelling" in problem.fix


def test_top_level_field__unknown__rejected() -> None:
    text = series(week(1)).replace("version: 1\n", "version: 1\nauthor: me\n")
    problem = only(text)
    assert problem.code is ProblemCode.INVALID_FIELD
    assert problem.line == line_of(text, "author: me")
    assert problem.item_id is None


def test_field__missing__rejected_with_its_name() -> None:
    text = series(week(1).replace("    check_in: {en: 'How did it go?'}\n", ""))
    problem = only(text)
    assert problem.code is ProblemCode.INVALID_FIELD
    assert problem.line == line_of(text, "number: 1")
    assert problem.fix == "add `check_in`"


def test_kind__questionnaire__rejected() -> None:
    text = series(week(1)).replace("kind: series", "kind: questionnaire")
    problem = only(text)
    assert problem.code is ProblemCode.INVALID_FIELD
    assert problem.line == 1


def test_many_mistakes__all_reported_at_once_in_line_order() -> None:
    text = series(
        week(1, prompts=1),
        week(1, extra="    reading: {en: Pages 1-20}"),
        week(5),
    )
    found = problems(text)
    assert [p.code for p in found] == [
        ProblemCode.WRONG_PROMPT_COUNT,
        ProblemCode.DUPLICATE_ID,
        ProblemCode.INVALID_FIELD,
        ProblemCode.WEEK_NUMBERING,
    ]
    assert found == sorted(found, key=lambda p: p.line or 0)


def test_yaml_syntax__broken__located() -> None:
    text = series(week(1)).replace("    theme: {en: A theme}", "    theme: {en: A theme")
    problem = only(text)
    assert problem.code is ProblemCode.YAML_SYNTAX
    assert problem.line is not None
    assert problem.line >= line_of(text, "theme:")


def test_file__not_a_mapping__rejected() -> None:
    problem = only("- just\n- a list\n")
    assert problem.code is ProblemCode.INVALID_FIELD
    assert "not a mapping" in problem.message


def test_long_text__warned_not_rejected() -> None:
    long = "word " * (LONG_PROMPT_CHARS // 5 + 1)
    text = series(week(1).replace("{en: Try this}", f"{{en: {long.strip()}}}"))
    result = load_series_text(text, "demo.yaml")
    assert [(w.code, w.line, w.item_id) for w in result.warnings] == [
        (ProblemCode.LONG_PROMPT, line_of(text, "try_at_home:"), "week 1")
    ]


# -- files and bundles ---------------------------------------------------------------------------


def test_load_series_file__names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(series(week(2)), encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_series_file(path)
    assert caught.value.problems[0].file == str(path)
    assert str(caught.value).startswith(f"{path}:{line_of(series(week(2)), 'number: 2')}:")


def test_load_bundled_series__same_key_twice__rejected(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(series(week(1)), encoding="utf-8")
    second.write_text(series(week(1)), encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_bundled_series([first, second])
    assert caught.value.codes() == [ProblemCode.DUPLICATE_ID]
    assert caught.value.problems[0].file == str(second)
    assert str(first) in caught.value.problems[0].message


def test_load_bundled_series__problems_from_every_file_together(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(series(week(2)), encoding="utf-8")
    second.write_text(series(week(1, prompts=5)), encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_bundled_series([first, second])
    assert caught.value.codes() == [ProblemCode.WEEK_NUMBERING, ProblemCode.WRONG_PROMPT_COUNT]
    assert [p.file for p in caught.value.problems] == [str(first), str(second)]
