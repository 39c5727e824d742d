"""Prompt series for book clubs: the pydantic models and a loader that locates every problem."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeGuard

from pydantic import Field

from flows.errors import Problem, ProblemCode

# A series file is checked like a flow file: same line map, problem bookkeeping and
# pydantic-error translation.
from flows.loader import (
    LONG_PROMPT_CHARS,
    Path_,
    ProblemLog,
    finish_checks,
    load_keyed,
    start_checks,
)
from flows.schema import LocalizedText, _Strict

#: A week offers this many discussion prompts: enough to talk about, few enough for a phone.
MIN_PROMPTS = 2
MAX_PROMPTS = 3


class BookReference(_Strict):
    """The book a series accompanies. Series refer to its themes, never to its text."""

    title: str = Field(min_length=1)
    authors: list[str] = Field(min_length=1)
    publisher: str | None = None
    year: int


class BrainFact(_Strict):
    """One short published fact about the brain, in our own words, with where it comes from."""

    text: LocalizedText
    source: str = Field(min_length=1)


class Week(_Strict):
    """One week's message: a theme, prompts to discuss, a fact, a thing to try, a check-in."""

    # Numbering (1, 2, 3 ... in file order) and the prompt count are checked by the loader,
    # which can say where the mistake is; pydantic would only say that something is off.
    number: int = Field(strict=True)  # not `true`, not "3"
    theme: LocalizedText
    prompts: list[LocalizedText]
    brain_fact: BrainFact
    try_at_home: LocalizedText
    check_in: LocalizedText


class Series(_Strict):
    """A weekly series of guided discussion prompts for one book, versioned and multilingual."""

    kind: Literal["series"] = "series"
    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
    version: int = Field(ge=1)
    title: LocalizedText
    locales: list[str] = Field(min_length=1)
    book: BookReference
    weeks: list[Week] = Field(min_length=1)

    @property
    def key(self) -> str:
        """`id@version`: how a schedule names the series it was started on (as `Flow.key`)."""
        return f"{self.id}@{self.version}"

    @property
    def total_weeks(self) -> int:
        """How many weeks the series has (weeks are numbered 1 to this)."""
        return len(self.weeks)

    def week(self, number: int) -> Week:
        """Return week `number` (1-based); KeyError if the series has no such week."""
        if not 1 <= number <= len(self.weeks):
            raise KeyError(f"{self.key} has weeks 1 to {len(self.weeks)}, not {number}")
        return self.weeks[number - 1]

    def text(self, text: LocalizedText, locale: str) -> str:
        """Pick `locale` from a localized text, falling back to the series' first locale."""
        return text.get(locale) or text[self.locales[0]]


@dataclass
class SeriesLoadResult:
    """A loaded series and the soft problems (warnings) found while loading it."""

    series: Series
    warnings: list[Problem] = field(default_factory=list)


def load_series_file(path: str | Path) -> SeriesLoadResult:
    """Load and validate one series file; raise `FlowError` listing every problem."""
    path = Path(path)
    return load_series_text(path.read_text(encoding="utf-8"), str(path))


def load_series_text(text: str, filename: str = "<series>") -> SeriesLoadResult:
    """Load and validate a series given as YAML text; raise `FlowError` listing every problem."""
    checker = start_checks(
        _SeriesChecker,
        text,
        filename,
        "start the file with `kind: series`, `id:`, `version:`, `title:` ...",
    )
    checker.check_series()
    series = finish_checks(checker, Series)
    checker.check_lengths(series)
    return SeriesLoadResult(series, checker.warnings)


def bundled_series_paths() -> list[Path]:
    """The series files shipped inside the `flows` package (flows/series/*.yaml)."""
    folder = resources.files("flows") / "series"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_bundled_series(paths: list[Path] | None = None) -> dict[str, Series]:
    """Load series files (the bundled ones by default), keyed by `id@version`."""
    return load_keyed(
        paths if paths is not None else bundled_series_paths(),
        lambda path: load_series_file(path).series,
    )


