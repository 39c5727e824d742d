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


def features(words: Iterable[str], low: int = 3, high: int = 5) -> set[str]:
    """Word unigrams and the character n-grams of each word padded with spaces."""
    found: set[str] = set()
    for word in words:
        if not word.isalnum():
            continue
        found.add("w " + word)
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
    threshold: float
    low: int = 3
    high: int = 5

    def probability(self, words: Iterable[str]) -> float:
        weights = self.weights
        total = self.bias + sum(weights.get(f, 0.0) for f in features(words, self.low, self.high))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total))))

    def danger(self, words: Iterable[str]) -> bool:
        return self.probability(words) >= self.threshold

    def to_json(self) -> str:
        data = {
            "about": "bot/danger/model.py; trained by bench/train_danger_model.py",
            "low": self.low, "high": self.high, "bias": round(self.bias, 5),
            "threshold": self.threshold,
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
        )


def model_path(locale: str) -> Path:
    return Path(str(resources.files("messages"))) / locale / "danger_model.json"


def load_model(locale: str, path: Path | None = None) -> NgramModel | None:
    """The locale's model, or None when it has none (the rules then decide alone)."""
    path = path or model_path(locale)
    if not path.exists():
        return None
    return NgramModel.from_json(path.read_text(encoding="utf-8"))
