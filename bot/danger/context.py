"""ConText over token patterns: targets, modifiers with scopes, terminators (pure, no I/O).

The algorithm is ConText (Harkema et al. 2009; Chapman's NegEx before it), the method
clinical NLP uses to tell "no chest pain" and "history of chest pain" from "chest pain":

1. find target phrases (the things we look for) in a sentence;
2. find modifier phrases (negation, past, hypothetical, ...), each with a direction
   (forward, backward, both) and a window of tokens;
3. a modifier's scope runs from the phrase in its direction until the window ends, the
   sentence ends, or a terminator of its category ("but", a comma for some) is met;
4. a target inside a modifier's scope takes that modifier's category.

Nothing here knows a language: rules come in as data (bot/danger/rules.py reads them).
A phrase is a space-separated pattern: `word`, `a|b` (one of), `word?` (may be absent),
`*` (any one token), `<n>` (a number). Tokens are compared after folding and, for target
words, after spelling tolerance (bot/danger/normalize.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class Category(StrEnum):
    """What a modifier says about the targets in its scope."""

    NEGATED = "negated"  # "never", "not": it does not happen
    HISTORICAL = "historical"  # "used to", "when he was a baby": it is over
    HYPOTHETICAL = "hypothetical"  # "what if", "if he ever": it has not happened
    FIGURATIVE = "figurative"  # "lol", "in a movie": not meant literally
    PRESENT = "present"  # "right now", "again", "last night": it is happening or fresh
    URGENT = "urgent"  # "help", "hospital": a sign of now, but weaker than a time word
    BEHAVIOUR = "behaviour"  # "at daycare", "my toddler": a child's behaviour, not abuse
    PSEUDO = "pseudo"  # "no doubt", "can not stop": looks like a modifier, is not one
    IDIOM = "idiom"  # "the homework is killing me": swallows the targets inside it


class Direction(StrEnum):
    """Which way a modifier's scope runs from its phrase."""

    FORWARD = "forward"
    BACKWARD = "backward"
    BOTH = "both"


NUMBER = "<n>"
ANY = "*"
#: The edge of a sentence: "<s> help <s>" is a sentence that says only "help".
EDGE = "<s>"


@dataclass(frozen=True)
class Element:
    """One position of a pattern: a set of words, any token, or a number."""

    words: frozenset[str]
    optional: bool = False


def parse_pattern(source: str) -> tuple[Element, ...]:
    """Parse a phrase ("tried to kill myself|herself", "when he|she was?") into elements."""
    elements = []
    for raw in source.split():
        optional = raw.endswith("?") and len(raw) > 1
        word = raw.removesuffix("?") if optional else raw
        word = word.strip("()")
        alternatives = frozenset(w for w in word.split("|") if w)
        if not alternatives:
            raise ValueError(f"empty element in pattern {source!r}")
        elements.append(Element(alternatives, optional))
    if not elements or all(e.optional for e in elements):
        raise ValueError(f"pattern {source!r} has no required word")
    if ANY in elements[0].words:
        raise ValueError(f"pattern {source!r} starts with {ANY}: start with a word")
    return tuple(elements)


def expand(elements: Sequence[Element]) -> list[tuple[Element, ...]]:
    """Every variant of a pattern with its optional elements present or absent."""
    choices = [((e,), ()) if e.optional else ((e,),) for e in elements]
    variants = []
    for combo in itertools.product(*choices):
        variant = tuple(Element(e.words) for part in combo for e in part)
        if variant and ANY not in variant[0].words:
            variants.append(variant)
    return variants


class Token(NamedTuple):
    """A word of a sentence: as written (folded) and as recognised (spelling tolerated)."""

    text: str
    canon: str


@dataclass(frozen=True)
class Rule:
    """A phrase and what it means: a target (concern) or a modifier (category)."""

    pattern: str
    concern: str | None = None  # targets
    category: Category | None = None  # modifiers
    direction: Direction = Direction.FORWARD
    window: int | None = None  # tokens; None: to the sentence's end
    applies_to: frozenset[str] | None = None  # concerns a modifier may modify (None: all)
    who: str | None = None  # experiencer cues, and a target's default
    tense: str = "any"  # targets: "past" forms (imperfect, "tried to") mean it is over;
    # historical modifiers: "past" is a strong sign ("back then") that beats a sign of now
    fuzzy: bool = False  # targets: tolerate a typo in long words (opt-in: real words collide)


