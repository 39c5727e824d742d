"""What the command line tells its user when it cannot do what was asked."""


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""
