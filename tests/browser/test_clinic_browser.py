"""A clinician's workspace in a real browser: sign-in by a one-time link, the caseload, an
interview's report with its charts, ratings, the plan the family receives and its check-in.

Debian's chromium, headless, driven by Playwright; `hearth web` runs as a subprocess on
loopback with its own SQLite file (one browser and one server for the module). The
clinician is registered and given their link by the operator's CLI; the family's side
(the plan and the check-in in its chat, the scheduler with a clock moved past the review
date) runs beside the server on the same file, as the bot does in production. Pages are
read through their data- hooks (docs/clinicians.md), never through their wording.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, StorageState, ViewportSize

from bot.model import Outbound
from bot.service import DialogueService
from flows.engine import Answer
from messages.render import macro
from tests.browser.pages import PHONE, Web, axe_blocking
from tests.browser.server import WebServer
from tests.conftest import Person
from tests.integration.plan_helpers import follow_up_change, submitted_interview
from tests.unit.families import answers, family_mia

#: A clinician's desk: a laptop's screen.
DESK: ViewportSize = {"width": 1280, "height": 800}
#: The clinician the operator registers with `hearth clinician add` (a console person, so
#: the tests can speak as them beside the server).
DOCTOR = "dr"
RATED = ("a_lot", "Seen at two home visits and in the nursery's notes")
EDITED = "Ten minutes of play after school, just the two of you."


def hard_nights() -> dict[str, Answer]:
    """Mia's answers with nights and mornings much harder: the interview the plan is for
    (its follow-up is Mia's own answers: the brainstem's difficulty falls)."""
    return {**family_mia(), **answers(bs_sleep="a_lot", bs_arousal="a_lot", bs_feeding="some")}

NewDesk = Callable[..., Web]


@dataclass(frozen=True)
class Clinic:
    """The registered clinician's submitted interview, and their signed-in browser state."""

    interview_id: str
    signed_in: StorageState


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def clinic(browser: Browser, web_server: WebServer) -> Clinic:
    printed = web_server.cli("clinician", "add", "console", DOCTOR)
    assert f"console:{DOCTOR}" in printed, printed
    interview_id = web_server.beside(
        lambda service: submitted_interview(service, "console", DOCTOR, "fam", _now()))
    # One signed-in browser state for the tests that do not walk the sign-in themselves
    # (links are rate-limited per clinician: a link per test would soon be refused).
    context = browser.new_context(viewport=DESK)
    try:
        web = Web(context.new_page(), web_server.url)
        sign_in(web, web_server.clinician_link("console", DOCTOR))
        state = context.storage_state()
    finally:
        context.close()
    return Clinic(interview_id, state)


@pytest.fixture
def desk(browser: Browser, web_server: WebServer) -> Iterator[NewDesk]:
    """Opens a fresh browser context on a laptop's screen (signed in when given a state)."""
    contexts: list[BrowserContext] = []

    def make(state: StorageState | None = None, viewport: ViewportSize = DESK) -> Web:
        context = browser.new_context(viewport=viewport, locale="en-US",
                                      device_scale_factor=1, storage_state=state)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Web(context.new_page(), web_server.url)

    yield make
    for context in contexts:
        context.close()


def sign_in(web: Web, link: str) -> None:
    """Open the link (a GET spends nothing) and press its one button: the caseload opens."""
    web.page.goto(link)
    button = web.page.locator('button[data-key="clinic.signin"]')
    assert button.count() == 1, web.page.content()[:500]
    web._submit(button)
    assert web.page.url == f"{web.base_url}/clinic/", web.page.content()[-1500:]


def chart_widths(web: Web) -> list[int]:
    """The natural width of every image in the inline report (0: not loaded or broken)."""
    web.page.wait_for_load_state("load")
    return [int(w) for w in web.page.locator("#report img").evaluate_all(
        "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")]


