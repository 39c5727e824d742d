"""The CLI's rough edges: ids starting with "-", unknown languages, closed pipes, empty charts."""

from __future__ import annotations

import os
import string
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.data.figures import figures_figure
from bot.data.stats import program_figures
from flows.catalog import FlowCatalog
from messages.render import macro
from store.repos import interviews
from store.repos.interviews import ID_BYTES, new_interview_id
from tests.conftest import said

URLSAFE = string.ascii_letters + string.digits + "-_"


@pytest.mark.parametrize("first", list(URLSAFE))
def test_interview_id__every_first_character__never_a_dash(
    first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens: Iterator[str] = iter([first + "A" * 11, "B" * 12])
    monkeypatch.setattr(interviews.secrets, "token_urlsafe", lambda n: next(tokens))
    made = new_interview_id()
    assert not made.startswith("-")
    assert made == (first + "A" * 11 if first != "-" else "B" * 12)


def test_interview_id__real_randomness__twelve_urlsafe_characters() -> None:
    made = new_interview_id()
    assert len(made) == ID_BYTES * 4 // 3 and set(made) <= set(URLSAFE)


# -- hearth report: ids and languages ------------------------------------------------------


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "how", [["--", "-2mFLvlDGs0m"], ["--id=-2mFLvlDGs0m"], ["--id", "x2mFLvlDGs0m"]]
)
def test_report__id_after_double_dash_or_as_option__looked_up(
    how: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wanted = how[-1].removeprefix("--id=")
    assert main(["--db", str(tmp_path / "h.db"), "report", *how]) == 2
    # Parsed as an id (no argparse usage error): the store was asked and had none.
    expected = said("operator.report_none", interview_id=wanted)
    assert one_line_error(capsys) == f"hearth: {expected}\n"


def test_report__no_id__one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(tmp_path / "h.db"), "report"]) == 2
    assert one_line_error(capsys) == f"hearth: {said('operator.report_which')}\n"


def test_report__unknown_locale__one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(tmp_path / "h.db"), "report", "abc", "--locale", "fr"]) == 2
    err = one_line_error(capsys)
    assert err == f"hearth: {said('operator.report_locale', got='fr', locales=['en', 'es'])}\n"
    assert not (tmp_path / "reports").exists()


# -- the process: environment, pipes, the console ---------------------------------------------


def hearth(
    *args: str, env: dict[str, str] | None = None, stdin: str = "", **popen: object
) -> subprocess.CompletedProcess[str]:
    # HEARTH_MESSAGES_DIR stays: the child speaks the same templates the test renders.
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("HEARTH_") or k == "HEARTH_MESSAGES_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=environment | (env or {}),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unknown_hearth_locale__one_line_naming_the_variable(tmp_path: Path) -> None:
    done = hearth("--db", str(tmp_path / "h.db"), "stats", env={"HEARTH_LOCALE": "fr"})
    assert done.returncode == 2
    assert done.stderr.startswith("hearth: HEARTH_LOCALE:") and "'fr'" in done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""


def test_output_to_a_closed_pipe__exits_quietly(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(tmp_path / "h.db"), "stats"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    assert process.stdout is not None and process.stderr is not None
    # The reader is gone before the first line is written: every write meets a closed pipe.
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert err == ""


def test_chat__hearth_locale_es__spanish_from_the_first_line(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    done = hearth("--db", str(db), "chat", "--as", "ana", env={"HEARTH_LOCALE": "es"},
                  stdin="quit\n")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first == str(macro("es", "console.j2", "started")(database=str(db)))
    consent = FlowCatalog.bundled("developmental_history").latest("developmental_history").consent
    assert consent["es"].splitlines()[0] in done.stdout
    assert consent["en"].splitlines()[0] not in done.stdout


def test_chat__person_chose_spanish__start_up_line_follows_them(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    hearth("--db", str(db), "chat", "--as", "ana", env={"HEARTH_LOCALE": "es"}, stdin="quit\n")
    again = hearth("--db", str(db), "chat", "--as", "ana", stdin="quit\n")
    started = macro("es", "console.j2", "started")(database=str(db))
    assert again.stdout.splitlines()[0] == str(started)
    newcomer = hearth("--db", str(db), "chat", "--as", "ben", stdin="quit\n")
    started = macro("en", "console.j2", "started")(database=str(db))
    assert newcomer.stdout.splitlines()[0] == str(started)


# -- empty charts ---------------------------------------------------------------------------


def test_figures__nothing_counted__each_panel_says_nothing_yet() -> None:
    catalog = FlowCatalog.bundled("developmental_history")
    figure = figures_figure(program_figures(catalog, [], datetime(2026, 11, 28, tzinfo=UTC)))
    empty = str(macro("en", "data.html.j2", "stats_chart_empty")()).strip()
    for axes in figure.axes:
        assert [t.get_text() for t in axes.texts] == [empty]
        assert not axes.axison  # no bare axis
        assert all(bar.get_width() == 0 for bar in axes.patches)
