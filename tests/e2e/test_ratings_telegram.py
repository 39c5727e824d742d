"""A clinician rates functions on Telegram: the real Application, real Updates, offline Bot API."""

from __future__ import annotations

from tests.e2e.telegram_harness import Phone
from tests.e2e.test_informant_telegram import DOC, FAM, family_interview
from tests.e2e.test_telegram import Running, bot  # noqa: F401  (pytest fixture)


async def test_clinician__rates_on_telegram__report_uses_it__family_cannot(
    bot: Running,  # noqa: F811
) -> None:
    mia = await family_interview(bot)
    doc = Phone(bot.api, bot.app.bot, DOC, first_name="Doc")
    await bot.send(doc.command("rate", f"{mia} startle a lot Jumps at every door, two visits"))
    assert doc.last.key == "ratings.rate_saved"
    await bot.send(doc.command("rate", f"{mia} startle"))
    assert doc.last.key == "ratings.rate_bad_value"
    await bot.send(doc.command("valorar", f"{mia} sueño mucho se despierta cada hora"))
    assert doc.last.key == "ratings.rate_saved"
    await bot.send(doc.command("ratings", mia))
    assert doc.last.key == "ratings.ratings_list"
    assert "Jumps at every door" in doc.last.text

    await bot.send(doc.command("report", mia))
    report = doc.last
    assert report.key == "report.clinician" and report.outbound is not None
    assert report.file == f"hearth-report-{mia}.html"  # sent as a document
    assert report.outbound.attachment is not None
    html = report.outbound.attachment.data.decode()
    assert 'id="ratings" data-rated="2"' in html
    assert '<tr data-function="bs_startle" data-used="clinician">' in html

    family = Phone(bot.api, bot.app.bot, FAM, first_name="Fam")
    await bot.send(family.command("rate", f"{mia} sleep typical all fine"))
    assert family.last.key == "clinician.not_clinician"
    rated = await bot.service.store.read(lambda uow: uow.ratings.history(mia))
    assert [(r.function, r.value) for r in rated] == [("bs_startle", "a_lot"),
                                                      ("bs_sleep", "a_lot")]
