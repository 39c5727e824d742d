"""The `hearth` command: chat in a terminal, run the bot, check flows."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.data.cli import add_data_commands
from bot.model import Outbound
from bot.replies import Submitted
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import database_label
from bot.usage import CliError
from flows.errors import FlowError
from store.errors import StoreError

if TYPE_CHECKING:
    from bot.service import DialogueService


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description=__doc__)
    parser.add_argument("--db", type=Path, help="database file (default: HEARTH_DATABASE)")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="answer an interview in this terminal")
    chat.add_argument("--as", dest="user", default=None, help="who is answering (default: you)")
    chat.add_argument("--flow", default=None, help="which interview (default: HEARTH_FLOW)")
    chat.set_defaults(run=_chat)

    run = sub.add_parser("run", help="run the Telegram bot (long polling unless --webhook)")
    run.add_argument("--webhook", metavar="URL", default=None,
                     help="receive updates at this public https:// URL instead of polling")
    run.add_argument("--listen", default=None, help="webhook: address to listen on")
    run.add_argument("--port", type=int, default=None, help="webhook: port to listen on")
    run.add_argument("--secret-token", default=None,
                     help="webhook: secret Telegram sends with every update")
    run.add_argument("--listen-only", action="store_true",
                     help="webhook: an extra worker; listen without registering the URL "
                          "(needs the secret and HEARTH_DATABASE_URL; docs/deploy.md)")
    run.set_defaults(run=_run)

    clinician = sub.add_parser("clinician", help="register a clinician (or take the role back)")
    clinician.add_argument("action", choices=["add", "remove"])
    clinician.add_argument("channel", help="where they talk to Hearth, e.g. telegram")
    clinician.add_argument("id", help="their id there (a Telegram user id is a number)")
    clinician.set_defaults(run=_clinician)

    report = sub.add_parser("report", help="write an interview's report (HTML and charts)")
    report.add_argument("interview", help="the interview id")
    report.add_argument("--out", type=Path, default=None,
                        help="folder for the files (default: reports/ beside the database)")
    report.add_argument("--locale", default=None,
                        help="language of the report (default: HEARTH_LOCALE)")
    report.set_defaults(run=_report)

    keygen = sub.add_parser("keygen", help="print a new key for HEARTH_DATA_KEY")
    keygen.set_defaults(run=_keygen)

    flows = sub.add_parser("flows", help="check flow files and list the bundled ones")
    flows.add_argument("files", nargs="*", type=Path, help="flow files to check")
    flows.set_defaults(run=_flows)
    add_data_commands(sub)  # export, import, stats (bot/data/cli.py)
    return parser


async def open_service(settings: Settings, flow: str | None = None):  # type: ignore[no-untyped-def]
    """Compose the service from settings (the one composition root)."""
    from bot.access import AccessPolicy
    from bot.service import DialogueService
    from bot.storage import open_store
    from flows.catalog import FlowCatalog

    try:
        catalog = FlowCatalog.bundled(flow or settings.flow)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    from bot.safety import SafetyNet

    store = await open_store(settings)  # SQLite, or PostgreSQL with HEARTH_DATABASE_URL
    service = DialogueService(
        store,
        catalog,
        access=AccessPolicy.from_settings(settings),
        safety=SafetyNet(tuple(settings.safety_contacts)),
    )
    service.delivery_retention = timedelta(days=settings.delivery_days)
    return service


def data_key(settings: Settings) -> str | None:
    """The at-rest key, unwrapped only where the store is opened."""
    return settings.data_key.get_secret_value() if settings.data_key else None


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import ConsoleChat

    with asyncio.Runner() as runner:
        service = runner.run(open_service(settings, args.flow))
        service.after_submit = partial(_console_report, service, reports_folder(settings))
        print(f"Hearth · answers are saved in {database_label(settings)}")
        try:
            ConsoleChat(service, args.user or getpass.getuser()).run(runner)
        except KeyboardInterrupt:
            print("\nStopped. Your answers so far are saved.")
        finally:
            runner.run(service.store.close())
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from bot.telegram.runner import ServeError, serve
    from bot.telegram.webhook import Webhook

    if settings.telegram_token is None:
        raise CliError(
            "HEARTH_TELEGRAM_TOKEN is not set: create a bot with @BotFather in Telegram "
            "(/newbot), then set HEARTH_TELEGRAM_TOKEN to the token it gives you"
        )
    url = args.webhook or settings.telegram_webhook_url
    webhook = None
    if args.listen_only and not url:
        raise CliError("--listen-only is for webhook workers: give --webhook URL as well")
    if args.listen_only and settings.database_url is None:
        # Workers must share one database; separate SQLite files would split the state.
        raise CliError("a listen-only worker shares the primary's database: "
                       "set HEARTH_DATABASE_URL (docs/deploy.md)")
    if url:
        secret = args.secret_token or (
            settings.telegram_webhook_secret.get_secret_value()
            if settings.telegram_webhook_secret else None
        )
        try:
            webhook = Webhook(
                url,
                args.listen or settings.telegram_webhook_listen,
                args.port or settings.telegram_webhook_port,
                secret,
                register=not args.listen_only,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every poll at INFO, which drowns what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def main() -> None:
        service = await open_service(settings)
        try:
            await serve(service, settings, webhook)
        except ServeError as exc:
            raise CliError(str(exc)) from None
        finally:
            await service.store.close()

    with contextlib.suppress(KeyboardInterrupt):  # pressed before the handlers were set
        asyncio.run(main())
    return 0


def _clinician(args: argparse.Namespace, settings: Settings) -> int:
    import re
    from datetime import UTC, datetime

    from bot.features.clinician import grant_role
    from bot.storage import open_store

    if not re.fullmatch(r"\w{1,32}", args.channel) or not re.fullmatch(r"[\w.@-]{1,64}", args.id):
        raise CliError(
            f"expected a channel and an id, like: telegram 123456789 (got {args.channel} {args.id})"
        )
    role = "clinician" if args.action == "add" else "caregiver"

    async def main() -> None:
        store = await open_store(settings)
        now = datetime.now(UTC)
        try:
            await store.run(
                lambda repo: grant_role(repo, args.channel, args.id, role, by=None, now=now)
            )
        finally:
            await store.close()

    asyncio.run(main())
    done = "is now a clinician" if args.action == "add" else "is no longer a clinician"
    print(f"{args.channel}:{args.id} {done} (in {database_label(settings)})")
    return 0


def _keygen(args: argparse.Namespace, settings: Settings) -> int:
    from store.cipher import new_key

    # Printed once; whoever runs this stores it where the service's environment comes from.
    print(new_key())
    return 0


def reports_folder(settings: Settings) -> Path:
    """Where reports are written unless told otherwise: beside the database."""
    return settings.database.parent / "reports"


async def _console_report(service: DialogueService, folder: Path, submitted: Submitted,
                          locale: str) -> list[Outbound]:
    """In the console the operator is at the keyboard: write the full report and say where."""
    from bot.reports import write_interview_report
    from messages.render import macro

    paths = await write_interview_report(service.store, service.catalog,
                                         submitted.interview_id, folder, service.clock(), locale)
    if not paths:
        return []
    text = str(macro(locale, "replies.j2", "report_written")(path=str(paths[0])))
    return [Outbound(text.strip(), key="replies.report_written")]


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports import write_interview_report
    from bot.service import utc_now

    async def main() -> list[Path] | None:
        service = await open_service(settings)
        try:
            return await write_interview_report(
                service.store, service.catalog, args.interview.strip(),
                args.out or reports_folder(settings), utc_now(), args.locale or settings.locale)
        finally:
            await service.store.close()

    paths = asyncio.run(main())
    if paths is None:
        raise CliError(f"no scored interview with id {args.interview!r} "
                       "(check the id; interviews on a flow without scoring rules have no report)")
    for path in paths:
        print(path)
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
