"""`hearth export`, `hearth import` and `hearth stats`: the operator's data commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.files import exports_folder, private_folder, write_private
from bot.settings import Settings
from bot.usage import CliError

if TYPE_CHECKING:
    from flows.catalog import FlowCatalog
    from store.backend import Backend

# The rest is imported inside each command: `hearth --help` and `hearth run` start
# without loading the exporters, the scoring and the templates.

_OWNER = re.compile(r"^(\w{1,32}):([\w.@-]{1,64})$")


def add_data_commands(sub: Any) -> None:
    """Register the data subcommands on `hearth`'s subparsers."""
    export = sub.add_parser("export", help="export every interview as CSV or FHIR R4 JSON")
    export.add_argument("--format", choices=("csv", "fhir"), default="csv")
    export.add_argument("--out", type=Path, default=None,
                        help="folder to write into (default: exports/ beside the database)")
    export.add_argument("--flow", default=None, help="only interviews of this flow id")
    export.set_defaults(run=export_command)

    importer = sub.add_parser("import", help="import a FHIR QuestionnaireResponse (or a Bundle)")
    importer.add_argument("file", type=Path)
    importer.add_argument("--owner", required=True,
                          help="the clinician who will own it, as channel:id")
    importer.set_defaults(run=import_command)

    stats = sub.add_parser("stats", help="program figures (no identifying fields)")
    stats.add_argument("--html", type=Path, default=None, help="also write an HTML page")
    stats.add_argument("--flow", default=None, help="only interviews of this flow id")
    stats.set_defaults(run=stats_command)


def _catalog(settings: Settings) -> FlowCatalog:
    from flows.catalog import FlowCatalog

    return FlowCatalog.bundled(settings.flow)


async def _open(settings: Settings) -> Backend:
    from bot.storage import open_store

    return await open_store(settings)


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write CSV + codebook or a FHIR Bundle per flow version; audit every interview."""
    from bot.data.exporting import audit_export, export_files
    from bot.data.load import load_all
    from bot.data.render import text

    catalog = _catalog(settings)
    out: Path = args.out or exports_folder(settings)

    async def main() -> tuple[list[Path], int, int]:
        store = await _open(settings)
        try:
            interviews = await store.read(lambda repo: load_all(repo, args.flow))
            # The operator's export leaves nicknames out: it leaves the clinic's hands.
            result = export_files(catalog, interviews, args.format, include_nicknames=False)
            try:
                # 0700 if made here (or if it is Hearth's own exports/), files 0600.
                private_folder(out, ours=args.out is None)
                paths = [write_private(out / file.filename, file.data) for file in result.files]
            except OSError as exc:
                raise CliError(f"cannot write to {out}: {exc.strerror}") from None
            now = datetime.now(UTC)
            await store.run(lambda repo: audit_export(repo, result, args.format,
                                                      person_id=None, now=now))
            return paths, len(result.exported), result.unknown_flow
        finally:
            await store.close()

    paths, count, unknown = asyncio.run(main())
    if not count:
        print(text("en", "export_empty"))
        return 0
    print(text("en", "export_written", count=count, files=[str(p) for p in paths],
               unknown=unknown))
    return 0


def _resources(document: Any) -> list[Any]:
    """The QuestionnaireResponses in a file: the resource itself, or a Bundle's entries."""
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        found = [e.get("resource") for e in document.get("entry", []) if isinstance(e, dict)]
        return [r for r in found
                if isinstance(r, dict) and r.get("resourceType") == "QuestionnaireResponse"]
    return [document]


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Check every response first; import all of them, or nothing."""
    from bot.data.importer import (
        MAX_DOCUMENT_BYTES,
        DocumentRefused,
        Imported,
        ImportProblem,
        parse_document,
        read_response,
        store_imported,
    )
    from bot.data.render import text
    from store.contract import UnitOfWork

    match = _OWNER.match(args.owner)
    if match is None:
        raise CliError(text("en", "owner_usage", got=args.owner))
    try:
        with args.file.open("rb") as file:
            document = parse_document(file.read(MAX_DOCUMENT_BYTES + 1))
    except OSError as exc:
        raise CliError(text("en", "import_bad_file", path=str(args.file),
                            reason=exc.strerror)) from None
    except DocumentRefused as exc:
        raise CliError(text("en", exc.code, path=str(args.file), **exc.params)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(text("en", "import_bad_file", path=str(args.file),
                            reason=str(exc))) from None
    catalog = _catalog(settings)
    checked: list[Imported] = []
    problems: list[ImportProblem] = []
    for resource in _resources(document):
        outcome = read_response(catalog, resource)
        if isinstance(outcome, list):
            problems.extend(outcome)
        else:
            checked.append(outcome)
    if not checked and not problems:
        problems.append(ImportProblem("(resource)", "not_a_response"))
    if problems:
        for problem in problems:
            print(text("en", "import_problem", link_id=problem.link_id, code=problem.code,
                       params=problem.params), file=sys.stderr)
        print(text("en", "import_failed", count=len(problems)), file=sys.stderr)
        return 1
    channel, external_id = match.groups()

    def write(repo: UnitOfWork) -> list[tuple[str, str, int]] | None:
        owner = repo.people.find(channel, external_id)
        if owner is None or owner.role != "clinician":
            return None
        now = datetime.now(UTC)
        done = []
        for imported in checked:
            record = store_imported(repo, imported, owner_id=owner.id, now=now)
            done.append((record.id, record.state, len(imported.answers)))
        return done

    async def main() -> list[tuple[str, str, int]] | None:
        store = await _open(settings)
        try:
            return await store.run(write)
        finally:
            await store.close()

    done = asyncio.run(main())
    if done is None:
        raise CliError(text("en", "owner_not_clinician", owner=args.owner))
    for interview_id, state, count in done:
        print(text("en", "import_done", interview_id=interview_id, state=state, count=count))
    return 0


def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the program figures; with --html, also write the page with its chart."""
    from bot.data.figures import figures_html
    from bot.data.load import load_all
    from bot.data.render import text
    from bot.data.stats import program_figures

    catalog = _catalog(settings)

    async def main() -> Any:
        store = await _open(settings)
        try:
            return await store.read(lambda repo: load_all(repo, args.flow))
        finally:
            await store.close()

    interviews = asyncio.run(main())
    now = datetime.now(UTC)
    figures = program_figures(catalog, interviews, now)
    print(text("en", "stats_text", figures=figures))
    if args.html is not None:
        try:
            write_private(args.html, figures_html(figures, now).encode("utf-8"))
        except OSError as exc:
            raise CliError(f"cannot write {args.html}: {exc.strerror}") from None
        print(text("en", "stats_written", path=str(args.html)))
    return 0
