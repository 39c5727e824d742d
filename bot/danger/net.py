"""DangerNet: is someone in danger now, is it harm that is over, or neither (pure after load)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.danger.context import EDGE, Category, Finding, Rule, Token
from bot.danger.model import (
    CUE,
    MAX_CHARS,
    NEGATED,
    PAST_MODEL,
    QUIET,
    SENTENCE_END,
    NgramModel,
    load_model,
)
from bot.danger.normalize import fold, sentences
from bot.danger.rules import LocaleRules, load_locale

#: Words after a negation cue the model reads as negated ("not safe", "no food"), as well
#: as plain: the model then weighs "im safe" and "im not safe" apart.
NEGATION_REACH = 3
#: The model needs this many words to speak: on "borrar" or "Sí, borrar" (an answer, a
#: button's words) its letters say next to nothing, and a short cry for help ("help",
#: "auxilio", "i wanna die") is the rules' (tests/integration/test_locale_parity.py).
MODEL_MIN_WORDS = 3
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
#: Cues that cast doubt on what the model reads: it then needs its "uncertain" threshold.
_DOUBT = frozenset({*_NOT_REAL, Category.IDIOM})
#: Signs of now: with one and no doubt, the model's "now" threshold.
_MODEL_NOW = frozenset({Category.PRESENT, Category.URGENT})
#: A target silenced only by these is one the rules are unsure of: the model may speak.
_UNSURE = frozenset({Category.HYPOTHETICAL, Category.BEHAVIOUR})
_UNSURE_NAMES = frozenset(str(c) for c in _UNSURE)
_NOW_NAMES = frozenset(str(c) for c in _MODEL_NOW)


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
    harm that came back is danger; a strong past cue ("back then", "en esa época") beats
    them both. Only an explicit sign that harm is over (a past cue, or a
    target written in a past-habitual form such as "pegaba") makes a disclosure; an urgent
    cue ("help", "ambulance") beats a past form ("tried to kill himself, ambulance is
    here") but not a past cue ("was in hospital when he was a baby").
    """
    if finding.has(Category.NEGATED) and finding.has(Category.HISTORICAL):
        return Kind.DISCLOSURE  # "he does not hit us anymore": harm that is over
    if any(m.category is Category.HISTORICAL and isinstance(m.rule, Rule)
           and m.rule.tense == "past" for m in finding.modifiers):
        return Kind.DISCLOSURE  # "back then i wanted to die every day": a strong past cue
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


#: A long message is read in full up to this many distinct sentences that may hold a
#: target, and then only its last READ_TAIL of them: the work per message is bounded
#: (docs/safety.md "Long input"), and a cry for help at the end of a paste is still read.
READ_HEAD = 200
READ_TAIL = 60
#: Evidence kept per message beyond what decided (an operator's audit, not a log).
MAX_EVIDENCE = 20


def _to_read(raw: list[list[str]], hot: set[str]) -> list[list[str]]:
    """The sentences worth reading: with a hot word, each once, head and tail if long."""
    seen: set[tuple[str, ...]] = set()
    found = []
    for words in raw:
        if hot.isdisjoint(words):
            continue
        key = tuple(words)
        if key in seen:  # a pasted text repeats itself: read each sentence once
            continue
        seen.add(key)
        found.append(words)
    if len(found) > READ_HEAD + READ_TAIL:
        return found[:READ_HEAD] + found[-READ_TAIL:]
    return found


