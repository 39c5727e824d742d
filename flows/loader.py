"""Load flow files: YAML in, a validated `Flow` out, or every problem at once with its place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from flows.errors import FlowError, Problem, ProblemCode
from flows.schema import CHOICE_TYPES, Flow, ItemType, Op

#: Labels for the built-in options of a `yes_no_unknown` item, per locale.
YES_NO_UNKNOWN: dict[str, dict[str, str]] = {
    "yes": {"en": "Yes", "es": "Sí"},
    "no": {"en": "No", "es": "No"},
    "unknown": {"en": "I don't know", "es": "No lo sé"},
}

#: A prompt longer than this is hard to read on a phone: loading warns.
LONG_PROMPT_CHARS = 400

Path_ = tuple[str | int, ...]


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


@dataclass
class LoadResult:
    """A loaded flow and the soft problems (warnings) found while loading it."""

    flow: Flow
    warnings: list[Problem] = field(default_factory=list)


def load_flow_file(path: str | Path) -> LoadResult:
    """Load and validate one flow file; raise `FlowError` listing every problem."""
    path = Path(path)
    return load_flow_text(path.read_text(encoding="utf-8"), str(path))


def load_flow_text(text: str, filename: str = "<flow>") -> LoadResult:
    """Load and validate a flow given as YAML text."""
    checker = start_checks(Checker, text, filename, "start the file with `id:`, `version:`, ...")
    checker.resolve_option_sets()
    checker.check_semantics()
    flow = finish_checks(checker, Flow)
    checker.check_warnings(flow)
    return LoadResult(flow, checker.warnings)


C = TypeVar("C", bound="ProblemLog")
M = TypeVar("M", bound=BaseModel)


#: libyaml's parser when PyYAML was built with it: about 5x faster on the bundled flows,
#: which `hearth chat` loads before its first question. Same nodes, same line marks.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, filename: str) -> tuple[yaml.Node | None, Any]:
    """Parse once into both the node tree (for line numbers) and plain data."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        problem = Problem(
            ProblemCode.YAML_SYNTAX,
            filename,
            line,
            None,
            f"YAML syntax: {reason}",
            "check indentation and quoting on that line",
        )
        raise FlowError([problem]) from None
    finally:
        loader.dispose()


def start_checks(kind: type[C], text: str, filename: str, how_to_start: str) -> C:
    """Parse a data file and return a checker over its mapping (FlowError if not a mapping)."""
    node, raw = parse_yaml(text, filename)
    checker = kind(filename, raw if isinstance(raw, dict) else {}, line_map(node))
    if not isinstance(raw, dict):
        checker.add(ProblemCode.INVALID_FIELD, (), None, "the file is not a mapping", how_to_start)
        raise FlowError(checker.problems)
    return checker


def finish_checks(checker: ProblemLog, model: type[M]) -> M:
    """Validate the checked data into `model`; raise every problem found, in file order."""
    result: M | None = None
    try:
        result = model.model_validate(checker.data)
    except ValidationError as exc:
        checker.add_validation_errors(exc)
    if checker.problems:
        checker.problems.sort(key=lambda p: (p.line or 0, p.code))
        raise FlowError(checker.problems)
    assert result is not None
    return result


def load_keyed(paths: Iterable[Path], load: Callable[[Path], K]) -> dict[str, K]:
    """Load several files keyed by `id@version`; every file's problems reported together."""
    found: dict[str, K] = {}
    first_file: dict[str, str] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            loaded = load(path)
        except FlowError as exc:
            problems.extend(exc.problems)
            continue
        if loaded.key in found:
            # Two files claiming one key would make what an interview or group runs ambiguous.
            problems.append(
                Problem(
                    ProblemCode.DUPLICATE_ID,
                    str(path),
                    None,
                    None,
                    f"'{loaded.key}' is also defined in {first_file[loaded.key]}",
                    "raise the version of the newer file, or give it another id",
                )
            )
            continue
        found[loaded.key] = loaded
        first_file[loaded.key] = str(path)
    if problems:
        raise FlowError(problems)
    return found


