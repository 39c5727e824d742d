"""FHIR R4: a flow as a `Questionnaire`, an interview as a `QuestionnaireResponse` (plain JSON)."""

from __future__ import annotations

import json
from typing import Any

from bot.data.load import NICKNAME_ITEMS, InterviewData
from bot.data.tables import fhir_status
from flows.engine import AgeValue, Answer, instance_key
from flows.schema import AllOf, AnyOf, Condition, Flow, Item, ItemType, Op, Option, Rule, Section

#: Our Questionnaires' canonical URL: `urn:hearth:questionnaire:<flow id>`, version apart.
CANONICAL = "urn:hearth:questionnaire:"
_EXT = "urn:hearth:fhir:"
#: A skip rule FHIR's enableWhen cannot say, kept whole as JSON so nothing is lost.
EXT_RULE = _EXT + "enable-when-rule"
#: An option offered only when a rule holds (FHIR R4 answerOption has no enableWhen).
EXT_OPTION_RULE = _EXT + "option-enable-when"
#: A repeating group is asked once per option ticked in this item.
EXT_REPEAT_FOR = _EXT + "repeat-for"
#: A fuzzy age ("about 3") is a range: its low end and the words used.
EXT_AGE_MIN = _EXT + "age-min-months"
EXT_AGE_WORDS = _EXT + "age-words"
EXT_FOLLOW_UP = _EXT + "follow-up-of"
#: A second informant's form: the family's interview it sits beside, and the informant's role.
EXT_INFORMANT_OF = _EXT + "informant-of"
EXT_INFORMANT_ROLE = _EXT + "informant-role"
#: Where an interview's own id is kept (FHIR ids allow fewer characters).
INTERVIEW_SYSTEM = "urn:hearth:interview"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MAX_DECIMALS = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"
UCUM = "http://unitsofmeasure.org"
MONTHS = {"system": UCUM, "code": "mo", "unit": "months"}
#: Free text longer than this is FHIR `text` (multi-line) rather than `string`.
STRING_LIMIT = 255

TYPES: dict[ItemType, str] = {
    ItemType.SINGLE_CHOICE: "choice",
    ItemType.MULTI_CHOICE: "choice",
    ItemType.YES_NO_UNKNOWN: "choice",
    ItemType.SCALE: "integer",
    ItemType.NUMBER: "decimal",
    ItemType.AGE: "quantity",
    ItemType.TEXT: "string",
}


def resource_id(interview_id: str) -> str:
    """A FHIR id for an interview id: FHIR ids allow no "_", which never holds a "."."""
    return interview_id.replace("_", ".")


def canonical(flow: Flow) -> str:
    """The Questionnaire's canonical URL (without the version)."""
    return CANONICAL + flow.id


def questionnaire_ref(flow: Flow) -> str:
    """`url|version`: what a QuestionnaireResponse's `questionnaire` says."""
    return f"{canonical(flow)}|{flow.version}"


def option_system(flow: Flow, item_id: str) -> str:
    """The code system of an item's options (codes are the stored option values)."""
    return f"{canonical(flow)}/{item_id}"


def repeat_marker(section: Section) -> str:
    """The linkId of the item that says which option a repeated group instance is about.

    Item ids never contain a dot, so this never collides with one.
    """
    return f"{section.id}.for"


def _name(flow: Flow) -> str:
    # FHIR `name` is machine-friendly: a capital, then letters, digits, underscores.
    return "".join(part.capitalize() for part in flow.id.replace("-", "_").split("_")) or "Flow"


def _coding(flow: Flow, item: Item, option: Option, locale: str) -> dict[str, str]:
    return {
        "system": option_system(flow, item.id),
        "code": option.value,
        "display": flow.text(option.label, locale),
    }


# -- enableWhen -----------------------------------------------------------------------------


