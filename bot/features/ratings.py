"""Clinician ratings: `/rate <id> <function> <value> <reason>`, `/unrate <id> <function>
<reason>` (a withdrawal) and `/ratings <id>`.

After observing the child, the interview's clinician rates (or overrides) a function of
the functional map, with a reason; the report's scores then use that rating for it
(scoring/ratings.py). Ratings are append-only: a new one is the next revision, and
`/ratings` lists every revision. docs/clinicians.md, "Ratings".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml

from bot import caseload, ratings
from bot.context import Hooks, StepContext
from bot.model import Kind
from bot.reporting import rating_notes
from bot.router import Interest
from messages.render import LOCALES, messages_dir
from messages.words import fold, strip_accents
from store.records import InterviewRecord

if TYPE_CHECKING:
    from scoring.ratings import RatingProblem

LIBRARY = "ratings.j2"
RATE = frozenset({"rate", "valorar"})
LIST = frozenset({"ratings", "valoraciones"})
#: Withdraw a rating (the scores fall back to the family's view): its words are in
#: messages/<locale>/rating_edits.j2.
WITHDRAW = frozenset({"unrate", "retirar"})
EDITS = "rating_edits.j2"
#: The most words a function's or a value's name runs to ("a lot of difficulty").
LONGEST = 4


def _key(text: str) -> str:
    return strip_accents(fold(text))


@dataclass(frozen=True)
class RatingWords:
    """Typed words -> function item id, and -> value, for one map (every locale's)."""

    functions: dict[str, str]
    values: dict[str, str]


@cache
def rating_words(map_id: str) -> RatingWords:
    """The words of every locale's rating_words.yaml, the map's own labels and ids, and its
    points as numbers. Two functions sharing a word would make a rating ambiguous: refused."""
    # On first use: the rule models stay off `hearth chat`'s way to its first question.
    from scoring.ratings import functions_of
    from scoring.rules import bundled_rules

    rules = bundled_rules(map_id).scoring
    functions: dict[str, str] = {}
    values: dict[str, str] = {}

    def add(table: dict[str, str], word: str, meaning: str) -> None:
        key = _key(word)
        if table.get(key, meaning) != meaning:
            raise ValueError(f"rating word {word!r} means both {table[key]} and {meaning}")
        table[key] = meaning

    for region in rules.functioning.regions:
        for function in region.functions:
            for word in [function.item, *function.label.values()]:
                add(functions, word, function.item)
    for value, points in rules.functioning.points.items():
        for word in (value, f"{points:g}"):
            add(values, word, value)
    for locale in LOCALES:
        path = messages_dir() / locale / "rating_words.yaml"
        if not path.is_file():
            continue
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item, words in (data.get("functions") or {}).items():
            if item in functions_of(rules):
                for word in words:
                    add(functions, str(word), item)
        for value, words in (data.get("values") or {}).items():
            if value in rules.functioning.points:
                for word in words:
                    add(values, str(word), value)
    return RatingWords(functions, values)


def _longest(words: list[str], table: dict[str, str]) -> tuple[str, int] | None:
    """The meaning of the longest run of leading words found in `table`, and its length."""
    for size in range(min(LONGEST, len(words)), 0, -1):
        found = table.get(_key(" ".join(words[:size])))
        if found is not None:
            return found, size
    return None


@dataclass(frozen=True)
class Parsed:
    """`<function> <value> <reason>` read, or what could not be read (and the word)."""

    function: str | None = None
    value: str | None = None
    reason: str = ""
    problem: RatingProblem | None = None
    word: str = ""


def parse_rating(text: str, words: RatingWords) -> Parsed:
    """Read `<function> <value> <reason>`: names of several words, any locale's."""
    from scoring.ratings import RatingProblem

    tokens = text.split()
    function = _longest(tokens, words.functions)
    if function is None:
        return Parsed(problem=RatingProblem.UNKNOWN_FUNCTION, word=" ".join(tokens[:2]))
    rest = tokens[function[1]:]
    value = _longest(rest, words.values)
    if value is None:
        return Parsed(function=function[0], problem=RatingProblem.BAD_VALUE,
                      word=rest[0] if rest else "")
    reason = " ".join(rest[value[1]:])
    if not reason:
        return Parsed(function=function[0], value=value[0], problem=RatingProblem.NO_REASON)
    return Parsed(function=function[0], value=value[0], reason=reason)


class Ratings:
    """The clinician's `/rate` (`/valorar`) and `/ratings` (`/valoraciones`)."""

    name = "ratings"
    interest = Interest(commands=RATE | LIST | WITHDRAW)

    def install(self, hooks: Hooks) -> None:
        """No hooks: ratings change nothing the family sees."""

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not (inbound.private and inbound.kind is Kind.COMMAND):
            return False
        if inbound.payload in RATE:
            self.rate(ctx, inbound.args)
            return True
        if inbound.payload in LIST:
            self.show(ctx, inbound.args)
            return True
        if inbound.payload in WITHDRAW:
            self.withdraw(ctx, inbound.args)
            return True
        return False

    @staticmethod
    def _interview(
        ctx: StepContext, raw_id: str, action: str, *, read_only: bool = False
    ) -> InterviewRecord | None:
        """The interview if this clinician may rate it (`read_only`: read its ratings, as
        the owner's supervisor may) and it has a map; else say why."""
        if not caseload.require_clinician(ctx, action):
            return None
        if not raw_id.strip():
            ctx.say(f"{action}_usage", library=LIBRARY)
            return None
        # The one ownership check (as /report): unknown and foreign ids answer the same.
        interview = caseload.owned_interview(ctx, raw_id, action, read_only=read_only)
        if interview is None:
            return None
        if ratings.map_of(interview) is None:
            ctx.say("rate_not_possible", library=LIBRARY, interview_id=interview.id)
            return None
        return interview

    def rate(self, ctx: StepContext, args: str) -> None:
        from scoring.ratings import RatingProblem, functions_of, scale

        raw_id, _, rest = args.strip().partition(" ")
        interview = self._interview(ctx, raw_id, "rate")
        if interview is None:
            return
        rules = ratings.map_of(interview)
        assert rules is not None
        parsed = parse_rating(rest, rating_words(interview.flow_id))
        locale = ctx.person.locale
        labels = {f.item: f.label for r in rules.functioning.regions for f in r.functions}
        if parsed.problem is None:
            assert parsed.function is not None and parsed.value is not None
            previous = ctx.uow.ratings.current(interview.id).get(parsed.function)
            kept = ratings.keep(ctx.uow, ctx.person, interview, parsed.function, parsed.value,
                                parsed.reason, now=ctx.now)
            if not isinstance(kept, RatingProblem):
                ctx.say("rate_saved", library=LIBRARY, interview_id=interview.id,
                        function=kept.function, label=_label(labels[kept.function], locale),
                        value=kept.value, revision=kept.revision,
                        previous=previous.value if previous else None)
                return
            parsed = Parsed(function=parsed.function, problem=kept)
        ctx.say(f"rate_{parsed.problem}", library=LIBRARY, interview_id=interview.id,
                word=parsed.word, scale=list(scale(rules)),
                label=_label(labels[parsed.function], locale) if parsed.function else "",
                functions=[_label(labels[f], locale) for f in functions_of(rules)])

    def withdraw(self, ctx: StepContext, args: str) -> None:
        """`/unrate <id> <function> <reason>`: the rating taken back, append-only."""
        from scoring.ratings import RatingProblem, functions_of

        raw_id, _, rest = args.strip().partition(" ")
        if not raw_id:
            if caseload.require_clinician(ctx, "unrate"):
                ctx.say("unrate_usage", library=EDITS)
            return
        interview = self._interview(ctx, raw_id, "unrate")
        if interview is None:
            return
        rules = ratings.map_of(interview)
        assert rules is not None
        labels = {f.item: f.label for r in rules.functioning.regions for f in r.functions}
        locale = ctx.person.locale
        tokens = rest.split()
        found = _longest(tokens, rating_words(interview.flow_id).functions)
        if found is None:
            ctx.say("unrate_unknown_function", library=EDITS, interview_id=interview.id,
                    word=" ".join(tokens[:2]),
                    functions=[_label(labels[f], locale) for f in functions_of(rules)])
            return
        function, size = found
        done = ratings.withdraw(ctx.uow, ctx.person, interview, function,
                                " ".join(tokens[size:]), now=ctx.now)
        label = _label(labels[function], locale)
        if isinstance(done, RatingProblem):
            ctx.say(f"unrate_{done}", library=EDITS, interview_id=interview.id, label=label)
            return
        ctx.say("unrate_saved", library=EDITS, interview_id=interview.id, label=label,
                value=done.value, revision=done.revision)

    def show(self, ctx: StepContext, args: str) -> None:
        interview = self._interview(ctx, args.strip(), "ratings", read_only=True)
        if interview is None:
            return
        rules = ratings.map_of(interview)
        assert rules is not None
        labels = {f.item: f.label for r in rules.functioning.regions for f in r.functions}
        ctx.audit("viewed", "ratings", interview_id=interview.id)
        rows = [{"function": n.function, "label": _label(labels.get(n.function, {}),
                                                         ctx.person.locale) or n.function,
                 "revision": n.revision, "value": n.value, "reason": n.reason,
                 "at": f"{n.rated_at:%Y-%m-%d %H:%M} UTC", "status": n.status}
                for n in rating_notes(ctx.uow, interview.id)]
        ctx.say("ratings_list" if rows else "ratings_none", library=LIBRARY,
                interview_id=interview.id, nickname=interview.subject_nickname, rows=rows)


def _label(label: dict[str, str], locale: str) -> str:
    return label.get(locale) or label.get("en") or next(iter(label.values()), "")
