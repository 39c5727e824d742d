"""The `hearth` command: chat in a terminal, run the bot, check flows."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings
from flows.errors import FlowError
from store.sqlite import StoreError


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description=__doc__)
    parser.add_argument("--db", type=Path, help="database file (default: HEARTH_DATABASE)")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="answer an interview in this terminal")
    chat.add_argument("--as", dest="user", default=None, help="who is answering (default: you)")
    chat.add_argument("--flow", default=None, help="which interview (default: HEARTH_FLOW)")
    chat.set_defaults(run=_chat)

    clinician = sub.add_parser("clinician", help="register a clinician (or take the role back)")
    clinician.add_argument("action", choices=["add", "remove"])
    clinician.add_argument("channel", help="where they talk to Hearth, e.g. telegram")
    clinician.add_argument("id", help="their id there (a Telegram user id is a number)")
    clinician.set_defaults(run=_clinician)

    flows = sub.add_parser("flows", help="check flow files and list the bundled ones")
    flows.add_argument("files", nargs="*", type=Path, help="flow files to check")
    flows.set_defaults(run=_flows)
    return parser


async def open_service(settings: Settings, flow: str | None = None):  # type: ignore[no-untyped-def]
    """Compose the service from settings (the one composition root)."""
    from bot.access import AccessPolicy
    from bot.service import DialogueService
    from flows.catalog import FlowCatalog
    from store.sqlite import Store

    try:
        catalog = FlowCatalog.bundled(flow or settings.flow)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    store = await Store.open(settings.database, settings.synchronous)
    return DialogueService(store, catalog, access=AccessPolicy.from_settings(settings))


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import ConsoleChat

    with asyncio.Runner() as runner:
        service = runner.run(open_service(settings, args.flow))
        print(f"Hearth · answers are saved in {settings.database}")
        try:
            ConsoleChat(service, args.user or getpass.getuser()).run(runner)
        except KeyboardInterrupt:
            print("\nStopped. Your answers so far are saved.")
        finally:
            runner.run(service.store.close())
    return 0


def _clinician(args: argparse.Namespace, settings: Settings) -> int:
    import re
    from datetime import UTC, datetime

    from bot.clinician import grant_role
    from store.sqlite import Store

    if not re.fullmatch(r"\w{1,32}", args.channel) or not re.fullmatch(r"[\w.@-]{1,64}", args.id):
        raise CliError(
            f"expected a channel and an id, like: telegram 123456789 (got {args.channel} {args.id})"
        )
    role = "clinician" if args.action == "add" else "caregiver"

    async def main() -> None:
        store = await Store.open(settings.database, settings.synchronous)
        now = datetime.now(UTC)
        try:
            await store.run(
                lambda repo: grant_role(repo, args.channel, args.id, role, by=None, now=now)
            )
        finally:
            await store.close()

    asyncio.run(main())
    done = "is now a clinician" if args.action == "add" else "is no longer a clinician"
    print(f"{args.channel}:{args.id} {done} (in {settings.database})")
    return 0


def _flows(args: argparse.Namespace, settings: Settings) -> int:
    from flows.loader import bundled_flow_paths, load_flow_file

    paths = args.files or bundled_flow_paths()
    failed = False
    for path in paths:
        try:
            result = load_flow_file(path)
        except FlowError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        except OSError as exc:
            failed = True
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            continue
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        flow = result.flow
        count = sum(len(s.items) for s in flow.sections)
        print(f"{path}: {flow.key} ok ({count} items, locales {', '.join(flow.locales)})")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hearth` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {"database": args.db} if args.db else {}
        settings = load_settings(**overrides)
        return int(args.run(args, settings))
    except (SettingsError, CliError, StoreError, FlowError) as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