def rate(web: Web, function: str, value: str, reason: str) -> None:
    form = web.page.locator(f'section.rating[data-function="{function}"] form.rate')
    form.locator('select[name="value"]').select_option(value)
    form.locator('textarea[name="reason"]').fill(reason)
    web._submit(form.locator('button[data-key="ratings.submit"]'))


def used(web: Web, function: str) -> str:
    return str(web.page.locator(f'section.rating[data-function="{function}"]')
               .get_attribute("data-used"))


def test_a_clinician_signs_in_by_link__rates_three_functions__the_report_uses_them(
    desk: NewDesk, web_server: WebServer, clinic: Clinic, screenshots: Path | None
) -> None:
    link = web_server.clinician_link("console", DOCTOR)
    web = desk()
    web.page.goto(link)
    web.screenshot(screenshots, "signin", prefix="clinic")
    sign_in(web, link)

    # The caseload lists the submitted interview; its link opens the interview's page.
    row = web.page.locator(f'a[href="/clinic/interviews/{clinic.interview_id}"]')
    assert row.count() == 1, web.page.content()[:1000]
    web.screenshot(screenshots, "caseload", prefix="clinic")
    web._submit(row)
    assert web.page.locator(f'h2[data-interview="{clinic.interview_id}"]').count() == 1
    widths = chart_widths(web)
    assert len(widths) >= 2 and all(w > 0 for w in widths), f"charts not drawn: {widths}"
    web.screenshot(screenshots, "interview", prefix="clinic", full_page=False)

    # Three functions rated on the ratings tab, each with its reason.
    web._submit(web.page.locator('a[data-key="tab.ratings"]'))
    functions = [str(f) for f in web.page.locator("section.rating").evaluate_all(
        "nodes => nodes.map(n => n.dataset.function)")]
    assert len(functions) >= 4, functions
    chosen, untouched = functions[:3], functions[3]
    for function in chosen:
        assert used(web, function) == "caregiver", function
        rate(web, function, *RATED)
        saved = web.page.locator('[data-key="ratings.saved"]')
        assert saved.get_attribute("data-function") == function
        assert used(web, function) == "clinician", function
    web.page.evaluate("window.scrollTo(0, 0)")  # the picture: from the page's top
    web.screenshot(screenshots, "ratings", prefix="clinic", full_page=False)

    # The report on the interview's page says its scores use the clinician's view for
    # exactly those three.
    web.open(f"/clinic/interviews/{clinic.interview_id}")
    assert web.page.locator("#report #ratings").get_attribute("data-rated") == "3"
    for function in chosen:
        row = web.page.locator(f'#report tr[data-function="{function}"]')
        assert row.get_attribute("data-used") == "clinician", function
    assert web.page.locator(f'#report tr[data-function="{untouched}"]').get_attribute(
        "data-used") != "clinician"

    # The caseload on a phone's width: no sideways scrolling.
    phone = desk(web.page.context.storage_state(), viewport=PHONE)
    phone.open("/clinic/")
    assert phone.page.url == f"{web_server.url}/clinic/"  # signed in, not sent to sign-in
    assert phone.scroll_width() <= PHONE["width"], "the caseload scrolls sideways at 360 px"


def test_accessibility_of_signin_caseload_interview_and_ratings(
    desk: NewDesk, web_server: WebServer, clinic: Clinic
) -> None:
    web = desk()
    web.page.goto(web_server.clinician_link("console", DOCTOR))  # a GET spends nothing
    problems = {"sign-in": axe_blocking(web)}
    web = desk(clinic.signed_in)
    web.open("/clinic/")
    problems["caseload"] = axe_blocking(web)
    web.open(f"/clinic/interviews/{clinic.interview_id}")
    assert web.page.locator(f'h2[data-interview="{clinic.interview_id}"]').count() == 1
    problems["interview"] = axe_blocking(web)
    web.open(f"/clinic/interviews/{clinic.interview_id}/ratings")
    assert web.page.locator("form.rate").count() >= 3
    problems["ratings"] = axe_blocking(web)
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def tab_to(web: Web, selector: str, limit: int = 60) -> int:
    """Press Tab from the top of the page until `selector` has the focus: how many presses."""
    web.page.locator("body").focus()
    for presses in range(1, limit + 1):
        web.page.keyboard.press("Tab")
        if web.page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return presses
    pytest.fail(f"Tab never reached {selector} in {limit} presses")