class DangerNet:
    """Loads every locale's rules (and models) once; `classify` is then pure and cheap.

    The rules decide whenever they find a target and know why. Where they find none, or
    only a hypothetical or a child's-behaviour cue silenced it, the locale's n-gram model
    (bot/danger/model.py) may say danger under its mode's threshold, unless a past cue is
    in the message: it is a recall net for phrasings no rule knows. The past model then
    turns a danger without a cue of now into not-danger where it is sure the harm is over.
    """

    def __init__(
        self,
        rules: Sequence[LocaleRules] | None = None,
        models: dict[str, NgramModel] | None = None,
        pasts: dict[str, NgramModel] | None = None,
    ) -> None:
        loaded = list(rules) if rules is not None else [load_locale(x) for x in LOCALES]
        # Rules given by a caller come without models unless given; the past model comes
        # with the bundled danger model only (a caller's danger model, no past model).
        bundled = rules is None and models is None
        if models is None:
            found = {x: load_model(x) for x in LOCALES} if bundled else {}
            models = {x: m for x, m in found.items() if m is not None}
        if pasts is None:
            found = {x: load_model(x, name=PAST_MODEL) for x in LOCALES} if bundled else {}
            pasts = {x: m for x, m in found.items() if m is not None}
        self._models = models
        self._pasts = pasts
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
        verdict = self._by_rules(raw, chosen)
        if verdict.kind is Kind.DANGER:
            return _doubted(self._models, text, chosen,
                            self._over(text, chosen, verdict, "rules"))
        if verdict.kind is not Kind.NONE:
            return verdict
        unsure = _unsure(verdict.evidence)
        if verdict.evidence and not unsure:
            return verdict  # the rules found a target and know why it is not danger
        found = self._second_opinion(text, chosen, unsure)
        if not found.danger:
            return verdict
        found = self._over(text, chosen, found, "model")
        if not found.danger:
            return Verdict(Kind.NONE, evidence=(*found.evidence, *verdict.evidence))
        return Verdict(Kind.DANGER, None, None, (*found.evidence, *verdict.evidence))

    def past_probability(self, text: str, locale: str) -> float | None:
        """P(the harm told is over) from the past model, or None without one."""
        model = self._pasts.get(locale)
        if model is None:
            return None
        return model.probability(self.past_input(text, locale))

    def past_input(self, text: str, locale: str) -> list[str]:
        """What the past model reads: every word (a past cue is what it looks for)."""
        rules = self._rules[locale]
        return [t.text for sentence in sentences(fold(text[:MAX_CHARS]))
                for t in rules.tokenizer.tokens(sentence)]

    def _over(self, text: str, chosen: list[LocaleRules], verdict: Verdict,
              source: str) -> Verdict:
        """A danger verdict the past model is sure is harm that is over: not danger.

        A rule's danger without a cue of now yields at the past model's `threshold`; with
        one ("tonight", "again") at its `threshold_now` if it has one (safety-net6: "when
        she was 4 months i thought about ending it every day ... i'm a different person"),
        else never. The n-gram model's danger (it knows no time) yields at
        `threshold_uncertain`. A past that is sure wins.
        """
        now = source == "rules" and _has_now(verdict)
        for rules in chosen:
            model = self._pasts.get(rules.locale)
            if model is None or (now and model.threshold_now is None):
                continue  # a past model without a threshold for a cue of now keeps it
            p = self.past_probability(text, rules.locale)
            if p is None:
                continue
            mode = "uncertain" if source == "model" else "now" if now else "plain"
            if p >= model.threshold_for(mode):
                past = Evidence(Kind.DISCLOSURE, "past model", f"p={p:.2f}", (), None,
                                rules.locale)
                if source == "model":
                    return Verdict(Kind.NONE, evidence=(past,))
                return Verdict(Kind.DISCLOSURE, verdict.concern, verdict.who,
                               (*verdict.evidence, past))
        return verdict

    def route(self, text: str, locale: str,
              model: NgramModel | None = None) -> tuple[Verdict, str | None, list[str]]:
        """The rules' verdict, and the gate mode and words the model would be asked with.

        The mode is None when the model is not asked (the rules decided, or a veto cue);
        bench/train_danger_model.py chooses each mode's threshold from these. `model`
        (default: the locale's) says what the model reads (its input options).
        """
        chosen = [self._rules[locale]]
        verdict = self._by_rules(sentences(fold(text)), chosen)
        unsure = _unsure(verdict.evidence)
        if verdict.kind is not Kind.NONE or (verdict.evidence and not unsure):
            return verdict, None, []
        model = model if model is not None else self._models.get(locale)
        mode, words = self.model_gate(text, locale, unsure, model)
        return verdict, mode, words

    def _by_rules(self, raw: list[list[str]], chosen: list[LocaleRules]) -> Verdict:
        """ConText over the sentences: the worst finding's verdict (NONE without evidence)."""
        unique = {word for words in raw for word in words}
        evidence: list[Evidence] = []
        for rules in chosen:
            # Only sentences with a word a target starts with are read token by token:
            # a long message costs a set operation per sentence for the rest.
            hot = {word for word in unique if self._hot(rules, word)}
            for words in _to_read(raw, hot):
                tokens = rules.tokenizer.tokens(words)
                if rules.context.uses_edges:
                    tokens = [_EDGE, *tokens, _EDGE]
                for finding in rules.context.analyse(tokens):
                    kind = judge(finding)
                    found = Evidence(
                        kind=kind,
                        concern=str(finding.target.concern),
                        phrase=finding.target.words,
                        modifiers=finding.modifier_words(),
                        who=None if kind is Kind.NONE else finding.who,
                        locale=rules.locale,
                    )
                    if len(evidence) < MAX_EVIDENCE or found.kind is not Kind.NONE:
                        evidence.append(found)
                    if found.kind is Kind.DANGER:  # the verdict cannot get worse
                        return Verdict(found.kind, found.concern, found.who, tuple(evidence))
        if not evidence:
            return NONE
        top = max(evidence, key=lambda e: _SEVERITY[e.kind])
        if top.kind is Kind.NONE:
            return Verdict(Kind.NONE, evidence=tuple(evidence))
        return Verdict(top.kind, top.concern, top.who, tuple(evidence))

    def second_opinion(self, text: str, locale: str) -> Verdict:
        """The model's verdict behind its gate, as if no rule had found a target (audit)."""
        return self._second_opinion(text, [self._rules[locale]], False)

    def model_gate(
        self, text: str, locale: str, unsure: bool = False, model: NgramModel | None = None
    ) -> tuple[str | None, list[str]]:
        """The gate mode the model is asked under (None: nothing to read), and its words.

        "now": the rules see a cue of now and nothing that casts doubt; "plain": no cue
        either way; "uncertain": a negation, hypothetical, figurative, behaviour or idiom
        cue in what it reads, or a rule target that only a hypothetical or behaviour cue
        silenced; "past": a sentence with a past cue was left out (`past_scope`
        "sentence") and nothing else casts doubt. Each mode has its own threshold
        (bench/train_danger_model.py). A model with `short` / `long` sizes (safety-net7)
        asks a short plain message under "short", a long plain, now or past one under
        "long" (NgramModel.sized).
        """
        words, cues = self.model_input(text, locale, model)
        said = self.words_said(text, locale, words, cues)
        if said < MODEL_MIN_WORDS:  # "~safe" is not a word
            return None, words
        if unsure or not _DOUBT.isdisjoint(cues):
            return "uncertain", words
        if Category.HISTORICAL in cues:
            mode = "past"
        else:
            mode = "plain" if _MODEL_NOW.isdisjoint(cues) else "now"
        return (mode if model is None else model.sized(mode, said)), words

    def words_said(self, text: str, locale: str, words: list[str], cues: set[Category]) -> int:
        """How many words the model's input (`words`, `cues`: model_input) stands for: a
        cue of now counts as words ("me corté otra vez" is four), though it is not read."""
        return sum(w.isalnum() for w in words) + _now_words(self._rules[locale], text, cues)

    def model_input(self, text: str, locale: str,
                    model: NgramModel | None = None) -> tuple[list[str], set[Category]]:
        """What the model reads, and the cue categories of what it reads.

        A sign of the past ("used to", "at 5", "in 2019") leaves out the whole message, or
        with the model's `past_scope` "sentence" only its own sentence: harm that is over
        is the rules' to judge, and a past cue must win. The words of cues of now ("right
        now", "tonight", "help") are left out too: a model that counted them would say
        danger for "nothing right now". The model judges what is said; the rules judge
        when. A model with `cues` reads the categories of the cues found as words of their
        own (model.CUE), after the message's words.
        """
        return _model_words(self._rules[locale], text, model)

    def _second_opinion(self, text: str, chosen: list[LocaleRules], unsure: bool) -> Verdict:
        """The model's word where the rules found no target, or were unsure (class doc)."""
        for rules in chosen:
            model = self._models.get(rules.locale)
            if model is None:
                continue
            mode, words = self.model_gate(text, rules.locale, unsure, model)
            if mode is None:
                continue
            p = model.probability(words)
            if p < model.threshold_for(mode):
                continue
            found = Evidence(Kind.DANGER, "model", f"p={p:.2f} {mode}", (), None, rules.locale)
            return Verdict(Kind.DANGER, None, None, (found,))
        return NONE


