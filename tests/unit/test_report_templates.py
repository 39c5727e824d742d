"""The caregiver summary and the clinician HTML report, rendered the way messages/ renders."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from bot.reports import (
    TELEGRAM_LIMIT,
    age_text,
    answer_appendix,
    caregiver_summary,
    chart_pngs,
    clinician_context,
    clinician_html,
    summary_context,
    write_clinician_report,
)
from flows.engine import Answer
from messages.render import document_environment, macro
from scoring import Report, build_report
from scoring.recommend import Scores, recommend
from scoring.report import Recommendation
from scoring.rules import bundled_rules
from tests.unit.families import NOW, age, answers, default_flow, family_ana, family_jay, family_mia

MESSAGES = Path(__file__).resolve().parents[2] / "messages"
TINY_PNG = b"\x89PNG\r\n\x1a\nfake"


def section(html: str, name: str) -> str:
    """The report from a `data-section` marker (messages/<locale>/report.html.j2) to the
    next one: markers are structure, not wording."""
    start = html.rindex("<", 0, html.index(f'data-section="{name}"'))
    end = html.find("data-section=", start + len(name) + 20)
    return html[start:] if end < 0 else html[start:html.rindex("<", 0, end)]


def text_lines(html: str) -> list[str]:
    """What a reader sees, line by line, without markup."""
    plain = re.sub(r"<style.*?</style>|<[^>]+>", "\n", html, flags=re.DOTALL)
    return [line.strip() for line in plain.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(loader=FileSystemLoader(str(MESSAGES)),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined)


def worst_case() -> Report:
    """Jay's report with every recommendation in the rules and the longest name allowed."""
    report = build_report(default_flow(), family_jay(), NOW)
    everything = tuple(
        Recommendation(r.id, r.tier, r.title, r.try_, r.how_often, r.how_long, r.why,
                       ("score:x",), r.stage, r.clinical, r.clinical_title, None,
                       tuple(r.builds_on))
        for r in bundled_rules(report.flow_id).recommendations.recommendations)
    return replace(report, child_name="W" * 40, recommendations=everything,
                   family_note="N" * 1000, urgent=("self_harm", "suicidal"),
                   strengths=tuple(o.value for o in default_flow().item("loves").options
                                   if not o.exclusive))


def test_summary__plain_text_mentions_not_diagnosis_and_next_steps(env: Environment) -> None:
    report = build_report(default_flow(), family_jay(), NOW)
    text = env.get_template("en/summary.txt.j2").render(summary_context(report))
    assert "Thank you for telling us about Jay." in text
    assert "It is not a diagnosis" in text
    assert "Next steps" in text and "erased" in text and "emergency" in text
    assert "1. Start with support for you" in text
    assert "<" not in text and "{" not in text
    assert "\n\n\n" not in text


def test_summary__no_jargon(env: Environment) -> None:
    report = build_report(default_flow(), family_jay(), NOW)
    text = env.get_template("en/summary.txt.j2").render(summary_context(report)).casefold()
    for word in ("brainstem", "limbic", "cortex", "diencephalon", "score", "perinatal"):
        assert word not in text


def test_summary__worst_case__fits_one_telegram_message(env: Environment) -> None:
    report = worst_case()
    text = document_environment().get_template("en/summary.txt.j2").render(
        summary_context(report))
    assert len(text) <= TELEGRAM_LIMIT
    assert caregiver_summary(report) == text.strip() + "\n"
    for rec in report.recommendations:  # every step at least named
        assert rec.title["en"] in text


