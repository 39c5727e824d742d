"""What the command line tells its operator: its messages (messages/<locale>/operator.j2)."""

from __future__ import annotations

from typing import Any

#: The command line speaks English, like its data commands (bot/data/cli.py) always have;
#: operator.j2 carries every message in each locale should the operator get a choice.
OPERATOR_LOCALE = "en"
LIBRARY = "operator.j2"


def told(message: str, /, **params: Any) -> str:
    """One operator message, rendered (positional-only: a message may take `message`)."""
    # Imported here: a command that never tells the operator anything renders nothing.
    from messages.render import say

    return say(OPERATOR_LOCALE, LIBRARY, message, **params)


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""

    @classmethod
    def of(cls, message: str, /, **params: Any) -> CliError:
        """The failure saying operator message `message` with these values."""
        return cls(told(message, **params))