def _doubted(models: dict[str, NgramModel], text: str, chosen: list[LocaleRules],
             verdict: Verdict) -> Verdict:
    """A rule's danger without a cue of now that the model finds ordinary: none.

    Only with the model's `threshold_rules` (at most 0.10, chosen out of fold to lose at
    most 0.5% of the danger), three words read and no cue of now anywhere in the message:
    "she's got a shooting pain in her ear".
    """
    if not verdict.danger or _has_now(verdict):
        return verdict
    for rules in chosen:
        model = models.get(rules.locale)
        if model is None or model.threshold_rules is None:
            continue
        words, cues = _model_words(rules, text, model)
        if sum(w.isalnum() for w in words) < MODEL_MIN_WORDS or not _MODEL_NOW.isdisjoint(cues):
            continue  # too few words, or a cue of now anywhere ("en peligro ahora")
        p = model.probability(words)
        if p < model.threshold_rules:
            doubt = Evidence(Kind.NONE, "model", f"p={p:.2f} doubts the rules", (), None,
                             rules.locale)
            return Verdict(Kind.NONE, evidence=(doubt, *verdict.evidence))
    return verdict


def _has_now(verdict: Verdict) -> bool:
    """A danger finding of the rules has a cue of now ("tonight", "again", "help")."""
    return any(c in _NOW_NAMES for e in verdict.evidence if e.kind is Kind.DANGER
               for c, _ in e.modifiers)