def _answer_value(flow: Flow, item_id: str, value: Any) -> dict[str, Any] | None:
    """The enableWhen `answer[x]` comparing against `value` of item `item_id`."""
    item = flow.item(item_id)
    if item.type in (ItemType.SINGLE_CHOICE, ItemType.MULTI_CHOICE, ItemType.YES_NO_UNKNOWN):
        if not isinstance(value, str) or item.option(value) is None:
            return None
        return {"answerCoding": {"system": option_system(flow, item_id), "code": value}}
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if item.type is ItemType.SCALE and isinstance(value, int):
        return {"answerInteger": value}
    if item.type is ItemType.NUMBER and isinstance(value, int | float):
        return {"answerDecimal": value}
    if item.type is ItemType.AGE and isinstance(value, int | float):
        return {"answerQuantity": {"value": value, **MONTHS}}
    if item.type is ItemType.TEXT and isinstance(value, str):
        return {"answerString": value}
    return None


def _condition(flow: Flow, condition: Condition) -> list[dict[str, Any]] | None:
    """The enableWhen entries whose OR means the same as this condition, or None."""
    question = condition.item
    if not flow.has_item(question):
        return None
    multi = flow.item(question).type is ItemType.MULTI_CHOICE
    op = condition.op

    def compare(operator: str, value: Any) -> dict[str, Any] | None:
        answer = _answer_value(flow, question, value)
        return None if answer is None else {"question": question, "operator": operator, **answer}

    entries: list[dict[str, Any] | None]
    if op is Op.ANSWERED or op is Op.NOT_ANSWERED:
        entries = [{"question": question, "operator": "exists",
                    "answerBoolean": op is Op.ANSWERED}]
    elif op is Op.EQUALS and not multi:
        entries = [compare("=", condition.value)]
    elif op is Op.NOT_EQUALS and not multi:
        # Hearth shows the item when the other one is unanswered; FHIR's != needs an
        # answer, so "not answered" is said separately.
        entries = [{"question": question, "operator": "exists", "answerBoolean": False},
                   compare("!=", condition.value)]
    elif op is Op.IN:
        values = condition.value if isinstance(condition.value, list) else [condition.value]
        entries = [compare("=", v) for v in values]
    elif op is Op.INCLUDES and multi:
        entries = [compare("=", condition.value)]
    elif op is Op.GTE or op is Op.LTE:
        entries = [compare(op.value, condition.value)]
    else:
        return None
    if not entries or any(e is None for e in entries):
        return None
    return [e for e in entries if e is not None]


def _flatten(rule: Rule) -> Rule:
    """all-in-all and any-in-any collapse into one level."""
    if isinstance(rule, AllOf):
        parts: list[Rule] = []
        for part in (_flatten(r) for r in rule.all):
            parts.extend(part.all if isinstance(part, AllOf) else [part])
        return AllOf(all=parts)
    if isinstance(rule, AnyOf):
        parts = []
        for part in (_flatten(r) for r in rule.any):
            parts.extend(part.any if isinstance(part, AnyOf) else [part])
        return AnyOf(any=parts)
    return rule


def enable_when(flow: Flow, rule: Rule | None) -> dict[str, Any]:
    """`enableWhen` + `enableBehavior` for a rule, or an extension keeping the rule whole."""
    if rule is None:
        return {}
    flat = _flatten(rule)
    entries: list[dict[str, Any]] | None = None
    behavior = "any"
    if isinstance(flat, Condition):
        entries = _condition(flow, flat)
    elif isinstance(flat, AnyOf) and all(isinstance(r, Condition) for r in flat.any):
        found = [_condition(flow, r) for r in flat.any if isinstance(r, Condition)]
        entries = None if any(f is None for f in found) else [e for f in found if f for e in f]
    elif isinstance(flat, AllOf) and all(isinstance(r, Condition) for r in flat.all):
        found = [_condition(flow, r) for r in flat.all if isinstance(r, Condition)]
        # Each part must be one entry: a part that needs OR inside AND is not expressible.
        if all(f is not None and len(f) == 1 for f in found):
            entries = [e for f in found if f for e in f]
            behavior = "all"
    if entries is None:
        return {"extension": [{"url": EXT_RULE, "valueString": _rule_json(rule)}]}
    result: dict[str, Any] = {"enableWhen": entries}
    if len(entries) > 1:
        result["enableBehavior"] = behavior
    return result


def _rule_json(rule: Rule) -> str:
    return json.dumps(rule.model_dump(mode="json", exclude_none=True), separators=(",", ":"))


def expressible(flow: Flow, rule: Rule | None) -> bool:
    """Whether FHIR enableWhen says this rule exactly (else it travels as an extension)."""
    return "extension" not in enable_when(flow, rule)


