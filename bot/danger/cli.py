"""`hearth safety check`: operators audit the danger net against their own phrases."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.danger.net import LOCALES, DangerNet
from bot.settings import Settings


def add_safety_commands(sub: Any) -> None:
    """Register `safety check` on `hearth`'s subparsers."""
    # Help texts: messages/<locale>/cli_help.yaml, under "hearth safety" (bot/cli_help.py).
    safety = sub.add_parser("safety")
    actions = safety.add_subparsers(dest="safety_command", required=True)
    check = actions.add_parser("check")
    check.add_argument("--locale", choices=LOCALES, default=None)
    check.set_defaults(run=check_command)


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    """One line out per line in, in order, so the output lines up with the input."""
    net = DangerNet()
    for line in sys.stdin:
        message = line.rstrip("\r\n")
        verdict = net.classify(message, args.locale)
        sys.stdout.write(f"{verdict.kind}\t{message}\n")
    sys.stdout.flush()
    return 0