def test_summary__ordinary_family__going_well_and_keep_going(env: Environment) -> None:
    report = build_report(default_flow(), family_mia(), NOW)
    text = caregiver_summary(report)
    # Going well: every region as expected is listed; nothing needs more support.
    assert report.typical_regions and not report.compromised_regions
    for region in report.typical_regions:
        assert region.plain["en"].capitalize() in text
    keep_going = next(r for r in report.recommendations if r.id == "keep_going")
    assert keep_going.title["en"] in text  # "Keep doing what works"
    # The reserve line: the summary says something about it, and not what it says when
    # a caregiver is worn out.
    assert report.caregiving.band == "reserve"
    unknown = caregiver_summary(replace(report, caregiving=replace(report.caregiving,
                                                                   band="unknown")))
    depleted = caregiver_summary(replace(report, caregiving=replace(report.caregiving,
                                                                    band="depleted")))
    said = [line for line in text.splitlines() if line not in unknown.splitlines()]
    worn = [line for line in depleted.splitlines() if line not in unknown.splitlines()]
    assert said and worn and said[-1] != worn[-1]


def test_html__self_contained_with_everything(env: Environment) -> None:
    flow = default_flow()
    given = family_jay()
    report = build_report(flow, given, NOW)
    appendix = answer_appendix(flow, given)
    html = env.get_template("en/report.html.j2").render(clinician_context(
        report, appendix, "en", *chart_pngs(report, "en")))
    assert html.count('src="data:image/png;base64,') == 2
    assert not re.search(r'(src|href)="(https?:)?//', html)  # works offline
    assert "developmental_history@1" in html and "2026-11-25 16:00" in html
    assert "not a diagnosis" in html
    for rec in report.recommendations:
        assert rec.clinical_title is not None and rec.clinical_title["en"] in html
    assert "Not being fed, kept safe or cared for enough" in html
    for row in appendix:
        assert str(escape(row.prompt)) in html
    assert len(appendix) == len(given)


def test_html__answers_are_escaped(env: Environment) -> None:
    flow = default_flow()
    given = {**family_mia()}
    given["child_name"] = Answer("<script>alert(1)</script>")
    report = build_report(flow, given, NOW)
    html = env.get_template("en/report.html.j2").render(clinician_context(
        report, answer_appendix(flow, given), "en", TINY_PNG, TINY_PNG))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_appendix__prompts_name_the_repeated_option_and_answers_in_words() -> None:
    flow = default_flow()
    rows = {r.key: r for r in answer_appendix(flow, family_ana())}
    assert rows["adv_severity[loss]"].prompt.startswith('"Losing someone they loved"')
    skipped = str(macro("en", "values.j2", "skipped")()).strip()
    assert rows["adv_severity[medical]"].answer == skipped
    child_age = family_ana()["child_age"].value
    assert rows["child_age"].answer == age_text(child_age, "en") != ""
    flow_periods = flow.item("adv_periods")
    assert rows["adv_periods[discrimination]"].answer == "; ".join(
        flow_periods.option(v).label["en"] for v in ("childhood", "adolescence"))


def test_write_clinician_report__html_and_two_pngs(tmp_path: Path) -> None:
    flow = default_flow()
    report = build_report(flow, family_ana(), NOW)
    paths = write_clinician_report(report, answer_appendix(flow, family_ana()), tmp_path)
    assert [p.suffix for p in paths] == [".html", ".png", ".png"]
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_recommend__scores_value__is_what_build_report_uses() -> None:
    report = build_report(default_flow(), family_mia(), NOW)
    again = recommend(bundled_rules(report.flow_id).recommendations, Scores(
        answers=family_mia(), functions=report.functions, regions=report.regions,
        periods=report.periods, current_relational=report.current_relational,
        caregiving=report.caregiving))
    assert tuple(again) == report.recommendations


def test_reports__locale_without_templates__falls_back_to_english() -> None:
    flow = default_flow()
    report = build_report(flow, family_mia(), NOW)
    assert caregiver_summary(report, "fr") == caregiver_summary(report, "en")
    html = clinician_html(report, answer_appendix(flow, family_mia(), "fr"), "fr",
                          charts=(TINY_PNG, TINY_PNG))
    english = clinician_html(report, answer_appendix(flow, family_mia(), "en"), "en",
                             charts=(TINY_PNG, TINY_PNG))
    assert html == english