@dataclass(frozen=True)
class Terminator:
    """A phrase that ends the scope of the listed categories (None: of every category)."""

    pattern: str
    categories: frozenset[Category] | None = None


class Match(NamedTuple):
    """Where a rule matched in a sentence: tokens [start, end)."""

    rule: Rule | Terminator
    start: int
    end: int
    words: str

    @property
    def concern(self) -> str | None:
        return self.rule.concern if isinstance(self.rule, Rule) else None

    @property
    def category(self) -> Category | None:
        return self.rule.category if isinstance(self.rule, Rule) else None

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Finding:
    """One target in one sentence, with the modifiers whose scope covers it."""

    target: Match
    modifiers: tuple[Match, ...]
    cues: _Cues = field(repr=False, compare=False)

    def has(self, category: Category) -> bool:
        return any(m.category is category for m in self.modifiers)

    def modifier_words(self) -> tuple[tuple[str, str], ...]:
        """(category, words) of each covering modifier (written out only when asked)."""
        tokens = self.cues.tokens
        return tuple((str(m.category), _words(tokens, m.start, m.end)) for m in self.modifiers)

    @property
    def who(self) -> str | None:
        """Who is affected: a cue inside the target, else the nearest, else the target's."""
        return _who(self.target, self.cues.matches())


class _Cues:
    """Experiencer cues of one sentence, found only if a finding's `who` is asked for."""

    def __init__(self, matcher: Matcher, tokens: Sequence[Token]) -> None:
        self._matcher, self._tokens = matcher, tokens
        self.tokens = tokens
        self._found: list[Match] | None = None

    def matches(self) -> list[Match]:
        if self._found is None:
            self._found = [
                Match(r, s, e, "") for s, e, r in non_overlapping(self._matcher.find(self._tokens))
            ]
        return self._found


#: An element with more words than this (a word family, a verb's forms) becomes one
#: set edge instead of one trie edge per word: "+pegar a $det $kid" is then 4 nodes deep,
#: not 40 forms x 16 determiners x 40 nouns of trie.
SET_EDGE = 6


class _Node:
    """A node of the phrase trie: next words, and the rules whose phrase ends here."""

    __slots__ = ("any", "edges", "ends", "number", "sets")

    def __init__(self) -> None:
        self.edges: dict[str, _Node] = {}
        self.sets: list[tuple[frozenset[str], _Node]] = []
        self.ends: list[Rule | Terminator] = []
        self.any: _Node | None = None  # edges["*"] and edges["<n>"], kept apart so the
        self.number: _Node | None = None  # walk needs no lookup for them


