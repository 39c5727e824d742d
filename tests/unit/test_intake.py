"""The intake and its router on the in-memory store: fast, no files, message ids only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.context import StepContext
from bot.data.load import current_answers
from bot.model import Kind
from bot.router import EVERYTHING, Router
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.engine import AgeValue
from store.contract import UnitOfWork
from store.memory import MemoryStore
from tests.conftest import Person

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Family(Person):
    """One person talking to a service over the in-memory store."""

    def __init__(self, service: DialogueService, user: str = "ana", private: bool = True) -> None:
        super().__init__(service, user, private=private)

    async def answers(self) -> dict[str, object]:
        def read(uow: UnitOfWork) -> dict[str, object]:
            person = uow.people.find("console", self.user)
            assert person is not None and person.active_interview is not None
            return {
                k: a.value for k, a in current_answers(uow, person.active_interview).items()
            }

        return await self.service.store.read(read)


@pytest.fixture(scope="module")
def sample() -> FlowCatalog:
    return FlowCatalog.bundled("sample")


@pytest.fixture
def service(sample: FlowCatalog) -> DialogueService:
    return DialogueService(MemoryStore(), sample, clock=lambda: START)


@pytest.fixture
def ana(service: DialogueService) -> Family:
    return Family(service)


async def agree(family: Family) -> None:
    await family.command("start")
    assert family.keys == ["replies.consent"]
    await family.tap_key("agree")


async def to_review(family: Family) -> None:
    """The shortest way through the sample flow."""
    await agree(family)
    for text in ("Sam", "1", "1", "4", "0"):
        await family.type(text)
    await family.tap_key("none")
    await family.tap_key("done")
    await family.tap_key("no")
    assert "replies.review" in family.keys


async def test_start__consent_then_first_question(ana: Family) -> None:
    await agree(ana)
    assert ana.keys == ["replies.consent_given", "replies.ask"]
    assert ana.asked == "child_name"


async def test_typed_answer__saved_and_next_question(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.type("2 years 6 months")
    assert ana.asked == "respondent"
    assert await ana.answers() == {"child_name": "Sam", "child_age": AgeValue(30, 30)}


async def test_bad_answer__problem_code_same_question_nothing_saved(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.type("banana")
    assert ana.keys[0].startswith("problems.")
    assert ana.asked == "child_age"
    assert await ana.answers() == {"child_name": "Sam"}


async def test_back__previous_question_with_its_answer(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.type("3")
    await ana.command("back")
    assert ana.asked == "child_age"
    await ana.type("4")
    assert (await ana.answers())["child_age"] == AgeValue(48, 48)
    assert ana.asked == "respondent"


async def skip_name_then_finish(ana: Family) -> None:
    await agree(ana)
    await ana.command("skip")
    assert ana.keys[0] == "replies.skipped_required" and ana.asked == "child_age"
    await ana.type("1")
    await ana.tap_key("parent")
    await ana.type("4")
    await ana.command("skip")  # siblings: optional, no warning
    assert "replies.skipped_required" not in ana.keys
    await ana.tap_key("none")
    await ana.tap_key("done")
    await ana.tap_key("unknown")


async def test_skipped__offered_once_at_a_clear_moment_not_at_once(ana: Family) -> None:
    await skip_name_then_finish(ana)
    # Every question was seen: the skipped one is offered, not asked unannounced.
    assert ana.keys == ["replies.answered", "replies.revisit_offer"] and ana.asked is None
    await ana.tap_key("answer_skipped")
    assert ana.asked == "child_name"
    await ana.type("Jo")
    assert "replies.review" in ana.keys


async def test_skipped__review_without_them_then_send(ana: Family) -> None:
    await skip_name_then_finish(ana)
    await ana.tap_key("to_review")
    assert ana.keys == ["replies.review", "replies.review_actions"]
    await ana.tap_key("submit")
    await ana.tap_key("send_now")
    assert "replies.submitted" in ana.keys  # only the age is needed to send


async def test_skipping_the_last_question__offer_not_the_same_question_again(
    ana: Family,
) -> None:
    await agree(ana)
    await ana.command("skip")  # child_name, required
    for text in ("1", "1", "4", "0"):
        await ana.type(text)
    await ana.tap_key("none")
    await ana.tap_key("done")
    await ana.command("skip")  # the last question, required
    assert ana.keys == ["replies.skipped_required", "replies.revisit_offer"]
    await ana.tap_key("answer_skipped")
    assert ana.asked == "child_name"
    await ana.command("skip")  # a second skip leaves it for good
    assert ana.asked == "prenatal_stress"
    await ana.command("skip")
    assert ana.keys[0] == "replies.review"


async def test_the_age_is_needed__sending_blocked_until_it_is_given(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.command("skip")  # the age: needed
    for _ in range(3):  # respondent, sleep, siblings
        await ana.command("skip")
    await ana.tap_key("none")
    await ana.tap_key("done")
    await ana.tap_key("no")
    await ana.tap_key("answer_skipped")  # the age, the respondent and sleep come back
    offered = []
    while ana.asked is not None:
        offered.append(ana.asked)
        await ana.command("skip")
    assert offered == ["child_age", "respondent", "sleep"]
    assert "replies.review" in ana.keys and "replies.review_actions" not in ana.keys
    await ana.command("submit")
    assert ana.keys[0] == "replies.missing_required" and ana.asked == "child_age"


async def test_skip_at_review__refused_by_the_lifecycle(ana: Family) -> None:
    await to_review(ana)
    await ana.command("skip")
    assert ana.keys == ["replies.nothing_to_skip"]


async def test_pause__any_message_offers_to_continue_where_it_stopped(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.command("pause")
    assert ana.keys == ["replies.paused"]
    await ana.type("hello?")
    assert ana.keys == ["replies.resume_offer"]
    await ana.tap_key("continue")
    assert ana.asked == "child_age"


async def test_redelivery__same_replies_and_one_answer(ana: Family) -> None:
    await agree(ana)
    await ana.send(Kind.TEXT, "Sam", delivery="update-7")
    first = ana.last
    await ana.send(Kind.TEXT, "Someone else", delivery="update-7")
    assert ana.last == first
    assert await ana.answers() == {"child_name": "Sam"}


async def test_stale_button__moved_on_nothing_changes(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.type("3")
    old = ana.last
    await ana.tap_key("parent")
    ana.last = old
    await ana.tap_key("foster")  # the same question's button, one revision late
    assert ana.keys == ["replies.stale"]
    assert (await ana.answers())["respondent"] == "parent"


async def test_review_to_submission__confirmed_then_sent_and_closed(ana: Family) -> None:
    await to_review(ana)
    await ana.tap_key("submit")
    assert ana.keys == ["replies.send_confirm"]  # nothing sent yet
    await ana.tap_key("not_yet")
    assert ana.keys[0] == "replies.review"
    await ana.type("send")
    await ana.tap_key("send_now")
    assert "replies.submitted" in ana.keys
    await ana.command("skip")
    assert ana.keys == ["replies.no_interview"]
    await ana.command("quit")
    assert ana.keys == ["replies.goodbye"]


async def test_send_now__a_typed_yes_confirms__a_typed_no_sends_nothing(ana: Family) -> None:
    await to_review(ana)
    await ana.type("send")
    assert ana.keys == ["replies.send_confirm"]
    await ana.type("no")
    assert ana.keys[0] == "replies.review"  # not sent
    await ana.type("yes")
    assert ana.keys == ["replies.review_help"]  # a "yes" out of the blue sends nothing
    await ana.type("send")
    await ana.type("yes")
    assert "replies.submitted" in ana.keys


async def test_send_now__not_yet_then_yes__nothing_sent(ana: Family) -> None:
    await to_review(ana)
    await ana.type("send")
    await ana.tap_key("not_yet")
    await ana.type("yes")
    assert "replies.submitted" not in ana.keys


async def test_review__a_typed_number_changes_that_answer_and_never_sends(ana: Family) -> None:
    await to_review(ana)
    await ana.type("1")
    assert ana.asked == "child_name"
    await ana.type("Sammy")
    # Back at the review with a short word, not the whole list again.
    assert ana.keys == ["replies.review_return"]
    assert (await ana.answers())["child_name"] == "Sammy"
    await ana.tap_key("show_answers")
    assert ana.keys[0] == "replies.review"


async def test_early_review__only_what_was_reached_with_its_own_numbers(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.type("3")
    await ana.command("review")
    review = ana.last[0]
    assert review.key == "replies.review"
    assert "Sam" in review.text and "\n3." not in review.text  # two rows: 1 and 2
    await ana.command("edit", "2")
    assert ana.asked == "child_age"
    await ana.type("4")
    assert ana.asked == "respondent"  # back where they were


async def test_start_again__asks_first(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.command("pause")
    await ana.command("start")
    await ana.tap_key("start_over")
    assert ana.keys == ["replies.start_over_confirm"]
    await ana.tap_key("continue")
    assert ana.asked == "child_age"  # nothing was withdrawn
    await ana.command("pause")
    await ana.command("start")
    await ana.tap_key("start_over")
    await ana.tap_key("start_over_yes")
    assert ana.keys == ["replies.consent"]


async def test_group_chat__never_reaches_the_intake(service: DialogueService) -> None:
    group = Family(service, private=False)
    await group.command("start")
    assert group.keys == ["replies.group_refused"]


async def test_erasure__anything_else_lets_a_pending_request_lapse(ana: Family) -> None:
    await agree(ana)
    await ana.command("forget")
    assert ana.keys == ["clinician.forget_confirm"]
    await ana.type("Sam")  # an answer, not a confirmation
    assert ana.asked == "child_age"
    await ana.type("yes, erase")  # too late: the request lapsed
    assert ana.keys[0].startswith("problems.")
    assert (await ana.answers())["child_name"] == "Sam"


async def test_erasure__confirmed_in_time__everything_gone(ana: Family) -> None:
    await agree(ana)
    await ana.type("Sam")
    await ana.command("forget")
    await ana.tap_key("button_erase")
    assert ana.keys == ["clinician.erased"]
    await ana.command("start")
    assert ana.keys == ["replies.consent"]  # a new interview, nothing carried over


async def test_erasure__confirmation_after_the_window__expired(
    sample: FlowCatalog,
) -> None:
    now = [START]
    service = DialogueService(MemoryStore(), sample, clock=lambda: now[0])
    ana = Family(service)
    await agree(ana)
    await ana.command("forget")
    now[0] += service.access.erase_window + timedelta(seconds=1)
    await ana.tap_key("button_erase")
    assert ana.keys == ["clinician.forget_expired"]


async def test_a_failing_step__rolled_back_whole(ana: Family, service: DialogueService) -> None:
    await agree(ana)
    before = await ana.answers()

    class Breaks:
        name = "breaks"
        interest = EVERYTHING

        def handle(self, ctx: StepContext) -> bool:
            assert ctx.interview is not None
            ctx.uow.answers.append(
                ctx.interview.id, "child_name", "half", revision=99, by=None, now=START
            )
            raise RuntimeError("the disk went away")

    router = service.router
    service._router = Router(
        [Breaks(), *router.features], catalog=router.catalog, access=router.access,
        conversation=router.conversation,
    )
    with pytest.raises(RuntimeError):
        await ana.type("Sam")
    assert await ana.answers() == before
    service._router = router
    await ana.type("Sam")  # the same words again, now saved once
    assert await ana.answers() == {"child_name": "Sam"}


def test_router__feature_names_unique(sample: FlowCatalog, service: DialogueService) -> None:
    router = service.router
    with pytest.raises(ValueError, match="unique"):
        Router(
            [*router.features, router.features[0]], catalog=sample, access=router.access,
            conversation=router.conversation,
        )


def test_router__the_intake_answers_last(service: DialogueService) -> None:
    names = [f.name for f in service.router.features]
    assert names[0] == "erasure" and names[-1] == "intake"


async def test_router__a_typed_answer_asks_only_the_features_that_want_text(
    ana: Family, service: DialogueService
) -> None:
    await agree(ana)
    asked: list[str] = []
    for feature in service.router.features:
        original = feature.handle

        def spy(ctx: StepContext, name: str = feature.name, handle=original) -> bool:  # type: ignore[no-untyped-def]
            asked.append(name)
            return bool(handle(ctx))

        feature.handle = spy  # type: ignore[method-assign]
    await ana.type("Sam")
    # The plan's feature takes a family's own words after a check-in; mid-interview it
    # passes at once, without a query (bot/features/plan.py: family_words).
    assert asked == ["erasure", "bookclub", "plan", "intake"]
    asked.clear()
    await ana.command("export")
    assert asked == ["erasure", "bookclub", "data"]  # the intake never sees it
