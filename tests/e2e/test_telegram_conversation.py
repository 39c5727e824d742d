"""Issue 17's cases on Telegram: the real Application, real Updates, the offline Bot API."""

from __future__ import annotations

from tests.e2e.telegram_harness import Phone

# The fixtures `bot` and `ana` come from tests/e2e/test_telegram.py.
from tests.e2e.test_telegram import Running, agree, ana, answers_of, bot, state_of  # noqa: F401  # noqa: F401  (pytest fixtures)

ANA = 1001


async def to_review(bot: Running, ana: Phone) -> None:  # noqa: F811
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("6"))
    await bot.send(ana.choose("parent"))
    await bot.send(ana.choose("3"))
    await bot.send(ana.text("1"))
    await bot.send(ana.choose("none"))
    await bot.send(ana.tap_key("done"))
    for value in ("no", "glad"):
        await bot.send(ana.choose(value))
    assert "replies.review" in ana.keys


async def test_typed_words__understood_or_did_you_mean(bot: Running, ana: Phone) -> None:  # noqa: F811
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("about 6"))
    await bot.send(ana.text("foster parent"))  # the option's synonym, typed
    assert (await answers_of(bot.service, ANA))["respondent"] == "foster"
    await bot.send(ana.text("3"), ana.text("none"))  # "none" is 0 where 0 is allowed
    assert (await answers_of(bot.service, ANA))["siblings"] == 0
    await bot.send(ana.text("sleep"))  # one option of a multiple choice, typed
    await bot.send(ana.text("done"))
    assert ana.last.question == "worry_since[sleep]"


async def test_review__typed_number_edits__send_asks_first__typed_yes_sends(
    bot: Running, ana: Phone  # noqa: F811
) -> None:
    await to_review(bot, ana)
    await bot.send(ana.text("1"))  # a row number: change the first answer, never send
    assert ana.last.question == "child_name" and await state_of(bot.service, ANA) == "answering"
    await bot.send(ana.text("Mila"))
    assert ana.last.key == "replies.review_return"
    await bot.send(ana.text("send"))
    assert ana.last.key == "replies.send_confirm"
    await bot.send(ana.text("yes"))
    assert "replies.submitted" in ana.keys
    assert await state_of(bot.service, ANA) == "submitted"


async def test_skipped_questions__offered_once_when_all_were_seen(bot: Running, ana: Phone) -> None:  # noqa: F811
    await agree(bot, ana)
    await bot.send(ana.tap_key("skip"))  # the name
    assert "replies.skipped_required" in ana.keys and ana.last.question == "child_age"
    await bot.send(ana.text("6"))
    await bot.send(ana.choose("parent"))
    await bot.send(ana.choose("3"))
    await bot.send(ana.text("1"))
    await bot.send(ana.choose("none"))
    await bot.send(ana.tap_key("done"))
    await bot.send(ana.choose("no"))
    await bot.send(ana.tap_key("skip"))  # the last question, skipped too
    assert ana.last.key == "replies.revisit_offer"
    await bot.send(ana.tap_key("to_review"))
    assert "replies.review" in ana.keys
    await bot.send(ana.tap_key("submit"))
    await bot.send(ana.tap_key("send_now"))
    assert await state_of(bot.service, ANA) == "submitted"  # sent without them


async def test_start_again__asks_first(bot: Running, ana: Phone) -> None:  # noqa: F811
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.command("pause"), ana.command("start"))
    await bot.send(ana.tap_key("start_over"))
    assert ana.last.key == "replies.start_over_confirm"
    await bot.send(ana.tap_key("continue"))
    assert ana.last.question == "child_age"
    assert (await answers_of(bot.service, ANA)) == {"child_name": "Mia"}
