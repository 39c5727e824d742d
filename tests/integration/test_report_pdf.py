"""The printable report: a real PDF checked page by page as images (pypdfium2)."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from bot.cli import main as cli
from bot.pdf import PdfUnavailable, _weasyprint, interview_pdf
from bot.reports import clinician_html, scored_interview
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.conftest import Clock
from tests.integration.clinic import clinic_service, register, rows, submitted_history

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
#: Paper sizes in PDF points (1/72 inch).
A4 = (595.3, 841.9)
LETTER = (612.0, 792.0)


def _pdf_available() -> str | None:
    try:
        _weasyprint()  # importing it loads pango: this is where a missing library shows
    except PdfUnavailable as exc:
        return str(exc)
    return None


_MISSING = _pdf_available()
if _MISSING and os.environ.get("CI") == "true":
    # CI installs the libraries (.ci/pdf.sh): a missing one there is a failure, not a skip.
    raise RuntimeError(f"CI without WeasyPrint's system libraries: {_MISSING}")
pytestmark = pytest.mark.skipif(
    _MISSING is not None,
    reason=f"WeasyPrint cannot run here (install pango: docs/deploy.md): {_MISSING}",
)


class _Headings(HTMLParser):
    """The h1/h2 texts of the HTML report: the sections the PDF must carry."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("h1", "h2"):
            self._in = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2"):
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.found[-1] += data


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def non_white(image: object) -> float:
    """Share of pixels that are not (near) white in a PIL image."""
    grey = image.convert("L")  # type: ignore[attr-defined]
    histogram = grey.histogram()
    total = sum(histogram)
    return sum(histogram[:240]) / total


def coloured(image: object) -> float:
    """Share of clearly coloured pixels (a chart's bands), not grey text."""
    hsv = image.convert("RGB").convert("HSV")  # type: ignore[attr-defined]
    saturation = hsv.getchannel("S").histogram()
    return sum(saturation[80:]) / sum(saturation)


async def mia(clinic: DialogueService) -> tuple[str, str]:
    """A submitted interview and its HTML report as the PDF starts from it."""
    interview_id = await submitted_history(clinic, "doc", "fam")

    def html(uow: UnitOfWork) -> str:
        scored = scored_interview(uow, clinic.catalog, interview_id, NOW)
        assert scored is not None
        return clinician_html(*scored)

    return interview_id, await clinic.store.read(html)


@pytest.mark.parametrize(("paper", "size"), [("A4", A4), ("letter", LETTER)])
async def test_pdf__pages_as_images__header_sections_and_charts(
    clinic: DialogueService, paper: str, size: tuple[float, float]
) -> None:
    interview_id, html = await mia(clinic)
    data = await interview_pdf(clinic.store, clinic.catalog, interview_id, NOW,
                               paper=paper)  # type: ignore[arg-type]
    assert data is not None and data.startswith(b"%PDF-")
    document = pdfium.PdfDocument(data)
    assert len(document) >= 3  # header and safety, charts, the appendix of every answer
    texts, charts = [], []
    for number in range(len(document)):
        page = document[number]
        assert page.get_size() == pytest.approx(size, abs=1)
        rendered = page.render(scale=1).to_pil()  # one pixel per point
        text = page.get_textpage().get_text_range()
        # Non-blank: content inside the margins (20 mm top, 18 mm bottom: bot/print.css),
        # not just the running header and the page number.
        body = rendered.crop((0, 57, rendered.width, rendered.height - 51))
        assert non_white(body) > 0.0003, (number + 1, non_white(body), text)
        texts.append(text)
        # The running header on every page: the nickname, the date, the interview's id.
        assert "Mia" in text and "2026-11-28" in text and interview_id in text, (number, text)
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
            left, bottom, right, top = image.get_bounds()
            charts.append((number, left, bottom, right, top))
            # The chart fits inside the page's margins and is drawn whole on one page.
            assert 30 < left < right < size[0] - 30 and 30 < bottom < top < size[1] - 30
            box = (int(left), int(size[1] - top), int(right), int(size[1] - bottom))
            chart = rendered.crop(box)
            assert non_white(chart) > 0.05 and coloured(chart) > 0.02, (
                number, box, non_white(chart), coloured(chart))
    assert len(charts) == 2  # the timeline and the functional brain map
    whole = flat(" ".join(texts))
    parser = _Headings()
    parser.feed(html)
    assert len(parser.found) >= 6
    for heading in parser.found:
        assert flat(heading) in whole, heading


async def test_pdf__who_may_print__the_same_check_as_every_view(
    clinic: DialogueService,
) -> None:
    await register(clinic, "doc")
    stranger = await register(clinic, "other")
    interview_id, _ = await mia(clinic)
    ids = dict(await rows(clinic, "SELECT external_id, id FROM people WHERE channel='console'"))
    assert stranger is not None
    denied = await interview_pdf(clinic.store, clinic.catalog, interview_id, NOW,
                                 person_id=ids["other"])
    assert denied is None
    assert await rows(clinic, "SELECT person_id, detail, interview_id FROM events "
                      "WHERE kind = 'denied'") == [(ids["other"], "pdf", None)]
    own = await interview_pdf(clinic.store, clinic.catalog, interview_id, NOW,
                              person_id=ids["doc"])
    assert own is not None and own.startswith(b"%PDF-")
    assert await rows(clinic, "SELECT person_id, detail FROM events WHERE kind = 'exported' "
                      "AND interview_id = ?", interview_id) == [(ids["doc"], "pdf")]


async def test_pdf__rendered_off_the_event_loop(clinic: DialogueService) -> None:
    interview_id, _ = await mia(clinic)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    try:
        await interview_pdf(clinic.store, clinic.catalog, interview_id, NOW)
    finally:
        beat.cancel()
    assert ticks >= 5  # the loop kept turning while the pages were laid out


def test_cli_report_pdf__private_file(tmp_path: Path, catalog: FlowCatalog,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hearth.db"

    async def make() -> str:
        store = await Store.open(db)
        try:
            return await submitted_history(clinic_service(store, catalog, Clock()), "doc", "f")
        finally:
            await store.close()

    interview_id = asyncio.run(make())
    out = tmp_path / "out"
    assert cli(["--db", str(db), "report", interview_id, "--pdf", "--out", str(out)]) == 0
    [path] = [Path(line) for line in capsys.readouterr().out.split()]
    assert path.parent == out and path.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cli(["--db", str(db), "report", "NoSuchId1234", "--pdf", "--out", str(out)]) == 2


def test_pdf_file__erased_with_its_interview(tmp_path: Path) -> None:
    from bot.files import delete_reports, write_private

    mine, other = tmp_path / "report-AbCdEfGh1234.pdf", tmp_path / "report-ZyXwVuTs9876.pdf"
    for path in (mine, other):
        write_private(path, b"%PDF-1.7")
    assert delete_reports(["AbCdEfGh1234"], tmp_path) == [mine]
    assert other.exists()
