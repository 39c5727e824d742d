"""Second informants: a mini-map on the family's functional map, and the views compared."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from flows.engine import Answers, rule_holds
from flows.schema import Flow, ItemType
from scoring.compute import function_band, region_scores
from scoring.report import FunctionScore, GroupScore
from scoring.rules import BAND_ORDER, Band, Id, NoScoringRules, ScoringRules, _parse

#: Where informant rules live: apart from scoring/rules/<flow>.yaml, so `has_rules` stays
#: false for an informant flow and no family summary or recommendation is ever built for it.
FOLDER = "informants"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # as scoring.rules


class InformantItems(_Strict):
    """Items passed on as given (not scored)."""

    setting: Id | None = None
    known_for: Id | None = None
    note: Id | None = None


class AgreementRule(_Strict):
    """Two known bands this many steps apart (or more) differ; closer ones agree."""

    differ_at_steps: int = Field(ge=1, le=2)


class InformantRules(_Strict):
    """A second informant's flow: which map it is placed on, and which item feeds which function."""

    flow: Id
    flow_versions: list[int] = Field(min_length=1)
    map: Id
    unknown: list[Id] = Field(min_length=1)
    items: InformantItems = Field(default_factory=InformantItems)
    functions: dict[Id, Id] = Field(min_length=1)
    agreement: AgreementRule


def parse_informant_rules(text: str, filename: str = "<informant rules>") -> InformantRules:
    """Validate informant rules given as YAML text; `RulesError` names file and line."""
    return _parse(text, filename, InformantRules)


def has_informant_rules(flow_id: str) -> bool:
    """Whether a flow is a second informant's form with bundled rules (a file check)."""
    return (resources.files("scoring") / "rules" / FOLDER / f"{flow_id}.yaml").is_file()


@lru_cache(maxsize=4)
def informant_rules(flow_id: str) -> InformantRules:
    """The bundled rules of an informant flow (read once); `NoScoringRules` if none."""
    path = resources.files("scoring") / "rules" / FOLDER / f"{flow_id}.yaml"
    if not path.is_file():
        raise NoScoringRules(flow_id)
    return parse_informant_rules(path.read_text(encoding="utf-8"),
                                 f"scoring/rules/{FOLDER}/{flow_id}.yaml")


def check_informant_rules(rules: InformantRules, flow: Flow, map_rules: ScoringRules) -> list[str]:
    """Every reference that does not hold, from the rules to the flow and to the map."""
    problems: list[str] = []
    if rules.flow != flow.id:
        problems.append(f"rules are for flow '{rules.flow}', not '{flow.id}'")
    if flow.version not in rules.flow_versions:
        problems.append(f"rules cover versions {rules.flow_versions}, not version {flow.version}")
    if map_rules.flow != rules.map:
        problems.append(f"map is '{rules.map}', but the map rules given are for '{map_rules.flow}'")
    on_map = {f.item: region.id for region in map_rules.functioning.regions
              for f in region.functions}
    wanted = set(map_rules.functioning.points) | set(rules.unknown)
    for item_id, function in rules.functions.items():
        if function not in on_map:
            problems.append(f"functions.{item_id}: '{function}' is not a function of the map")
        if not flow.has_item(item_id):
            problems.append(f"functions.{item_id}: item is not in flow {flow.key}")
            continue
        item = flow.item(item_id)
        if item.type is not ItemType.SINGLE_CHOICE:
            problems.append(f"functions.{item_id}: item is {item.type}, expected single_choice")
        missing = sorted(wanted - {o.value for o in item.options})
        if missing:
            problems.append(f"functions.{item_id}: item has no option(s) {', '.join(missing)}")
    covered = {on_map[f] for f in rules.functions.values() if f in on_map}
    for region in map_rules.functioning.regions:
        if region.id not in covered:
            problems.append(f"region '{region.id}' of the map has no item feeding it")
    for name in ("setting", "known_for", "note"):
        ref = getattr(rules.items, name)
        if ref is not None and not flow.has_item(ref):
            problems.append(f"items.{name}: item '{ref}' is not in flow {flow.key}")
    return problems