def bundled_flow_paths() -> list[Path]:
    """The flow files shipped inside the `flows` package."""
    folder = resources.files("flows") / "data"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def line_map(node: yaml.Node | None) -> dict[Path_, int]:
    """Map each path in the document (keys and list indexes) to its 1-based line."""
    lines: dict[Path_, int] = {}

    def walk(n: yaml.Node, path: Path_) -> None:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(n, yaml.SequenceNode):
            for i, value in enumerate(n.value):
                walk(value, (*path, i))

    if node is not None:
        walk(node, ())
    return lines


def _folded(text: str) -> str:
    return " ".join(text.casefold().replace("\u2019", "'").split())


def _fmt(values: Any) -> str:
    return ", ".join(str(v) for v in values)


class ProblemLog:
    """Collects problems in a raw mapping loaded from YAML, located by path (file, line, item).

    The base of every checker of bundled data (flows, prompt series): where a problem is,
    how it is worded, and the checks any localized file needs.
    """

    def __init__(self, filename: str, data: dict[str, Any], lines: dict[Path_, int]) -> None:
        self.filename = filename
        self.data = data
        self.lines = lines
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def line_of(self, path: Path_) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def item_at(self, path: Path_) -> str | None:
        if len(path) >= 4 and path[0] == "sections" and path[2] == "items":
            item = self._get(("sections", path[1], "items", path[3]))
            item_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(item_id, str):
                return item_id
        return None

    def _get(self, path: Path_) -> Any:
        cur: Any = self.data
        for key in path:
            try:
                cur = cur[key]
            except (KeyError, IndexError, TypeError):
                return None
        return cur

    def add(
        self,
        code: ProblemCode,
        path: Path_,
        item_id: str | None,
        message: str,
        fix: str,
        *,
        warning: bool = False,
    ) -> None:
        problem = Problem(
            code,
            self.filename,
            self.line_of(path),
            item_id if item_id is not None else self.item_at(path),
            message,
            fix,
        )
        (self.warnings if warning else self.problems).append(problem)

    def locales(self) -> list[str]:
        locales = self.data.get("locales")
        return [loc for loc in locales if isinstance(loc, str)] if isinstance(locales, list) else []

    def check_translation(
        self,
        path: Path_,
        text: Any,
        locales: list[str],
        iid: str | None,
        *,
        what: str | None = None,
        fix: str | None = None,
    ) -> None:
        if not isinstance(text, dict):
            return  # missing or wrong shape: pydantic reports it
        for locale in locales:
            if not text.get(locale):
                label = what or str(path[-1])
                self.add(
                    ProblemCode.MISSING_TRANSLATION,
                    path,
                    iid,
                    f"{label} has no '{locale}' text (the file declares locale '{locale}')",
                    fix or f"add `{locale}: ...` under {path[-1]}",
                )

    def add_validation_errors(self, exc: ValidationError) -> None:
        reported: set[Path_] = set()
        for error in exc.errors():
            loc = tuple(error["loc"])
            # A tagged-union failure reports once per alternative; keep the first per place.
            path = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
            if path in reported:
                continue
            reported.add(path)
            if path and path[-1] == "type" and error["type"] == "enum":
                allowed = _fmt(t.value for t in ItemType)
                self.add(
                    ProblemCode.UNKNOWN_TYPE,
                    path,
                    None,
                    f"unknown item type '{error.get('input')}'",
                    f"use one of: {allowed}",
                )
                continue
            where = ".".join(str(p) for p in path) or "(top level)"
            self.add(
                ProblemCode.INVALID_FIELD,
                path,
                None,
                f"{where}: {error['msg']}",
                _field_fix(error["type"], path),
            )


