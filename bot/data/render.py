"""Render data replies after the commit: export files, and a follow-up's change report."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from markupsafe import Markup

from bot.data.change import compare
from bot.model import Attachment, Outbound
from bot.replies import Change, Files, ReviewRow
from bot.wording import Wording
from flows.answers import decode_value
from flows.engine import Answer, Answers
from messages.render import say

LIBRARY = "data.j2"
HTML_LIBRARY = "data.html.j2"


def text(locale: str, message: str, library: str = LIBRARY, /, **params: Any) -> str:
    """One message from the data libraries (positional-only: a message may take `name`)."""
    return say(locale, library, message, **params)


def render_data(renderer: Wording, reply: Files | Change, locale: str) -> list[Outbound]:
    """Files become one message each (the caption on the first); a change, an HTML file."""
    if isinstance(reply, Files):
        return render_files(reply, locale)
    return render_change(renderer, reply, locale)


def render_files(reply: Files, locale: str) -> list[Outbound]:
    """The caption with the first file, then one message per further file."""
    if not reply.files:
        # A redelivered update: the files were made once and never stored.
        return [Outbound(text(locale, "files_not_kept"))]
    caption = text(locale, reply.message, reply.library, **reply.params)
    messages: list[Outbound] = []
    for index, file in enumerate(reply.files):
        attachment = Attachment(file.filename, file.data, file.mime)
        words = caption if index == 0 else text(locale, "file_caption", name=file.filename)
        messages.append(Outbound(words, attachment=attachment))
    return messages


def _answers(rows: list[ReviewRow]) -> Answers:
    return {
        row.key: Answer(decode_value(row.value), 0) if row.value is not None else Answer(None, 1)
        for row in rows
    }


def change_titles(locale: str, then: str, now: str) -> dict[str, str]:
    """The words drawn on the then/now map."""
    titles = {band: text(locale, "band", HTML_LIBRARY, band=band)
              for band in ("typical", "moderate", "significant", "unrated")}
    titles["title"] = text(locale, "change_map_title", HTML_LIBRARY)
    titles["then"] = text(locale, "change_map_then", HTML_LIBRARY, date=then)
    titles["now"] = text(locale, "change_map_now", HTML_LIBRARY, date=now)
    return titles


def render_change(renderer: Wording, reply: Change, locale: str) -> list[Outbound]:
    """The change report as a self-contained HTML file (with the then/now map)."""
    from bot.data.scores import scored
    from bot.reports import data_uri
    from scoring.chart import functional_map_compare_png

    caption_params: dict[str, Any] = {
        "nickname": reply.nickname,
        "interview_id": reply.interview_id,
        "earlier_id": reply.earlier_id,
    }
    flows = renderer.catalog.flows
    if reply.earlier_flow not in flows or reply.flow not in flows:
        # A flow version this Hearth no longer ships cannot be scored.
        return [Outbound(text(locale, "change_unscored", **caption_params))]
    then = scored(flows[reply.earlier_flow], _answers(reply.then_rows), reply.then_at)
    now = scored(flows[reply.flow], _answers(reply.now_rows), reply.at)
    if then is None or now is None:
        return [Outbound(text(locale, "change_unscored", **caption_params))]
    summary = compare(then, now)
    then_day = f"{reply.then_at.astimezone(UTC):%Y-%m-%d}"
    now_day = f"{reply.at.astimezone(UTC):%Y-%m-%d}"
    chart = functional_map_compare_png(then, now, change_titles(locale, then_day, now_day),
                                       locale)
    html = text(
        locale,
        "change_report",
        HTML_LIBRARY,
        nickname=reply.nickname or "",
        interview_id=reply.interview_id,
        earlier_id=reply.earlier_id,
        then_day=then_day,
        now_day=now_day,
        summary=summary,
        locale=locale,
        chart=data_uri(chart),
        tried=Markup(text(locale, "tried_section", "plan.html.j2",
                          items=[t.model_dump() for t in reply.tried],
                          family_words=reply.family_words)) if reply.tried else "",
    )
    attachment = Attachment(f"hearth-change-{reply.interview_id}.html", html.encode("utf-8"),
                            "text/html")
    return [Outbound(text(locale, "change_caption", **caption_params), attachment=attachment)]
