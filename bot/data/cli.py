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
    # Help texts: messages/<locale>/cli_help.yaml, under "hearth export" etc. (bot/cli_help.py).
    export = sub.add_parser("export")
    export.add_argument("--format", choices=("csv", "fhir"), default="csv")
    export.add_argument("--out", type=Path, default=None)
    export.add_argument("--flow", default=None)
    export.set_defaults(run=export_command)

    importer = sub.add_parser("import")
    importer.add_argument("file", type=Path, nargs="+")
    importer.add_argument("--owner", required=True)
    importer.set_defaults(run=import_command)

    stats = sub.add_parser("stats")
    stats.add_argument("--html", type=Path, default=None)
    stats.add_argument("--flow", default=None)
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
                raise CliError.of("cannot_write_folder", path=str(out),
                                  reason=exc.strerror) from None
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
    """The resources in a file: the resource itself, or a Bundle's responses with the
    ratings and plans an export writes beside them (anything else in a Bundle is left)."""
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        found = [e.get("resource") for e in document.get("entry", []) if isinstance(e, dict)]
        return [r for r in found if isinstance(r, dict) and r.get("resourceType") in
                ("QuestionnaireResponse", "Observation", "CarePlan")]
    return [document]


def _read_files(paths: list[Path]) -> list[Any]:
    """Every resource of every file, or CliError naming the file that cannot be read."""
    from bot.data.importer import MAX_DOCUMENT_BYTES, DocumentRefused, parse_document
    from bot.data.render import text

    resources: list[Any] = []
    for path in paths:
        try:
            with path.open("rb") as file:
                document = parse_document(file.read(MAX_DOCUMENT_BYTES + 1))
        except OSError as exc:
            raise CliError(text("en", "import_bad_file", path=str(path),
                                reason=exc.strerror)) from None
        except DocumentRefused as exc:
            raise CliError(text("en", exc.code, path=str(path), **exc.params)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CliError(text("en", "import_bad_file", path=str(path),
                                reason=str(exc))) from None
        resources.extend(_resources(document))
    return resources


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Check every resource of every file first; import all of them, or nothing."""
    from bot.data.import_extras import Extras, Source, read_extras, source_of, store_extras
    from bot.data.importer import Imported, ImportProblem, read_response, store_imported
    from bot.data.render import text
    from store.contract import UnitOfWork

    match = _OWNER.match(args.owner)
    if match is None:
        raise CliError(text("en", "owner_usage", got=args.owner))
    resources = _read_files(list(args.file))
    catalog = _catalog(settings)
    checked: list[tuple[Imported, Source]] = []
    problems: list[ImportProblem] = []
    responses = [r for r in resources if not (isinstance(r, dict) and r.get("resourceType") in
                                              ("Observation", "CarePlan"))]
    for index, resource in enumerate(responses):
        source = source_of(resource)
        outcome = read_response(catalog, resource, own_export=source is not None)
        if isinstance(outcome, list):
            problems.extend(outcome)
        else:
            fallback = f"#{index}"
            checked.append((outcome, source or Source(fallback, fallback)))
    if not checked and not problems:
        problems.append(ImportProblem("(resource)", "not_a_response"))
    extras = read_extras(resources, {s.resource_id: i.flow for i, s in checked})
    if isinstance(extras, list):
        problems.extend(extras)
    if problems:
        for problem in problems:
            print(text("en", "import_problem", link_id=problem.link_id, code=problem.code,
                       params=problem.params), file=sys.stderr)
        print(text("en", "import_failed", count=len(problems)), file=sys.stderr)
        return 1
    assert isinstance(extras, Extras)
    channel, external_id = match.groups()

    def write(repo: UnitOfWork) -> list[tuple[str, str, int]] | None:
        owner = repo.people.find(channel, external_id)
        if owner is None or owner.role != "clinician":
            return None
        now = datetime.now(UTC)
        done, new_ids = [], {}
        for imported, source in checked:
            record = store_imported(repo, imported, owner_id=owner.id, now=now)
            new_ids[source.interview_id] = record.id
            done.append((record.id, record.state, len(imported.answers)))
        store_extras(repo, extras, [s for _, s in checked], new_ids, owner_id=owner.id,
                     now=now)
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
            raise CliError.of("cannot_write_file", path=str(args.html),
                              reason=exc.strerror) from None
        print(text("en", "stats_written", path=str(args.html)))
    return 0
