"""Read a locale's danger rules (messages/<locale>/danger.yaml) into a ConText and a tokenizer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.danger.context import Category, ConText, Direction, Rule, Terminator
from bot.danger.normalize import Speller, Tokenizer

# The C loader when PyYAML has it: start-up is part of the goal (docs/safety.md).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _duplicates(text: str) -> list[str]:
    """Keys written twice in one mapping (YAML keeps only the last: a silent loss of rules)."""
    seen: dict[tuple[int, str], int] = {}
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("#", "-")) or ":" not in stripped:
            continue
        key = stripped.split(":", 1)[0]
        if " " in key:
            continue
        indent = len(line) - len(stripped)
        for other in [k for k in seen if k[0] > indent]:
            del seen[other]  # a new parent: its children start afresh
        if (indent, key) in seen:
            found.append(f"line {number}: {key!r} again (first at line {seen[indent, key]})")
        seen[indent, key] = number
    return found
#: Concerns a target may name (docs/safety.md).
CONCERNS = ("self_harm", "violence", "sexual_abuse", "weapon", "child_danger", "neglect")
#: Who a message may say is affected.
WHO = ("child", "caregiver", "other")


class RulesError(ValueError):
    """A danger.yaml with a mistake: says which file, where, and what is wrong."""


@dataclass(frozen=True)
class LocaleRules:
    """One language's ConText rules and the tokenizer that reads its typing habits."""

    locale: str
    context: ConText
    tokenizer: Tokenizer
    language: frozenset[str] = frozenset()  # common words that tell this language apart
    #: Words that make a cue of now beside them a quiet answer ("nothing right now").
    quiet: frozenset[str] = frozenset()


def rules_path(locale: str) -> Path:
    """messages/<locale>/danger.yaml inside the installed package."""
    return Path(str(resources.files("messages"))) / locale / "danger.yaml"


def load_locale(locale: str, path: Path | None = None) -> LocaleRules:
    """Load and check one locale's rules."""
    path = path or rules_path(locale)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot read: {exc}") from exc
    if twice := _duplicates(text):
        raise RulesError(f"{path}: {'; '.join(twice)}: merge them into one")
    return build(locale, data, str(path))


_MACRO = re.compile(r"([$+])([a-z_]+)(?:\.([a-z]+))?")


class Macros:
    """`$class` (a named word set) and `+verb` (its inflected forms) inside a pattern.

    A rule names a family once ("+pegar a? $det? $kid") instead of listing forms and
    determiners by hand: a rule written for "pega" also reads "pegó", "pegue", "pegando",
    "pegarle". Forms come from the locale's `inflection` endings (data, not code):
    `+verb` is every form but the past-habitual ones, `+verb.past` only those (the
    Spanish imperfect "pegaba": harm that is over), `+verb.all` both.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.classes = {
            str(k): [str(w) for w in v] for k, v in (data.get("classes") or {}).items()
        }
        self.inflection = data.get("inflection") or {}
        self.irregular = {
            str(k): [str(w) for w in v] for k, v in (data.get("irregular") or {}).items()
        }

    def forms(self, verb: str, which: str) -> list[str]:
        if verb in self.irregular and which != "past":
            return self.irregular[verb]
        for ending, table in self.inflection.items():
            if verb.endswith(str(ending)):
                stem = verb[: len(verb) - len(str(ending))] if table.get("cut", True) else verb
                keys = {"now": ["now"], "past": ["past"], "all": ["now", "past"]}[which]
                found = [verb]
                for key in keys:
                    for end in table.get(key) or []:
                        found.append(_spell(stem, str(end), table.get("spelling") or {}))
                return list(dict.fromkeys(found))
        raise ValueError(f"no inflection for verb {verb!r}")

    def expand(self, pattern: str) -> str:
        def one(match: re.Match[str]) -> str:
            sign, name, which = match.groups()
            if sign == "$":
                if name not in self.classes:
                    raise ValueError(f"unknown class ${name} in {pattern!r}")
                return "|".join(self.classes[name])
            return "|".join(self.forms(name, which or "now"))

        if "$" not in pattern and "+" not in pattern:
            return pattern
        out = []
        for element in pattern.split():
            optional = element.endswith("?") and len(element) > 1
            body = element.removesuffix("?") if optional else element
            words = "|".join(_MACRO.sub(one, part) for part in body.split("|"))
            out.append(words + ("?" if optional else ""))
        return " ".join(out)


def _spell(stem: str, ending: str, spelling: dict[str, Any]) -> str:
    """Stem + ending with the locale's spelling rules ("pegar" + "e" -> "pegue")."""
    word = stem + ending
    for pattern, replacement in spelling.items():
        word = re.sub(str(pattern), str(replacement), word)
    return word