class ItemChecks(ProblemLog):
    """The checks of one item and its conditions: types, options, bounds, `enable_when`."""

    def sections(self) -> Iterator[tuple[int, dict[str, Any]]]:
        sections = self.data.get("sections")
        if isinstance(sections, list):
            for i, section in enumerate(sections):
                if isinstance(section, dict):
                    yield i, section

    def items(self) -> Iterator[tuple[Path_, int, dict[str, Any]]]:
        for i, section in self.sections():
            items = section.get("items")
            if isinstance(items, list):
                for j, item in enumerate(items):
                    if isinstance(item, dict):
                        yield ("sections", i, "items", j), i, item

    def _item_by_id(self, item_id: str) -> dict[str, Any] | None:
        for _, _, item in self.items():
            if item.get("id") == item_id:
                return item
        return None

    def check_item(
        self,
        path: Path_,
        item: dict[str, Any],
        locales: list[str],
        order: dict[str, int],
        section_index: int,
    ) -> None:
        iid = item.get("id") if isinstance(item.get("id"), str) else None
        kind = item.get("type")
        self.check_translation((*path, "prompt"), item.get("prompt"), locales, iid)
        if "help" in item:
            self.check_translation((*path, "help"), item.get("help"), locales, iid)
        options = item.get("options")
        builtin = bool(item.pop("_builtin_options", False))
        unresolved = bool(item.pop("_unresolved_options", False))
        if kind in CHOICE_TYPES:
            if not options and not unresolved:
                self.add(
                    ProblemCode.MISSING_OPTIONS,
                    (*path, "type"),
                    iid,
                    f"a {kind} item needs options",
                    "add `options:` with at least two `{value, label}` entries",
                )
        elif options:
            self.add(
                ProblemCode.UNEXPECTED_OPTIONS,
                (*path, "options"),
                iid,
                f"a {kind} item does not take options",
                "remove `options`, or change the type to single_choice or multi_choice",
            )
        if isinstance(options, list):
            seen: dict[str, int] = {}
            for k, option in enumerate(options):
                if not isinstance(option, dict):
                    continue
                opath = (*path, "options", k)
                value = option.get("value")
                if isinstance(value, str):
                    if value in seen:
                        self.add(
                            ProblemCode.DUPLICATE_OPTION,
                            (*opath, "value"),
                            iid,
                            f"option value '{value}' appears twice",
                            "give each option of an item its own value",
                        )
                    seen[value] = k
                if builtin:
                    self.check_translation(
                        path,
                        option.get("label"),
                        locales,
                        iid,
                        what="built-in yes/no/don't know labels",
                        fix="give the item explicit options with labels in that language",
                    )
                else:
                    self.check_translation((*opath, "label"), option.get("label"), locales, iid)
                if option.get("enable_when") is not None:
                    self.check_rule(
                        (*opath, "enable_when"),
                        option["enable_when"],
                        order,
                        order.get(iid or "", len(order)),
                        iid,
                        section_items=set(),
                    )
        if kind == ItemType.SCALE and (item.get("min") is None or item.get("max") is None):
            self.add(
                ProblemCode.BAD_BOUNDS,
                (*path, "type"),
                iid,
                "a scale item needs `min` and `max`",
                "add for instance `min: 0` and `max: 4`",
            )
        low, high = item.get("min"), item.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            self.add(
                ProblemCode.BAD_BOUNDS,
                (*path, "min"),
                iid,
                f"min ({low}) is greater than max ({high})",
                "swap them",
            )
        anchors = item.get("anchors")
        if isinstance(anchors, dict):
            for point, label in anchors.items():
                self.check_translation((*path, "anchors", str(point)), label, locales, iid)
        if isinstance(options, list):
            self.check_synonyms(path, [o for o in options if isinstance(o, dict)], locales, iid)
        point_words = item.get("point_words")
        if isinstance(point_words, dict) and isinstance(low, int | float):
            for point in point_words:
                if isinstance(point, int) and isinstance(high, int | float) and not (
                    low <= point <= high
                ):
                    self.add(
                        ProblemCode.BAD_BOUNDS,
                        (*path, "point_words", str(point)),
                        iid,
                        f"point_words names point {point}, outside the scale {low} to {high}",
                        f"use a point from {low} to {high}",
                    )
        if item.get("enable_when") is not None:
            section_items = {it.get("id") for p, i, it in self.items() if i == section_index}
            self.check_rule(
                (*path, "enable_when"),
                item["enable_when"],
                order,
                order.get(iid or "", len(order)),
                iid,
                section_items={s for s in section_items if isinstance(s, str)},
            )

    def check_synonyms(
        self, path: Path_, options: list[dict[str, Any]], locales: list[str], iid: str | None
    ) -> None:
        for code, where, message, fix in synonym_problems(options, locales):
            self.add(code, (*path, *where), iid, message, fix)

    def check_rule(
        self,
        path: Path_,
        rule: Any,
        order: dict[str, int],
        before: int,
        iid: str | None,
        section_items: set[str],
    ) -> None:
        if isinstance(rule, list):
            for k, sub in enumerate(rule):
                self.check_rule((*path, k), sub, order, before, iid, section_items)
            return
        if not isinstance(rule, dict):
            return  # pydantic reports the shape
        for combinator in ("all", "any"):
            if isinstance(rule.get(combinator), list):
                self.check_rule(
                    (*path, combinator), rule[combinator], order, before, iid, section_items
                )
                return
        target = rule.get("item")
        if not isinstance(target, str):
            return
        if target not in order:
            self.add(
                ProblemCode.UNKNOWN_REFERENCE,
                (*path, "item"),
                iid,
                f"enable_when refers to '{target}', which is not an item in this flow",
                "check the spelling, or name an item defined earlier in the file",
            )
            return
        if order[target] >= before:
            self.add(
                ProblemCode.FORWARD_REFERENCE,
                (*path, "item"),
                iid,
                f"enable_when refers to '{target}', which is not asked before this point",
                "a condition can only look at answers given earlier: move this item "
                "after it or change the condition",
            )
            return
        self.check_condition_value(path, rule, target, iid)

    def check_condition_value(
        self, path: Path_, rule: dict[str, Any], target: str, iid: str | None
    ) -> None:
        item = self._item_by_id(target)
        if item is None or item.get("type") not in CHOICE_TYPES:
            return
        op = rule.get("op")
        if op not in (Op.EQUALS, Op.NOT_EQUALS, Op.IN, Op.INCLUDES):
            return
        known = {o.get("value") for o in item.get("options") or [] if isinstance(o, dict)}
        raw = rule.get("value")
        wanted = raw if isinstance(raw, list) else [raw]
        for value in wanted:
            if value not in known:
                self.add(
                    ProblemCode.UNKNOWN_OPTION_VALUE,
                    (*path, "value"),
                    iid,
                    f"the condition compares '{target}' with '{value}', which is not one "
                    f"of its options",
                    f"use one of: {_fmt(sorted(str(k) for k in known))}",
                )


