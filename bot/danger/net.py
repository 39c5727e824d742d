"""DangerNet: is someone in danger now, is it harm that is over, or neither (pure after load)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.danger.context import EDGE, Category, Finding, Rule, Token
from bot.danger.normalize import fold, sentences
from bot.danger.rules import LocaleRules, load_locale

#: Locales with a danger.yaml (checked in both when a message's language is unknown).
LOCALES = ("en", "es")


class Kind(StrEnum):
    """The three verdicts (issue 14)."""

    DANGER = "danger"  # someone is in danger now, or intends harm now
    DISCLOSURE = "disclosure"  # harm that is over: the history the interview asks about
    NONE = "none"


_SEVERITY = {Kind.NONE: 0, Kind.DISCLOSURE: 1, Kind.DANGER: 2}
#: Categories that mean "this did not / does not really happen": no verdict at all.
_NOT_REAL = (Category.NEGATED, Category.HYPOTHETICAL, Category.FIGURATIVE, Category.BEHAVIOUR)


@dataclass(frozen=True)
class Evidence:
    """Why: the target phrase (folded words), its concern, and the modifiers that decided."""

    kind: Kind
    concern: str
    phrase: str
    modifiers: tuple[tuple[str, str], ...]  # (category, folded words)
    who: str | None
    locale: str


@dataclass(frozen=True)
class Verdict:
    """The net's answer about one message; `concern`/`who` are the deciding finding's."""

    kind: Kind
    concern: str | None = None
    who: str | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def danger(self) -> bool:
        return self.kind is Kind.DANGER


NONE = Verdict(Kind.NONE)
_EDGE = Token(EDGE, EDGE)


def judge(finding: Finding) -> Kind:
    """ConText categories to a verdict; when in doubt about time, danger.

    Present cues ("right now", "again", "last night") beat past ones ("used to"), so an old
    harm that came back is danger. Only an explicit sign that harm is over (a past cue, or a
    target written in a past-habitual form such as "pegaba") makes a disclosure; an urgent
    cue ("help", "ambulance") beats a past form ("tried to kill himself, ambulance is
    here") but not a past cue ("was in hospital when he was a baby").
    """
    if finding.has(Category.NEGATED) and finding.has(Category.HISTORICAL):
        return Kind.DISCLOSURE  # "he does not hit us anymore": harm that is over
    if any(finding.has(c) for c in _NOT_REAL):
        return Kind.NONE
    if finding.has(Category.PRESENT):
        return Kind.DANGER
    if finding.has(Category.HISTORICAL):
        # "help", "hospital" are not time words: "was in hospital when he was a baby".
        return Kind.DISCLOSURE
    past = isinstance(finding.target.rule, Rule) and finding.target.rule.tense == "past"
    if past and not finding.has(Category.URGENT):
        return Kind.DISCLOSURE
    return Kind.DANGER


class DangerNet:
    """Loads every locale's rules once; `classify` is then pure and cheap."""

    def __init__(self, rules: Sequence[LocaleRules] | None = None) -> None:
        loaded = list(rules) if rules is not None else [load_locale(x) for x in LOCALES]
        self._rules = {r.locale: r for r in loaded}
        self._starts = {r.locale: r.context.starts() for r in loaded}
        self._hot_cache: dict[tuple[str, str], bool] = {}

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._rules)

    def _hot(self, rules: LocaleRules, word: str) -> bool:
        """Whether a typed word may start a target (after contractions and spelling)."""
        key = (rules.locale, word)
        found = self._hot_cache.get(key)
        if found is None:
            if len(self._hot_cache) > 100_000:
                self._hot_cache.clear()
            starts = self._starts[rules.locale]
            found = any(
                t.text in starts or t.canon in starts for t in rules.tokenizer.tokens([word])
            )
            self._hot_cache[key] = found
        return found

    def _guess(self, raw: list[list[str]]) -> list[LocaleRules]:
        """The language with the most of its common words, or every one on a tie.

        Checking both on every message would let one language's targets fire without the
        other's modifiers ("suicidal" is near "suicida", and Spanish rules know no "not").
        """
        words = [w for sentence in raw[:20] for w in sentence]
        scores = {
            locale: sum(w in rules.language for w in words)
            for locale, rules in self._rules.items()
        }
        best = max(scores.values(), default=0)
        winners = [self._rules[x] for x, score in scores.items() if score == best]
        return winners if len(winners) == 1 else list(self._rules.values())

    def classify(self, text: str, locale: str | None = None) -> Verdict:
        """The verdict for one message; an unknown or missing locale checks every language."""
        raw = sentences(fold(text))
        chosen = (
            [self._rules[locale]] if locale in self._rules else self._guess(raw)
        )
        unique = {word for words in raw for word in words}
        evidence: list[Evidence] = []
        for rules in chosen:
            # Only sentences with a word a target starts with are read token by token:
            # a long message costs a set operation per sentence for the rest.
            hot = {word for word in unique if self._hot(rules, word)}
            seen: set[tuple[str, ...]] = set()
            for words in raw:
                if hot.isdisjoint(words):
                    continue
                key = tuple(words)
                if key in seen:  # a pasted text repeats itself: read each sentence once
                    continue
                seen.add(key)
                tokens = rules.tokenizer.tokens(words)
                if rules.context.uses_edges:
                    tokens = [_EDGE, *tokens, _EDGE]
                for finding in rules.context.analyse(tokens):
                    kind = judge(finding)
                    found = Evidence(
                        kind=kind,
                        concern=str(finding.target.concern),
                        phrase=finding.target.words,
                        modifiers=tuple(
                            (str(m.category), m.words) for m in finding.modifiers
                        ),
                        who=None if kind is Kind.NONE else finding.who,
                        locale=rules.locale,
                    )
                    evidence.append(found)
                    if found.kind is Kind.DANGER:  # the verdict cannot get worse
                        return Verdict(found.kind, found.concern, found.who, tuple(evidence))
        if not evidence:
            return NONE
        top = max(evidence, key=lambda e: _SEVERITY[e.kind])
        if top.kind is Kind.NONE:
            return Verdict(Kind.NONE, evidence=tuple(evidence))
        return Verdict(top.kind, top.concern, top.who, tuple(evidence))
