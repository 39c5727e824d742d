"""On Telegram: a clinician builds a plan and sends it, the family gets it, the review date
passes and the check-in goes once (a restart does not resend it), the family answers, the
schedule sends one re-assessment reminder, and the follow-up report shows what was tried."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.telegram.handlers import Hearth
from bot.telegram.plan_jobs import send_due
from flows.catalog import FlowCatalog
from flows.lifecycle import State
from messages.render import macro
from store.contract import UnitOfWork
from tests.conftest import Clock
from tests.e2e.telegram_harness import FakeBotApi, Phone, Shown
from tests.e2e.test_telegram import Running, start_bot
from tests.integration.plan_helpers import submitted_interview

DOC, FAM = 3001, 3002


def parts(running: Running) -> Hearth:
    found = running.app.bot_data["hearth"]
    assert isinstance(found, Hearth)
    return found


def button(shown: Shown, key: str) -> str:
    return dict(zip(shown.button_keys, shown.callback_data, strict=True))[key]


async def test_plan__sent__checked_in_once__reassessed__follow_up_shows_what_was_tried(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = FakeBotApi()
    first = await start_bot(db_path, catalog, clock, api)
    interview = await submitted_interview(first.service, "telegram", str(DOC), str(FAM),
                                          clock.now)
    doc = Phone(api, first.app.bot, DOC, first_name="Doc")
    fam = Phone(api, first.app.bot, FAM, first_name="Ana")

    # The clinician builds the plan from the report's recommendations.
    await first.send(doc.command("plan", interview))
    assert doc.last.key == "plan.plan_show"
    await first.send(doc.command("plan", f"{interview} add 1"))
    await first.send(doc.command("plan", f"{interview} add 2 Ten minutes of play after school."))
    await first.send(doc.command("plan", f"{interview} review 2026-12-20"))
    assert doc.last.key == "plan.review_set"
    await first.send(doc.command("plan", f"{interview} send"))
    assert doc.last.key == "plan.plan_sent"
    assert fam.keys == ["plan.plan_for_family"]
    assert "Ten minutes of play after school." in fam.last.text
    await first.send(doc.command("schedule", f"{interview} 3"))
    assert doc.last.key == "plan.schedule_set"

    # Nothing before the review date; on it, the check-in, once.
    assert await send_due(parts(first)) == 0
    clock.advance(days=26)
    assert await send_due(parts(first)) == 3
    assert fam.keys[-3:] == ["plan.checkin_intro", "plan.checkin_tried", "plan.checkin_tried"]
    await first.stop()

    second = await start_bot(db_path, catalog, clock, api)
    doc.rebind(second.app.bot)
    fam.rebind(second.app.bot)
    try:
        assert await send_due(parts(second)) == 0  # a restart does not resend it
        item1, item2 = [s for s in fam.screen if s.key == "plan.checkin_tried"]
        await second.send(fam.press(item1, button(item1, "tried_yes")))
        assert fam.last.key == "plan.checkin_went"
        await second.send(fam.tap_key("went_better"))
        await second.send(fam.press(item2, button(item2, "tried_unknown")))
        # Done at the last tap; the family's own words are invited, never required.
        assert fam.keys[-2:] == ["plan.checkin_done", "plan_edits.checkin_words_invite"]
        assert doc.last.key == "plan.checkin_answered"
        await second.send(fam.text("Bedtime is calmer, mornings still hard."))
        assert fam.last.key == "plan_edits.checkin_words_kept"
        assert doc.last.key == "plan_edits.checkin_words_owner"

        # Three months on: one reminder with the follow-up, carried over as /followup does.
        clock.advance(days=70)
        assert await send_due(parts(second)) == 2
        assert fam.last.key == "plan.reassess_due" and doc.last.key == "plan.reassess_owner"
        assert await send_due(parts(second)) == 0
        await second.send(fam.tap_key("button_start"))
        assert fam.last.key == "replies.consent"

        follow_up = await finish_follow_up(second, interview)
        await second.send(doc.command("report", follow_up))
        change = next(s for s in reversed(doc.screen) if s.key == "report.change")
        assert change.outbound is not None and change.outbound.attachment is not None
        html = change.outbound.attachment.data.decode()
        assert 'class="tried"' in html
        for value in ("yes", "unknown"):
            assert str(macro("en", "plan.j2", "tried_word")(value=value)).strip() in html
        assert str(macro("en", "plan.j2", "went_word")(value="better")).strip() in html
        assert 'data-key="plan.family_words"' in html
        assert "Bedtime is calmer, mornings still hard." in html
    finally:
        await second.stop()


async def finish_follow_up(running: Running, earlier: str) -> str:
    """The family's follow-up, sent (its answers written as the earlier ones were)."""

    def write(repo: UnitOfWork) -> str:
        found = [r for r in repo.interviews.all() if repo.interviews.follow_up_of(r.id) == earlier]
        assert len(found) == 1
        record = found[0]
        for revision, (key, (value, _)) in enumerate(
                repo.answers.current(earlier).items(), start=record.revision + 1):
            repo.answers.append(record.id, key, value, revision=revision,
                                by=record.respondent_id, now=datetime(2027, 3, 1, tzinfo=UTC))
        record.state = State.SUBMITTED.value
        record.submitted_at = datetime(2027, 3, 1, tzinfo=UTC)
        repo.interviews.save(record)
        return record.id

    return await running.service.store.run(write)