# -- the Questionnaire ------------------------------------------------------------------------


def _question(flow: Flow, item: Item, locale: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "linkId": item.id,
        "text": flow.text(item.prompt, locale),
        "type": TYPES[item.type],
        "required": item.required,
    }
    extensions: list[dict[str, Any]] = []
    if item.type is ItemType.TEXT and (item.max_length or 10_000) > STRING_LIMIT:
        entry["type"] = "text"
    if item.max_length is not None:
        entry["maxLength"] = item.max_length
    if item.type is ItemType.MULTI_CHOICE:
        entry["repeats"] = True
    if item.type in (ItemType.SCALE, ItemType.NUMBER):
        kind = "valueInteger" if item.type is ItemType.SCALE else "valueDecimal"
        for url, bound in ((MIN_VALUE, item.min), (MAX_VALUE, item.max)):
            if bound is not None:
                number = int(bound) if item.type is ItemType.SCALE else bound
                extensions.append({"url": url, kind: number})
    if item.type is ItemType.AGE:
        extensions.append({"url": UNIT_OPTION, "valueCoding": {"system": UCUM, "code": "mo",
                                                               "display": "months"}})
        for url, bound in ((MIN_VALUE, item.min), (MAX_VALUE, item.max)):
            if bound is not None:
                extensions.append({"url": url, "valueQuantity": {"value": bound, **MONTHS}})
    if item.options:
        entry["answerOption"] = [_answer_option(flow, item, o, locale) for o in item.options]
    when = enable_when(flow, item.enable_when)
    extensions.extend(when.pop("extension", []))
    entry.update(when)
    if extensions:
        entry["extension"] = extensions
    return entry


def _answer_option(flow: Flow, item: Item, option: Option, locale: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"valueCoding": _coding(flow, item, option, locale)}
    extensions: list[dict[str, Any]] = []
    if option.exclusive:
        extensions.append({"url": OPTION_EXCLUSIVE, "valueBoolean": True})
    if option.enable_when is not None:
        extensions.append({"url": EXT_OPTION_RULE, "valueString": _rule_json(option.enable_when)})
    if extensions:
        entry["extension"] = extensions
    return entry


def _group(flow: Flow, section: Section, locale: str) -> dict[str, Any]:
    group: dict[str, Any] = {
        "linkId": section.id,
        "text": flow.text(section.title, locale),
        "type": "group",
    }
    extensions: list[dict[str, Any]] = []
    items = [_question(flow, item, locale) for item in section.items]
    if section.repeat_for is not None:
        source = flow.item(section.repeat_for)
        group["repeats"] = True
        extensions.append({"url": EXT_REPEAT_FOR, "valueString": source.id})
        marker = {
            "linkId": repeat_marker(section),
            "text": flow.text(source.prompt, locale),
            "type": "choice",
            "required": True,
            "readOnly": True,
            "answerOption": [
                {"valueCoding": _coding(flow, source, o, locale)}
                for o in source.options
                if not o.exclusive
            ],
        }
        items.insert(0, marker)
    when = enable_when(flow, section.enable_when)
    extensions.extend(when.pop("extension", []))
    group.update(when)
    if extensions:
        group["extension"] = extensions
    group["item"] = items
    return group


def questionnaire(flow: Flow, locale: str | None = None) -> dict[str, Any]:
    """The flow as a FHIR R4 Questionnaire: sections are groups, linkId = item id."""
    locale = locale or flow.locales[0]
    return {
        "resourceType": "Questionnaire",
        "id": f"{flow.id.replace('_', '-')}-v{flow.version}",
        "url": canonical(flow),
        "version": str(flow.version),
        "name": _name(flow),
        "title": flow.text(flow.title, locale),
        "status": "active",
        "language": locale,
        "item": [_group(flow, section, locale) for section in flow.sections],
    }


# -- a QuestionnaireResponse ------------------------------------------------------------------


