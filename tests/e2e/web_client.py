"""A person at the web channel: reads pages by their HTML hooks, presses buttons, types."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx


@dataclass
class Button:
    action: str
    fields: dict[str, str]
    name: str | None
    value: str | None
    key: str
    #: The data-key of the message the button belongs to ("" for the page's own forms).
    message: str = ""


@dataclass
class Page:
    status: int
    html: str
    lang: str = ""
    messages: list[tuple[str, str]] = field(default_factory=list)  # (data-key, data-question)
    texts: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    text_form: dict[str, str] | None = None  # hidden fields of the free-text form
    text_tag: str = ""
    notice: str = ""

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.messages]

    @property
    def question(self) -> str | None:
        asked = [q for key, q in self.messages if key == "replies.ask"]
        return asked[-1] if asked else None

    def button(self, key: str) -> Button:
        found = [b for b in self.buttons if b.key == key]
        assert found, f"no button {key!r} on the page; buttons: {[b.key for b in self.buttons]}"
        return found[0]


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page
        self.form: tuple[str, dict[str, str]] | None = None
        self.in_text = False
        self.section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang", "")
        elif tag == "section" and "message" in a.get("class", ""):
            self.page.messages.append((a.get("data-key", ""), a.get("data-question", "")))
            self.section = a.get("data-key", "")
        elif tag == "p" and "notice" in a.get("class", ""):
            self.page.notice = a.get("data-key", "")
        elif tag == "p" and self.section:
            self.in_text = True
            self.page.texts.append("")
        elif tag == "form":
            self.form = (a.get("action", ""), {})
        elif tag == "input" and self.form is not None:
            if a.get("type") == "hidden":
                self.form[1][a["name"]] = a.get("value", "")
            elif a.get("id") == "answer":
                self.page.text_form, self.page.text_tag = dict(self.form[1]), "input"
        elif tag == "textarea" and self.form is not None and a.get("id") == "answer":
            self.page.text_form, self.page.text_tag = dict(self.form[1]), "textarea"
        elif tag == "button" and self.form is not None:
            self.page.buttons.append(Button(self.form[0], dict(self.form[1]), a.get("name"),
                                            a.get("value"), a.get("data-key", ""), self.section))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "p":
            self.in_text = False
        elif tag == "section":
            self.section = ""

    def handle_data(self, data: str) -> None:
        if self.in_text:
            self.page.texts[-1] += data


def parse(response: httpx.Response) -> Page:
    page = Page(response.status_code, response.text)
    _Reader(page).feed(response.text)
    return page


class WebPerson:
    """One browser: its own cookie jar, following the app's redirects like a browser."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.page: Page | None = None

    async def open(self, path: str = "/") -> Page:
        self.page = parse(await self.client.get(path))
        return self.page

    async def post(self, action: str, fields: dict[str, str]) -> Page:
        response = await self.client.post(action, data=fields)
        if response.status_code == 303:
            assert response.headers["location"] == "/"
            return await self.open("/")
        self.page = parse(response)
        return self.page

    async def press(self, key: str) -> Page:
        assert self.page is not None
        button = self.page.button(key)
        fields = dict(button.fields)
        if button.name:
            fields[button.name] = button.value or ""
        return await self.post(button.action, fields)

    async def type(self, text: str) -> Page:
        assert self.page is not None and self.page.text_form is not None, "no text box"
        return await self.post("/step", {**self.page.text_form, "text": text})

    async def command(self, name: str) -> Page:
        return await self.press(f"command.{name}")
