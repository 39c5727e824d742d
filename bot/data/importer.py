"""Import a FHIR QuestionnaireResponse for one of our Questionnaires as an interview."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.data.fhir import (
    CANONICAL,
    EXT_AGE_MIN,
    EXT_AGE_WORDS,
    UCUM,
    repeat_marker,
)
from bot.data.load import NICKNAME_ITEMS
from flows.answers import DEFAULT_MAX_TEXT, Invalid, checked_selection, clean_text, encode_value
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Answer, Value, find_question, instance_key, missing_required
from flows.lifecycle import State
from flows.schema import Flow, Item, ItemType, Section
from flows.text import clean_nickname
from store.contract import UnitOfWork
from store.records import InterviewRecord

#: The resource as a whole, where a problem is not about one linkId.
WHOLE = "(resource)"
#: QuestionnaireResponse status -> the state an imported interview is saved in.
STATES = {"completed": State.SUBMITTED, "amended": State.SUBMITTED, "in-progress": State.PAUSED}
#: Units an age may come in, as months per unit (UCUM codes).
AGE_UNITS = {"mo": 1, "a": 12, "wk": 12 / 52}
#: The largest file `hearth import` reads: thousands of paper interviews fit in far less.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
#: The deepest JSON nesting accepted: a Bundle of responses with groups of items and their
#: answers is about a dozen levels; much deeper is a mistake or an attack on the parser.
MAX_DOCUMENT_DEPTH = 64


class DocumentRefused(Exception):
    """The file is refused before it is read as FHIR; `code` names the message in data.j2."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def parse_document(raw: bytes) -> Any:
    """The JSON in `raw`, refused whole if too large or too deeply nested.

    At most `MAX_DOCUMENT_BYTES + 1` bytes should be read to call this (the caller reads no
    more, so a huge file is not loaded to be refused). Raises `DocumentRefused`, or
    `ValueError` (`json.JSONDecodeError`, `UnicodeDecodeError`) for what is not JSON.
    """
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused("import_too_big", limit=MAX_DOCUMENT_BYTES // (1024 * 1024))
    try:
        document = json.loads(raw.decode("utf-8"))
    except RecursionError:
        # The parser's own guard; shallower nesting is caught below, before any reader
        # of ours recurses into it.
        raise DocumentRefused("import_too_deep", limit=MAX_DOCUMENT_DEPTH) from None
    if _depth(document) > MAX_DOCUMENT_DEPTH:
        raise DocumentRefused("import_too_deep", limit=MAX_DOCUMENT_DEPTH)
    return document


def _depth(document: Any) -> int:
    """How deeply lists and objects nest (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level > MAX_DOCUMENT_DEPTH:
                return level
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, level) for child in children)
    return deepest


@dataclass(frozen=True)
class ImportProblem:
    """One reason the file cannot be imported, about one linkId; `code` names its message."""

    link_id: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Imported:
    """A checked response, ready to be written as an interview."""

    flow: Flow
    answers: dict[str, Value]
    state: State
    authored: datetime | None


class _Reader:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.answers: dict[str, Value] = {}
        self.problems: list[ImportProblem] = []

    def problem(self, link_id: str, code: str, **params: Any) -> None:
        self.problems.append(ImportProblem(link_id, code, params))

    def groups(self, items: Any) -> None:
        if not isinstance(items, list):
            self.problem(WHOLE, "not_a_list", field="item")
            return
        sections = {s.id: s for s in self.flow.sections}
        seen: set[str] = set()
        for group in items:
            link_id = group.get("linkId") if isinstance(group, dict) else None
            if not isinstance(link_id, str):
                self.problem(WHOLE, "no_link_id")
                continue
            section = sections.get(link_id)
            if section is None:
                # An item outside its group is still named: say where it belongs.
                code = "not_in_group" if self.flow.has_item(link_id) else "unknown_link_id"
                self.problem(link_id, code)
                continue
            if section.repeat_for is None:
                if link_id in seen:
                    self.problem(link_id, "repeated_group")
                    continue
                seen.add(link_id)
                self.section(section, group.get("item", []), None)
            else:
                self.repeated(section, group.get("item", []))

    def repeated(self, section: Section, items: Any) -> None:
        marker = repeat_marker(section)
        assert section.repeat_for is not None
        source = self.flow.item(section.repeat_for)
        if not isinstance(items, list):
            self.problem(section.id, "not_a_list", field="item")
            return
        found = [i for i in items if isinstance(i, dict) and i.get("linkId") == marker]
        if len(found) != 1:
            self.problem(marker, "repeat_marker_missing", group=section.id)
            return
        codes = self.codes(marker, found[0].get("answer"))
        if codes is None:
            return
        allowed = {o.value for o in source.options if not o.exclusive}
        if len(codes) != 1 or codes[0] not in allowed:
            self.problem(marker, "not_an_option", value=",".join(codes), options=sorted(allowed))
            return
        rest = [i for i in items if not (isinstance(i, dict) and i.get("linkId") == marker)]
        self.section(section, rest, codes[0])

    def section(self, section: Section, items: Any, repeat: str | None) -> None:
        own = {i.id: i for i in section.items}
        if not isinstance(items, list):
            self.problem(section.id, "not_a_list", field="item")
            return
        for entry in items:
            link_id = entry.get("linkId") if isinstance(entry, dict) else None
            if not isinstance(link_id, str):
                self.problem(section.id, "no_link_id")
                continue
            item = own.get(link_id)
            if item is None:
                code = "not_in_group" if self.flow.has_item(link_id) else "unknown_link_id"
                self.problem(link_id, code, group=section.id)
                continue
            key = instance_key(item.id, repeat)
            if key in self.answers:
                self.problem(key, "answered_twice")
                continue
            if entry.get("item"):
                self.problem(key, "nested_items")
                continue
            value = self.value(key, item, entry.get("answer"))
            if value is not None:
                self.answers[key] = value

    def codes(self, key: str, answers: Any) -> list[str] | None:
        if not isinstance(answers, list) or not answers:
            self.problem(key, "no_answer")
            return None
        codes: list[str] = []
        for answer in answers:
            coding = answer.get("valueCoding") if isinstance(answer, dict) else None
            code = coding.get("code") if isinstance(coding, dict) else None
            if not isinstance(code, str):
                self.problem(key, "wrong_type", expected="valueCoding", got=_kinds(answer))
                return None
            codes.append(code)
        return codes

    def value(self, key: str, item: Item, answers: Any) -> Value | None:
        if item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN, ItemType.MULTI_CHOICE):
            return self.choice(key, item, answers)
        if not isinstance(answers, list) or not answers:
            self.problem(key, "no_answer")
            return None
        if len(answers) > 1:
            self.problem(key, "too_many_answers", count=len(answers))
            return None
        answer = answers[0] if isinstance(answers[0], dict) else {}
        if item.type is ItemType.AGE:
            return self.age(key, item, answer)
        if item.type in (ItemType.SCALE, ItemType.NUMBER):
            return self.number(key, item, answer)
        text = answer.get("valueString")
        if not isinstance(text, str) or not clean_text(text):
            self.problem(key, "wrong_type", expected="valueString", got=_kinds(answer))
            return None
        limit = item.max_length or DEFAULT_MAX_TEXT
        if len(clean_text(text)) > limit:
            self.problem(key, "too_long", limit=limit)
            return None
        return clean_text(text)

    def choice(self, key: str, item: Item, answers: Any) -> Value | None:
        codes = self.codes(key, answers)
        if codes is None:
            return None
        known = {o.value for o in item.options}
        unknown = [c for c in codes if c not in known]
        if unknown:
            self.problem(key, "not_an_option", value=",".join(unknown), options=sorted(known))
            return None
        if item.type is not ItemType.MULTI_CHOICE:
            if len(codes) > 1:
                self.problem(key, "too_many_answers", count=len(codes))
                return None
            return codes[0]
        checked = checked_selection(codes, item.options, self.flow.locales[0])
        if isinstance(checked, Invalid):
            self.problem(key, "exclusive_option", value=",".join(codes))
            return None
        return checked

    def number(self, key: str, item: Item, answer: dict[str, Any]) -> Value | None:
        field_name = "valueInteger" if item.type is ItemType.SCALE else "valueDecimal"
        number = answer.get(field_name)
        if number is None and item.type is ItemType.NUMBER:
            number = answer.get("valueInteger")
        if isinstance(number, bool) or not isinstance(number, int | float):
            self.problem(key, "wrong_type", expected=field_name, got=_kinds(answer))
            return None
        if item.type is ItemType.SCALE and number != int(number):
            self.problem(key, "wrong_type", expected=field_name, got="decimal")
            return None
        if (item.min is not None and number < item.min) or (
            item.max is not None and number > item.max
        ):
            self.problem(key, "out_of_range", value=number, min=_plain(item.min),
                         max=_plain(item.max))
            return None
        return int(number) if number == int(number) else float(number)

    def age(self, key: str, item: Item, answer: dict[str, Any]) -> Value | None:
        quantity = answer.get("valueQuantity")
        value = quantity.get("value") if isinstance(quantity, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(key, "wrong_type", expected="valueQuantity", got=_kinds(answer))
            return None
        assert isinstance(quantity, dict)
        unit = quantity.get("code", "mo")
        if quantity.get("system", UCUM) != UCUM or unit not in AGE_UNITS:
            self.problem(key, "age_unit", unit=str(unit))
            return None
        high = round(value * AGE_UNITS[unit])
        listed = answer.get("extension")
        extensions = {
            e.get("url"): e for e in (listed if isinstance(listed, list) else [])
            if isinstance(e, dict)
        }
        low_ext = extensions.get(EXT_AGE_MIN, {}).get("valueInteger")
        low = low_ext if isinstance(low_ext, int) and not isinstance(low_ext, bool) else high
        words = extensions.get(EXT_AGE_WORDS, {}).get("valueString")
        lowest = item.min if item.min is not None else 0
        highest = item.max if item.max is not None else 300
        if not lowest <= low <= high or high > highest or high < lowest:
            self.problem(key, "out_of_range", value=high, min=_plain(item.min),
                         max=_plain(item.max))
            return None
        return AgeValue(low, high, words if isinstance(words, str) else None)


def _plain(bound: float | None) -> int | float | None:
    """A bound as people write it: 12, not 12.0."""
    if bound is None:
        return None
    return int(bound) if bound == int(bound) else bound


def _kinds(answer: Any) -> str:
    if not isinstance(answer, dict):
        return type(answer).__name__
    return ",".join(k for k in answer if k.startswith("value")) or "nothing"


def _flow_of(catalog: FlowCatalog, reference: Any) -> Flow | None:
    if not isinstance(reference, str) or not reference.startswith(CANONICAL):
        return None
    flow_id, _, version = reference.removeprefix(CANONICAL).partition("|")
    key = f"{flow_id}@{version}" if version else None
    if key is None or key not in catalog.flows:
        return None
    return catalog.get(key)


def read_response(catalog: FlowCatalog, resource: Any, *, own_export: bool = False
                  ) -> Imported | list[ImportProblem]:
    """Check a QuestionnaireResponse against our Questionnaire; every problem, or the answers.

    `own_export`: a response Hearth exported (`hearth export`) was submitted under Hearth's
    own rules, where a family may skip a question and the operator's export withholds the
    nickname: its required questions are not asked for again (every answer it has is still
    checked)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        return [ImportProblem(WHOLE, "not_a_response")]
    flow = _flow_of(catalog, resource.get("questionnaire"))
    if flow is None:
        known = sorted(f"{CANONICAL}{f.id}|{f.version}" for f in catalog.flows.values())
        return [ImportProblem(WHOLE, "unknown_questionnaire",
                              {"got": str(resource.get("questionnaire")), "known": known})]
    status = resource.get("status")
    problems: list[ImportProblem] = []
    if status not in STATES:
        problems.append(ImportProblem(WHOLE, "status", {"got": str(status),
                                                         "allowed": sorted(STATES)}))
    authored = _authored(resource.get("authored"))
    if resource.get("authored") is not None and authored is None:
        problems.append(ImportProblem(WHOLE, "authored", {"got": str(resource.get("authored"))}))
    reader = _Reader(flow)
    reader.groups(resource.get("item", []))
    problems.extend(reader.problems)
    answers = {key: Answer(value) for key, value in reader.answers.items()}
    for key in reader.answers:
        # An answer the skip rules would never have asked for means the paper form and
        # the flow disagree: better said than silently kept.
        if find_question(flow, answers, key) is None:
            problems.append(ImportProblem(key, "not_enabled"))
    if STATES.get(str(status)) is State.SUBMITTED and not own_export:
        problems.extend(
            ImportProblem(q.key, "required_missing") for q in missing_required(flow, answers)
        )
    if problems:
        return problems
    return Imported(flow, reader.answers, STATES[str(status)], authored)


def _authored(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    # A date without a zone cannot be placed on the timeline: refused like a bad value.
    return moment if moment.tzinfo is not None else None


def store_imported(
    repo: UnitOfWork, imported: Imported, *, owner_id: int, now: datetime
) -> InterviewRecord:
    """Write a checked response as an interview owned by `owner_id` (one transaction)."""
    flow = imported.flow
    # Dated when it was answered (on paper), never in the future.
    when = min(imported.authored or now, now)
    nickname = next(
        (clean_nickname(v) for k, v in imported.answers.items()
         if k in NICKNAME_ITEMS and isinstance(v, str)),
        None,
    )
    record = repo.interviews.create(
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=owner_id,
        respondent_id=None,
        nickname=nickname,
        state=imported.state.value,
        now=when,
    )
    keys = sorted(imported.answers, key=lambda k: (flow.position(k.partition("[")[0]), k))
    for revision, key in enumerate(keys, start=1):
        repo.answers.append(
            record.id,
            key,
            encode_value(imported.answers[key]),
            revision=revision,
            by=owner_id,
            now=when,
        )
    record.revision = len(keys)
    # Consent was taken where the answers were given (on paper, elsewhere).
    record.consented = True
    record.submitted_at = when if imported.state is State.SUBMITTED else None
    record.updated_at = when
    repo.interviews.save(record)
    repo.audit.add("created", interview_id=record.id, person_id=owner_id, now=now,
                   detail=flow.key)
    repo.audit.add("imported", interview_id=record.id, person_id=owner_id, now=now,
                   detail="fhir")
    return record
