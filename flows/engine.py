"""Skip logic as pure functions: which questions are enabled, which comes next, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flows.schema import AllOf, AnyOf, Condition, Flow, Item, ItemType, Op, Option, Rule, Section


@dataclass(frozen=True)
class AgeValue:
    """An age in months; a range when the answer was fuzzy ("about 3"), with the words used."""

    min_months: int
    max_months: int
    raw: str | None = None

    @property
    def exact(self) -> bool:
        return self.min_months == self.max_months

    @property
    def months(self) -> float:
        """The middle of the range, for scoring."""
        return (self.min_months + self.max_months) / 2


Value = str | int | float | list[str] | AgeValue


@dataclass(frozen=True)
class Answer:
    """The current answer to one question: a value, or None when it was skipped `skips` times."""

    value: Value | None
    skips: int = 0

    @property
    def given(self) -> bool:
        return self.value is not None


Answers = Mapping[str, Answer]


@dataclass(frozen=True)
class Question:
    """One asked instance of an item: the item itself, or one copy in a repeated section."""

    key: str
    item: Item
    section: Section
    repeat_value: str | None = None

    @property
    def required(self) -> bool:
        return self.item.required


def instance_key(item_id: str, repeat_value: str | None) -> str:
    """The answer key of an item instance: `id`, or `id[option]` inside a repeated section."""
    return item_id if repeat_value is None else f"{item_id}[{repeat_value}]"


def split_key(key: str) -> tuple[str, str | None]:
    """Undo `instance_key`."""
    if key.endswith("]") and "[" in key:
        item_id, _, rest = key.partition("[")
        return item_id, rest[:-1]
    return key, None


# -- conditions -----------------------------------------------------------------------


def _numeric(value: Value | None, *, high: bool) -> float | None:
    if isinstance(value, AgeValue):
        # "Possibly reached": a fuzzy age counts as old enough if its upper end is.
        return float(value.max_months if high else value.min_months)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _key_in_scope(flow: Flow, item_id: str, section: Section | None, repeat: str | None) -> str:
    # The flow's index says which section holds an item: no scan of the section per test.
    if (
        repeat is not None
        and section is not None
        and flow.has_item(item_id)
        and flow.section_of(item_id).id == section.id
    ):
        return instance_key(item_id, repeat)
    return item_id


def condition_holds(condition: Condition, value: Value | None) -> bool:
    """Evaluate one `{item, op, value}` test against the current value of that item."""
    op, wanted = condition.op, condition.value
    if op is Op.ANSWERED:
        return value is not None
    if op is Op.NOT_ANSWERED:
        return value is None
    if op is Op.NOT_EQUALS:
        # An unanswered item is "not equal": the question it guards is shown.
        return bool(value != wanted)
    if value is None:
        return False
    if op is Op.EQUALS:
        return bool(value == wanted)
    if op is Op.IN:
        choices = wanted if isinstance(wanted, list) else [wanted]
        if isinstance(value, list):
            return any(v in choices for v in value)
        return value in choices
    if op is Op.INCLUDES:
        return isinstance(value, list) and wanted in value
    number = _numeric(value, high=op is Op.GTE)
    if number is None or not isinstance(wanted, int | float):
        return False
    return number >= wanted if op is Op.GTE else number <= wanted


def rule_holds(
    flow: Flow,
    rule: Rule | None,
    answers: Answers,
    section: Section | None = None,
    repeat: str | None = None,
) -> bool:
    """Evaluate a (possibly nested) enable_when rule; answers in the same repeat copy first."""
    if rule is None:
        return True
    return _compiled(flow, rule, section)(answers, repeat)


def interpreted_rule_holds(
    flow: Flow,
    rule: Rule | None,
    answers: Answers,
    section: Section | None = None,
    repeat: str | None = None,
) -> bool:
    """`rule_holds` read from the rule each time: the reference the compiled tests match."""
    if rule is None:
        return True
    if isinstance(rule, AllOf):
        return all(interpreted_rule_holds(flow, r, answers, section, repeat) for r in rule.all)
    if isinstance(rule, AnyOf):
        return any(interpreted_rule_holds(flow, r, answers, section, repeat) for r in rule.any)
    answer = answers.get(_key_in_scope(flow, rule.item, section, repeat))
    return condition_holds(rule, answer.value if answer else None)


#: A rule compiled for the place it guards: (answers, repeat copy) -> holds.
Test = Callable[[Answers, str | None], bool]
#: Per (rule, section) of a loaded flow, its compiled test, built once; the objects are
#: kept with it, so a recycled id() never matches. A walk evaluates ~60 rules a step:
#: compiled, the scope of each item and the kind of each test are decided once.
_TESTS: dict[tuple[int, int], tuple[Rule, Flow, Section | None, Test]] = {}


def _compiled(flow: Flow, rule: Rule, section: Section | None) -> Test:
    key = (id(rule), id(section))
    found = _TESTS.get(key)
    if found is None or found[0] is not rule or found[1] is not flow or found[2] is not section:
        found = _TESTS[key] = (rule, flow, section, _compile(flow, rule, section))
    return found[3]


def _compile(flow: Flow, rule: Rule, section: Section | None) -> Test:
    if isinstance(rule, AllOf):
        every = tuple(_compile(flow, r, section) for r in rule.all)
        return lambda answers, repeat: all(t(answers, repeat) for t in every)
    if isinstance(rule, AnyOf):
        some = tuple(_compile(flow, r, section) for r in rule.any)
        return lambda answers, repeat: any(t(answers, repeat) for t in some)
    holds = _value_test(rule)
    item_id = rule.item
    # As `_key_in_scope`: an item of the same repeated section is read in the same copy.
    if section is not None and flow.has_item(item_id) and flow.section_of(item_id).id == section.id:

        def scoped(answers: Answers, repeat: str | None) -> bool:
            answer = answers.get(item_id if repeat is None else f"{item_id}[{repeat}]")
            return holds(answer.value if answer is not None else None)

        return scoped

    def plain(answers: Answers, repeat: str | None) -> bool:
        answer = answers.get(item_id)
        return holds(answer.value if answer is not None else None)

    return plain


def _value_test(condition: Condition) -> Callable[[Value | None], bool]:
    """`condition_holds(condition, value)` with the operator chosen once."""
    op, wanted = condition.op, condition.value
    if op is Op.ANSWERED:
        return lambda value: value is not None
    if op is Op.NOT_ANSWERED:
        return lambda value: value is None
    if op is Op.NOT_EQUALS:
        return lambda value: bool(value != wanted)
    if op is Op.EQUALS:
        return lambda value: value is not None and bool(value == wanted)
    if op is Op.IN:
        choices = wanted if isinstance(wanted, list) else [wanted]

        def among(value: Value | None) -> bool:
            if value is None:
                return False
            if isinstance(value, list):
                return any(v in choices for v in value)
            return value in choices

        return among
    return lambda value: condition_holds(condition, value)


# -- the sequence of questions ------------------------------------------------------------


def enabled_options(flow: Flow, question: Question, answers: Answers) -> list[Option]:
    """The options this question offers now (options can be conditional, e.g. on age)."""
    return [
        option
        for option in question.item.options
        if rule_holds(flow, option.enable_when, answers, question.section, question.repeat_value)
    ]


def _repeat_values(flow: Flow, section: Section, answers: Answers) -> list[str | None]:
    if section.repeat_for is None:
        return [None]
    answer = answers.get(section.repeat_for)
    chosen = answer.value if answer else None
    if not isinstance(chosen, list):
        return []
    source = flow.item(section.repeat_for)
    # The flow's option order, not the order ticked: stable numbering for the person.
    return [o.value for o in source.options if o.value in chosen and not o.exclusive]


#: Per section of a loaded flow, its items with their one Question when it is not repeated,
#: built once (the section is kept with them, so a recycled id() never matches).
_PLANS: dict[int, tuple[Section, tuple[tuple[Item, Question | None], ...]]] = {}


def _plan(section: Section) -> tuple[tuple[Item, Question | None], ...]:
    found = _PLANS.get(id(section))
    if found is None or found[0] is not section:
        single = section.repeat_for is None
        items = tuple(
            (item, Question(item.id, item, section) if single else None) for item in section.items
        )
        found = _PLANS[id(section)] = (section, items)
    return found[1]


def iter_questions(flow: Flow, answers: Answers) -> Iterator[Question]:
    """Yield the enabled questions in order, expanding repeated sections."""
    for section in flow.sections:
        if section.enable_when is not None and not rule_holds(flow, section.enable_when, answers):
            continue
        plan = _plan(section)
        for repeat in _repeat_values(flow, section, answers):
            for item, question in plan:
                if item.enable_when is not None and not rule_holds(
                    flow, item.enable_when, answers, section, repeat
                ):
                    continue
                # Frozen and equal to a new one: the same Question serves every walk.
                yield question or Question(instance_key(item.id, repeat), item, section, repeat)


def questions(flow: Flow, answers: Answers) -> list[Question]:
    """The enabled questions in order (see `iter_questions`)."""
    return list(iter_questions(flow, answers))


T = TypeVar("T")

#: What is worked out from a loaded flow alone, once per flow object: (what, id(flow)) ->
#: (the flow, the value). The flow is kept with its value, so a recycled id() never matches.
_PER_FLOW: dict[tuple[str, int], tuple[Flow, Any]] = {}


def once_per_flow(flow: Flow, compute: Callable[[Flow], T]) -> T:
    """`compute(flow)`, computed the first time it is asked for this flow object."""
    key = (compute.__qualname__, id(flow))
    found = _PER_FLOW.get(key)
    if found is None or found[0] is not flow:
        found = _PER_FLOW[key] = (flow, compute(flow))
    return cast(T, found[1])


def _rule_items(rule: Rule | None) -> Iterator[str]:
    if isinstance(rule, AllOf):
        for part in rule.all:
            yield from _rule_items(part)
    elif isinstance(rule, AnyOf):
        for part in rule.any:
            yield from _rule_items(part)
    elif rule is not None:
        yield rule.item


def walk_inputs(flow: Flow) -> frozenset[str]:
    """The item ids whose answers `questions` reads: those a section's or an item's
    `enable_when` names, and the items repeated sections repeat for.

    An answer to any other item (however it changes, or is added) leaves the enabled
    questions as they were, so a step need not walk the flow again after it.
    """
    return once_per_flow(flow, _walk_inputs)


def _walk_inputs(flow: Flow) -> frozenset[str]:
    names: set[str] = set()
    for section in flow.sections:
        names.update(_rule_items(section.enable_when))
        if section.repeat_for is not None:
            names.add(section.repeat_for)
        for item in section.items:
            names.update(_rule_items(item.enable_when))
    return frozenset(names)


def changes_walk(flow: Flow, key: str) -> bool:
    """Whether a change to the answer at `key` can change `questions(flow, answers)`."""
    return split_key(key)[0] in walk_inputs(flow)


def find_question(
    flow: Flow, answers: Answers, key: str, enabled: Sequence[Question] | None = None
) -> Question | None:
    """The enabled question with this key, or None if it is not (or no longer) enabled."""
    for question in enabled if enabled is not None else iter_questions(flow, answers):
        if question.key == key:
            return question
    return None


def question_at(flow: Flow, answers: Answers, key: str) -> Question | None:
    """`find_question` without walking the flow: check this one key's conditions directly."""
    item_id, repeat = split_key(key)
    if not flow.has_item(item_id):
        return None
    section, item = flow.section_of(item_id), flow.item(item_id)
    if (repeat is None) != (section.repeat_for is None):
        return None
    if not rule_holds(flow, section.enable_when, answers):
        return None
    if repeat is not None and repeat not in _repeat_values(flow, section, answers):
        return None
    if not rule_holds(flow, item.enable_when, answers, section, repeat):
        return None
    return Question(key, item, section, repeat)


