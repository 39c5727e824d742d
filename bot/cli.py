"""The `hearth` command: chat in a terminal, run the bot, check flows."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_help import HelpedParser
from bot.data.cli import add_data_commands
from bot.files import private_folder, reports_folder, write_private
from bot.invite_cli import add_invite_command
from bot.model import Outbound
from bot.replies import Submitted
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import database_label
from bot.teams_cli import add_teams_commands
from bot.usage import CliError, told
from flows.errors import FlowError
from store.errors import StoreError

if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from bot.pdf import Paper
    from bot.service import DialogueService
    from bot.telegram.webhook import Webhook
    from store.contract import UnitOfWork


def command_named(argv: Sequence[str]) -> str | None:
    """The subcommand on the line, told without parsing it (`--db FILE` skipped), if any."""
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> HelpedParser:
    """Every subcommand; for `chat`, without `safety`, whose danger net takes ~60 ms to import.

    `hearth chat` shows its first question sooner; the net loads with the first typed
    answer it checks (bot/safety.py).
    """
    parser = HelpedParser(prog="hearth")  # its texts: messages/<locale>/cli_help.yaml
    parser.add_argument("--db", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat")
    chat.add_argument("--as", dest="user", default=None)
    chat.add_argument("--flow", default=None)
    chat.add_argument("--show-keys", action="store_true")
    chat.set_defaults(run=_chat)

    run = sub.add_parser("run")
    run.add_argument("--webhook", metavar="URL", default=None)
    run.add_argument("--listen", default=None)
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--secret-token", default=None)
    run.add_argument("--listen-only", action="store_true")
    run.add_argument("--web", action="store_true")
    run.add_argument("--web-host", default="127.0.0.1")
    run.add_argument("--web-port", type=int, default=8080)
    run.set_defaults(run=_run)

    web = sub.add_parser("web")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.set_defaults(run=_web)

    clinician = sub.add_parser("clinician")
    clinician.add_argument("action", choices=["add", "remove", "assign", "link"])
    clinician.add_argument("channel")
    clinician.add_argument("id")
    clinician.add_argument("--to", default=None, metavar="CHANNEL:ID")
    clinician.add_argument("--org", default=None)
    clinician.add_argument("--supervisor", action="store_true")
    clinician.set_defaults(run=_clinician)

    report = sub.add_parser("report")
    # An older id may start with "-": `hearth report -- -2mF...` or `--id=-2mF...` reach it.
    report.add_argument("interview", nargs="?")
    report.add_argument("--id", dest="interview_id", default=None)
    report.add_argument("--out", type=Path, default=None)
    report.add_argument("--locale", default=None)
    report.add_argument("--pdf", action="store_true")
    report.add_argument("--paper", choices=["A4", "letter"], default="A4")
    report.set_defaults(run=_report)

    keygen = sub.add_parser("keygen")
    keygen.set_defaults(run=_keygen)

    flows = sub.add_parser("flows")
    flows.add_argument("files", nargs="*", type=Path)
    flows.set_defaults(run=_flows)
    add_data_commands(sub)  # export, import, stats (bot/data/cli.py)
    if command != "chat":
        from bot.danger.cli import add_safety_commands

        add_safety_commands(sub)  # safety check (bot/danger/cli.py)
    add_invite_command(sub)  # invite (bot/invite_cli.py)
    add_teams_commands(sub)  # org, transfer (bot/teams_cli.py)
    return parser


async def open_service(settings: Settings, flow: str | None = None, *,  # type: ignore[no-untyped-def]
                       every_flow: bool = False):
    """Compose the service from settings (the one composition root).

    Flows load when first needed (`hearth chat` parses only the one it runs); a server
    (`every_flow`) loads and checks them all before it answers anyone.
    """
    from bot.access import AccessPolicy
    from bot.flow_cache import load_cached
    from bot.service import DialogueService
    from bot.storage import open_store
    from flows.catalog import FlowCatalog

    try:
        catalog = FlowCatalog.bundled(flow or settings.flow, load_cached)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if every_flow:
        catalog.load_all()
    from bot.safety import SafetyNet

    store = await open_store(settings)  # SQLite, or PostgreSQL with HEARTH_DATABASE_URL
    service = DialogueService(
        store,
        catalog,
        access=AccessPolicy.from_settings(settings),
        safety=SafetyNet(tuple(settings.safety_contacts)),
    )
    service.delivery_retention = timedelta(days=settings.delivery_days)
    service.after_erasure = partial(forget_files, settings)
    return service


async def forget_files(settings: Settings, interview_ids: list[str]) -> None:
    """After an erasure: the reports, charts and exports about those interviews go too."""
    from bot.files import delete_reports, exports_folder, reports_folder

    def delete() -> None:
        for folder in (reports_folder(settings), exports_folder(settings)):
            delete_reports(interview_ids, folder)

    await asyncio.to_thread(delete)


def data_key(settings: Settings) -> str | None:
    """The at-rest key, unwrapped only where the store is opened."""
    return settings.data_key.get_secret_value() if settings.data_key else None


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import CHANNEL, ConsoleChat
    from messages.render import macro

    user = args.user or getpass.getuser()
    with asyncio.Runner() as runner:
        service = runner.run(open_service(settings, args.flow))
        # With a key, nothing of the answers is kept in clear: the report is not written
        # on its own, only by `hearth report --out` when the operator asks (docs/security.md).
        folder = None if settings.data_key else reports_folder(settings)
        service.after_submit = partial(_console_report, service, folder)

        def person_locale() -> str:
            # Someone who chose a language is spoken to in it; a new person in HEARTH_LOCALE.
            known = runner.run(service.store.read(lambda uow: uow.people.find(CHANNEL, user)))
            return known.locale if known is not None else settings.locale

        label = database_label(settings)
        print(str(macro(person_locale(), "console.j2", "started")(database=label)))
        def read(prompt: str) -> str:
            # The first prompt is the consent's: while the person reads it, the danger
            # net loads (their typed answer is checked against it; bot/safety.py).
            service.safety.warm()
            return input(prompt)

        try:
            ConsoleChat(
                service, user, locale=settings.locale, read=read, show_keys=args.show_keys
            ).run(runner)
        except KeyboardInterrupt:
            print("\n" + str(macro(person_locale(), "console.j2", "stopped")()))
        finally:
            runner.run(service.store.close())
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from bot.telegram.runner import ServeError
    from bot.telegram.webhook import Webhook

    if settings.telegram_token is None:
        raise CliError.of("telegram_token_missing")
    url = args.webhook or settings.telegram_webhook_url
    webhook = None
    if args.listen_only and not url:
        raise CliError.of("listen_only_needs_webhook")
    if args.listen_only and settings.database_url is None:
        # Workers must share one database; separate SQLite files would split the state.
        raise CliError.of("listen_only_needs_database")
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
    # httpx logs every poll at INFO, which drowns what matters; transitions logs every
    # interview's state change (a formatted, written line in the step's path).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)

    web = (args.web_host, args.web_port) if args.web else None
    if web is not None:
        _check_listen(*web)
        print("hearth: " + told("web_channel_at", host=args.web_host, port=args.web_port))

    async def main() -> None:
        service = await open_service(settings, every_flow=True)
        try:
            await serve_channels(service, settings, webhook, web)
        except ServeError as exc:
            raise CliError(str(exc)) from None
        finally:
            await service.store.close()

    with contextlib.suppress(KeyboardInterrupt):  # pressed before the handlers were set
        asyncio.run(main())
    return 0


def _check_listen(host: str, port: int) -> None:
    """Say so in one line when the address cannot be listened on (before anything starts)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise CliError.of("cannot_listen", host=host, port=port,
                          reason=str(exc.strerror or exc)) from None


