"""`hearth --help`: the command line's help texts, read from messages/<locale>/cli_help.yaml."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from bot.usage import OPERATOR_LOCALE

#: One file per locale, beside the other messages (docs/languages.md).
HELP_FILE = "cli_help.yaml"


@cache
def help_texts(locale: str) -> Mapping[str, Any]:
    """One locale's help texts: {command line: {summary, description, arguments}}.

    Read only when a help page is shown: parsing the command line needs none of it, so
    `hearth chat` and every other command start without reading this file.
    """
    # Imported here for the same reason: only a help page pays for the YAML reader.
    import yaml

    from messages.render import messages_dir

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with (messages_dir() / locale / HELP_FILE).open(encoding="utf-8") as file:
            texts = yaml.load(file, Loader=loader)
    except OSError:
        # A messages folder of one's own (HEARTH_MESSAGES_DIR) without the file: the pages
        # still list every command and option, without their texts, rather than a traceback.
        return {}
    return texts if isinstance(texts, dict) else {}


def argument_key(action: argparse.Action) -> str:
    """An argument's name in cli_help.yaml: its longest flag (`--show-keys`), else its dest."""
    return max(action.option_strings, key=len) if action.option_strings else action.dest


def explained(action: argparse.Action) -> bool:
    """Whether an argument takes its help from the data (argparse's own -h and a
    sub-command slot do not; an option hidden with SUPPRESS stays hidden)."""
    return not isinstance(action, argparse._HelpAction | argparse._SubParsersAction) and (
        action.help is not argparse.SUPPRESS)


def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The sub-commands' parsers right under this one, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


def explain(parser: argparse.ArgumentParser, locale: str) -> None:
    """Give one parser its texts in `locale`: its description, its arguments' help and its
    sub-commands' one-line summaries (what its own help page shows), keyed by its `prog`."""
    texts = help_texts(locale)
    own = texts.get(parser.prog) or {}
    parser.description = own.get("description")
    arguments = own.get("arguments") or {}
    for action in parser._actions:
        if explained(action):
            action.help = arguments.get(argument_key(action))
        elif isinstance(action, argparse._SubParsersAction):
            # The summaries argparse lists are pseudo-actions beside each sub-parser.
            for summary in action._choices_actions:
                command = action.choices[summary.dest]
                summary.help = (texts.get(command.prog) or {}).get("summary")


def help_page(parser: argparse.ArgumentParser, locale: str) -> str:
    """The parser's help page in `locale` (argparse's own words, such as "usage:", are its)."""
    explain(parser, locale)
    return argparse.ArgumentParser.format_help(parser)


class ListedCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands that are listed on their parent's help page without a help= text.

    argparse lists a sub-command only when add_parser is given `help`; the text itself
    comes from the data when the page is shown (`explain`).
    """

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """A sub-command's parser, listed under its parent."""
        kwargs.setdefault("help", None)
        parser: argparse.ArgumentParser = super().add_parser(name, **kwargs)
        return parser


class HelpedParser(argparse.ArgumentParser):
    """An ArgumentParser whose help texts are locale data, filled in when a page is shown.

    Its sub-commands' parsers are HelpedParsers too (argparse makes them of the parent's
    class), so `hearth chat --help` reads the file the same way.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", ListedCommands)

    def format_help(self) -> str:
        """This parser's help page in the operator's language."""
        return help_page(self, OPERATOR_LOCALE)
