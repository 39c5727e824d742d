"""CSV export: one row per interview, one column per item (or option), scores beside answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.data.load import NICKNAME_ITEMS, InterviewData
from bot.data.scores import score_names, score_values, scored
from flows.engine import AgeValue, Answer, Value, instance_key
from flows.lifecycle import State
from flows.schema import Flow, Item, ItemType, Section
from messages.render import say

LIBRARY = "data.j2"
#: What a spreadsheet would read as a formula at the start of a cell (after any spaces).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
META_COLUMNS = (
    "interview_id",
    "follow_up_of",
    "flow_id",
    "flow_version",
    "state",
    "fhir_status",
    "created_at",
    "submitted_at",
    # Whose view: empty for the family's (or clinician's) interview; for a second
    # informant's form, the interview it sits beside and the informant's role.
    "informant_of",
    "informant_role",
)


@dataclass(frozen=True)
class Column:
    """One answer column: which item instance, and which option for a multi-select."""

    name: str
    section: Section
    item: Item
    repeat_value: str | None = None
    option: str | None = None
    #: For an age: "min" or "max" months of the range.
    part: str | None = None

    @property
    def key(self) -> str:
        return instance_key(self.item.id, self.repeat_value)


def _m(name: str, **params: object) -> str:
    return say("en", LIBRARY, name, **params)


def _repeat_values(flow: Flow, section: Section) -> list[str | None]:
    if section.repeat_for is None:
        return [None]
    source = flow.item(section.repeat_for)
    return [o.value for o in source.options if not o.exclusive]


def answer_columns(flow: Flow) -> list[Column]:
    """The answer columns of a flow, in flow order; repeated items as `item[option]`."""
    columns: list[Column] = []
    for section in flow.sections:
        for repeat in _repeat_values(flow, section):
            for item in section.items:
                key = instance_key(item.id, repeat)
                if item.type is ItemType.MULTI_CHOICE:
                    columns.extend(
                        Column(f"{key}.{o.value}", section, item, repeat, option=o.value)
                        for o in item.options
                    )
                elif item.type is ItemType.AGE:
                    columns.append(Column(f"{key}.min_months", section, item, repeat, part="min"))
                    columns.append(Column(f"{key}.max_months", section, item, repeat, part="max"))
                else:
                    columns.append(Column(key, section, item, repeat))
    return columns


def fhir_status(data: InterviewData) -> str:
    """Our lifecycle as a QuestionnaireResponse status (docs/data.md has the table)."""
    state = State(data.record.state)
    if state is State.SUBMITTED:
        return "amended" if data.amended else "completed"
    if state is State.WITHDRAWN:
        return "stopped"
    return "in-progress"


def cell(column: Column, answer: Answer | None, *, include_nicknames: bool) -> str | int | float:
    """One answer cell: empty when not answered (or skipped, or withheld)."""
    if answer is None or answer.value is None:
        return ""
    if column.item.id in NICKNAME_ITEMS and not include_nicknames:
        return ""
    value: Value = answer.value
    if column.option is not None:
        return int(isinstance(value, list) and column.option in value)
    if isinstance(value, AgeValue):
        return value.min_months if column.part == "min" else value.max_months
    if isinstance(value, list):
        return " ".join(value)
    return value


def _score_cell(value: str | float | None) -> str | float:
    return "" if value is None else value


def _time(data: InterviewData, which: str) -> str:
    moment = data.record.created_at if which == "created" else data.record.submitted_at
    return "" if moment is None else moment.isoformat(timespec="seconds")


def rows(
    flow: Flow, interviews: Iterable[InterviewData], *, include_nicknames: bool
) -> tuple[list[str], list[list[str | int | float]]]:
    """The header and one row per interview of this flow version."""
    columns = answer_columns(flow)
    scores = score_names(flow)
    header = list(META_COLUMNS)
    if include_nicknames:
        header.append("nickname")
    header += [c.name for c in columns] + scores
    body: list[list[str | int | float]] = []
    for data in interviews:
        record = data.record
        row: list[str | int | float] = [
            record.id,
            data.follow_up_of or "",
            record.flow_id,
            record.flow_version,
            record.state,
            fhir_status(data),
            _time(data, "created"),
            _time(data, "submitted"),
            data.informant_of or "",
            data.informant_role or "",
        ]
        if include_nicknames:
            row.append(record.subject_nickname or "")
        row += [
            cell(c, data.answers.get(c.key), include_nicknames=include_nicknames) for c in columns
        ]
        # Only a submitted interview is scored, as in the report: a half-answered one
        # would show every unanswered function as "unrated" and mislead.
        report = (
            scored(flow, data.answers, record.submitted_at)
            if State(record.state) is State.SUBMITTED and scores
            else None
        )
        values = score_values(report) if report is not None else {}
        row += [_score_cell(values.get(name)) for name in scores]
        body.append(row)
    return header, body


def _text(flow: Flow, section: Section, item: Item, repeat: str | None) -> str:
    prompt = flow.text(item.prompt, flow.locales[0])
    if repeat is not None and section.repeat_for is not None:
        option = flow.item(section.repeat_for).option(repeat)
        label = flow.text(option.label, flow.locales[0]) if option else repeat
        prompt = prompt.replace("{option}", label)
    return prompt


def codebook(flow: Flow, *, include_nicknames: bool) -> tuple[list[str], list[list[str | int]]]:
    """What each column means: item id, text, type, options, flow and version."""
    header = ["column", "item_id", "repeat_for", "section", "text", "type", "options", "notes",
              "flow_id", "flow_version"]
    body: list[list[str | int]] = []
    for name in META_COLUMNS + (("nickname",) if include_nicknames else ()):
        body.append([name, "", "", "", _m("codebook_meta", column=name), "meta", "", "",
                     flow.id, flow.version])
    locale = flow.locales[0]
    for column in answer_columns(flow):
        item = column.item
        if column.option is not None:
            option = item.option(column.option)
            label = flow.text(option.label, locale) if option else column.option
            options = "0; 1"
            notes = _m("codebook_option", option=column.option, label=label)
        else:
            options = "; ".join(f"{o.value}={flow.text(o.label, locale)}" for o in item.options)
            notes = _m(
                "codebook_item",
                type=item.type.value,
                part=column.part or "",
                min=item.min,
                max=item.max,
                withheld=item.id in NICKNAME_ITEMS and not include_nicknames,
            )
        body.append([
            column.name,
            item.id,
            column.repeat_value or "",
            column.section.id,
            _text(flow, column.section, item, column.repeat_value),
            item.type.value,
            options,
            notes,
            flow.id,
            flow.version,
        ])
    for name in score_names(flow):
        body.append([name, "", "", "", _m("codebook_score", column=name), "score", "", "",
                     flow.id, flow.version])
    return header, body


def neutralise(value: str | int | float) -> str | int | float:
    """One exported cell, safe to open in a spreadsheet: text that would run as a formula
    gets a leading `'`.

    A cell is a formula to Excel, LibreOffice or Google Sheets when it starts with
    `= + - @` (also after leading spaces, which some of them skip) or with a tab or a
    carriage return: `=HYPERLINK(...)`, `+cmd|...`, `-2+3`, `@SUM(...)`. The apostrophe
    makes them keep it as the text it is. Numbers are written as numbers (a negative score
    stays -1.5); only text is ever prefixed. Every cell of every CSV goes through here
    (`to_csv`), whoever typed it: answers, nicknames, flow texts in the codebook.
    """
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS)
    ):
        return "'" + value
    return value


def to_csv(header: Sequence[str], body: Iterable[Sequence[str | int | float]]) -> bytes:
    """UTF-8 CSV bytes (with a BOM, so spreadsheet programs read the accents right).

    The only way a CSV file is made here: every cell is neutralised on the way out. Lines
    end in CRLF (RFC 4180), which also makes the writer quote a cell holding a lone CR: with
    "\n" alone, a typed "\r" would split the row in two for any reader.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in header])
    writer.writerows([neutralise(value) for value in row] for row in body)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
