"""`HEARTH_LOCALE=es hearth chat`: Spanish from the first line to the family's summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import said
from tests.e2e.test_console import PROMPT, Terminal, key
from tests.e2e.test_console_report import FLOW, PROMPTS, reply_for


def test_console__hearth_locale_es__spanish_throughout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_LOCALE", "es")
    terminal = Terminal(tmp_path / "chat.db", flow="developmental_history")
    try:
        screen = terminal.wait_for(PROMPT)
        consent = {locale: said("replies.consent", locale, title=FLOW.text(FLOW.title, locale),
                                text=FLOW.text(FLOW.consent, locale)) for locale in ("en", "es")}
        assert consent["es"] in screen and f"a) {said('buttons.agree', 'es')}" in screen
        assert consent["en"] not in screen and "Welcome" not in screen
        screen = terminal.answer("a")
        asked = 0
        while key("replies.review") not in screen:
            assert key("replies.ask") in screen, screen[-600:]
            assert "Type " not in screen and "Tap " not in screen, screen[-600:]
            typed = reply_for(screen, "es")  # its prompt found in Spanish, not in English
            assert not any(p.search(screen) for p, _ in PROMPTS["en"] if p.pattern), screen
            screen = terminal.answer(typed)
            asked += 1
            assert asked < 250, "the interview never reached the review"
        screen = terminal.answer("enviar")
        assert key("replies.send_confirm") + said("replies.send_confirm", "es") in screen
        assert f"a) {said('buttons.send_now', 'es')}" in screen
        screen = terminal.answer("a")
        assert key("replies.submitted") + said("replies.submitted", "es") in screen
        summary = screen.split(key("report.caregiver"))[1].split("\n[")[0]
        assert "Sam" in summary  # the family's summary: in Spanish, below
        assert not re.search(r"\b(the|your|answers)\b", screen), screen[-1500:]
    finally:
        terminal.close()
