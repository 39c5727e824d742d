"""Skip logic as pure functions: which questions are enabled, which comes next, progress."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

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


def _key_in_scope(item_id: str, section: Section | None, repeat: str | None) -> str:
    if repeat is not None and section is not None and any(i.id == item_id for i in section.items):
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
    if isinstance(rule, AllOf):
        return all(rule_holds(flow, r, answers, section, repeat) for r in rule.all)
    if isinstance(rule, AnyOf):
        return any(rule_holds(flow, r, answers, section, repeat) for r in rule.any)
    answer = answers.get(_key_in_scope(rule.item, section, repeat))
    return condition_holds(rule, answer.value if answer else None)


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


def iter_questions(flow: Flow, answers: Answers) -> Iterator[Question]:
    """Yield the enabled questions in order, expanding repeated sections."""
    for section in flow.sections:
        if not rule_holds(flow, section.enable_when, answers):
            continue
        for repeat in _repeat_values(flow, section, answers):
            for item in section.items:
                if rule_holds(flow, item.enable_when, answers, section, repeat):
                    yield Question(instance_key(item.id, repeat), item, section, repeat)


def questions(flow: Flow, answers: Answers) -> list[Question]:
    """The enabled questions in order (see `iter_questions`)."""
    return list(iter_questions(flow, answers))


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
    """What to ask next; None when it is time to review.

    First every enabled question never answered nor skipped, in order; then, once,
    every required question that was skipped ("asked again before review").
    `enabled` is `questions(flow, answers)` when the caller already has it.
    """
    if enabled is None:
        enabled = questions(flow, answers)
    for question in enabled:
        if question.key not in answers:
            return question
    for question in enabled:
        answer = answers[question.key]
        if question.required and not answer.given and answer.skips < 2:
            return question
    return None


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
    keys = [q.key for q in enabled]
    answered = sum(1 for k in keys if k in answers and answers[k].given)
    position = keys.index(current) + 1 if current in keys else len(keys)
    return Progress(position, len(keys), answered)


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
