"""Choosing and switching the language: everything re-rendered, every answer kept."""

from __future__ import annotations

from bot.model import Inbound, Kind
from bot.service import DialogueService
from tests.conftest import Person


async def test_client_language__preselects_spanish(service: DialogueService) -> None:
    replies = await service.handle(
        Inbound("telegram", "77", "77", Kind.COMMAND, "start", "u1", locale_hint="es-MX")
    )
    assert "¿Está de acuerdo en seguir?" in replies[0].text
    labels = [c.label for row in replies[0].choices for c in row]
    assert labels == ["Estoy de acuerdo", "Ahora no", "English"]


async def test_switch_mid_interview__answers_kept_question_in_new_language(person: Person) -> None:
    await person.command("start")
    await person.tap("I agree")
    await person.type("Sam")
    await person.type("1,5")  # a year and a half
    await person.command("language", "es")
    assert "De acuerdo, seguimos en español." in person.text
    assert "[Sobre su hijo o hija · pregunta 3 de unas 7]" in person.text
    assert "¿Quién responde?" in person.text
    await person.tap("Familia de acogida")
    await person.tap("2")  # sleep scale
    await person.type("1,5")  # read the Spanish way: one and a half, not a count
    assert "Envíe un número entero entre 0 y 15" in person.text
    await person.type("2")
    await person.command("back")
    assert "Su respuesta hasta ahora: 2" in person.text
    await person.command("back")
    await person.command("back")
    assert "Su respuesta hasta ahora: Familia de acogida" in person.text
    await person.command("language")
    await person.tap("English")
    assert (
        "Who is answering?" in person.text and "Your answer so far: A foster parent" in person.text
    )
    await person.command("back")
    assert "Your answer so far: 1 year 6 months" in person.text


async def test_language_button_under_consent(person: Person) -> None:
    await person.command("start")
    await person.tap("Español")
    assert "¿Está de acuerdo en seguir?" in person.text
    await person.tap("Estoy de acuerdo")
    assert "¿Qué nombre o apodo" in person.text
    await person.type("tres manzanas")
    await person.type("Ana")
    await person.type("tres manzanas")
    assert "Envíe una edad como 3, 2 años 6 meses o 18 meses." in person.text


async def test_unknown_language__says_which_exist(person: Person) -> None:
    await person.command("language", "klingon")
    assert "en, es" in person.text