def next_question(
    flow: Flow, answers: Answers, enabled: Sequence[Question] | None = None
) -> Question | None:
    """The first enabled question never answered nor skipped; None when all were seen.

    Skipped questions are not asked again here: once every question was seen, the
    person is told how many important ones they skipped and chooses whether to answer
    them now (`revisit`) or go to the review. `enabled` is `questions(flow, answers)`
    when the caller already has it.
    """
    if enabled is None:
        enabled = questions(flow, answers)
    for question in enabled:
        if question.key not in answers:
            return question
    return None


def revisit(
    flow: Flow, answers: Answers, enabled: Sequence[Question] | None = None
) -> list[Question]:
    """Required questions skipped once: offered again, once, after every question was seen.

    Skipping one of them again (a second skip) leaves it for good; optional questions
    never come back.
    """
    if enabled is None:
        enabled = questions(flow, answers)
    return [
        q
        for q in enabled
        if q.required
        and q.key in answers
        and not answers[q.key].given
        and answers[q.key].skips == 1
    ]


def missing_needed(
    flow: Flow, answers: Answers, enabled: Sequence[Question] | None = None
) -> list[Question]:
    """Enabled questions the flow cannot be sent without (`Flow.needed`), unanswered."""
    if not flow.needed:
        return []
    return [
        q
        for q in (enabled if enabled is not None else questions(flow, answers))
        if q.item.id in flow.needed and not (q.key in answers and answers[q.key].given)
    ]


