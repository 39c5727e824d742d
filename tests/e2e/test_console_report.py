"""The whole developmental-history interview in `hearth chat`: summary, HTML and both charts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_console import PROMPT, Terminal


def reply_for(screen: str) -> str:
    """What a quick, ordinary caregiver types for the question on screen."""
    if "Type the age" in screen:
        return "8"
    if "Type a number." in screen:
        return "1"
    if "Type the number of an answer" in screen or "Type the numbers of all" in screen:
        return "1"
    return "Sam"


def test_console__full_interview__summary_and_report_files(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path / "chat.db", flow="developmental_history")
    try:
        screen = terminal.wait_for(PROMPT)
        screen = terminal.answer("a")  # consent: the first lettered button
        asked = 0
        while "Here are your answers" not in screen:
            assert "[" in screen and "question" in screen, screen[-800:]
            screen = terminal.answer(reply_for(screen))
            asked += 1
            assert asked < 200, "the interview never reached the review"
        screen = terminal.answer("send")
        assert "Send your answers now?" in screen and "a) Yes, send now" in screen
        screen = terminal.answer("a")
        assert "Your answers are sent and saved" in screen
        assert "Thank you for telling us about Sam" in screen
        assert "not a diagnosis" in screen
        written = re.search(r"written to:\n(\S+\.html)", screen)
        assert written, screen[-1500:]
        html = Path(written.group(1))
        assert html.parent == tmp_path / "reports"
        pngs = sorted(html.parent.glob("*.png"))
        assert len(pngs) == 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
        text = html.read_text(encoding="utf-8")
        assert "data:image/png;base64," in text and "Sam" in text
        assert asked > 40  # the real interview, not the sample
    finally:
        terminal.close()


def test_cli_report__writes_html_and_charts_in_the_chosen_language(tmp_path: Path) -> None:
    import os
    import sqlite3
    import subprocess
    import sys

    db = tmp_path / "chat.db"
    terminal = Terminal(db, flow="developmental_history")
    try:
        screen = terminal.wait_for(PROMPT)
        screen = terminal.answer("a")
        while "Here are your answers" not in screen:
            screen = terminal.answer(reply_for(screen))
        terminal.answer("submit")
        terminal.answer("yes")  # "Send now?" answered by typing
    finally:
        terminal.close()
    [(interview_id,)] = (
        sqlite3.connect(db)
        .execute("SELECT id FROM interviews WHERE state = 'submitted'")
        .fetchall()
    )
    env = {**os.environ, "HEARTH_DATABASE": str(db)}
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "report",
            interview_id,
            "--out",
            str(out),
            "--locale",
            "es",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.split()]
    assert [p.suffix for p in paths] == [".html", ".png", ".png"] and all(p.exists() for p in paths)
    assert 'lang="es"' in paths[0].read_text(encoding="utf-8")
    unknown = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 2 and unknown.stderr.startswith("hearth: no scored interview")