def test_keyboard_reaches_the_caseload_sort_links_and_the_rating_form(
    desk: NewDesk, clinic: Clinic
) -> None:
    web = desk(clinic.signed_in)
    web.open("/clinic/")
    sort_links = web.page.locator('a[data-key^="sort."]').count()
    assert sort_links >= 3
    tab_to(web, 'a[data-key^="sort."]')
    with web.page.expect_navigation():
        web.page.keyboard.press("Enter")
    assert "sort=" in web.page.url, web.page.url  # the focused link sorted the caseload

    web.open(f"/clinic/interviews/{clinic.interview_id}/ratings")
    first = tab_to(web, 'form.rate select[name="value"]')
    # From the first function's scale, the reason and the button follow in order.
    for selector in ('form.rate textarea[name="reason"]', 'form.rate button[type="submit"]'):
        web.page.keyboard.press("Tab")
        assert web.page.evaluate("s => document.activeElement.matches(s)", selector), selector
    assert first < 60


# -- the plan, its check-in, the follow-up ---------------------------------------------------


def _plan_page_here() -> bool:
    return importlib.util.find_spec("bot.web.clinic.plan") is not None


async def _checkin_answered(service: DialogueService, sent: list[Outbound], family: str) -> None:
    """The family answers the check-in in its chat: item 1 tried (better), item 2 "I don't
    know" (an answer, never a "no")."""
    fam = Person(service, family)
    fam.last = sent
    await fam.tap_key("tried_unknown")  # the last message: item 2
    fam.last = sent[:2]
    await fam.tap_key("tried_yes")  # item 1
    await fam.tap_key("went_better")
    assert fam.keys[0] == "plan.checkin_done", fam.keys


async def _follow_up_change(service: DialogueService, earlier: str, family: str,
                            when: datetime) -> str:
    """The family's follow-up, submitted; the clinician's report of it: the change HTML."""
    return await follow_up_change(service, DOCTOR, family, when, earlier, family_mia())