class Matcher:
    """Finds rule phrases in a token list with a trie of their words.

    From each token the walk follows the token's words (as typed and as recognised), a
    wildcard and a number edge, and stops as soon as no phrase continues: the cost per
    token is a few dict lookups, whatever the number of rules.
    """

    def __init__(self, rules: Iterable[Rule | Terminator], numbers: frozenset[str]) -> None:
        self.numbers = numbers
        self._root = _Node()
        self.vocabulary: set[str] = set()
        for rule in rules:
            for variant in expand(parse_pattern(rule.pattern)):
                nodes = [self._root]
                for element in variant:
                    following: dict[int, _Node] = {}
                    plain = element.words - {ANY, NUMBER}
                    as_set = len(plain) > SET_EDGE and nodes[0] is not self._root
                    if as_set:
                        shared = _Node()  # every node of this step leads to one set edge
                        for node in nodes:
                            node.sets.append((frozenset(plain), shared))
                        following[id(shared)] = shared
                    for node in nodes:
                        for word in element.words:
                            if as_set and word in plain:
                                continue
                            child = node.edges.get(word)
                            if child is None:
                                child = node.edges[word] = _Node()
                                if word == ANY:
                                    node.any = child
                                elif word == NUMBER:
                                    node.number = child
                            following[id(child)] = child
                    nodes = list(following.values())
                    self.vocabulary.update(element.words - {ANY, NUMBER})
                for node in nodes:
                    if rule not in node.ends:
                        node.ends.append(rule)

    @property
    def first_words(self) -> frozenset[str]:
        """Words a phrase can start with (none starts with a wildcard)."""
        return frozenset(self._root.edges)

    def after(self, word: str) -> frozenset[str]:
        """Words that may follow `word` at the start of a phrase."""
        node = self._root.edges.get(word)
        if node is None:
            return frozenset()
        return frozenset(node.edges).union(*(words for words, _ in node.sets))

    def find(self, tokens: Sequence[Token]) -> list[tuple[int, int, Rule | Terminator]]:
        """Every match (start, end, rule); overlaps are left to the caller."""
        found: list[tuple[int, int, Rule | Terminator]] = []
        n = len(tokens)
        numbers = self.numbers
        first = self._root.edges
        number = self._root.number
        for i, (text, canon) in enumerate(tokens):
            # Most tokens start nothing: one or two lookups, and on to the next.
            start = first.get(text)
            other = first.get(canon) if canon != text else None
            counted = number if number is not None and (
                text.isdigit() or text in numbers) else None
            if start is None and other is None and counted is None:
                continue
            frontier = []
            for node in (start, other, counted):
                if node is not None and node not in frontier:
                    frontier.append(node)
            j = i + 1
            while True:
                for node in frontier:
                    for rule in node.ends:
                        found.append((i, j, rule))
                if j >= n:
                    break
                text, canon = tokens[j]
                following: list[_Node] = []
                for node in frontier:
                    for words, target in node.sets:
                        if (text in words or canon in words) and target not in following:
                            following.append(target)
                    edges = node.edges
                    if not edges:
                        continue
                    child = edges.get(text)
                    if child is not None:
                        following.append(child)
                    if canon != text:
                        child = edges.get(canon)
                        if child is not None and child not in following:
                            following.append(child)
                    if node.any is not None:
                        following.append(node.any)
                    if node.number is not None and (text.isdigit() or text in numbers):
                        following.append(node.number)
                if not following:
                    break
                frontier = following
                j += 1
        return found


def _words(tokens: Sequence[Token], start: int, end: int) -> str:
    return " ".join(t.text for t in tokens[start:end])


Found = tuple[int, int, "Rule | Terminator"]


def non_overlapping(found: list[Found]) -> list[Found]:
    """Keep the longest matches, earliest first among equals; drop what overlaps them."""
    if len(found) < 2:
        return found
    kept: list[Found] = []
    for m in sorted(found, key=lambda m: (m[0] - m[1], m[0])):
        if not any(m[0] < k[1] and k[0] < m[1] for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m[0])


def _matches(tokens: Sequence[Token], found: list[Found]) -> list[Match]:
    return [Match(r, s, e, _words(tokens, s, e)) for s, e, r in found]


def _bare(found: list[Found]) -> list[Match]:
    return [Match(r, s, e, "") for s, e, r in found]