def build(locale: str, data: dict[str, Any], where: str = "<rules>") -> LocaleRules:
    """Rules from parsed YAML (tests write them inline)."""
    try:
        macros = Macros(data)
        data = _expanded(data, macros)
        targets = _targets(data.get("targets") or {}, where)
        modifiers = _modifiers(data.get("modifiers") or {}, where)
        terminators = [
            Terminator(str(p), None if name == "all" else frozenset(
                Category(c) for c in str(name).split()))
            for name, patterns in (data.get("terminators") or {}).items()
            for p in patterns
        ]
        idioms = [
            Rule(str(p), category=Category.IDIOM) for p in data.get("idioms") or []
        ]
        who = [
            Rule(str(p), who=_one_of(name, WHO, where, "who"))
            for name, patterns in (data.get("who") or {}).items()
            for p in patterns
        ]
        context = ConText(
            targets, modifiers, terminators, idioms, who,
            numbers=frozenset(str(n) for n in data.get("numbers") or []),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise RulesError(f"{where}: {exc}") from exc
    fuzzy = data.get("fuzzy") or {}
    speller = Speller(
        words=context.words(),
        sound_words=context.target_words(),
        fuzzy_words=context.target_words(fuzzy_only=True),
        sounds=[(str(a), str(b)) for a, b in data.get("sounds") or []],
        min_length=int(fuzzy.get("min_length", 5)),
        never=frozenset(str(w) for w in fuzzy.get("never") or []),
    )
    contractions = {str(k): str(v) for k, v in (data.get("contractions") or {}).items()}
    language = frozenset(str(w) for w in data.get("language") or [])
    joins = {str(k): str(v) for k, v in (data.get("joins") or {}).items()}
    quiet = frozenset(str(w) for w in data.get("quiet") or [])
    return LocaleRules(locale, context, Tokenizer(speller, contractions, joins), language,
                       quiet)


def _expanded(data: dict[str, Any], macros: Macros) -> dict[str, Any]:
    """The rules with every `$class` and `+verb` written out."""
    def patterns(entries: list[Any]) -> list[Any]:
        out: list[Any] = []
        for entry in entries or []:
            if isinstance(entry, str):
                out.append(macros.expand(entry))
            else:
                out.append({**entry, "pattern": macros.expand(str(entry["pattern"]))})
        return out

    found = dict(data)
    found["targets"] = {k: patterns(v) for k, v in (data.get("targets") or {}).items()}
    found["idioms"] = patterns(data.get("idioms") or [])
    found["who"] = {k: patterns(v) for k, v in (data.get("who") or {}).items()}
    found["modifiers"] = {
        name: {**spec, **{d.value: patterns(spec.get(d.value)) for d in Direction
                          if spec.get(d.value)}}
        for name, spec in (data.get("modifiers") or {}).items()
    }
    return found


def _one_of(value: object, allowed: tuple[str, ...], where: str, what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _targets(data: dict[str, Any], where: str) -> list[Rule]:
    rules = []
    for concern, entries in data.items():
        _one_of(concern, CONCERNS, where, "concern")
        for entry in entries:
            spec = {"pattern": entry} if isinstance(entry, str) else dict(entry)
            tense = str(spec.get("tense", "any"))
            _one_of(tense, ("any", "past"), where, f"tense of {spec.get('pattern')!r}")
            who = spec.get("who")
            rules.append(Rule(
                str(spec["pattern"]), concern=concern, tense=tense,
                who=_one_of(who, WHO, where, "who") if who else None,
                fuzzy=bool(spec.get("fuzzy", False)),
            ))
    return rules


def _modifiers(data: dict[str, Any], where: str) -> list[Rule]:
    rules = []
    for name, spec in data.items():
        category = Category(name)
        window = spec.get("window")
        applies = spec.get("applies_to")
        for direction in Direction:
            for entry in spec.get(direction.value) or []:
                one = {"pattern": entry} if isinstance(entry, str) else dict(entry)
                own = one.get("applies_to", applies)
                rules.append(Rule(
                    str(one["pattern"]), category=category, direction=direction,
                    window=one.get("window", window),
                    applies_to=frozenset(own) if own else None,
                    # A strong sign of the past ("back then", "en esa época") wins even
                    # over a sign of now in its scope ("every day"): net.py judge.
                    tense="past" if one.get("strong") else "any",
                ))
    return rules