def test_reports__spanish__whole_report_in_spanish() -> None:
    flow = default_flow()
    given = family_ana()
    report = build_report(flow, given, NOW)
    summary = caregiver_summary(report, "es")
    english = caregiver_summary(report, "en")
    assert "Ana" in summary.splitlines()[0]
    # No English reaches a Spanish reader: no line of the English summary is in the
    # Spanish one, except the data both carry.
    titles = {rec.title["en"] for rec in report.recommendations} | {"Ana"}
    shared = set(summary.splitlines()) & set(english.splitlines())
    assert shared <= {"", *titles}, shared
    html = clinician_html(report, answer_appendix(flow, given, "es"), "es",
                          charts=(TINY_PNG, TINY_PNG))
    english_html = clinician_html(report, answer_appendix(flow, given, "en"), "en",
                                  charts=(TINY_PNG, TINY_PNG))
    seen = set(text_lines(section(html, "header")))
    assert not seen & set(text_lines(section(english_html, "header"))), seen
    appendix = section(html, "appendix")
    assert str(macro("es", "values.j2", "skipped")()).strip() in appendix
    assert age_text(report.age, "es") in appendix and age_text(report.age, "es") != age_text(
        report.age, "en")
    english_heading = text_lines(section(english_html, "appendix"))[0]
    assert text_lines(appendix)[0] != english_heading and english_heading not in html
    for rec in report.recommendations:
        assert rec.title["es"] in summary
        assert rec.clinical_title is not None and rec.clinical_title["es"] in html


# -- reports for their reader (issue 15) -----------------------------------------------------

INTERNAL_IDS = re.compile(r"\b(score:|upset_often|bs_[a-z]+|cx_[a-z]+|lb_[a-z]+|dc_[a-z]+|"
                          r"cg_[a-z]+|now_[a-z]+|adv_[a-z]+|rel_[a-z]+)\b")


def _clinician(given: dict[str, Answer], locale: str = "en") -> str:
    flow = default_flow()
    report = build_report(flow, given, NOW)
    return clinician_html(report, answer_appendix(flow, given, locale), locale,
                          charts=(TINY_PNG, TINY_PNG), flow=flow)


def test_clinician_report__speaks_to_a_clinician__no_ids_no_you() -> None:
    """Findings rest on question text, never on internal ids; nothing addresses the
    reader as the parent ("You are running close to empty")."""
    for family in (family_jay(), family_mia(), family_ana()):
        html = _clinician(family)
        body = re.sub(r"<[^>]+>", " ", html.split('data-section="appendix"')[0])
        for row in answer_appendix(default_flow(), family):  # questions quoted as asked
            body = body.replace(str(escape(row.prompt)), "")
        assert not INTERNAL_IDS.search(body), INTERNAL_IDS.search(body)
        assert not re.search(r"\b[Yy]ou\b", body)


def test_clinician_report__one_age_everywhere() -> None:
    """One consistent age: "8 years" in the header and in the appendix, never "96 months"."""
    html = _clinician(family_jay())
    eight = age_text(build_report(default_flow(), family_jay(), NOW).age, "en")
    assert eight == age_text(age(96), "en") and "8" in eight and "96" not in eight
    assert eight in section(html, "header") and eight in section(html, "appendix")
    assert not re.search(r"\b96\s+[^\W\d_]", " ".join(text_lines(html)))  # never "96 months"


def test_clinician_report__state_in_words_and_what_recs_rest_on() -> None:
    flow = default_flow()
    html = _clinician(family_jay())
    assert flow.item("upset_often").option("daily").label["en"] in html  # "Most days"
    assert ">daily<" not in html and "weekly" not in html
    rests_on = [html[m.start():html.index("</p>", m.start())]
                for m in re.finditer('data-section="rests-on"', html)]
    assert rests_on and flow.item("bs_arousal").prompt["en"] in "".join(rests_on)


