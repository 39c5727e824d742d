"""Skip logic, progress, back/skip/edit and lifecycle guards, as pure functions of the answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.catalog import FlowCatalog
from flows.engine import (
    SECONDS_PER_QUESTION,
    AgeValue,
    Answer,
    missing_needed,
    missing_required,
    next_question,
    previous_question,
    progress,
    questions,
    revisit,
    stage,
    typical_counts,
)
from flows.lifecycle import Lifecycle, NotAllowed, State, Trigger
from flows.schema import Flow


@pytest.fixture(scope="module")
def flow(catalog: FlowCatalog) -> Flow:
    return catalog.latest("sample")


def age(months: int) -> Answer:
    return Answer(AgeValue(months, months))


BASE = {
    "child_name": Answer("Sam"),
    "child_age": age(30),
    "respondent": Answer("parent"),
    "sleep": Answer(2),
    "siblings": Answer(1),
}


def keys(flow: Flow, answers: dict[str, Answer]) -> list[str]:
    return [q.key for q in questions(flow, answers)]


def test_first_question__is_the_first_item(flow: Flow) -> None:
    question = next_question(flow, {})
    assert question is not None and question.key == "child_name"


def test_repeated_section__asked_once_per_ticked_option_in_flow_order(flow: Flow) -> None:
    answers = {**BASE, "worries": Answer(["moods", "sleep"])}
    assert [k for k in keys(flow, answers) if k.startswith("worry_")] == [
        "worry_since[sleep]",
        "worry_level[sleep]",
        "worry_since[moods]",
        "worry_level[moods]",
    ]


def test_repeated_section__exclusive_none__asks_nothing_more(flow: Flow) -> None:
    answers = {**BASE, "worries": Answer(["none"])}
    assert not [k for k in keys(flow, answers) if k.startswith("worry_")]


def test_condition_inside_repeat__reads_its_own_copy(flow: Flow) -> None:
    answers = {
        **BASE,
        "worries": Answer(["sleep", "moods"]),
        "worry_since[sleep]": Answer(["baby"]),
        "worry_level[sleep]": Answer(3),
        "worry_since[moods]": Answer(["baby"]),
        "worry_level[moods]": Answer(1),
    }
    ks = keys(flow, answers)
    assert "worry_note[sleep]" in ks and "worry_note[moods]" not in ks


def test_section_condition__no_school_questions_for_a_toddler(flow: Flow) -> None:
    assert "school_feel" not in keys(flow, {**BASE, "child_age": age(30)})
    assert "school_feel" in keys(flow, {**BASE, "child_age": age(72)})


def test_fuzzy_age__counts_as_reached_if_its_upper_end_is(flow: Flow) -> None:
    fuzzy = Answer(AgeValue(54, 66, "about 5"))
    assert "school_feel" in keys(flow, {**BASE, "child_age": fuzzy})


def test_option_condition__only_periods_reached_are_offered(flow: Flow) -> None:
    from flows.engine import enabled_options, find_question

    answers = {**BASE, "child_age": age(8), "worries": Answer(["sleep"])}
    question = find_question(flow, answers, "worry_since[sleep]")
    assert question is not None
    assert [o.value for o in enabled_options(flow, question, answers)] == ["baby"]
    answers["child_age"] = age(50)
    assert [o.value for o in enabled_options(flow, question, answers)] == [
        "baby",
        "toddler",
        "school",
    ]


def test_yes_no_condition__follow_up_only_after_yes(flow: Flow) -> None:
    answers = {**BASE, "worries": Answer(["none"]), "prenatal_stress": Answer("no")}
    assert "prenatal_note" not in keys(flow, answers)
    answers["prenatal_stress"] = Answer("yes")
    assert "prenatal_note" in keys(flow, answers)


def test_skipped_required__offered_again_once_after_every_question_was_seen(flow: Flow) -> None:
    answers = {
        **BASE,
        "respondent": Answer(None, skips=1),
        "worries": Answer(["none"]),
        "prenatal_stress": Answer("no"),
    }
    assert next_question(flow, answers) is None  # every question was seen
    assert [q.key for q in revisit(flow, answers)] == ["respondent"]
    answers["respondent"] = Answer(None, skips=2)  # skipped again: left for good
    assert revisit(flow, answers) == []
    assert [q.key for q in missing_required(flow, answers)] == ["respondent"]
    assert missing_needed(flow, answers) == []  # the flow can be sent without it


def test_skipped_optional__not_offered_again(flow: Flow) -> None:
    answers = {
        **BASE,
        "siblings": Answer(None, skips=1),
        "worries": Answer(["none"]),
        "prenatal_stress": Answer("no"),
    }
    assert next_question(flow, answers) is None
    assert revisit(flow, answers) == []
    assert missing_required(flow, answers) == []


def test_needed__only_the_flows_needed_items_block_sending(flow: Flow) -> None:
    assert flow.needed == ["child_age"]
    answers = {**BASE, "child_age": Answer(None, skips=2), "worries": Answer(["none"])}
    assert [q.key for q in missing_needed(flow, answers)] == ["child_age"]
    assert not Lifecycle(flow).may(State.REVIEW, Trigger.SUBMIT, answers)
    answers["child_age"] = Answer(AgeValue(30, 30))
    answers["respondent"] = Answer(None, skips=2)
    assert Lifecycle(flow).may(State.REVIEW, Trigger.SUBMIT, answers)


def test_stage__sections_counted_once_questions_left_and_minutes(flow: Flow) -> None:
    answers = {"child_name": Answer("Sam"), "child_age": Answer(AgeValue(30, 30))}
    at = stage(flow, answers, "respondent")
    assert (at.section, at.title_section, at.left_here) == (1, "about", 1)
    # The rest of this part as it is, the parts ahead as a typical path has them.
    typical = typical_counts(flow)
    ahead = sum(typical.get(s.id, 0) for s in flow.sections[1:])
    assert ahead > 0
    assert at.minutes_left == -(-(1 + ahead) * SECONDS_PER_QUESTION // 60)
    ticked = {**answers, "respondent": Answer("parent"), "sleep": Answer(2),
              "siblings": Answer(0), "worries": Answer(["sleep", "eating", "moods"])}
    first_repeat = stage(flow, ticked, "worry_since[sleep]")
    last_repeat = stage(flow, ticked, "worry_level[moods]")
    # A section repeated for three worries is one part of the count, not three.
    assert first_repeat.section == last_repeat.section == 3
    assert first_repeat.sections == stage(flow, ticked, "respondent").sections


def test_edit_that_disables_answers__they_stop_counting_but_are_kept(flow: Flow) -> None:
    answers = {
        **BASE,
        "worries": Answer(["sleep"]),
        "worry_since[sleep]": Answer(["baby"]),
        "worry_level[sleep]": Answer(1),
        "prenatal_stress": Answer("no"),
    }
    before = progress(flow, answers, None)
    answers["worries"] = Answer(["none"])
    after = progress(flow, answers, None)
    assert "worry_level[sleep]" in answers  # kept
    assert after.total == before.total - 2 and after.answered == before.answered - 2


def test_back__goes_to_previous_enabled_question(flow: Flow) -> None:
    answers = {**BASE, "worries": Answer(["none"])}
    previous = previous_question(flow, answers, "prenatal_stress")
    assert previous is not None and previous.key == "worries"
    assert previous_question(flow, answers, "child_name") is None
    last = previous_question(flow, answers, None)
    assert last is not None and last.key == "prenatal_stress"


def test_progress__position_and_total(flow: Flow) -> None:
    where = progress(flow, BASE, "sleep")
    assert (where.position, where.answered) == (4, 5)
    assert where.total == len(questions(flow, BASE))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["sleep", "eating", "moods", "school", "none"]), unique=True, min_size=1
    ),
    st.integers(0, 216),
)
def test_next_question__always_enabled_and_unanswered(
    flow: Flow, worries: list[str], months: int
) -> None:
    answers = {**BASE, "child_age": age(months), "worries": Answer(worries)}
    question = next_question(flow, answers)
    enabled = keys(flow, answers)
    assert question is None or (question.key in enabled and question.key not in answers)


# -- lifecycle ------------------------------------------------------------------------------


def test_lifecycle__consent_then_answering(flow: Flow) -> None:
    life = Lifecycle(flow)
    assert life.fire(State.CONSENT, Trigger.AGREE, {}) is State.ANSWERING


def test_lifecycle__finish_guarded_by_questions_left(flow: Flow) -> None:
    life = Lifecycle(flow)
    with pytest.raises(NotAllowed):
        life.fire(State.ANSWERING, Trigger.FINISH, BASE)
    done = {**BASE, "worries": Answer(["none"]), "prenatal_stress": Answer("no")}
    assert life.fire(State.ANSWERING, Trigger.FINISH, done) is State.REVIEW


def test_lifecycle__submit_guarded_by_the_needed_answers_only(flow: Flow) -> None:
    life = Lifecycle(flow)
    gaps = {
        **BASE,
        "child_age": Answer(None, 2),
        "respondent": Answer(None, 2),
        "worries": Answer(["none"]),
        "prenatal_stress": Answer("no"),
    }
    assert not life.may(State.REVIEW, Trigger.SUBMIT, gaps)  # the age is needed
    gaps["child_age"] = Answer(AgeValue(30, 30))
    # "respondent" is required (offered again once) but not needed to send.
    assert life.fire(State.REVIEW, Trigger.SUBMIT, gaps) is State.SUBMITTED


def test_lifecycle__resume_returns_to_consent_if_never_agreed(flow: Flow) -> None:
    life = Lifecycle(flow)
    assert life.fire(State.PAUSED, Trigger.RESUME, {}, consented=False) is State.CONSENT
    assert life.fire(State.PAUSED, Trigger.RESUME, {}, consented=True) is State.ANSWERING


@pytest.mark.parametrize("state", list(State))
def test_lifecycle__withdraw_from_any_state(flow: Flow, state: State) -> None:
    assert Lifecycle(flow).fire(state, Trigger.WITHDRAW, {}) is State.WITHDRAWN


def test_lifecycle__submitted_cannot_be_answered_again(flow: Flow) -> None:
    life = Lifecycle(flow)
    for trigger in (Trigger.EDIT, Trigger.PAUSE, Trigger.AGREE, Trigger.SUBMIT):
        assert not life.may(State.SUBMITTED, trigger, BASE)


def test_lifecycle__one_machine_shared__models_do_not_accumulate(flow: Flow) -> None:
    life = Lifecycle(flow)
    for _ in range(50):
        life.fire(State.CONSENT, Trigger.AGREE, {})
        life.may(State.ANSWERING, Trigger.SKIP, {})
    assert len(life._machine.models) == 1


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("trigger", list(Trigger))
@pytest.mark.parametrize("consented", [True, False])
def test_lifecycle__may__agrees_with_fire_for_every_state_and_trigger(
    flow: Flow, state: State, trigger: Trigger, consented: bool
) -> None:
    # `may` reads the machine's transitions; `fire` runs them. They must never disagree,
    # guards included (nothing answered: FINISH and SUBMIT are refused).
    life = Lifecycle(flow)
    try:
        life.fire(state, trigger, {}, consented=consented)
        fired = True
    except NotAllowed:
        fired = False
    assert life.may(state, trigger, {}, consented=consented) is fired


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["sleep", "eating", "moods", "school", "none"]), unique=True),
    st.integers(0, 216),
    st.sampled_from(["yes", "no", "unknown"]),
    st.sampled_from(
        [
            "child_name",
            "worries",
            "worry_since[sleep]",
            "worry_note[moods]",
            "worry_note",
            "prenatal_note",
            "school_feel",
            "worry_level[school]",
            "ghost",
            "sleep[x]",
        ]
    ),
)
def test_question_at__agrees_with_a_full_walk(
    flow: Flow, worries: list[str], months: int, stress: str, key: str
) -> None:
    from flows.engine import find_question, question_at

    answers = {**BASE, "child_age": age(months), "prenatal_stress": Answer(stress)}
    if worries:
        answers["worries"] = Answer(worries)
        answers["worry_level[moods]"] = Answer(3)
    assert question_at(flow, answers, key) == find_question(flow, answers, key)