def _unsure(evidence: Sequence[Evidence]) -> bool:
    """Every target was silenced only by a hypothetical or a child's-behaviour cue."""
    return bool(evidence) and all(
        e.kind is Kind.NONE and any(c in _UNSURE_NAMES for c, _ in e.modifiers)
        and all(c in _UNSURE_NAMES or c in _NOW_NAMES for c, _ in e.modifiers)
        for e in evidence
    )


def _model_words(rules: LocaleRules, text: str,
                 model: NgramModel | None) -> tuple[list[str], set[Category]]:
    """DangerNet.model_input for one locale's rules."""
    words: list[str] = []
    categories: set[Category] = set()
    by_sentence = model is not None and model.past_scope == "sentence"
    quiet_on = model is not None and model.quiet and bool(rules.quiet)
    by_sentences = model is not None and bool(model.sentences)
    quiet = False
    for sentence in sentences(fold(text[:MAX_CHARS])):
        tokens = rules.tokenizer.tokens(sentence)
        spans = rules.context.cues(tokens)
        if any(c is Category.HISTORICAL for _, _, c in spans):
            if not by_sentence:
                return [], {Category.HISTORICAL}
            categories.add(Category.HISTORICAL)
            continue
        if quiet_on:
            calm = [x for x in spans if _quiet(rules, tokens, x)]
            quiet = quiet or bool(calm)
            spans = [x for x in spans if x not in calm]
            now = {i for s, e, _ in calm for i in range(s, e)}
        else:
            now = set()
        categories.update(c for _, _, c in spans)
        now |= {i for s, e, c in spans if c in _MODEL_NOW for i in range(s, e)}
        negated = {i for _, e, c in spans if c is Category.NEGATED
                   for i in range(e, min(len(tokens), e + NEGATION_REACH))}
        for i, token in enumerate(tokens):
            if i in now:
                continue
            words.append(token.text)
            if i in negated and token.text.isalnum():
                words.append(NEGATED + token.text)
        if by_sentences:
            words.append(SENTENCE_END)
    if model is not None and model.cues:
        words.extend(CUE + str(c) for c in sorted(categories) if c is not Category.PSEUDO)
        if quiet:
            words.append(QUIET)
    return words, categories


#: How near a "nothing" word must be to a cue of now to make it a quiet answer.
QUIET_REACH = 2


def _quiet(rules: LocaleRules, tokens: Sequence[Token],
           span: tuple[int, int, Category]) -> bool:
    """A cue of now beside a quiet word: "nothing right now", "not at the moment",
    "por ahora nada": an answer that there is nothing to tell, not a sign of now."""
    start, end, category = span
    if category is not Category.PRESENT:
        return False
    near = [*tokens[max(0, start - QUIET_REACH):start], *tokens[end:end + QUIET_REACH]]
    return any(t.text in rules.quiet or t.canon in rules.quiet for t in near)


def _now_words(rules: LocaleRules, text: str, cues: set[Category]) -> int:
    """How many words of the message are cues of now (left out of the model's input)."""
    if _MODEL_NOW.isdisjoint(cues):
        return 0
    found = 0
    for sentence in sentences(fold(text[:MAX_CHARS])):
        tokens = rules.tokenizer.tokens(sentence)
        found += sum(e - s for s, e, c in rules.context.cues(tokens) if c in _MODEL_NOW)
    return found
