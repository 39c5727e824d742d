"""A question's text rendered once reads exactly as rendered afresh, and never keeps an answer."""

from __future__ import annotations

from typing import Any

from bot.render import Renderer
from bot.replies import Ask, Outcome
from flows.catalog import FlowCatalog

CATALOG = FlowCatalog.bundled("sample")
FLOW = CATALOG.latest(CATALOG.default_flow)


def ask(key: str, **fields: Any) -> Ask:
    defaults: dict[str, Any] = dict(
        interview_id="iv1", flow=FLOW.key, key=key, revision=3, position=2, total=9,
        section=1, sections=4, left_here=2, minutes_left=3,
    )
    return Ask(**(defaults | fields))


def shown(renderer: Renderer, reply: Ask, channel: str = "telegram", locale: str = "en") -> Any:
    [message] = renderer.render(Outcome(locale=locale, replies=[reply], channel=channel))
    return message


def test_kept_text__reads_as_rendered_afresh() -> None:
    kept = Renderer(CATALOG)  # one renderer for every language and channel, as a server has
    replies = [ask("respondent", options=["mother", "father", "other"]),
               ask("sleep", options=[str(n) for n in range(1, 6)], revision=4),
               ask("sleep", options=[str(n) for n in range(1, 6)], welcome_back=True),
               ask("child_name", left_here=1, minutes_left=1)]
    for locale in ("en", "es"):
        for channel in ("telegram", "console", "web"):
            for reply in replies:
                first = shown(kept, reply, channel, locale)
                again = shown(kept, reply, channel, locale)
                assert first == again == shown(Renderer(CATALOG), reply, channel, locale)
    assert len(kept._asked) == 2 * 3 * len(replies)
    # A revision moves only the buttons, which are never kept.
    moved = shown(kept, ask("child_name", left_here=1, minutes_left=1, revision=9))
    assert moved == shown(Renderer(CATALOG), ask("child_name", left_here=1, minutes_left=1,
                                                 revision=9))
    assert moved.choices != shown(kept, ask("child_name", left_here=1, minutes_left=1)).choices


def test_texts_showing_an_answer__never_kept() -> None:
    renderer = Renderer(CATALOG)
    worries = ["sleep", "eating", "moods"]
    shown(renderer, ask("child_name", current="Mia-the-answer"))  # going back to an answer
    shown(renderer, ask("worries", options=worries, selected=["moods"]))  # ticks so far
    shown(renderer, ask("worry_since[moods]", options=["recent", "months", "years"]))
    assert renderer._asked == {}
    shown(renderer, ask("worries", options=worries))
    assert len(renderer._asked) == 1
