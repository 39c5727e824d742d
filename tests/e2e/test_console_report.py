"""The whole developmental-history interview in `hearth chat`: summary, HTML and both charts."""

from __future__ import annotations

import re
from pathlib import Path

from flows.catalog import FlowCatalog
from flows.schema import Item, ItemType
from tests.conftest import said
from tests.e2e.test_console import PROMPT, Terminal, key

FLOW = FlowCatalog.bundled("developmental_history").latest("developmental_history")


def _prompt(item: Item, locale: str) -> re.Pattern[str]:
    """An item's prompt as the screen shows it (flow data; a repeat names its option)."""
    parts = FLOW.text(item.prompt, locale).split("{option}")
    return re.compile(".+?".join(map(re.escape, parts)))


PROMPTS = {locale: [(_prompt(item, locale), item) for section in FLOW.sections
                    for item in section.items] for locale in ("en", "es")}


def reply_for(screen: str, locale: str = "en") -> str:
    """What a quick, ordinary caregiver types for the question on screen, found by its
    prompt in `locale` (the flow's data, not the templates' wording)."""
    asked = screen[screen.rindex(key("replies.ask")):]
    found = [(len(pattern.pattern), item) for pattern, item in PROMPTS[locale]
             if pattern.search(asked)]
    assert found, asked[-800:]
    item = max(found, key=lambda f: f[0])[1]
    if item.type is ItemType.AGE:
        return "8"
    if item.type is ItemType.TEXT:
        return "Sam"
    return "1"  # a number, a scale's first point, or the first option


def test_console__full_interview__summary_and_report_files(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path / "chat.db", flow="developmental_history")
    try:
        screen = terminal.wait_for(PROMPT)
        screen = terminal.answer("a")  # consent: the first lettered button
        asked = 0
        while key("replies.review") not in screen:
            assert key("replies.ask") in screen, screen[-800:]
            screen = terminal.answer(reply_for(screen))
            asked += 1
            assert asked < 200, "the interview never reached the review"
        screen = terminal.answer("send")
        assert key("replies.send_confirm") in screen
        assert f"a) {said('buttons.send_now')}" in screen
        screen = terminal.answer("a")
        assert key("replies.submitted") + said("replies.submitted") in screen
        summary = screen.split(key("report.caregiver"))[1].split("\n[")[0]
        assert "Sam" in summary  # the family's summary, about their child
        written = re.search(re.escape(key("replies.report_written")) + r".*\n(\S+\.html)\n",
                            screen)
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
        while key("replies.review") not in screen:
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
    assert unknown.returncode == 2
    assert unknown.stderr == f"hearth: {said('operator.report_none', interview_id='nope')}\n"