def previous_question(
    flow: Flow, answers: Answers, current: str | None, enabled: Sequence[Question] | None = None
) -> Question | None:
    """The question before `current` (or the last one, at review); None at the first."""
    if enabled is None:
        enabled = questions(flow, answers)
    if current is None:
        return enabled[-1] if enabled else None
    keys = [q.key for q in enabled]
    if current not in keys:
        return None
    index = keys.index(current)
    return enabled[index - 1] if index > 0 else None


def missing_required(
    flow: Flow, answers: Answers, enabled: Sequence[Question] | None = None
) -> list[Question]:
    """Enabled required questions without an answer (what blocks submitting)."""
    return [
        q
        for q in (enabled if enabled is not None else questions(flow, answers))
        if q.required and not (q.key in answers and answers[q.key].given)
    ]


@dataclass(frozen=True)
class Progress:
    """Where a person is: "question `position` of about `total`"."""

    position: int
    total: int
    answered: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def progress(
    flow: Flow, answers: Answers, current: str | None, enabled: Sequence[Question] | None = None
) -> Progress:
    """Position of `current` among the enabled questions, and how many are answered."""
    if enabled is None:
        enabled = questions(flow, answers)
    # One pass (it runs on every question asked): answered ones counted, `current` found.
    answered = position = 0
    get = answers.get
    for number, question in enumerate(enabled, start=1):
        answer = get(question.key)
        if answer is not None and answer.given:
            answered += 1
        if not position and question.key == current:
            position = number
    return Progress(position or len(enabled), len(enabled), answered)


