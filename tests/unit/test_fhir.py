"""FHIR R4: the Questionnaire and responses validate, enableWhen mapping, import, round trip."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.data import fhir
from bot.data.importer import ImportProblem, read_response
from flows.answers import clean_text
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Answer
from flows.schema import AllOf, AnyOf, Condition, Flow, ItemType, Op
from tests.unit.data_helpers import interview
from tests.unit.families import (
    NOW,
    default_flow,
    family_ana,
    family_jay,
    family_mia,
    walk,
)

CATALOG = FlowCatalog.bundled("developmental_history")


def sample() -> Flow:
    return CATALOG.latest("sample")


def sample_answers() -> dict[str, Answer]:
    return {
        "child_name": Answer("Sam"),
        "child_age": Answer(AgeValue(24, 36, "about 2 or 3")),
        "respondent": Answer("foster"),
        "sleep": Answer(3),
        "siblings": Answer(2.5),
        "worries": Answer(["sleep", "moods"]),
        "worry_since[sleep]": Answer(["baby", "toddler"]),
        "worry_level[sleep]": Answer(3),
        "worry_note[sleep]": Answer("Wakes at 3am"),
        "worry_since[moods]": Answer(["toddler"]),
        "worry_level[moods]": Answer(1),
        "prenatal_stress": Answer("no"),
    }


BACKGROUND = ("pre_alcohol", "pre_drugs", "pre_nutrition", "pre_stress", "premature",
              "birth_difficult", "family_history")


def complete(answers: dict[str, Answer]) -> dict[str, Answer]:
    """A scoring family made a whole sent interview: the background answered too."""
    return {**dict.fromkeys(BACKGROUND, Answer("unknown")), **answers}


def given_values(answers: dict[str, Answer]) -> dict[str, Any]:
    return {k: a.value for k, a in answers.items() if a.value is not None}


# -- the Questionnaire ---------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(CATALOG.flows))
def test_questionnaire__every_bundled_flow__valid_fhir(key: str) -> None:
    flow = CATALOG.get(key)
    resource = fhir.questionnaire(flow)
    parsed = Questionnaire.model_validate(resource)
    assert parsed.url == f"urn:hearth:questionnaire:{flow.id}" and parsed.version == "1"
    link_ids = [i.linkId for g in parsed.item for i in g.item]
    assert all(flow.has_item(x) or x.endswith(".for") for x in link_ids)


def test_questionnaire__types_options_repeats_mapped() -> None:
    resource = fhir.questionnaire(default_flow())
    groups = {g["linkId"]: g for g in resource["item"]}
    items = {i["linkId"]: i for g in resource["item"] for i in g["item"]}
    assert items["child_age"]["type"] == "quantity"
    assert items["pre_alcohol"]["type"] == "choice"
    assert [o["valueCoding"]["code"] for o in items["pre_alcohol"]["answerOption"]] == [
        "yes", "no", "unknown"]
    assert items["adv_types"]["repeats"] is True
    none = next(o for o in items["adv_types"]["answerOption"]
                if o["valueCoding"]["code"] == "none")
    assert none["extension"] == [{"url": fhir.OPTION_EXCLUSIVE, "valueBoolean": True}]
    assert items["cg_children"]["type"] == "decimal"
    detail = groups["adversity_detail"]
    assert detail["repeats"] is True
    assert detail["item"][0]["linkId"] == "adversity_detail.for"
    assert {"url": fhir.EXT_REPEAT_FOR, "valueString": "adv_types"} in detail["extension"]
    # Option-level rules cannot be said in R4: they travel as an extension.
    infancy = next(o for o in items["adv_periods"]["answerOption"]
                   if o["valueCoding"]["code"] == "infancy")
    assert infancy["extension"][0]["url"] == fhir.EXT_OPTION_RULE


def test_questionnaire__sample_scale_and_text() -> None:
    items = {i["linkId"]: i for g in fhir.questionnaire(sample())["item"] for i in g["item"]}
    assert items["sleep"]["type"] == "integer"
    assert {"url": fhir.MIN_VALUE, "valueInteger": 0} in items["sleep"]["extension"]
    assert items["child_name"]["type"] == "string" and items["child_name"]["maxLength"] == 40


# -- enableWhen --------------------------------------------------------------------------------


def when(rule: Any) -> dict[str, Any]:
    return fhir.enable_when(default_flow(), rule)


def test_enable_when__age_gte__one_quantity_condition() -> None:
    assert when(Condition(item="child_age", op=Op.GTE, value=13)) == {
        "enableWhen": [{"question": "child_age", "operator": ">=",
                        "answerQuantity": {"value": 13, **fhir.MONTHS}}]}


def test_enable_when__not_equals__unanswered_said_separately() -> None:
    result = when(Condition(item="respondent", op=Op.NOT_EQUALS, value="clinician"))
    assert result["enableBehavior"] == "any"
    assert [(e["operator"], e.get("answerBoolean")) for e in result["enableWhen"]] == [
        ("exists", False), ("!=", None)]


def test_enable_when__in__one_equals_each_behavior_any() -> None:
    result = when(Condition(item="living", op=Op.IN, value=["foster", "kin"]))
    assert result["enableBehavior"] == "any"
    assert [e["answerCoding"]["code"] for e in result["enableWhen"]] == ["foster", "kin"]


def test_enable_when__all_of_simple__behavior_all() -> None:
    rule = AllOf(all=[Condition(item="child_age", op=Op.GTE, value=12),
                      Condition(item="adv_types", op=Op.INCLUDES, value="neglect")])
    result = when(rule)
    assert result["enableBehavior"] == "all" and len(result["enableWhen"]) == 2


def test_enable_when__nested_any_of_all_flattened_one_level() -> None:
    rule = AnyOf(any=[Condition(item="adv_types", op=Op.NOT_ANSWERED),
                      AnyOf(any=[Condition(item="adv_types", op=Op.INCLUDES, value="loss")])])
    result = when(rule)
    assert result["enableBehavior"] == "any" and len(result["enableWhen"]) == 2


@pytest.mark.parametrize(
    "rule",
    [
        # OR inside AND: FHIR has one behavior per item.
        AllOf(all=[Condition(item="child_age", op=Op.GTE, value=12),
                   Condition(item="living", op=Op.IN, value=["foster", "kin"])]),
        AnyOf(any=[AllOf(all=[Condition(item="child_age", op=Op.GTE, value=12),
                              Condition(item="living", op=Op.EQUALS, value="kin")]),
                   Condition(item="respondent", op=Op.EQUALS, value="parent")]),
        # "equals" on a multiple choice compares the whole list: FHIR's = does not.
        Condition(item="adv_types", op=Op.EQUALS, value="none"),
    ],
)
def test_enable_when__not_expressible__kept_whole_in_extension(rule: Any) -> None:
    result = when(rule)
    assert "enableWhen" not in result
    [extension] = result["extension"]
    assert extension["url"] == fhir.EXT_RULE and '"item"' in extension["valueString"]


def test_enable_when__bundled_flows__every_rule_expressible() -> None:
    for flow in CATALOG.flows.values():
        for section in flow.sections:
            assert fhir.expressible(flow, section.enable_when), section.id
            for item in section.items:
                assert fhir.expressible(flow, item.enable_when), item.id


# -- QuestionnaireResponse -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "amended", "status"),
    [("answering", False, "in-progress"), ("paused", False, "in-progress"),
     ("consent", False, "in-progress"), ("review", False, "in-progress"),
     ("submitted", False, "completed"), ("submitted", True, "amended"),
     ("withdrawn", False, "stopped")],
)
def test_response__status_from_lifecycle(state: str, amended: bool, status: str) -> None:
    data = interview(default_flow(), family_mia(), state=state)
    if amended:
        later = data.record.submitted_at + timedelta(days=1)  # type: ignore[operator]
        data = interview(default_flow(), family_mia(), state=state, last_answer_at=later)
    resource = fhir.questionnaire_response(default_flow(), data, include_nicknames=False)
    assert QuestionnaireResponse.model_validate(resource).status == status


@pytest.mark.parametrize("family", [family_mia, family_jay, family_ana])
def test_response__families__valid_fhir_no_nickname_unless_asked(family: Any) -> None:
    flow = default_flow()
    data = interview(flow, family(), interview_id="x_Y-z")
    withheld = fhir.questionnaire_response(flow, data, include_nicknames=False)
    parsed = QuestionnaireResponse.model_validate(withheld)
    assert parsed.id == "x.Y-z" and parsed.identifier.value == "x_Y-z"
    assert "child_name" not in str(withheld)
    shown = fhir.questionnaire_response(flow, data, include_nicknames=True)
    assert "child_name" in str(shown)


# -- round trip and import ------------------------------------------------------------------


# Ana's severity of a medical event was skipped, a required answer: she is mid-way.
@pytest.mark.parametrize(
    ("family", "state", "imported_as"),
    [(family_mia, "submitted", "submitted"), (family_jay, "submitted", "submitted"),
     (family_ana, "paused", "paused")],
)
def test_round_trip__families__same_answers(family: Any, state: str, imported_as: str) -> None:
    flow = default_flow()
    answers = complete(family())
    resource = fhir.questionnaire_response(flow, interview(flow, answers, state=state),
                                           include_nicknames=True)
    imported = read_response(CATALOG, resource)
    assert not isinstance(imported, list), imported
    assert imported.answers == given_values(answers)
    assert imported.state.value == imported_as


def test_round_trip__sample__fuzzy_age_decimal_repeats() -> None:
    flow = sample()
    answers = sample_answers()
    resource = fhir.questionnaire_response(flow, interview(flow, answers, state="paused"),
                                           include_nicknames=True)
    assert QuestionnaireResponse.model_validate(resource).status == "in-progress"
    imported = read_response(CATALOG, resource)
    assert not isinstance(imported, list), imported
    assert imported.answers == given_values(answers)
    assert imported.answers["child_age"] == AgeValue(24, 36, "about 2 or 3")
    assert imported.state.value == "paused"


def problems(resource: dict[str, Any]) -> list[tuple[str, str]]:
    result = read_response(CATALOG, resource)
    assert isinstance(result, list), "expected problems"
    return [(p.link_id, p.code) for p in result]


def jay_response() -> dict[str, Any]:
    flow = default_flow()
    return fhir.questionnaire_response(flow, interview(flow, complete(family_jay())),
                                       include_nicknames=True)


def find(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    for group in resource["item"]:
        for item in group["item"]:
            if item["linkId"] == link_id:
                return item  # type: ignore[no-any-return]
    raise KeyError(link_id)


def test_import__every_problem_by_link_id() -> None:
    bad = jay_response()
    find(bad, "bs_sleep")["answer"] = [{"valueCoding": {"code": "sometimes"}}]
    find(bad, "living")["answer"] = [{"valueString": "foster"}]
    find(bad, "cg_children")["answer"] = [{"valueDecimal": 99}]
    bad["item"][0]["item"].append({"linkId": "shoe_size", "answer": [{"valueInteger": 3}]})
    groups = [g for g in bad["item"] if g["linkId"] != "fn_limbic"]
    bad["item"] = groups
    found = problems(bad)
    assert ("bs_sleep", "not_an_option") in found
    assert ("living", "wrong_type") in found
    assert ("cg_children", "out_of_range") in found
    assert ("shoe_size", "unknown_link_id") in found
    assert ("lb_attune", "required_missing") in found


def test_import__answer_the_skip_rules_would_not_ask__reported() -> None:
    bad = jay_response()
    find(bad, "child_age")["answer"] = [{"valueQuantity": {"value": 30, **fhir.MONTHS}}]
    found = problems(bad)
    # At 30 months the 4-11 years connection questions are not asked.
    assert ("rel_child_bond", "not_enabled") in found


def test_import__exclusive_option_combined__reported() -> None:
    bad = jay_response()
    types = find(bad, "adv_types")
    types["answer"].append({"valueCoding": {"code": "none"}})
    assert ("adv_types", "exclusive_option") in problems(bad)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"resourceType": "Patient"}, ("(resource)", "not_a_response")),
        ({"questionnaire": "urn:hearth:questionnaire:other|1"},
         ("(resource)", "unknown_questionnaire")),
        ({"status": "entered-in-error"}, ("(resource)", "status")),
        ({"authored": "yesterday"}, ("(resource)", "authored")),
    ],
)
def test_import__resource_level_problems(change: dict[str, Any], expected: tuple[str, str]
                                         ) -> None:
    bad = copy.deepcopy(jay_response()) | change
    assert expected in problems(bad)


def test_import__repeated_group_without_marker__reported() -> None:
    bad = jay_response()
    detail = next(g for g in bad["item"] if g["linkId"] == "adversity_detail")
    detail["item"] = detail["item"][1:]
    assert ("adversity_detail.for", "repeat_marker_missing") in problems(bad)


def test_import__problem_has_message() -> None:
    from bot.data.render import text

    problem = ImportProblem("bs_sleep", "not_an_option", {"value": "zq", "options": ["a", "b"]})
    said = text("en", "import_problem", link_id=problem.link_id, code=problem.code,
                params=problem.params)
    # It names the item, the value sent and the options expected, and says this problem,
    # not another one's words.
    assert said.startswith("bs_sleep: ") and '"zq"' in said and "a, b" in said
    other = text("en", "import_problem", link_id=problem.link_id, code="answered_twice",
                 params={})
    assert said != other and not said.startswith(other.rstrip("."))


def test_response__authored_and_nothing_identifying() -> None:
    flow = default_flow()
    resource = fhir.questionnaire_response(flow, interview(flow, family_jay()),
                                           include_nicknames=False)
    assert resource["authored"] == (NOW + timedelta(minutes=20)).isoformat(timespec="seconds")
    assert "subject" not in resource and "author" not in resource and "source" not in resource


# -- property: any path through a flow survives the round trip -------------------------------

# As a typed answer is kept: normalised (NFC), so "豈" is stored as the character it means.
TEXT = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=30).map(
    clean_text).filter(bool)


def random_policy(draw: st.DrawFn) -> Any:
    def policy(question: Any, offered: list[str]) -> Any:
        item = question.item
        if not item.required and draw(st.booleans()):
            return None
        if item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
            return draw(st.sampled_from(offered))
        if item.type is ItemType.MULTI_CHOICE:
            exclusive = {o.value for o in item.options if o.exclusive}
            plain = [v for v in offered if v not in exclusive]
            if not plain or draw(st.integers(0, 4)) == 0:
                return [draw(st.sampled_from(offered))]
            picked = draw(st.lists(st.sampled_from(plain), min_size=1, unique=True))
            return [v for v in offered if v in picked]  # the flow's order, as stored
        if item.type is ItemType.SCALE:
            return draw(st.integers(int(item.min or 0), int(item.max or 0)))
        if item.type is ItemType.NUMBER:
            low, high = int(item.min or 0), int(item.max or 20)
            return draw(st.integers(low, high) | st.sampled_from([low + 0.5]))
        if item.type is ItemType.AGE:
            low = draw(st.integers(0, 200))
            high = draw(st.integers(low, min(low + 12, 216)))
            words = draw(st.none() | TEXT) if high > low else None
            return AgeValue(low, high, words)
        return draw(TEXT)

    return policy


@settings(max_examples=40, deadline=None)
@given(data=st.data(), key=st.sampled_from(sorted(CATALOG.flows)))
def test_round_trip__any_path__same_answers(data: st.DataObject, key: str) -> None:
    flow = CATALOG.get(key)
    answers = walk(flow, random_policy(data.draw))
    resource = fhir.questionnaire_response(flow, interview(flow, answers),
                                           include_nicknames=True)
    QuestionnaireResponse.model_validate(resource)
    imported = read_response(CATALOG, resource)
    assert not isinstance(imported, list), imported
    assert imported.answers == given_values(answers)


AGE_WITH_ODD_EXTENSION = [{"linkId": "about", "item": [{"linkId": "child_age", "answer": [
    {"valueQuantity": {"value": 30, "code": "mo"}, "extension": 5}]}]}]


@pytest.mark.parametrize("broken", [{"item": "x"}, {"item": [1, None]},
                                    {"item": AGE_WITH_ODD_EXTENSION},
                                    {"item": [{"linkId": "adversity_detail", "item": 7}]},
                                    {"item": [{"linkId": "about", "item": [{"linkId": 3}]}]}])
def test_import__malformed_shapes__problems_not_crashes(broken: dict[str, Any]) -> None:
    assert problems(copy.deepcopy(jay_response()) | broken)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["linkId", "item", "answer", "valueCoding", "code", "valueString",
                         "valueQuantity", "value", "extension", "url"]), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(items=JSON)
def test_import__any_json_items__problems_never_a_crash(items: Any) -> None:
    resource = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
                "questionnaire": "urn:hearth:questionnaire:sample|1", "item": items}
    result = read_response(CATALOG, resource)
    assert isinstance(result, list) or result.flow.id == "sample"
