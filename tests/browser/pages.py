"""The web channel's pages as a person uses them, through the HTML hooks of the contract.

Hooks (docs/web.md; wording may change, these may not): each message is
`section.message[data-key][data-question]`, each option `button[name=choice][data-key]`,
a typed answer `#answer` + `[data-key=send-text]`, navigation
`button[name=command][value=NAME]` (an invitation's Begin: `start`), the resume-code form
`form[action="/continue"]` with `#code`, and `<html lang>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, ViewportSize

#: Problems axe may report on a page of ours: none of these two levels is allowed.
BLOCKING = {"serious", "critical"}

#: A phone: the narrowest width the web channel promises to fit without sideways scrolling.
PHONE: ViewportSize = {"width": 360, "height": 740}


class Web:
    """One person's browser tab on the web channel."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    # -- reading the page ----------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """The message ids on the page, in order ("replies.ask", "replies.review")."""
        return [str(k) for k in self.page.locator("section.message").evaluate_all(
            "nodes => nodes.map(n => n.dataset.key)")]

    @property
    def asked(self) -> str | None:
        """The question key of the question on the page, if any."""
        questions = self.page.locator('section.message[data-key="replies.ask"]').evaluate_all(
            "nodes => nodes.map(n => n.dataset.question)")
        return str(questions[-1]) if questions else None

    @property
    def lang(self) -> str:
        return str(self.page.locator("html").get_attribute("lang"))

    def option_keys(self) -> list[str]:
        return [str(k) for k in self.page.locator('button[name="choice"]').evaluate_all(
            "nodes => nodes.map(n => n.dataset.key)")]

    def text_of(self, key: str) -> str:
        """What the message `key` says: for data in it (a code, a nickname), not wording."""
        return self.page.locator(f'section.message[data-key="{key}"]').last.inner_text()

    # -- acting --------------------------------------------------------------------------

    def _submit(self, button: Locator | Callable[[], None]) -> None:
        # Every form answers 303 to / (Post/Redirect/Get): wait for that page to load.
        with self.page.expect_navigation():
            if callable(button):
                button()
            else:
                button.click()

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    def option(self, key: str) -> Locator:
        return self.page.locator(f'button[name="choice"][data-key="{key}"]')

    def choose(self, key: str) -> None:
        """Tap the option (or button) `key` of the page: "agree", "foster", "3", "send_now"."""
        option = self.option(key)
        # Said plainly rather than after a click's timeout: which page lacked the button.
        assert option.count(), f"no option {key!r} on {self.keys}: {self.option_keys()}"
        self._submit(option.first)

    def type(self, text: str) -> None:
        """Type an answer in the answer box and send it."""
        self.page.locator("#answer").fill(text)
        self._submit(self.page.locator('[data-key="send-text"]').first)

    def command(self, name: str) -> None:
        """A navigation button: back, skip, pause, review, code."""
        self._submit(self.page.locator(f'button[name="command"][value="{name}"]').first)

    def begin(self) -> None:
        """On an invitation's landing page, the button that begins (POSTs the code)."""
        self._submit(self.page.locator('button[name="command"][value="start"]').first)

    def continue_with(self, code: str) -> None:
        """The resume-code form: type the code and send it."""
        form = self.page.locator('form[action="/continue"]')
        form.locator("#code").fill(code)
        self._submit(form.locator("button[type=submit], input[type=submit]").first)

    # -- what a phone shows --------------------------------------------------------------

    def scroll_width(self) -> int:
        return int(self.page.evaluate("document.scrollingElement.scrollWidth"))

    def smallest_text_px(self) -> float:
        """The smallest computed font size of any visible element that holds text."""
        return float(self.page.evaluate(
            """() => {
                let smallest = Infinity;
                const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    if (!node.textContent.trim()) continue;
                    const el = node.parentElement;
                    const box = el.getBoundingClientRect();
                    if (box.width === 0 && box.height === 0) continue;  // not shown
                    const style = getComputedStyle(el);
                    if (style.visibility === 'hidden' || style.display === 'none') continue;
                    smallest = Math.min(smallest, parseFloat(style.fontSize));
                }
                return smallest;
            }"""
        ))

    def screenshot(self, folder: Path | None, name: str, *, prefix: str = "web",
                   full_page: bool = True) -> None:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(folder / f"{prefix}-{name}.png"), full_page=full_page)


#: A resume code as shown (bot/features/resume.py): two groups of four in Crockford's base 32.
SHOWN_CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")


def resume_code(text: str) -> str | None:
    """The one resume code in a message's text, if there is one."""
    found = set(SHOWN_CODE.findall(text))
    assert len(found) <= 1, f"more than one code in: {text!r}"
    return found.pop() if found else None


def axe_blocking(web: Web) -> list[str]:
    """axe-core's serious and critical violations on the page, named with their targets."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(web.page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in found if v["impact"] in BLOCKING]