#: Seconds a caregiver takes per question on a phone, typed and tapped answers together:
#: the ordinary developmental-history path (75 questions) took 12 to 15 minutes in
#: walk-throughs (docs/interview.md), about 11 s each.
SECONDS_PER_QUESTION = 11


@dataclass(frozen=True)
class Stage:
    """Where a person is, as a phone shows it: "Section 3 of 7 · 4 left here · about 8 min"."""

    section: int  # 1-based among the sections shown (a repeated section counts once)
    sections: int
    title_section: str  # the section's id
    left_here: int  # questions of this section not yet seen, the current one included
    minutes_left: int


#: The child's age a typical path is walked at (6 years: the middle of the ages served).
TYPICAL_AGE_MONTHS = 72


def _typical_value(question: Question, offered: list[Option]) -> Value | None:
    """A plain, middle-of-the-road answer, for estimating how long a path is."""
    item = question.item
    if item.type is ItemType.AGE:
        return AgeValue(TYPICAL_AGE_MONTHS, TYPICAL_AGE_MONTHS)
    if item.type is ItemType.YES_NO_UNKNOWN:
        return "no"
    if item.type is ItemType.SINGLE_CHOICE:
        return offered[0].value if offered else None
    if item.type is ItemType.MULTI_CHOICE:
        plain = [o.value for o in offered if not o.exclusive]
        return plain[:2] or ([offered[0].value] if offered else None)
    if item.type is ItemType.SCALE:
        return int(((item.min or 0) + (item.max or 0)) // 2)
    if item.type is ItemType.NUMBER:
        return int(item.min or 0) + 1
    return "-"


def typical_counts(flow: Flow) -> dict[str, int]:
    """Questions per section on a typical path (a 6-year-old, two of each list ticked,
    "no" to yes/no questions): the path statistics the minutes-left estimate rests on for
    sections not reached yet. Computed once per flow."""
    return once_per_flow(flow, _typical_counts)


def _typical_counts(flow: Flow) -> dict[str, int]:
    given: dict[str, Answer] = {}
    counts: dict[str, int] = {}
    while (question := next_question(flow, given)) is not None:
        counts[question.section.id] = counts.get(question.section.id, 0) + 1
        value = _typical_value(question, enabled_options(flow, question, given))
        given[question.key] = Answer(value, 0 if value is not None else 1)
    return counts


def stage(
    flow: Flow, answers: Answers, current: str | None, enabled: Sequence[Question] | None = None
) -> Stage:
    """The section of `current`, how many of its questions are left, and minutes to go.

    Sections are the flow's own, counted once however often a section repeats, so the
    counter moves one section at a time. Minutes count the questions not yet seen in the
    sections already reached, and a typical path's questions in the sections still ahead
    (`typical_counts`), so learning the child's age or ticking a list changes the estimate
    only as each section is reached.
    """
    if enabled is None:
        enabled = questions(flow, answers)
    order, ahead_of = _section_order(flow)
    here = next((q.section for q in enabled if q.key == current), None)
    if here is None:
        here = next((q.section for q in reversed(enabled) if q.key in answers), flow.sections[0])
    position = order.index(here.id)
    # Sections are objects of the flow: compared by identity, not by their ids' text.
    active = {id(q.section) for q in enabled}
    typical = typical_counts(flow)
    # Sections behind or at the cursor as they are; those ahead if enabled now or typical.
    shown = [
        id(section) for n, section in enumerate(flow.sections)
        if id(section) in active or (n > position and typical.get(section.id, 0) > 0)
        or section is here
    ]
    left_here = sum(
        1 for q in enabled
        if q.section is here and (q.key not in answers or q.key == current)
    )
    unseen = left_here + ahead_of[position]
    seconds = unseen * SECONDS_PER_QUESTION
    return Stage(
        section=shown.index(id(here)) + 1,
        sections=len(shown),
        title_section=here.id,
        left_here=left_here,
        minutes_left=max(1, -(-seconds // 60)) if unseen else 0,
    )


def _section_order(flow: Flow) -> tuple[list[str], list[int]]:
    """Its section ids in order and, per position, the typical questions of the sections
    after it (`stage`)."""
    return once_per_flow(flow, _order_and_ahead)


def _order_and_ahead(flow: Flow) -> tuple[list[str], list[int]]:
    order = [section.id for section in flow.sections]
    typical = typical_counts(flow)
    ahead = [sum(typical.get(sid, 0) for sid in order[n + 1 :]) for n in range(len(order))]
    return order, ahead


def is_valid_value(flow: Flow, question: Question, value: Value, answers: Answers) -> bool:
    """Whether a stored value fits its question (type, options, bounds): an invariant."""
    item = question.item
    allowed = {o.value for o in enabled_options(flow, question, answers)}
    if item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
        return isinstance(value, str) and value in {o.value for o in item.options}
    if item.type is ItemType.MULTI_CHOICE:
        return (
            isinstance(value, list)
            and bool(value)
            and set(value) <= (allowed | {o.value for o in item.options})
        )
    if item.type in (ItemType.SCALE, ItemType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        # Whole numbers only, unless decimals are allowed (a whole float from JSON counts).
        if (item.type is ItemType.SCALE or not item.decimals) and value != int(value):
            return False
        return (item.min is None or value >= item.min) and (item.max is None or value <= item.max)
    if item.type is ItemType.AGE:
        return isinstance(value, AgeValue) and 0 <= value.min_months <= value.max_months
    if item.type is ItemType.TEXT:
        return isinstance(value, str) and bool(value.strip())
    return False
