"""`hearth --help`: every command and argument explained in each locale, from locale data."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.cli_help import argument_key, commands, explained, help_page, help_texts
from messages.render import LOCALES

BOT = Path(__file__).resolve().parents[2] / "bot"
#: argparse's keywords that take words a person reads.
TEXT_KEYWORDS = frozenset({"help", "description", "epilog", "usage"})


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """This parser and every sub-command's parser under it."""
    yield parser
    for command in commands(parser):
        yield from parsers(command)


def flat(text: str) -> str:
    """argparse wraps lines to the terminal: compare words, not line breaks."""
    return " ".join(text.split())


def wanted() -> set[tuple[str, str]]:
    """(command line, entry) of every text the full parser needs."""
    needs = set()
    for parser in parsers(build_parser()):
        needs.add((parser.prog, "description" if parser.prog == "hearth" else "summary"))
        needs |= {(parser.prog, argument_key(a)) for a in parser._actions if explained(a)}
    return needs


def given(locale: str) -> set[tuple[str, str]]:
    """(command line, entry) of every non-empty text in the locale's cli_help.yaml."""
    found = set()
    for prog, own in help_texts(locale).items():
        found |= {(prog, key) for key in ("summary", "description") if own.get(key)}
        found |= {(prog, name) for name, text in (own.get("arguments") or {}).items() if text}
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_command_and_argument__explained__in_each_locale(locale: str) -> None:
    assert sorted(wanted() - given(locale)) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_help_data__only_names_real_commands_and_arguments(locale: str) -> None:
    assert sorted(given(locale) - wanted()) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_help_page__shows_its_texts(locale: str) -> None:
    texts = help_texts(locale)
    for parser in parsers(build_parser()):
        page = flat(help_page(parser, locale))
        arguments = texts[parser.prog].get("arguments") or {}
        for action in parser._actions:
            if explained(action):
                # argparse's own expansion: %(default)s and the like, "%%" as "%".
                text = arguments[argument_key(action)] % dict(vars(action), prog=parser.prog)
                assert flat(text) in page, (parser.prog, argument_key(action))
        for command in commands(parser):
            assert flat(texts[command.prog]["summary"]) in page, command.prog


@pytest.mark.parametrize("line", [["--help"], ["org", "remove", "--help"], ["chat", "-h"]])
def test_hearth_help__in_the_operators_language(
    line: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(line)
    assert stopped.value.code == 0
    page = flat(capsys.readouterr().out)
    prog = " ".join(["hearth", *line[:-1]])
    texts = help_texts("en")
    assert all(flat(t) in page for t in (texts[prog].get("arguments") or {}).values()
               if "%(" not in t)
    for command in commands(next(p for p in parsers(build_parser()) if p.prog == prog)):
        assert flat(texts[command.prog]["summary"]) in page


def test_a_command_line__parsed__without_reading_the_help_texts() -> None:
    help_texts.cache_clear()
    build_parser("chat").parse_args(["chat", "--as", "ana"])
    build_parser("org").parse_args(["org", "remove", "Clinic", "telegram:1", "--to", "web:2"])
    assert help_texts.cache_info().misses == 0


def literal_texts(source: str) -> list[tuple[int, str]]:
    """(line, keyword) of each argparse call whose help/description/epilog/usage is written
    in the code: a string, an f-string or a docstring."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", "")
        if not (name.startswith("add_") or name.endswith("Parser")):
            continue
        for keyword in node.keywords:
            if keyword.arg in TEXT_KEYWORDS and any(
                isinstance(part, ast.JoinedStr)
                or (isinstance(part, ast.Constant) and isinstance(part.value, str))
                or (isinstance(part, ast.Name) and part.id == "__doc__")
                for part in ast.walk(keyword.value)
            ):
                found.append((node.lineno, keyword.arg))
    return found


def test_no_help_text__written_in_python_under_bot() -> None:
    written = {
        f"{path.relative_to(BOT.parent)}:{line} {keyword}="
        for path in sorted(BOT.rglob("*.py"))
        for line, keyword in literal_texts(path.read_text(encoding="utf-8"))
    }
    assert sorted(written) == []


@pytest.mark.parametrize("call", [
    'p.add_argument("--x", help="an option")',
    'sub.add_parser("x", help=f"a {thing}")',
    'argparse.ArgumentParser(prog="x", description=__doc__)',
    'HelpedParser(epilog="see " + "docs")',
])
def test_literal_texts__found_in_any_argparse_call(call: str) -> None:
    assert [keyword for _, keyword in literal_texts(call)] != []


def test_help_page__without_the_file__still_lists_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_MESSAGES_DIR", str(tmp_path))
    help_texts.cache_clear()
    try:
        page = build_parser().format_help()
    finally:
        help_texts.cache_clear()
    assert all(command.prog.split()[-1] in page for command in commands(build_parser()))