def test_a_plan_built_and_sent__the_family_gets_it_and_the_checkin__follow_up_shows_it(
    desk: NewDesk, web_server: WebServer, clinic: Clinic, screenshots: Path | None
) -> None:
    if not _plan_page_here():
        pytest.skip("the plan page (/clinic/interviews/{id}/plan, bot/web/clinic/plan.py, "
                    "branch ws-plan) is not here yet")
    family = "fam-plan"
    interview = web_server.beside(lambda service: submitted_interview(
        service, "console", DOCTOR, family, _now(), hard_nights()))
    web = desk(clinic.signed_in)
    address = f"/clinic/interviews/{interview}/plan"
    web.open(address)
    recs = web.page.locator("form.rec")
    assert recs.count() >= 2, web.page.content()[:1000]

    # Two recommendations picked, the second one's wording edited for this family.
    first, second = (str(recs.nth(i).get_attribute("data-rec")) for i in (0, 1))
    web._submit(web.page.locator(f'form.rec[data-rec="{first}"] button[data-key="plan.add"]'))
    assert web.page.locator('[data-key="plan.item_added"]').count() == 1
    edit = web.page.locator(f'form.rec[data-rec="{second}"]')
    edit.locator("textarea").fill(EDITED)
    web._submit(edit.locator('button[data-key="plan.add"]'))
    assert web.page.locator("form.item").count() == 2
    assert EDITED in web.page.locator("form.item textarea").nth(1).input_value()

    review = date.today() + timedelta(days=21)
    web.page.locator("#review").fill(review.isoformat())
    web._submit(web.page.locator('button[data-key="plan.set_review"]'))
    assert web.page.locator('[data-key="plan.review_set"]').count() == 1
    web.page.evaluate("document.getElementById('plan').scrollIntoView()")  # the picture
    web.screenshot(screenshots, "plan", prefix="clinic", full_page=False)
    web._submit(web.page.locator('button[data-key="plan.send"]'))
    assert web.page.locator('[data-key="plan.send_asked"]').count() == 1

    # The bot's scheduler delivers the plan in the family's chat, once; no check-in yet.
    sent = web_server.beside(lambda service: service.plan_sends("console"))
    assert [(m.key, m.chat_id) for m in sent] == [("plan.plan_for_family", family)]
    assert EDITED in sent[0].text
    assert web_server.beside(lambda service: service.plan_sends("console")) == []

    # The review date passes: the check-in, one message per item, once.
    after_review = datetime.combine(review, datetime.min.time(), UTC) + timedelta(days=1)
    checkin = web_server.beside(lambda service: service.plan_sends("console"),
                                clock=lambda: after_review)
    assert [(m.key, m.chat_id) for m in checkin] == [
        ("plan.checkin_intro", family), ("plan.checkin_tried", family),
        ("plan.checkin_tried", family)]
    web_server.beside(lambda service: _checkin_answered(service, checkin, family))

    # The clinician's plan page shows what the family said, item by item.
    web.open(address)
    said = web.page.locator('[data-key="plan.checkin"]').evaluate_all(
        "nodes => nodes.map(n => [n.dataset.tried, n.dataset.went])")
    assert said == [["yes", "better"], ["unknown", ""]], said

    # The follow-up's report: what was tried, beside the change in scores.
    html = web_server.beside(lambda service: _follow_up_change(
        service, interview, family, after_review + timedelta(days=60)))
    report = desk()
    report.page.set_content(html)
    tried = report.page.locator(".tried")
    assert tried.count() >= 1 and tried.first.is_visible()
    text = tried.first.inner_text()
    for value in ("yes", "unknown"):
        assert str(macro("en", "plan.j2", "tried_word")(value=value)).strip() in text
    assert str(macro("en", "plan.j2", "went_word")(value="better")).strip() in text
    # The score changes follow the table of what was tried: nights are better now.
    assert html.index('class="tried"') < html.index("<h2>", html.index('class="tried"'))
    better = report.page.locator(".better")
    assert better.count() >= 1 and better.first.is_visible()


# -- a family on the web: the plan and the check-in on its page --------------------------------


def _web_person(web_server: WebServer, family: Web) -> str:
    """The web person behind a browser that opened the site: its session's opaque id (the
    cookie's SHA-256 is what the store keeps)."""
    import hashlib
    import sqlite3

    cookie = next(c["value"] for c in family.page.context.cookies() if c["name"] == "hearth")
    digest = hashlib.sha256(cookie.encode()).hexdigest()
    with sqlite3.connect(web_server.db) as conn:
        row = conn.execute("SELECT user_id FROM web_sessions WHERE token_hash = ?",
                           (digest,)).fetchone()
    assert row is not None, "the family's browser has no session"
    return str(row[0])


def _until(web: Web, key: str, seconds: float = 20.0) -> None:
    """Reload the family's page until message `key` shows (the server's scheduler keeps it
    in the inbox within a second or two)."""
    import time

    deadline = time.monotonic() + seconds
    while key not in web.keys:
        assert time.monotonic() < deadline, f"no {key} on the family's page: {web.keys}"
        time.sleep(0.3)
        web.open("/")


def _targets_too_small(web: Web) -> list[str]:
    """Buttons a thumb could miss: under 44 px high or wide."""
    return [str(t) for t in web.page.locator("button").evaluate_all(
        """nodes => nodes.filter(n => n.getBoundingClientRect().width > 0)
                         .filter(n => n.getBoundingClientRect().height < 44
                                      || n.getBoundingClientRect().width < 44)
                         .map(n => n.dataset.key)""")]


