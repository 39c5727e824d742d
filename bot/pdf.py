"""The printable clinician's report: the HTML report laid out as a PDF by WeasyPrint."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Literal

from bot.access import may_read
from bot.reporting import informant_forms, safety_notes
from bot.reports import clinician_html, scored_interview
from flows.catalog import FlowCatalog
from store.backend import Backend
from store.contract import UnitOfWork

Paper = Literal["A4", "letter"]
PAPERS: tuple[Paper, ...] = ("A4", "letter")


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (pango) are missing (docs/deploy.md)."""


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the package is there, pango is not
        raise PdfUnavailable(
            f"the PDF report needs WeasyPrint and its system libraries: {exc}"
        ) from exc
    # The report's screen styles use properties print ignores (overflow-x): WeasyPrint
    # warns about each on every render, which would fill the service's log with noise.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return weasyprint


def _css_string(text: str) -> str:
    """Text as a CSS string literal (a nickname is the clinician's typing)."""
    escaped = "".join(ch if ch.isprintable() and ch not in '"\\' else f"\\{ord(ch):x} "
                      for ch in text)
    return f'"{escaped}"'


def render_pdf(html: str, *, header: str, paper: Paper = "A4") -> bytes:
    """Lay an HTML report out as a PDF; blocking (seconds): callers use a thread."""
    weasyprint = _weasyprint()
    page = weasyprint.CSS(string=(
        f"@page {{ size: {paper}; @top-left {{ content: {_css_string(header)}; }} }}"
    ))
    styles = weasyprint.CSS(string=resources.files("bot").joinpath("print.css").read_text())
    # The report is self-contained (charts are data: URIs): nothing else is fetched, so a
    # crafted answer can never make the renderer reach the network or a local file.
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=html, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[styles, page])
    return pdf


@dataclass(frozen=True)
class _Inputs:
    html_args: tuple[Any, ...]
    header: str


def _gather(uow: UnitOfWork, catalog: FlowCatalog, interview_id: str, now: datetime,
            locale: str) -> _Inputs | None:
    record = uow.interviews.get(interview_id)
    scored = scored_interview(uow, catalog, interview_id, now, locale)
    if record is None or scored is None:
        return None
    report, appendix = scored
    header = f"{record.subject_nickname or ''} · {now:%Y-%m-%d} · {interview_id}".lstrip(" ·")
    notes = safety_notes(uow, interview_id)
    forms = informant_forms(uow, catalog, record)
    return _Inputs((report, appendix, locale, None, None, notes, forms), header)


def _html_and_pdf(inputs: _Inputs, paper: Paper) -> bytes:
    report, appendix, locale, charts, flow, notes, forms = inputs.html_args
    html = clinician_html(report, appendix, locale, charts, flow, notes, forms)
    return render_pdf(html, header=inputs.header, paper=paper)


async def interview_pdf(store: Backend, catalog: FlowCatalog, interview_id: str, now: datetime,
                        *, locale: str = "en", paper: Paper = "A4",
                        person_id: int | None = None) -> bytes | None:
    """An interview's printable report, audited as an export; None when there is none to
    print or (for a person) it is not theirs to read (bot/access.py `may_read`, the same
    check as every other view). `person_id` None is the operator (`hearth report --pdf`).

    Charts and layout take a second or more: drawn in a thread, off the event loop.
    """
    def gather(uow: UnitOfWork) -> _Inputs | None:
        if person_id is not None:
            person = uow.people.by_id(person_id)
            record = uow.interviews.get(interview_id)
            if person is None or record is None or not may_read(uow, person, record):
                uow.audit.add("denied", interview_id=None, person_id=person_id, now=now,
                              detail="pdf")
                return None
        found = _gather(uow, catalog, interview_id, now, locale)
        if found is not None:
            uow.audit.add("exported", interview_id=interview_id, person_id=person_id, now=now,
                          detail="pdf" if person_id is not None else "operator:pdf")
        return found

    # One writing step: the check, the inputs and the audit event agree (no role taken
    # back between them).
    inputs = await store.run(gather)
    if inputs is None:
        return None
    return await asyncio.to_thread(_html_and_pdf, inputs, paper)
