"""Browser tests' fixtures: one chromium and one `hearth web` per module, a context per test."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import FLAGS, chromium_path

#: HEARTH_WEB_SCREENSHOTS=docs/screenshots makes the family's walk save the README's
#: pictures there (docs/web.md, web-*.png) and the clinician's walk docs/clinicians.md's
#: (clinic-*.png); unset, no picture is taken.
SCREENSHOTS_ENV = "HEARTH_WEB_SCREENSHOTS"


def _needs_web_app() -> None:
    if importlib.util.find_spec("bot.web") is None:
        pytest.skip("the web app (bot/web/, `hearth web`, issue 19's web-core part) is not here")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, launched once for the module (a start costs ~3 s)."""
    _needs_web_app()
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=list(FLAGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """`hearth web` on loopback with a fresh SQLite file, stopped after the module."""
    _needs_web_app()
    from tests.browser.server import WebServer

    server = WebServer(tmp_path_factory.mktemp("web"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def screenshots() -> Path | None:
    folder = os.environ.get(SCREENSHOTS_ENV, "").strip()
    return Path(folder) if folder else None
