"""`hearth safety check`: one verdict<TAB>message line per input line, in order."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

MESSAGES = [
    "i wanna die",
    "his mother tried to kill herself when he was a baby",
    "I would never hurt myself",
    "",
    "mi marido me pega",
    "la tarea me esta matando jaja",
]


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        lines: list[str], *args: str) -> tuple[int, list[str]]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{x}\n" for x in lines)))
    status = main(["safety", "check", *args])
    return status, capsys.readouterr().out.splitlines()


def test_check__verdict_tab_message_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HEARTH_DATABASE", str(tmp_path / "unused.db"))
    status, out = run(monkeypatch, capsys, MESSAGES)
    assert status == 0
    assert [line.split("\t", 1) for line in out] == [
        ["danger", "i wanna die"],
        ["disclosure", "his mother tried to kill herself when he was a baby"],
        ["none", "I would never hurt myself"],
        ["none", ""],
        ["danger", "mi marido me pega"],
        ["none", "la tarea me esta matando jaja"],
    ]


def test_check__locale_given__that_language_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HEARTH_DATABASE", str(tmp_path / "unused.db"))
    _, out = run(monkeypatch, capsys, ["mi marido me pega"], "--locale", "en")
    assert out == ["none\tmi marido me pega"]
    _, out = run(monkeypatch, capsys, ["mi marido me pega"], "--locale", "es")
    assert out == ["danger\tmi marido me pega"]


def test_check__console_script__reads_stdin(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "safety", "check", "--locale", "es"],
        input="me voy a quitar la vida\nnacio a las 36 semanas\n",
        capture_output=True, text=True, timeout=60, check=False,
        env=dict(os.environ, HEARTH_DATABASE=str(tmp_path / "unused.db")),
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "danger\tme voy a quitar la vida",
        "none\tnacio a las 36 semanas",
    ]