class Checker(ItemChecks):
    """Collects problems in a raw flow mapping: sections, option sets, references, warnings."""

    def resolve_option_sets(self) -> None:
        """Replace `options: <set name>` with the named list from `option_sets`."""
        sets = self.data.pop("option_sets", None) or {}
        if not isinstance(sets, dict):
            self.add(
                ProblemCode.INVALID_FIELD,
                ("option_sets",),
                None,
                "option_sets must be a mapping of name to a list of options",
                "write `option_sets:` followed by `name: [ {value, label}, ... ]`",
            )
            sets = {}
        for path, _, item in self.items():
            ref = item.get("options")
            if isinstance(ref, str):
                if ref in sets:
                    item["options"] = [dict(o) if isinstance(o, dict) else o for o in sets[ref]]
                else:
                    # Reported here; the item is otherwise checked as if it had no options.
                    item["options"] = []
                    item["_unresolved_options"] = True
                    self.add(
                        ProblemCode.UNKNOWN_OPTION_SET,
                        (*path, "options"),
                        None,
                        f"options refer to an option set '{ref}' that is not defined",
                        f"define '{ref}' under option_sets, or use one of: "
                        f"{_fmt(sets) or '(none defined)'}",
                    )
            if item.get("type") == ItemType.YES_NO_UNKNOWN and "options" not in item:
                item["options"] = [
                    {"value": value, "label": {loc: labels[loc] for loc in labels}}
                    for value, labels in YES_NO_UNKNOWN.items()
                ]
                item["_builtin_options"] = True

    def check_semantics(self) -> None:
        locales = self.locales()
        self.check_translation(("title",), self.data.get("title"), locales, None)
        self.check_translation(("consent",), self.data.get("consent"), locales, None)
        seen_items: dict[str, Path_] = {}
        seen_sections: dict[str, Path_] = {}
        order: dict[str, int] = {}
        position = 0
        for i, section in self.sections():
            spath: Path_ = ("sections", i)
            sid = section.get("id")
            if isinstance(sid, str):
                if sid in seen_sections:
                    self.add(
                        ProblemCode.DUPLICATE_ID,
                        (*spath, "id"),
                        None,
                        f"section id '{sid}' is used twice (first on line "
                        f"{self.line_of(seen_sections[sid])})",
                        "give every section its own id",
                    )
                seen_sections[sid] = spath
            self.check_translation((*spath, "title"), section.get("title"), locales, None)
            if "intro" in section:
                self.check_translation((*spath, "intro"), section.get("intro"), locales, None)
            for path, _, item in self.items():
                if path[1] != i:
                    continue
                iid = item.get("id")
                if not isinstance(iid, str):
                    continue
                if iid in seen_items:
                    self.add(
                        ProblemCode.DUPLICATE_ID,
                        (*path, "id"),
                        iid,
                        f"item id '{iid}' is used twice (first on line "
                        f"{self.line_of(seen_items[iid])})",
                        "give every item its own id; ids are stable keys for answers",
                    )
                else:
                    seen_items[iid] = path
                    order[iid] = position
                    position += 1
        needed = self.data.get("needed") or []
        for n, item_id in enumerate(needed if isinstance(needed, list) else []):
            if item_id not in order:
                self.add(
                    ProblemCode.UNKNOWN_REFERENCE,
                    ("needed", n),
                    None,
                    f"'needed' names '{item_id}', which is no item of this flow",
                    "list item ids the answers cannot be sent without",
                )
        # Second pass: references need the full order of items.
        for i, section in self.sections():
            spath = ("sections", i)
            first_item = self._first_item_position(i, order)
            repeat = section.get("repeat_for")
            if repeat is not None:
                self.check_repeat(spath, repeat, order, first_item)
            if section.get("enable_when") is not None:
                self.check_rule(
                    (*spath, "enable_when"),
                    section["enable_when"],
                    order,
                    first_item,
                    None,
                    section_items=set(),
                )
        for path, i, item in self.items():
            self.check_item(path, item, locales, order, i)

    def _first_item_position(self, section_index: int, order: dict[str, int]) -> int:
        for _, i, item in self.items():
            if i == section_index and item.get("id") in order:
                return order[item["id"]]
        return len(order)

    def check_repeat(
        self, spath: Path_, repeat: Any, order: dict[str, int], first_item: int
    ) -> None:
        path = (*spath, "repeat_for")
        if not isinstance(repeat, str) or repeat not in order:
            self.add(
                ProblemCode.UNKNOWN_REFERENCE,
                path,
                None,
                f"repeat_for names '{repeat}', which is not an item in this flow",
                "name a multiple-choice item asked before this section",
            )
            return
        if order[repeat] >= first_item:
            self.add(
                ProblemCode.FORWARD_REFERENCE,
                path,
                None,
                f"repeat_for names '{repeat}', which is not asked before this section",
                "move the section after that item",
            )
        target = self._item_by_id(repeat)
        if target is not None and target.get("type") != ItemType.MULTI_CHOICE:
            self.add(
                ProblemCode.BAD_REPEAT,
                path,
                None,
                f"repeat_for names '{repeat}', which is not a multiple-choice item",
                "repeat a section for each option ticked in a multi_choice item",
            )

    def check_warnings(self, flow: Flow) -> None:
        for i, section in enumerate(flow.sections):
            for j, item in enumerate(section.items):
                for locale, prompt in item.prompt.items():
                    if len(prompt) > LONG_PROMPT_CHARS:
                        self.add(
                            ProblemCode.LONG_PROMPT,
                            ("sections", i, "items", j, "prompt", locale),
                            item.id,
                            f"the '{locale}' prompt is {len(prompt)} characters long",
                            f"keep prompts under {LONG_PROMPT_CHARS} characters; move "
                            "detail into `help`",
                            warning=True,
                        )


