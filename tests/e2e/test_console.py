"""`hearth chat` driven through its real input loop in a child process, killed and resumed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.loader import bundled_flow_paths, load_flow_file
from messages.render import macro

PROMPT = "\n> "


def key(message_id: str) -> str:
    """How `hearth chat --show-keys` marks a message: its id on the line above it."""
    return f"\n[{message_id}]\n"


def said(library: str, name: str, **given: object) -> list[str]:
    """The lines a console message shows with `given`, beside the same message without them.

    The wording lives in messages/ and may change: a test asks the template what it says
    (other parameters None), never retypes the sentence.
    """
    message = macro("en", library, name, "console")
    blank = {arg: None for arg in message.arguments}
    plain = str(message(**blank)).splitlines()
    shown = str(message(**{**blank, **given})).splitlines()
    return [line for line in shown if line.strip() and line not in plain]


class Terminal:
    """A `hearth chat` process with a pipe for input and a collected screen."""

    def __init__(self, db: Path, user: str = "tester", flow: str = "sample") -> None:
        env = {
            **os.environ,
            "HEARTH_DATABASE": str(db),
            "PYTHONUNBUFFERED": "1",
            "HEARTH_FLOW": flow,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--as", user, "--show-keys"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.screen = ""
        self.seen = 0
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):  # type: ignore[attr-defined]
            with self._lock:
                self.screen += chunk.decode()

    def wait_for(self, marker: str, timeout: float = 20.0) -> str:
        """Wait until `marker` appears after what was already read; return the new text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = self.screen.find(marker, self.seen)
                if found >= 0:
                    new = self.screen[self.seen : found + len(marker)]
                    self.seen = found + len(marker)
                    return new
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        raise AssertionError(f"{marker!r} never appeared; screen ends:\n{self.screen[-1500:]}")

    def answer(self, line: str) -> str:
        """Type a line and return everything printed up to the next prompt."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{line}\n".encode())
        self.proc.stdin.flush()
        return self.wait_for(PROMPT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def terminals(tmp_path: Path):  # type: ignore[no-untyped-def]
    opened: list[Terminal] = []

    def open_terminal() -> Terminal:
        terminal = Terminal(tmp_path / "chat.db")
        opened.append(terminal)
        return terminal

    yield open_terminal
    for terminal in opened:
        terminal.close()


def saved_answers(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT c.item_key, a.value FROM current_answers c JOIN answers a ON a.id = c.answer_id"
    ).fetchall()
    return dict(rows)


def test_console__answer_half__kill_9__resumes_at_same_question(terminals, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = terminals()
    screen = first.wait_for(PROMPT)
    # Buttons under a message are lettered in a terminal: a number is always an answer.
    assert key("replies.consent") in screen and "\n  a) " in screen and "\n  b) " in screen
    screen = first.answer("a")
    assert key("replies.ask") in screen and "About your child" in screen  # the flow's words
    first.answer("Sam")
    first.answer("2y 6m")
    first.answer("2")
    screen = first.answer("3")
    assert key("replies.ask") in screen and "Everyday life" in screen
    assert "brothers and sisters" in screen
    welcome_back = said("replies.j2", "ask", welcome_back=True)
    assert welcome_back and not any(line in first.screen for line in welcome_back)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)

    second = terminals()
    screen = second.wait_for(PROMPT)
    assert all(line in screen for line in welcome_back)
    assert key("replies.ask") in screen and "brothers and sisters" in screen
    saved = saved_answers(tmp_path / "chat.db")
    assert saved == {
        "child_name": '"Sam"',
        "child_age": '{"age": [30, 30], "raw": null}',
        "respondent": '"foster"',
        "sleep": "3",
    }
    screen = second.answer("back")
    assert key("replies.ask") in screen
    assert all(line in screen for line in said("replies.j2", "ask", current="3"))


def test_console__bad_input_then_words_and_quit(terminals, tmp_path) -> None:  # type: ignore[no-untyped-def]
    terminal = terminals()
    terminal.wait_for(PROMPT)
    terminal.answer("yes")
    terminal.answer("Sam")
    screen = terminal.answer("a long time ago")
    # What was expected, then the same question again: nothing is lost, nothing crashes.
    assert key("problems.not_an_age") in screen and "How old is your child?" in screen
    assert screen.index(key("problems.not_an_age")) < screen.index(key("replies.ask"))
    assert key("replies.help") in terminal.answer("help")
    screen = terminal.answer("status")
    assert key("replies.status") in screen
    assert terminal.proc.stdin is not None
    terminal.proc.stdin.write(b"quit\n")
    terminal.proc.stdin.flush()
    assert terminal.proc.wait(20) == 0
    assert key("replies.paused") in terminal.screen
    assert all(line in terminal.screen for line in said("replies.j2", "paused", answered=1))
    assert saved_answers(tmp_path / "chat.db") == {"child_name": '"Sam"'}


def test_console__ctrl_c__pauses_safely_and_offers_resume(terminals) -> None:  # type: ignore[no-untyped-def]
    terminal = terminals()
    terminal.wait_for(PROMPT)
    terminal.answer("a")
    terminal.answer("Sam")
    terminal.proc.send_signal(signal.SIGINT)
    assert terminal.proc.wait(20) == 0
    assert key("replies.paused") in terminal.screen and "Traceback" not in terminal.screen

    again = terminals()
    screen = again.wait_for(PROMPT)
    assert key("replies.resume_offer") in screen
    screen = again.answer("a")  # Continue where I stopped
    assert key("replies.ask") in screen and "How old is your child?" in screen


def test_console__end_of_input__pauses(terminals) -> None:  # type: ignore[no-untyped-def]
    terminal = terminals()
    terminal.wait_for(PROMPT)
    terminal.answer("a")
    assert terminal.proc.stdin is not None
    terminal.proc.stdin.close()
    assert terminal.proc.wait(20) == 0
    assert key("replies.paused") in terminal.screen


def hearth(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` with no terminal input (an operator's script); text out."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_cli__bad_setting__one_line_error(tmp_path: Path) -> None:
    env = {**os.environ, "HEARTH_SYNCHRONOUS": "sometimes", "HEARTH_DATABASE": str(tmp_path / "x")}
    result = hearth("chat", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("hearth: HEARTH_SYNCHRONOUS")


def test_cli__unwritable_database__one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {**os.environ, "HEARTH_DATABASE": str(blocker / "sub" / "h.db")}
    result = hearth("chat", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("hearth: cannot create the database")


def test_cli_flows__bad_file__every_problem_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nversion: 1\nlocales: [en]\ntitle: {en: B}\nconsent: {en: C}\n"
        "sections:\n  - id: s\n    title: {en: S}\n    items:\n"
        "      - {id: a, type: dropdown, prompt: {en: A}}\n"
        "      - {id: a, type: text, prompt: {en: A}}\n"
    )
    result = hearth("flows", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{bad}:10: item 'a': unknown item type 'dropdown'")
    assert lines[1].startswith(f"{bad}:11: item 'a': item id 'a' is used twice")


def test_cli_flows__bundled__ok() -> None:
    result = hearth("flows")
    assert result.returncode == 0, result.stderr
    # One line per bundled flow: its key, how many items, its languages.
    expected = []
    for path in bundled_flow_paths():
        flow = load_flow_file(path).flow
        expected.append(str(macro("en", "operator.j2", "flow_ok")(
            path=str(path), flow=flow.key, count=sum(len(s.items) for s in flow.sections),
            locales=list(flow.locales))).strip())
    assert result.stdout.splitlines() == expected and "sample@1" in result.stdout