def _web(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from bot.web.server import serve_web

    if not 0 < args.port < 65536:
        raise CliError.of("port_range", got=args.port)
    _check_listen(args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)

    async def main() -> None:
        service = await open_service(settings, every_flow=True)
        try:
            print("hearth: " + told("web_answer_at", host=args.host, port=args.port,
                                    database=database_label(settings)), flush=True)
            await serve_web(service, settings, args.host, args.port)
        finally:
            await service.store.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


async def serve_channels(
    service: DialogueService,
    settings: Settings,
    webhook: Webhook | None,
    web: tuple[str, int] | None,
    stop: asyncio.Event | None = None,
    request: BaseRequest | None = None,
) -> None:
    """The Telegram bot, and with `web` (host, port) the web channel, in one event loop.

    uvicorn's server is a task beside the bot on the same service; either one stopping
    stops the other (`stop`), and both finish what they have in hand first.
    """
    from bot.telegram.runner import serve
    from bot.web.server import serve_web

    stop = stop or asyncio.Event()
    site = None
    if web is not None:
        site = asyncio.create_task(serve_web(service, settings, web[0], web[1], stop))
    try:
        await serve(service, settings, webhook, stop=stop, request=request)
    finally:
        stop.set()
        if site is not None:
            await site


def _clinician(args: argparse.Namespace, settings: Settings) -> int:
    import re
    from datetime import UTC, datetime

    from bot.features.clinician import assign_held, end_role, grant_role
    from bot.storage import open_store
    from bot.teams import add_member

    if not re.fullmatch(r"\w{1,32}", args.channel) or not re.fullmatch(r"[\w.@-]{1,64}", args.id):
        raise CliError.of("clinician_usage", channel=args.channel, id=args.id)
    to: tuple[str, str] | None = None
    if args.to is not None:
        channel, _, external_id = args.to.rpartition(":")
        if args.action != "remove" or not channel or not external_id:
            raise CliError.of("to_usage")
        to = (channel, external_id)
    if (args.org is not None or args.supervisor) and args.action != "add":
        raise CliError.of("org_goes_with_add")
    if args.supervisor and args.org is None:
        raise CliError.of("supervisor_needs_org")

    who = f"{args.channel}:{args.id}"
    database = database_label(settings)

    def change(repo: UnitOfWork) -> str | None:
        now = datetime.now(UTC)
        if args.action == "link":
            return _signin_link(repo, settings, args.channel, args.id, now)
        if args.action == "add":
            person = grant_role(repo, args.channel, args.id, "clinician", by=None, now=now)
            role = "supervisor" if args.supervisor else "clinician"
            if args.org is not None:
                org = repo.teams.org_named(args.org)
                if org is None:
                    raise CliError.of("no_org_to_add", org=args.org)
                add_member(repo, org, person, role, by=None, now=now)
            return told("clinician_added", who=who, org=args.org, role=role, database=database)
        if args.action == "assign":
            moved = assign_held(repo, args.channel, args.id, by=None, now=now)
            return None if moved is None else told(
                "clinician_assigned", who=who, count=len(moved), database=database)
        handover = end_role(repo, args.channel, args.id, to=to, by=None, now=now)
        if handover is None:
            return None
        return told("clinician_removed", who=who, count=len(handover.moved),
                    to=args.to if to else None, database=database)

    async def main() -> str | None:
        store = await open_store(settings)
        try:
            return await store.run(change)
        finally:
            await store.close()

    done = asyncio.run(main())
    if done is None:
        raise CliError.of("not_clinician", who=args.to if args.action == "remove" else who)
    print(done)
    return 0


def _signin_link(repo: UnitOfWork, settings: Settings, channel: str, external_id: str,
                 now: datetime) -> str | None:
    """`hearth clinician link`: a one-time link to the web workspace (docs/clinicians.md)."""
    from bot.access import AccessPolicy, is_clinician
    from bot.features.web_signin import LINK_TTL, LINKS_PER_HOUR, issue_link

    person = repo.people.find(channel, external_id)
    if person is None or not is_clinician(person):
        return None
    issued = issue_link(repo, AccessPolicy.from_settings(settings), person, now=now)
    if issued is None:
        raise CliError.of("signin_limit", who=f"{channel}:{external_id}", limit=LINKS_PER_HOUR)
    return told("signin_link", who=f"{channel}:{external_id}", url=issued.url,
                minutes=int(LINK_TTL.total_seconds() // 60), database=database_label(settings))


def _keygen(args: argparse.Namespace, settings: Settings) -> int:
    from store.cipher import new_key

    # Printed once; whoever runs this stores it where the service's environment comes from.
    print(new_key())
    return 0


async def _console_report(service: DialogueService, folder: Path | None, submitted: Submitted,
                          locale: str) -> list[Outbound]:
    """In the console the operator is at the keyboard: write the full report and say where.

    `folder` is None when answers are sealed (HEARTH_DATA_KEY): then the report stays off
    the disk and the reply says how to write it on demand.
    """
    from bot.reports import write_interview_report
    from messages.render import macro
    from scoring import has_rules

    if folder is None:
        if not has_rules(service.catalog.get(submitted.flow).id):
            return []
        text = str(macro(locale, "replies.j2", "report_not_kept")(
            interview_id=submitted.interview_id))
        return [Outbound(text.strip(), key="replies.report_not_kept")]
    private_folder(folder, ours=True)
    paths = await write_interview_report(service.store, service.catalog,
                                         submitted.interview_id, folder, service.clock(), locale)
    if not paths:
        return []
    text = str(macro(locale, "replies.j2", "report_written")(path=str(paths[0])))
    return [Outbound(text.strip(), key="replies.report_written")]


async def _write_pdf(service: DialogueService, interview_id: str, folder: Path, locale: str,
                     paper: Paper) -> list[Path] | None:
    """`hearth report ID --pdf`: the printable report, a 0600 file (bot/files.py)."""
    from bot.pdf import PdfUnavailable, interview_pdf
    from bot.service import utc_now

    try:
        pdf = await interview_pdf(service.store, service.catalog, interview_id, utc_now(),
                                  locale=locale, paper=paper)
    except PdfUnavailable as exc:
        raise CliError.of("pdf_unavailable", reason=str(exc)) from exc
    if pdf is None:
        return None
    private_folder(folder)
    path = folder / f"report-{interview_id}.pdf"
    write_private(path, pdf)
    return [path]


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.data.render import text
    from bot.reports import write_interview_report
    from bot.service import utc_now
    from messages.render import LOCALES

    if args.interview and args.interview_id and args.interview != args.interview_id:
        raise CliError.of("report_id_twice")
    interview = (args.interview_id or args.interview or "").strip()
    if not interview:
        raise CliError.of("report_which")
    locale = args.locale or settings.locale
    if locale not in LOCALES:
        raise CliError.of("report_locale", got=locale, locales=list(LOCALES))

    if args.out is None and settings.data_key:
        raise CliError(text("en", "report_needs_out"))

    async def main() -> list[Path] | None:
        service = await open_service(settings)
        try:
            folder = args.out or private_folder(reports_folder(settings), ours=True)
            if args.pdf:
                return await _write_pdf(service, interview, folder, locale, args.paper)
            return await write_interview_report(
                service.store, service.catalog, interview,
                folder, utc_now(), locale)
        finally:
            await service.store.close()

    paths = asyncio.run(main())
    if paths is None:
        raise CliError.of("report_none", interview_id=interview)
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
            print(told("flow_unreadable", path=str(path), reason=exc.strerror), file=sys.stderr)
            continue
        for warning in result.warnings:
            print(told("flow_warning", warning=warning), file=sys.stderr)
        flow = result.flow
        count = sum(len(s.items) for s in flow.sections)
        print(told("flow_ok", path=str(path), flow=flow.key, count=count,
                   locales=list(flow.locales)))
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hearth` console script."""
    parser = build_parser(command_named(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    try:
        overrides = {"database": args.db} if args.db else {}
        settings = load_settings(**overrides)
        return int(args.run(args, settings))
    except (SettingsError, CliError, StoreError, FlowError) as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`hearth stats | head -1`): stop quietly, like other tools.
        # Python would flush stdout again at exit and complain, so point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