def _field_fix(kind: str, path: Path_) -> str:
    if kind == "missing":
        return f"add `{path[-1]}`" if path else "add the missing field"
    if kind == "extra_forbidden":
        return "remove this field, or check its spelling"
    if kind.startswith("string_pattern"):
        return "use lower-case letters, digits and underscores, starting with a letter"
    return "correct the value"



def synonym_problems(
    options: list[dict[str, Any]], locales: list[str]
) -> Iterator[tuple[ProblemCode, Path_, str, str]]:
    """Each typed word must lead to one option: a word on two options is a coin toss.

    Yields (code, path under the item, message, fix) for the loader to report.
    """
    owner: dict[tuple[str, str], str] = {}
    for option in options:
        labels = option.get("label")
        for locale, label in (labels.items() if isinstance(labels, dict) else []):
            if isinstance(label, str):
                owner.setdefault((str(locale), _folded(label)), str(option.get("value")))
    for k, option in enumerate(options):
        value = str(option.get("value"))
        synonyms = option.get("synonyms")
        if not isinstance(synonyms, dict):
            continue
        for locale, words in synonyms.items():
            where: Path_ = ("options", k, "synonyms", locale)
            if locale not in locales:
                yield (
                    ProblemCode.UNKNOWN_LOCALE,
                    where,
                    f"synonyms for locale '{locale}', which the file does not declare",
                    f"use one of: {_fmt(locales)}",
                )
                continue
            for word in words if isinstance(words, list) else []:
                if not isinstance(word, str):
                    continue
                first = owner.setdefault((str(locale), _folded(word)), value)
                if first != value:
                    yield (
                        ProblemCode.AMBIGUOUS_SYNONYM,
                        where,
                        f"'{word}' would lead to two options, '{first}' and '{value}'",
                        "keep the word on one option only",
                    )