@dataclass
class ConText:
    """Targets, modifiers, terminators and experiencer cues for one language."""

    targets: list[Rule]
    modifiers: list[Rule]
    terminators: list[Terminator] = field(default_factory=list)
    idioms: list[Rule] = field(default_factory=list)
    who: list[Rule] = field(default_factory=list)
    numbers: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._targets = Matcher(self.targets, self.numbers)
        self._modifiers = Matcher(
            [*self.modifiers, *self.terminators, *self.idioms], self.numbers
        )
        self._who = Matcher(self.who, self.numbers)
        # A target that is itself a negation ("no estoy a salvo", "not safe") is not
        # negated again by a negation before it ("ni un dia mas, no amanezco").
        self._negations = frozenset(
            word
            for rule in self.modifiers if rule.category is Category.NEGATED
            for element in parse_pattern(rule.pattern)[:1]
            for word in element.words
        )

    def starts(self) -> frozenset[str]:
        """Typed words a target can start with: a sentence without one has no finding."""
        first = self._targets.first_words
        after_edge = self._targets.after(EDGE)
        return (first - {EDGE}) | after_edge

    @property
    def uses_edges(self) -> bool:
        """Whether some target is anchored at a sentence's edge (then tokens get them)."""
        return EDGE in self._targets.first_words

    def target_words(self, fuzzy_only: bool = False) -> set[str]:
        """Words of target phrases (only of those that tolerate a typo, if asked)."""
        return {
            word
            for rule in self.targets if rule.fuzzy or not fuzzy_only
            for element in parse_pattern(rule.pattern)
            for word in element.words - {ANY, NUMBER}
        }

    def words(self) -> set[str]:
        """Every word any rule mentions (their misspellings are folded onto them)."""
        return (
            self._targets.vocabulary | self._modifiers.vocabulary | self._who.vocabulary
        )

    def cues(self, tokens: Sequence[Token]) -> list[tuple[int, int, Category]]:
        """The modifiers (and idioms) a sentence holds, whatever their scope: spans.

        A modifier that applies to some concerns only ("ya no" is a past cue for
        violence, not for "ya no voy a estar") is no cue here: the model that reads these
        judges no concern.
        """
        return [
            (s, e, r.category) for s, e, r in non_overlapping(self._modifiers.find(tokens))
            if isinstance(r, Rule) and r.category is not None and r.applies_to is None
        ]

    def analyse(self, tokens: Sequence[Token]) -> list[Finding]:
        """The targets of one sentence and the modifiers that cover each."""
        targets = _matches(tokens, non_overlapping(self._targets.find(tokens)))
        if not targets:
            return []
        found = self._modifiers.find(tokens)
        idioms = [
            (s, e) for s, e, r in found if isinstance(r, Rule) and r.category is Category.IDIOM
        ]
        # An idiom ("the homework is killing me") swallows the targets it overlaps, unless
        # the target is the longer phrase ("kicking the door in" is not "kicking the door").
        targets = [
            t for t in targets
            if not any(t.overlaps(s, e) and e - s >= t.end - t.start for s, e in idioms)
        ]
        if not targets:
            return []
        # A modifier word inside a target belongs to the target ("no" in "no estoy a salvo").
        # (Their words are written out only for evidence: Finding.modifier_words.)
        others = _bare(non_overlapping([
            (s, e, r) for s, e, r in found
            if not (isinstance(r, Rule) and r.category is Category.IDIOM)
            and not any(t.start < e and s < t.end for t in targets)
        ]))
        stops = [m for m in others if isinstance(m.rule, Terminator)]
        modifiers = [
            m for m in others
            if isinstance(m.rule, Rule) and m.rule.category is not Category.PSEUDO
        ]
        cues = _Cues(self._who, tokens)
        findings = []
        for target in targets:
            negative = tokens[target.start].text in self._negations
            covering = tuple(
                m for m in modifiers
                if _applies(m, target) and _in_scope(m, target, stops, len(tokens))
                and not (negative and m.category is Category.NEGATED)
            )
            findings.append(Finding(target, covering, cues))
        return findings


def _applies(modifier: Match, target: Match) -> bool:
    rule = modifier.rule
    return isinstance(rule, Rule) and (
        rule.applies_to is None or target.concern in rule.applies_to
    )


def _in_scope(modifier: Match, target: Match, stops: list[Match], n: int) -> bool:
    """Whether `target` lies in `modifier`'s scope (window, sentence, terminators)."""
    rule = modifier.rule
    assert isinstance(rule, Rule) and rule.category is not None
    window = rule.window if rule.window is not None else n

    def stopped(start: int, end: int) -> bool:
        return any(
            start <= s.start < end
            and isinstance(s.rule, Terminator)
            and (s.rule.categories is None or rule.category in s.rule.categories)
            for s in stops
        )

    if target.start >= modifier.end and rule.direction is not Direction.BACKWARD:
        return target.start - modifier.end < window and not stopped(modifier.end, target.start)
    if target.end <= modifier.start and rule.direction is not Direction.FORWARD:
        return modifier.start - target.end < window and not stopped(target.end, modifier.start)
    return False


def _who(target: Match, cues: list[Match]) -> str | None:
    """Who is affected: a cue inside the target, else the nearest cue, else the target's."""
    best: tuple[int, str] | None = None
    for cue in cues:
        distance = (
            0 if cue.overlaps(target.start, target.end)
            else min(abs(cue.start - target.end), abs(target.start - cue.end)) + 1
        )
        who = cue.rule.who if isinstance(cue.rule, Rule) else None
        if who and (best is None or distance < best[0]):
            best = (distance, who)
    if best:
        return best[1]
    return target.rule.who if isinstance(target.rule, Rule) else None

