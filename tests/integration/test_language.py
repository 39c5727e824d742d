"""Choosing and switching the language: everything re-rendered, every answer kept."""

from __future__ import annotations

from bot.model import Inbound, Kind
from bot.service import DialogueService
from tests.conftest import Person, said


async def test_client_language__preselects_spanish(service: DialogueService) -> None:
    replies = await service.handle(
        Inbound("telegram", "77", "77", Kind.COMMAND, "start", "u1", locale_hint="es-MX")
    )
    flow = service.catalog.latest("sample")
    assert replies[0].key == "replies.consent"
    assert replies[0].text == said(
        "replies.consent", "es",
        title=flow.text(flow.title, "es"), text=flow.text(flow.consent, "es"),
    )
    buttons = [c for row in replies[0].choices for c in row]
    assert [c.key for c in buttons] == ["agree", "not_now", "lang_en"]
    assert [c.label for c in buttons] == [said(f"buttons.{c.key}", "es") for c in buttons]


async def test_switch_mid_interview__answers_kept_question_in_new_language(person: Person) -> None:
    await person.command("start")
    await person.tap_key("agree")
    await person.type("Sam")
    await person.type("1,5")  # a year and a half
    await person.command("language", "es")
    assert person.reply("replies.language_set").text == said(
        "replies.language_set", "es", language="es")
    assert person.asked == "respondent"
    # The flow's own Spanish words: its section title and question.
    assert "Sobre su hijo o hija" in person.text and "¿Quién responde?" in person.text
    await person.choose("foster")
    await person.choose("2")  # sleep scale
    await person.type("1,5")  # read the Spanish way: one and a half, not a count
    assert person.reply("problems.not_a_whole_number").text == said(
        "problems.not_a_whole_number", "es", min=0, max=15)
    await person.type("2")
    await person.command("back")
    assert person.asked == "siblings" and "2" in person.text  # the answer so far
    await person.command("back")
    await person.command("back")
    assert person.asked == "respondent" and "Familia de acogida" in person.text
    await person.command("language")
    await person.tap_key("lang_en")
    assert person.asked == "respondent" and "A foster parent" in person.text
    assert "Familia de acogida" not in person.text
    await person.command("back")
    assert person.asked == "child_age"
    assert said("values.age", years=1, months=6, raw=None) in person.text  # 1,5 read as 18 months


async def test_language_button_under_consent(person: Person) -> None:
    await person.command("start")
    await person.tap_key("lang_es")
    assert person.keys[-1] == "replies.consent"
    assert [c.label for c in person.last[-1].choices[0]] == [said("buttons.agree", "es")]
    await person.tap_key("agree")
    assert person.asked == "child_name"
    await person.type("tres manzanas")
    await person.type("Ana")
    await person.type("tres manzanas")
    assert person.reply("problems.not_an_age").text == said("problems.not_an_age", "es")


async def test_unknown_language__says_which_exist(person: Person) -> None:
    await person.command("language", "klingon")
    assert person.keys == ["replies.language_unknown"]
    assert person.text == said("replies.language_unknown", codes=["en", "es"])