#: A flow file's top-level `id:` / `version:` lines, read without parsing the YAML.
_HEADER = re.compile(r"^(id|version):[ \t]*(['\"]?)([A-Za-z0-9_.-]+)\2[ \t]*(?:#.*)?$", re.M)


def header_key(text: str) -> str | None:
    """`id@version` from a flow file's top-level lines, or None if they are not plain.

    What the lazy catalog indexes by, so `hearth chat` parses only the flow it runs; the
    loaded flow's own key is checked against it (`load_indexed`).
    """
    found: dict[str, list[str]] = {}
    for match in _HEADER.finditer(text):
        found.setdefault(match.group(1), []).append(match.group(3))
    ids, versions = found.get("id", []), found.get("version", [])
    if len(ids) != 1 or len(versions) != 1 or not versions[0].isdigit():
        return None
    return f"{ids[0]}@{int(versions[0])}"


def flow_index(paths: Iterable[Path]) -> tuple[dict[str, Path], dict[str, Flow]]:
    """Flow files by `id@version` read from their headers, and the few that had to be loaded.

    A file whose header is not plain `id: x` / `version: n` lines is loaded whole instead;
    two files claiming one key raise `FlowError` as `load_flows` does.
    """
    index: dict[str, Path] = {}
    loaded: dict[str, Flow] = {}
    problems: list[Problem] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        key = header_key(text)
        if key is None:
            try:
                flow = load_flow_text(text, str(path)).flow
            except FlowError as exc:
                problems.extend(exc.problems)
                continue
            key = flow.key
            loaded[key] = flow
        if key in index:
            problems.append(
                Problem(
                    ProblemCode.DUPLICATE_ID,
                    str(path),
                    None,
                    None,
                    f"'{key}' is also defined in {index[key]}",
                    "raise the version of the newer file, or give it another id",
                )
            )
            continue
        index[key] = path
    if problems:
        raise FlowError(problems)
    return index, loaded


def load_indexed(key: str, path: Path) -> Flow:
    """Load the file `flow_index` filed under `key`; FlowError if it says otherwise."""
    flow = load_flow_file(path).flow
    if flow.key != key:
        raise FlowError([Problem(
            ProblemCode.INVALID_FIELD, str(path), None, None,
            f"the file's header reads '{key}' but it loads as '{flow.key}'",
            "write `id:` and `version:` once each, at the top level",
        )])
    return flow


def load_flows(paths: list[Path] | None = None) -> dict[str, Flow]:
    """Load flow files (the bundled ones by default), keyed by `id@version`."""
    return load_keyed(
        paths if paths is not None else bundled_flow_paths(), lambda path: load_flow_file(path).flow
    )
