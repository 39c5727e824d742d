"""The workspace's one layout: navigation, the words of a page, and drawing it as HTML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from starlette.responses import HTMLResponse

from bot.web.clinic.auth import Clinician
from bot.web.pages import stylesheet_path
from messages.render import LOCALES, environment, say

LIBRARY = "clinic.j2"
LAYOUT = "web/clinic.html.j2"


@dataclass(frozen=True)
class NavItem:
    """A link of the top navigation: its address, its clinic.j2 macro, its `data-key`."""

    href: str
    words: str
    key: str


#: The top navigation, in order. Other workspace pages append theirs at import time.
NAV: list[NavItem] = [NavItem("/clinic/", "nav_caseload", "caseload")]
#: An interview's tabs: (address suffix after /clinic/interviews/{id}, macro, key). The
#: ratings and plan pages append theirs ("/ratings", "/plan").
INTERVIEW_TABS: list[NavItem] = [NavItem("", "tab_overview", "overview")]


def words(locale: str, name: str, **params: Any) -> str:
    """One of the workspace's sentences (messages/<locale>/clinic.j2)."""
    lang = locale if locale in LOCALES else "en"
    return say(lang, LIBRARY, name, "web", **params)


@cache
def clinic_stylesheet() -> bytes:
    return (resources.files("bot.web") / "static" / "clinic.css").read_bytes()


@cache
def clinic_stylesheet_path() -> str:
    return f"/static/clinic.css?v={hashlib.sha256(clinic_stylesheet()).hexdigest()[:12]}"


def tabs(interview_id: str, current: str) -> list[dict[str, Any]]:
    """An interview's tabs, the current one (by key) marked."""
    base = f"/clinic/interviews/{interview_id}"
    return [{"href": base + t.href, "words": t.words, "key": t.key, "current": t.key == current}
            for t in INTERVIEW_TABS]


def render(clinician: Clinician | None, template: str, *, lang: str | None = None,
           current: str = "", status: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """A workspace page: `template` (extending clinic.html.j2) with the layout's context.

    `current` is the key of the NAV item to mark. Pages are never cached (the Guard adds
    `Cache-Control: no-store` and the security headers to every response).
    """
    locale = lang or (clinician.locale if clinician else "en")
    locale = locale if locale in LOCALES else "en"
    html = environment().get_template(template).render(
        lang=locale,
        t=lambda name, **params: words(locale, name, **params),
        clinician=clinician,
        csrf=clinician.csrf if clinician else "",
        css=stylesheet_path(),
        clinic_css=clinic_stylesheet_path(),
        nav=[{"href": n.href, "words": n.words, "key": n.key, "current": n.key == current}
             for n in NAV],
        notice=context.pop("notice", ""),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=headers)