def answer_entries(flow: Flow, item: Item, answer: Answer, locale: str) -> list[dict[str, Any]]:
    """The FHIR `answer` list of one stored answer."""
    value = answer.value
    if value is None:
        return []
    if isinstance(value, AgeValue):
        quantity: dict[str, Any] = {"value": value.max_months, **MONTHS}
        extensions: list[dict[str, Any]] = []
        if not value.exact:
            extensions.append({"url": EXT_AGE_MIN, "valueInteger": value.min_months})
        if value.raw:
            extensions.append({"url": EXT_AGE_WORDS, "valueString": value.raw})
        entry: dict[str, Any] = {"valueQuantity": quantity}
        if extensions:
            entry["extension"] = extensions
        return [entry]
    if isinstance(value, list):
        codes = value
    elif item.options and isinstance(value, str):
        codes = [value]
    else:
        codes = []
    if codes:
        entries = []
        for code in codes:
            option = item.option(code)
            coding = (
                _coding(flow, item, option, locale)
                if option is not None
                else {"system": option_system(flow, item.id), "code": code}
            )
            entries.append({"valueCoding": coding})
        return entries
    if item.type is ItemType.SCALE and isinstance(value, int):
        return [{"valueInteger": value}]
    if item.type is ItemType.NUMBER and isinstance(value, int | float):
        return [{"valueDecimal": value}]
    return [{"valueString": str(value)}]


def _items(
    flow: Flow, section: Section, data: InterviewData, repeat: str | None, locale: str,
    include_nicknames: bool,
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in section.items:
        if item.id in NICKNAME_ITEMS and not include_nicknames:
            continue
        answer = data.answers.get(instance_key(item.id, repeat))
        if answer is None or answer.value is None:
            continue  # skipped or never asked: FHIR has no answer to give
        prompt = flow.text(item.prompt, locale)
        if repeat is not None and section.repeat_for is not None:
            # The response knows which option this copy is about: say it, as the chat did.
            option = flow.item(section.repeat_for).option(repeat)
            prompt = prompt.replace("{option}", flow.text(option.label, locale) if option
                                    else repeat)
        found.append({
            "linkId": item.id,
            "text": prompt,
            "answer": answer_entries(flow, item, answer, locale),
        })
    return found


def questionnaire_response(
    flow: Flow, data: InterviewData, *, include_nicknames: bool, locale: str | None = None
) -> dict[str, Any]:
    """One interview as a QuestionnaireResponse: no channel ids; the nickname only if asked."""
    locale = locale or flow.locales[0]
    record = data.record
    groups: list[dict[str, Any]] = []
    for section in flow.sections:
        if section.repeat_for is None:
            items = _items(flow, section, data, None, locale, include_nicknames)
            if items:
                groups.append({"linkId": section.id, "text": flow.text(section.title, locale),
                               "item": items})
            continue
        source = flow.item(section.repeat_for)
        for option in source.options:
            if option.exclusive:
                continue
            items = _items(flow, section, data, option.value, locale, include_nicknames)
            if not items:
                continue
            marker = {"linkId": repeat_marker(section),
                      "answer": [{"valueCoding": _coding(flow, source, option, locale)}]}
            groups.append({"linkId": section.id, "text": flow.text(section.title, locale),
                           "item": [marker, *items]})
    authored = record.submitted_at or record.updated_at
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id(record.id),
        "identifier": {"system": INTERVIEW_SYSTEM, "value": record.id},
        "questionnaire": questionnaire_ref(flow),
        "status": fhir_status(data),
        "authored": authored.isoformat(timespec="seconds"),
    }
    if groups:  # FHIR JSON has no empty arrays
        response["item"] = groups
    extensions = []
    if data.follow_up_of:
        extensions.append({"url": EXT_FOLLOW_UP, "valueString": data.follow_up_of})
    if data.informant_of:
        # A second informant's answers: whose view (the role) and beside which interview.
        extensions.append({"url": EXT_INFORMANT_OF, "valueString": data.informant_of})
        extensions.append({"url": EXT_INFORMANT_ROLE, "valueCode": data.informant_role or ""})
    if extensions:
        response["extension"] = extensions
    return response


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A `collection` Bundle of resources (what an export file holds)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:hearth:{r['resourceType']}:{r['id']}", "resource": r}
            for r in resources
        ],
    }


def to_json(resource: dict[str, Any]) -> bytes:
    """Pretty, UTF-8 JSON bytes."""
    return (json.dumps(resource, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
