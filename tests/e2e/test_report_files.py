"""`hearth chat` to the end as production leaves it: the report's files, a math-like name, a key."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.files import delete_reports
from store.cipher import new_key
from tests.at_rest import mode
from tests.conftest import said
from tests.e2e.test_console import PROMPT, Terminal, key
from tests.e2e.test_console_report import reply_for

#: matplotlib would read this as math text and fail on it (issue 16).
MATH_NAME = "$\\frac{1}{$"


def interview_to_submit(db: Path, name: str) -> str:
    """A whole developmental history typed in `hearth chat`; the screen after "submit"."""
    terminal = Terminal(db, flow="developmental_history")
    try:
        screen = terminal.wait_for(PROMPT)
        screen = terminal.answer("a")  # consent
        while key("replies.review") not in screen:
            typed = reply_for(screen)
            screen = terminal.answer(name if typed == "Sam" else typed)
        terminal.answer("send")
        screen = terminal.answer("a")  # "Yes, send now"
        # The console stays up after the submit: it still answers a command.
        screen += terminal.answer("status")
        assert terminal.proc.poll() is None, screen[-1500:]
        return screen
    finally:
        terminal.close()


def test_console__math_like_name__report_written_owner_only_then_erasable(
    tmp_path: Path, loose_umask: None
) -> None:
    screen = interview_to_submit(tmp_path / "chat.db", MATH_NAME)
    assert "Traceback" not in screen and key("replies.submitted") in screen
    written = re.search(re.escape(key("replies.report_written")) + r".*\n(\S+\.html)\n", screen)
    assert written, screen[-1500:]
    html = Path(written.group(1))
    folder = tmp_path / "reports"
    assert html.parent == folder and mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert len(files) == 3 and all(mode(p) == 0o600 for p in files)
    assert MATH_NAME in html.read_text(encoding="utf-8")  # shown as typed (HTML-escaped: none)
    interview_id = html.stem.removeprefix("developmental_history-")
    assert sorted(delete_reports([interview_id], folder)) == files
    assert list(folder.iterdir()) == []


def test_console__key_set__report_not_kept__written_on_demand(
    tmp_path: Path, loose_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_DATA_KEY", new_key())
    db = tmp_path / "chat.db"
    screen = interview_to_submit(db, "Sam")
    assert key("replies.submitted") in screen and key("replies.report_written") not in screen
    assert not (tmp_path / "reports").exists()
    [(interview_id,)] = sqlite3.connect(db).execute(
        "SELECT id FROM interviews WHERE state = 'submitted'").fetchall()
    # How to write it on demand, naming this interview.
    assert key("replies.report_not_kept") + said("replies.report_not_kept",
                                                 interview_id=interview_id) in screen
    env = {**os.environ, "HEARTH_DATABASE": str(db)}
    out = tmp_path / "asked"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", interview_id, "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert mode(out) == 0o700 and all(mode(p) == 0o600 for p in out.iterdir())
    assert len(list(out.iterdir())) == 3
