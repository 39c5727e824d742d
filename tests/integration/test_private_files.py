"""Files about people are their owner's only: modes under umask 022, erasure, bounded import."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.data.exporting import export_files
from bot.files import delete_reports, private_folder, write_private
from bot.reports import answer_appendix, write_clinician_report
from flows.catalog import FlowCatalog
from scoring import build_report
from store.cipher import new_key
from store.sqlite import Store
from tests.at_rest import mode
from tests.conftest import Clock, said
from tests.integration.clinic import clinic_service, register
from tests.integration.test_data import (
    DOC,
    FAM,
    interview_ids,
    sample_db,
    submitted_mia,
)
from tests.unit.data_helpers import interview
from tests.unit.families import NOW, default_flow, family_jay


def assert_private(folder: Path, expect_files: int) -> None:
    files = [p for p in folder.iterdir()]
    assert mode(folder) == 0o700, oct(mode(folder))
    assert len(files) == expect_files and all(mode(p) == 0o600 for p in files), \
        [(p.name, oct(mode(p))) for p in files]


async def _scored_db(db: Path, catalog: FlowCatalog, key: str | None = None) -> str:
    store = await Store.open(db, data_key=key)
    try:
        clinic = clinic_service(store, catalog, Clock())
        await register(clinic, DOC)
        return await submitted_mia(clinic, DOC, FAM)
    finally:
        await store.close()


# -- modes -----------------------------------------------------------------------------------


def test_cli_report__umask_022__default_and_chosen_folders_owner_only(
    tmp_path: Path, catalog: FlowCatalog, loose_umask: None, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    interview_id = asyncio.run(_scored_db(db, catalog))
    (tmp_path / "reports").mkdir(mode=0o755)  # as an older Hearth left it
    assert cli(["--db", str(db), "report", interview_id]) == 0
    assert_private(tmp_path / "reports", 3)
    chosen = tmp_path / "clinic" / "2026" / "june"
    assert cli(["--db", str(db), "report", interview_id, "--out", str(chosen)]) == 0
    assert_private(chosen, 3)
    assert mode(tmp_path / "clinic") == 0o700 and mode(tmp_path / "clinic" / "2026") == 0o700
    written = capsys.readouterr().out.split()
    assert all(interview_id in Path(p).name for p in written)


def test_cli_export__umask_022__folder_0700_files_0600(
    tmp_path: Path, catalog: FlowCatalog, loose_umask: None
) -> None:
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    assert cli(["--db", str(db), "export"]) == 0  # default: exports/ beside the database
    assert_private(tmp_path / "exports", 2)
    assert cli(["--db", str(db), "export", "--format", "fhir", "--out",
                str(tmp_path / "new" / "fhir")]) == 0
    assert_private(tmp_path / "new" / "fhir", 1)
    # An existing folder the operator chose keeps its mode; a file there that was 0644
    # is replaced by a 0600 one.
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    (theirs / "hearth-sample-v1.csv").write_text("old")
    assert mode(theirs / "hearth-sample-v1.csv") == 0o644
    assert cli(["--db", str(db), "export", "--out", str(theirs)]) == 0
    assert mode(theirs) == 0o755
    assert {p.name: mode(p) for p in theirs.iterdir()} == {
        "hearth-sample-v1.csv": 0o600, "hearth-sample-v1-codebook.csv": 0o600}


def test_cli_stats_html__umask_022__file_0600(
    tmp_path: Path, catalog: FlowCatalog, loose_umask: None
) -> None:
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    page = tmp_path / "figures.html"
    assert cli(["--db", str(db), "stats", "--html", str(page)]) == 0
    assert mode(page) == 0o600


def test_write_private__umask_022__no_leftovers(tmp_path: Path, loose_umask: None) -> None:
    folder = private_folder(tmp_path / "a" / "b")
    path = write_private(folder / "x.bin", b"1")
    write_private(path, b"2")
    assert path.read_bytes() == b"2" and mode(path) == 0o600
    assert [p.name for p in folder.iterdir()] == ["x.bin"]  # no temporary file left


# -- with HEARTH_DATA_KEY: reports only on demand ---------------------------------------------


def test_cli_report__key_set__needs_out__then_writes_owner_only(
    tmp_path: Path, catalog: FlowCatalog, loose_umask: None,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_key()
    db = tmp_path / "h.db"
    interview_id = asyncio.run(_scored_db(db, catalog, key))
    monkeypatch.setenv("HEARTH_DATA_KEY", key)
    capsys.readouterr()
    assert cli(["--db", str(db), "report", interview_id]) == 2
    err = capsys.readouterr().err
    assert err == f"hearth: {said('data.report_needs_out')}\n"
    assert not (tmp_path / "reports").exists()
    out = tmp_path / "asked"
    assert cli(["--db", str(db), "report", interview_id, "--out", str(out)]) == 0
    assert_private(out, 3)


# -- erasure: delete_reports ------------------------------------------------------------------


def test_delete_reports__erased_ids__their_reports_and_exports_go_others_stay(
    tmp_path: Path, catalog: FlowCatalog
) -> None:
    flow = default_flow()
    report = build_report(flow, family_jay(), NOW)
    appendix = answer_appendix(flow, family_jay())
    erased, other = "Erased_id-123", "Kept-id_4567"
    gone = write_clinician_report(report, appendix, tmp_path, stem_suffix=erased)
    kept = write_clinician_report(report, appendix, tmp_path, stem_suffix=other)
    both = export_files(catalog, [interview(flow, family_jay(), interview_id=erased),
                                  interview(flow, family_jay(), interview_id=other)],
                        "csv", include_nicknames=True)
    for file in both.files:
        write_private(tmp_path / file.filename, file.data)
    only_other = export_files(catalog, [interview(flow, family_jay(), interview_id=other)],
                              "fhir", include_nicknames=True)
    write_private(tmp_path / only_other.files[0].filename, only_other.files[0].data)
    (tmp_path / "notes.txt").write_text(erased)  # not Hearth's: never touched

    deleted = delete_reports([erased], tmp_path)

    table = tmp_path / both.files[0].filename
    assert sorted(deleted) == sorted([*gone, table])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([p.name for p in kept] + [both.files[1].filename,
                                                    only_other.files[0].filename, "notes.txt"])
    assert all(erased.encode() not in p.read_bytes() for p in tmp_path.iterdir()
               if p.name != "notes.txt")
    assert delete_reports([erased], tmp_path) == []
    assert delete_reports([erased], tmp_path / "missing") == []


# -- import: bounded input, cleaned nickname --------------------------------------------------


@pytest.mark.parametrize("document", [
    "[" * 200_000 + "]" * 200_000,  # beyond the parser's own recursion limit
    json.dumps(json.loads("[" * 70 + "]" * 70)),  # parses, but deeper than any response
    '{"resourceType": "Bundle", "entry": ' + '{"a": ' * 80 + "1" + "}" * 80 + "}",
])
def test_cli_import__too_deep__one_line_no_traceback(
    tmp_path: Path, catalog: FlowCatalog, document: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    file = tmp_path / "deep.json"
    file.write_text(document)
    capsys.readouterr()
    assert cli(["--db", str(db), "import", str(file), "--owner", f"console:{DOC}"]) == 2
    err = capsys.readouterr().err
    assert err == f"hearth: {said('data.import_too_deep', path=str(file), limit=64)}\n"


def test_cli_import__too_large__one_line(
    tmp_path: Path, catalog: FlowCatalog, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.data.importer

    monkeypatch.setattr(bot.data.importer, "MAX_DOCUMENT_BYTES", 1024)
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    file = tmp_path / "big.json"
    file.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"x": "y" * 2000}]}))
    capsys.readouterr()
    assert cli(["--db", str(db), "import", str(file), "--owner", f"console:{DOC}"]) == 2
    err = capsys.readouterr().err
    limit = 1024 // (1024 * 1024)  # in whole MB, as the message gives it
    assert err == f"hearth: {said('data.import_too_big', path=str(file), limit=limit)}\n"


def test_cli_import__nickname_cleaned_like_new(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    original = asyncio.run(sample_db(db, catalog))
    out = tmp_path / "out"
    assert cli(["--db", str(db), "export", "--format", "fhir", "--out", str(out)]) == 0
    bundle = json.loads((out / "hearth-sample-v1.fhir.json").read_text())
    response = next(e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "QuestionnaireResponse")
    name = "\u200fSam\u202e  \t Lee\u2066"
    response["item"][0]["item"].insert(
        0, {"linkId": "child_name", "answer": [{"valueString": name}]})
    file = tmp_path / "paper.json"
    file.write_text(json.dumps(response))
    capsys.readouterr()
    assert cli(["--db", str(db), "import", str(file), "--owner", f"console:{DOC}"]) == 0
    [imported] = asyncio.run(interview_ids(db)) - {original}
    assert imported in capsys.readouterr().out

    async def nickname() -> str | None:
        store = await Store.open(db)
        try:
            record = await store.read(lambda r: r.interviews.get(imported))
            assert record is not None
            return record.subject_nickname
        finally:
            await store.close()

    stored = asyncio.run(nickname())
    assert stored == "Sam Lee"