def test_reports__family_words__quoted_in_both() -> None:
    given = {**family_jay(), "finish_note": Answer("Nightmares since the crash; help with bedtime")}
    report = build_report(default_flow(), given, NOW)
    assert "Nightmares since the crash" in caregiver_summary(report)
    assert "Nightmares since the crash" in _clinician(given)


def test_summary__names_no_report_the_family_does_not_get() -> None:
    for report in (worst_case(), build_report(default_flow(), family_jay(), NOW)):
        for locale in ("en", "es"):
            text = caregiver_summary(report, locale).casefold()
            assert "full report" not in text and "informe completo" not in text


def test_summary__says_why_and_builds_on_what_the_child_enjoys() -> None:
    given = {**family_jay(), "loves": Answer(["moving", "music"])}
    report = build_report(default_flow(), given, NOW)
    text = caregiver_summary(report)
    rhythm = next(r for r in report.recommendations if r.id == "calm_before_talk")
    assert rhythm.builds_on == ("music",)
    why = report.recommendations[0].why["en"]
    assert any(line.endswith(why) and line != why for line in text.splitlines())  # labelled
    music = default_flow().item("loves").option("music").label["en"]
    assert music.split(":")[0] in text


def test_teen_worries__urgent_note_at_the_top_of_the_clinician_report() -> None:
    given = {**family_ana(), "teen_worries": Answer(["self_harm", "substances"])}
    html = _clinician(given)
    urgent = html.index('class="urgent"')
    assert urgent < html.index('data-section="timeline"')
    assert default_flow().item("teen_worries").option("self_harm").label["en"] in html
    report = build_report(default_flow(), given, NOW)
    assert report.recommendations[0].id == "teen_safety"  # before any regulate step


def test_teen_worries__nothing_of_this__no_urgent_note() -> None:
    html = _clinician({**family_ana(), "teen_worries": Answer(["none"])})
    assert 'class="urgent"' not in html


def test_clinician_report__unknown_timing_marked() -> None:
    given = answers(child_age=age(96), adv_types=["sexual_harm"],
                    adv_periods__sexual_harm=["not_sure"], adv_severity__sexual_harm="severe")
    html = _clinician(given)
    assert 'data-timing="unknown"' in html
    known = _clinician(answers(child_age=age(96), adv_types=["sexual_harm"],
                               adv_periods__sexual_harm=["childhood"],
                               adv_severity__sexual_harm="severe"))
    assert 'data-timing="unknown"' not in known
    # The overall risk says timing is unknown for one experience: a sentence more.
    overall = text_lines(section(html, "timeline"))[1:3]
    assert overall != text_lines(section(known, "timeline"))[1:3]


def test_connection_mostly_unknown__shown_as_not_known_not_zero() -> None:
    """Two of three "I don't know" and one "very little": the period's connection is not
    known, and no 0% appears for it."""
    given = answers(child_age=age(96), rel_peri_bond="little", rel_peri_family="unknown",
                    rel_peri_community="unknown")
    report = build_report(default_flow(), given, NOW)
    perinatal = report.period("perinatal")
    assert perinatal.relational_health == 0 and perinatal.shown_health is None
    row = _clinician(given).split(perinatal.label["en"])[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, flags=re.DOTALL)
    health = re.sub(r"<span.*", "", cells[3], flags=re.DOTALL).strip()
    assert "0%" not in row and health and not re.search(r"\d", health)


def test_timeline__tallest_bar_is_the_highest_weighted_risk() -> None:
    """Ana: more unweighted load in childhood and adolescence, but the highest weighted risk
    is perinatal; the picture must show what the text says."""
    from scoring.chart import timeline_bars

    report = build_report(default_flow(), family_ana(), NOW)
    bars = timeline_bars(report)
    periods = list(report.reached_periods)
    tallest = periods[bars.index(max(bars))]
    assert tallest.risk == max(p.risk for p in periods)
    assert max(periods, key=lambda p: p.load).period != tallest.period