@dataclass(frozen=True)
class InformantView:
    """One informant's answers on the functional map: every function of the map (those
    the form does not ask do not apply), the regions, and what they said as given."""

    functions: tuple[FunctionScore, ...]
    regions: tuple[GroupScore, ...]
    setting: str | None = None
    known_for: str | None = None
    note: str | None = None


def _given(answers: Answers, item_id: str | None) -> str | None:
    answer = answers.get(item_id) if item_id else None
    value = answer.value if answer is not None else None
    return value if isinstance(value, str) and value.strip() else None


def score_informant(rules: InformantRules, map_rules: ScoringRules, flow: Flow,
                    answers: Answers) -> InformantView:
    """Place an informant's answers on the map: the map's own points and bands, so a cell
    means the same in both views. "I haven't seen this" and a skip are unrated (unknown)."""
    asked_by = {function: item_id for item_id, function in rules.functions.items()}
    unknown = set(rules.unknown)
    scores: list[FunctionScore] = []
    for region in map_rules.functioning.regions:
        for function in region.functions:
            item_id = asked_by.get(function.item)
            applies = item_id is not None and rule_holds(flow, flow.item(item_id).enable_when,
                                                         answers)
            answer = _given(answers, item_id) if applies else None
            points = (map_rules.functioning.points.get(answer)
                      if answer is not None and answer not in unknown else None)
            scores.append(FunctionScore(
                item_id=function.item, region=region.id, factor=function.factor,
                label=function.label, applies=applies, answer=answer, points=points,
                band=function_band(map_rules, points)))
    return InformantView(
        functions=tuple(scores), regions=tuple(region_scores(map_rules, scores)),
        setting=_given(answers, rules.items.setting),
        known_for=_given(answers, rules.items.known_for),
        note=_given(answers, rules.items.note))


class Agreement(StrEnum):
    """How an informant's band for a function or region stands beside the caregiver's."""

    AGREE = "agree"
    DIFFER = "differ"
    UNKNOWN = "unknown"  # one of the two is not known: never counted as agreement


def agreement(rules: InformantRules, caregiver: Band, informant: Band) -> Agreement:
    """The documented rule: unknown if either is unrated; else differ when the bands are
    `differ_at_steps` or more steps apart on typical < moderate < significant."""
    if Band.UNRATED in (caregiver, informant):
        return Agreement.UNKNOWN
    steps = abs(BAND_ORDER[caregiver] - BAND_ORDER[informant])
    return Agreement.DIFFER if steps >= rules.agreement.differ_at_steps else Agreement.AGREE


@dataclass(frozen=True)
class Cell:
    """One view of one function or region, and how it stands beside the caregiver's."""

    band: Band
    agreement: Agreement


@dataclass(frozen=True)
class ComparedRow:
    """A function or region, the caregiver's band, and each informant's cell in order."""

    id: str
    kind: str  # "region" or "function"
    region: str
    label: dict[str, str]
    caregiver: Band
    informants: tuple[Cell, ...]


def side_by_side(rules: InformantRules, regions: tuple[GroupScore, ...],
                 functions: tuple[FunctionScore, ...],
                 views: list[InformantView]) -> list[ComparedRow]:
    """Region by region, bottom-up: the region row, then its functions that at least one
    informant was asked about, each with every view and its agreement with the caregiver."""
    rows: list[ComparedRow] = []
    for region in regions:
        theirs = [next(r for r in v.regions if r.id == region.id) for v in views]
        rows.append(ComparedRow(region.id, "region", region.id, region.label, region.band, tuple(
            Cell(r.band, agreement(rules, region.band, r.band)) for r in theirs)))
        for function in (f for f in functions if f.region == region.id):
            cells = [next(f for f in v.functions if f.item_id == function.item_id) for v in views]
            if not any(c.applies for c in cells):
                continue
            rows.append(ComparedRow(
                function.item_id, "function", region.id, function.label, function.band,
                tuple(Cell(c.band, agreement(rules, function.band, c.band)) for c in cells)))
    return rows
