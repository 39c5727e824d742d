"""A character n-gram linear model: the net's second opinion when no rule found a target (pure).

The ConText rules (bot/danger/context.py) decide whenever they find a target: they know
negation, time and idiom. What they miss is phrasing no rule describes ("im standing on
the bridge", "tengo todo listo"). This model reads letters, not phrases: character
n-grams of the folded words, so "bridge", "pastillas" or "kil my self" count whatever the
sentence around them. Its weights are data (messages/<locale>/danger_model.json), trained
on the tuning sets by bench/train_danger_model.py, which also reports its k-fold figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: The model reads at most this many characters of a message: a chat message is short,
#: and a 100 KB paste is read by the rules (which stop at the first danger).
MAX_CHARS = 1000


#: Marks a word in the scope of a negation ("not safe" -> "safe", "~safe"): a linear model
#: cannot tell "im safe" from "im not safe" by their words alone.
NEGATED = "~"
#: Marks a cue the rules found ("#present", "#hypothetical"): the rules' sense of time and
#: doubt as a feature of its own, never split into letters.
CUE = "#"
#: The cue words that cast doubt on a message (net.py _DOUBT, as model words).
DOUBT_CUES = frozenset(
    CUE + c for c in ("negated", "hypothetical", "figurative", "behaviour", "idiom"))
#: A cue of now that is a quiet answer ("nothing right now", "nada por ahora"; net.py).
QUIET = CUE + "quiet"
#: Ends a sentence in the model's input when it scores sentences (`NgramModel.sentences`);
#: not a word (features() skips it).
SENTENCE_END = "\u00b6"
#: A sentence is scored on its own from this many words.
SENTENCE_MIN_WORDS = 3


def features(words: Iterable[str], low: int = 3, high: int = 5,
             bigrams: bool = False) -> set[str]:
    """Word unigrams and the character n-grams of each word padded with spaces.

    A negated word (NEGATED + word) or a cue (CUE + category) is a word feature of its
    own, without n-grams. With `bigrams`, pairs of neighbouring words too ("got her",
    "me corte"): the letters of "got" and "her" say little, the pair says much.
    """
    found: set[str] = set()
    before = ""
    for word in words:
        if word.startswith((NEGATED, CUE)):
            found.add("w " + word)
            continue
        if not word.isalnum():
            continue
        found.add("w " + word)
        if bigrams:
            found.add(f"b {before} {word}")
            before = word
        padded = f" {word} "
        for n in range(low, high + 1):
            for i in range(len(padded) - n + 1):
                found.add(padded[i : i + n])
    return found


@dataclass(frozen=True)
class NgramModel:
    """Logistic regression over `features`: P(danger) for a message's words."""

    weights: Mapping[str, float]
    bias: float
    threshold: float  # no rule target, no cue either way: "goodbye everyone im done"
    low: int = 3
    high: int = 5
    #: With the rules' cue of now ("tonight", "help") the words need less to be danger.
    threshold_now: float | None = None
    #: A rule target only a hypothetical or a child's-behaviour cue silenced ("si vuelve
    #: esta noche no sé qué va a pasar"): the rules are unsure, the model must be sure.
    threshold_uncertain: float | None = None
    #: Word pairs as features (`features`).
    bigrams: bool = False
    #: Above 0, P(danger) is the highest of the whole message's and of each run of this
    #: many words (half overlapping): one dangerous sentence inside a long ordinary answer
    #: ("crawled at 9 months ... my ex is at the door now") is not outvoted by the rest.
    window: int = 0
    #: What a past cue leaves out of the model's input: the "message" or its "sentence"
    #: (DangerNet.model_input); "past" is then a gate mode of its own.
    past_scope: str = "message"
    #: The rules' cue categories as features (DangerNet.model_input).
    cues: bool = False
    #: The threshold when a sentence with a past cue was left out (mode "past").
    threshold_past: float | None = None
    #: False (safety-net5): a message whose cues cast doubt (a negation, "if", "lol", an
    #: idiom) is scored whole, never by windows: a window cut out of "my mum will kill me
    #: if she finds out lol" no longer sees the context that makes it harmless.
    window_doubt: bool = True
    #: A cue of now beside a "nothing" word of the locale ("nothing right now", "nada por
    #: ahora": rules.py `quiet`) is read as `#quiet`, not as a sign of now (safety-net6).
    quiet: bool = False
    #: "" (none), "plain" (where windows are) or "always": each sentence of
    #: SENTENCE_MIN_WORDS words or more is scored too, and the highest counts.
    sentences: str = ""
    #: Below this P(danger) a rule's danger without a cue of now is dropped: the rules
    #: found a danger word in an ordinary message ("a shooting pain in her ear"; safety-
    #: net6). None: the rules' danger stands.
    threshold_rules: float | None = None
    #: Above 0, a message the model would read in its plain mode with at most this many
    #: words is asked under `threshold_short` (mode "short"; safety-net7): a three-word
    #: goodbye and a three-word answer need a threshold of their own.
    short: int = 0
    threshold_short: float | None = None
    #: Above 0, a message of at least this many words read in the plain, now or past mode
    #: is asked under `threshold_long` (mode "long"; safety-net7): a long dictated answer
    #: has more windows that may look like danger.
    long: int = 0
    threshold_long: float | None = None

    def threshold_for(self, mode: str) -> float:
        """The threshold for a gate mode ("plain", "now", "uncertain", "past", "short",
        "long"; net.py)."""
        if mode == "now" and self.threshold_now is not None:
            return self.threshold_now
        if mode == "short":
            return self.threshold_short if self.threshold_short is not None else 1.01
        if mode == "long":
            return self.threshold_long if self.threshold_long is not None else 1.01
        if mode == "past":
            return self.threshold_past if self.threshold_past is not None else 1.01
        if mode == "uncertain":
            return self.threshold_uncertain if self.threshold_uncertain is not None else 1.01
        return self.threshold

    def probability(self, words: Iterable[str]) -> float:
        words = list(words)
        total = self._logit(words)
        size = self.window
        cues = [w for w in words if w.startswith(CUE)]
        doubt = not DOUBT_CUES.isdisjoint(cues)
        if not self.window_doubt and doubt:
            size = 0
        # Cues (CUE words) belong to the whole message: every window reads them.
        plain = [w for w in words if not w.startswith(CUE) and w != SENTENCE_END]
        if size and len(plain) > size + size // 2:
            step = max(1, size // 2)
            for start in range(0, len(plain) - step, step):
                total = max(total, self._logit([*plain[start:start + size], *cues]))
        if self.sentences == "always" or (self.sentences and (size or not doubt)):
            for sentence in _split(words):
                if sentence is not None:
                    total = max(total, self._logit([*sentence, *cues]))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total))))

    def _logit(self, words: Iterable[str]) -> float:
        weights = self.weights
        return self.bias + sum(weights.get(f, 0.0)
                               for f in features(words, self.low, self.high, self.bigrams))

    def danger(self, words: Iterable[str]) -> bool:
        return self.probability(words) >= self.threshold

    def to_json(self) -> str:
        data = {
            "about": "bot/danger/model.py; trained by bench/train_danger_model.py",
            "low": self.low, "high": self.high, "bias": round(self.bias, 5),
            "threshold": self.threshold, "threshold_now": self.threshold_now,
            "threshold_uncertain": self.threshold_uncertain,
            "threshold_past": self.threshold_past,
            "bigrams": self.bigrams, "window": self.window, "past_scope": self.past_scope,
            "cues": self.cues, "window_doubt": self.window_doubt,
            "quiet": self.quiet, "sentences": self.sentences,
            "threshold_rules": self.threshold_rules,
            "short": self.short, "threshold_short": self.threshold_short,
            "long": self.long, "threshold_long": self.threshold_long,
            "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())},
        }
        return json.dumps(data, ensure_ascii=False, indent=0, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> NgramModel:
        data = json.loads(text)
        return cls(
            weights={str(k): float(v) for k, v in data["weights"].items()},
            bias=float(data["bias"]), threshold=float(data["threshold"]),
            low=int(data.get("low", 3)), high=int(data.get("high", 5)),
            threshold_now=_optional(data.get("threshold_now")),
            threshold_uncertain=_optional(data.get("threshold_uncertain")),
            threshold_past=_optional(data.get("threshold_past")),
            bigrams=bool(data.get("bigrams", False)), window=int(data.get("window", 0)),
            past_scope=str(data.get("past_scope", "message")), cues=bool(data.get("cues", False)),
            window_doubt=bool(data.get("window_doubt", True)),
            quiet=bool(data.get("quiet", False)), sentences=str(data.get("sentences", "")),
            threshold_rules=_optional(data.get("threshold_rules")),
            short=int(data.get("short", 0)), threshold_short=_optional(data.get("threshold_short")),
            long=int(data.get("long", 0)), threshold_long=_optional(data.get("threshold_long")),
        )

    def sized(self, mode: str, words: int) -> str:
        """The gate mode with the message's length: "short" or "long" where this model
        has a threshold for it (`short`, `long`), else `mode` unchanged."""
        if mode == "plain" and self.short and words <= self.short:
            return "short"
        if mode in ("plain", "now", "past") and self.long and words >= self.long:
            return "long"
        return mode


def _split(words: list[str]) -> list[list[str] | None]:
    """The sentences of a message of more than one (None for one too short to score)."""
    found: list[list[str] | None] = []
    current: list[str] = []
    for word in words:
        if word == SENTENCE_END:
            found.append(current if sum(w.isalnum() for w in current)
                         >= SENTENCE_MIN_WORDS else None)
            current = []
        elif not word.startswith(CUE):
            current.append(word)
    return found if len(found) > 1 else []


def _optional(value: object) -> float | None:
    return None if value is None else float(str(value))


#: The two models of a locale: P(danger) over the words, and P(over) for harm that is
#: told (a disclosure against danger: "past"; net.py `_over`).
DANGER_MODEL = "danger_model"
PAST_MODEL = "danger_past_model"


def model_path(locale: str, name: str = DANGER_MODEL) -> Path:
    return Path(str(resources.files("messages"))) / locale / f"{name}.json"


def load_model(locale: str, path: Path | None = None,
               name: str = DANGER_MODEL) -> NgramModel | None:
    """The locale's model, or None when it has none (the rules then decide alone)."""
    path = path or model_path(locale, name)
    if not path.exists():
        return None
    return NgramModel.from_json(path.read_text(encoding="utf-8"))