def test_a_web_family_gets_the_plan_on_its_page__answers_the_checkin__follow_up_shows_it(
    desk: NewDesk, web_server: WebServer, clinic: Clinic, screenshots: Path | None
) -> None:
    from bot.web.inbox_jobs import deliver_due
    from tests.e2e.test_web_inbox import family_interview

    # The family's phone has the site open (a web person); Mia's interview is theirs.
    family = desk(viewport=PHONE)
    family.open("/")
    person = _web_person(web_server, family)
    interview = web_server.beside(lambda service: family_interview(
        service, _now(), web=person, doctor=DOCTOR, answers=hard_nights()))

    # The clinician builds the plan on the workspace and sends it.
    web = desk(clinic.signed_in)
    address = f"/clinic/interviews/{interview}/plan"
    web.open(address)
    recs = web.page.locator("form.rec")
    first, second = (str(recs.nth(i).get_attribute("data-rec")) for i in (0, 1))
    web._submit(web.page.locator(f'form.rec[data-rec="{first}"] button[data-key="plan.add"]'))
    edit = web.page.locator(f'form.rec[data-rec="{second}"]')
    edit.locator("textarea").fill(EDITED)
    web._submit(edit.locator('button[data-key="plan.add"]'))
    review = date.today() + timedelta(days=21)
    web.page.locator("#review").fill(review.isoformat())
    web._submit(web.page.locator('button[data-key="plan.set_review"]'))
    web._submit(web.page.locator('button[data-key="plan.send"]'))
    assert web.page.locator('[data-key="plan.send_asked"]').count() == 1

    # `hearth web`'s own scheduler keeps it in the family's inbox: their page shows it,
    # in the clinician's words, readable on the phone.
    _until(family, "inbox.plan")
    assert EDITED in family.text_of("inbox.plan")
    assert family.scroll_width() <= PHONE["width"]
    assert family.smallest_text_px() >= 16  # the footer's note; what the family reads: 18
    assert min(family.page.locator("main section.message p, main button").evaluate_all(
        "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))")) >= 18
    assert _targets_too_small(family) == []
    assert axe_blocking(family) == []
    family.screenshot(screenshots, "family-plan", prefix="clinic")
    family.choose("got_it")
    assert "inbox.read_done" in family.keys and "inbox.plan" in family.keys
    assert family.option("got_it").count() == 0

    # The review date passes (the scheduler beside, with its clock moved): the check-in on
    # the page, answered there. Item 1 tried and better; item 2 "I don't know".
    after_review = datetime.combine(review, datetime.min.time(), UTC) + timedelta(days=1)
    assert web_server.beside(deliver_due, clock=lambda: after_review) == 1
    family.open("/")
    assert family.keys.count("plan.checkin_tried") == 2
    family.screenshot(screenshots, "family-checkin", prefix="clinic")
    family._submit(family.option("tried_unknown").nth(1))
    family.choose("tried_yes")
    assert family.keys.count("plan.checkin_went") == 1
    family.choose("went_better")
    assert "plan.checkin_done" in family.keys
    assert not {"plan.checkin_tried", "plan.checkin_went"} & set(family.keys)

    # The clinician's plan page shows what the family said; the follow-up, the change.
    web.open(address)
    said = web.page.locator('[data-key="plan.checkin"]').evaluate_all(
        "nodes => nodes.map(n => [n.dataset.tried, n.dataset.went])")
    assert said == [["yes", "better"], ["unknown", ""]], said
    html = web_server.beside(lambda service: _follow_up_change(
        service, interview, "fam-web-later", after_review + timedelta(days=60)))
    report = desk()
    report.page.set_content(html)
    assert report.page.locator(".tried").first.is_visible()
    assert report.page.locator(".better").count() >= 1
