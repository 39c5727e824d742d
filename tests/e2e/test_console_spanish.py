"""`HEARTH_LOCALE=es hearth chat`: Spanish from the first line to the family's summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_console import PROMPT, Terminal


def respuesta(screen: str) -> str:
    """What a quick caregiver types for the question on screen, reading Spanish hints."""
    if "Escriba la edad" in screen:
        return "8"
    if "Escriba el número de una respuesta" in screen or "Escriba los números" in screen:
        return "1"
    if "Escriba un número." in screen:
        return "1"
    return "Sam"


def test_console__hearth_locale_es__spanish_throughout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_LOCALE", "es")
    terminal = Terminal(tmp_path / "chat.db", flow="developmental_history")
    try:
        screen = terminal.wait_for(PROMPT)
        assert "Le damos la bienvenida" in screen and "a) Estoy de acuerdo" in screen
        assert "Welcome" not in screen
        screen = terminal.answer("a")
        asked = 0
        while "Estas son sus respuestas" not in screen:
            assert "[Parte " in screen, screen[-600:]  # every question in Spanish
            assert "Type " not in screen and "Tap " not in screen, screen[-600:]
            screen = terminal.answer(respuesta(screen))
            asked += 1
            assert asked < 250, "the interview never reached the review"
        screen = terminal.answer("enviar")
        assert "¿Enviar sus respuestas ahora?" in screen and "a) Sí, enviar ahora" in screen
        screen = terminal.answer("a")
        assert "Sus respuestas se enviaron y están guardadas" in screen
        assert "Gracias por hablarnos de Sam" in screen  # the family's summary, in Spanish
        assert not re.search(r"\b(the|your|answers)\b", screen), screen[-1500:]
    finally:
        terminal.close()