class _SeriesChecker(ProblemLog):
    """Collects problems in a raw series mapping; a week stands where a flow has an item."""

    def item_at(self, path: Path_) -> str | None:
        if len(path) >= 2 and path[0] == "weeks":
            number = self._get(("weeks", path[1], "number"))
            if _is_int(number):
                return f"week {number}"
        return None

    def weeks(self) -> Iterator[tuple[Path_, dict[str, Any]]]:
        weeks = self.data.get("weeks")
        if isinstance(weeks, list):
            for i, week in enumerate(weeks):
                if isinstance(week, dict):
                    yield ("weeks", i), week

    def check_series(self) -> None:
        locales = self.locales()
        self.check_translation(("title",), self.data.get("title"), locales, None)
        seen: dict[int, Path_] = {}
        previous = 0
        for path, week in self.weeks():
            number = week.get("number")
            if _is_int(number):
                self.check_number(path, number, previous, seen)
                seen.setdefault(number, path)
                previous = max(previous, number)
            else:
                previous += 1  # pydantic reports the bad number; take it as the expected one
            self.check_week_texts(path, week, locales)

    def check_number(self, path: Path_, number: int, previous: int, seen: dict[int, Path_]) -> None:
        where = (*path, "number")
        if number in seen:
            self.add(
                ProblemCode.DUPLICATE_ID,
                where,
                None,
                f"week number {number} is used twice (first on line {self.line_of(seen[number])})",
                "give every week its own number: deliveries are recorded by week number",
            )
        elif number != previous + 1:
            after = f"follows week {previous}" if previous else "is the first week"
            self.add(
                ProblemCode.WEEK_NUMBERING,
                where,
                None,
                f"week {number} {after}: weeks are numbered 1, 2, 3 ... in file order",
                f"number this week {previous + 1}",
            )

    def check_week_texts(self, path: Path_, week: dict[str, Any], locales: list[str]) -> None:
        for name in ("theme", "try_at_home", "check_in"):
            self.check_translation((*path, name), week.get(name), locales, None)
        fact = week.get("brain_fact")
        if isinstance(fact, dict):
            self.check_translation(
                (*path, "brain_fact", "text"),
                fact.get("text"),
                locales,
                None,
                what="brain_fact text",
            )
        prompts = week.get("prompts")
        if not isinstance(prompts, list):
            return  # missing or wrong shape: pydantic reports it
        if not MIN_PROMPTS <= len(prompts) <= MAX_PROMPTS:
            self.add(
                ProblemCode.WRONG_PROMPT_COUNT,
                (*path, "prompts"),
                None,
                f"the week has {len(prompts)} discussion "
                f"{'prompt' if len(prompts) == 1 else 'prompts'}",
                f"write {MIN_PROMPTS} or {MAX_PROMPTS} prompts: enough to talk about, "
                "few enough to read on a phone",
            )
        for k, prompt in enumerate(prompts):
            self.check_translation(
                (*path, "prompts", k),
                prompt,
                locales,
                None,
                what=f"prompt {k + 1}",
                fix=f"give prompt {k + 1} a text in every declared locale",
            )

    def check_lengths(self, series: Series) -> None:
        # Every text under the limit keeps a whole week (at most seven texts) inside one
        # Telegram message (4096 characters) and readable on a phone.
        for i, week in enumerate(series.weeks):
            path: Path_ = ("weeks", i)
            texts: list[tuple[Path_, LocalizedText]] = [
                ((*path, "theme"), week.theme),
                *(((*path, "prompts", k), prompt) for k, prompt in enumerate(week.prompts)),
                ((*path, "brain_fact", "text"), week.brain_fact.text),
                ((*path, "try_at_home"), week.try_at_home),
                ((*path, "check_in"), week.check_in),
            ]
            for where, text in texts:
                for locale, words in text.items():
                    if len(words) > LONG_PROMPT_CHARS:
                        self.add(
                            ProblemCode.LONG_PROMPT,
                            (*where, locale),
                            None,
                            f"the '{locale}' text is {len(words)} characters long",
                            f"keep each text under {LONG_PROMPT_CHARS} characters",
                            warning=True,
                        )


def _is_int(value: object) -> TypeGuard[int]:
    # YAML `true` is a bool, and bool is an int in Python: not a week number.
    return isinstance(value, int) and not isinstance(value, bool)
