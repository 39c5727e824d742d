"""Train the danger net's n-gram models on the tuning sets; report how they generalise.

    python -m bench.train_danger_model            # LOCO and k-fold report, write the models
    python -m bench.train_danger_model --report   # LOCO and k-fold report only
    python -m bench.train_danger_model --compare  # LOCO of each candidate design (DESIGNS)
    python -m bench.train_danger_model --fit-only --locale en  # write the models, no report

Reads only tests/data/safety/tune*_{en,es}.tsv (never an aside or held-out file). Labels:
danger against everything else (disclosure, none).

Two measures. LEAVE ONE CORPUS OUT (LOCO, what chooses the design): for each writer's
corpus (WRITERS), the models are trained and their thresholds chosen on all the other
corpora, then the net (rules + models) is measured on the corpus left out. Messages of
one corpus share a writer's habits, so random k-fold, where each fold has siblings in
training, over-estimated blind recall by about 0.08 in safety-net3; LOCO is the honest
prediction of a new writer's text. The rules were written against all of the tuning
data, so even LOCO flatters them on the older corpora (least on tune4). K-FOLD (random,
stratified): the figure earlier rounds reported, kept for comparison.

Thresholds are always chosen out of fold on the training data only: the most danger
caught within FALSE_ALARM_BUDGET of false alarms and no past disclosure called danger,
over each message routed with a model that did not see it (Design.inner: held out by
corpus, or by random thirds). Then it trains on all tuning data and writes
messages/<locale>/danger_model.json and danger_past_model.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import os
import random
import shelve
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.danger import DangerNet, Kind
from bot.danger.context import Category
from bot.danger.model import PAST_MODEL, NgramModel, features, model_path
from bot.danger.net import MODEL_MIN_WORDS
from bot.danger.rules import LocaleRules, load_locale

#: Cues of now anywhere in a message: the model never doubts a rule's danger then.
NOW_CUES = frozenset({Category.PRESENT, Category.URGENT})

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "safety"
K = 5
SEED = 14
EPOCHS = 4
RATE = 0.05
#: Strong enough that a short ordinary answer ("es un niño feliz") is not called danger
#: by the bias alone: with 1e-4 the model was sure of anything (p = 1.0 out of fold).
L2 = 0.03
#: Weights smaller than this are dropped from the written model (size, not accuracy).
PRUNE = 0.02
#: The model's threshold keeps this share of the training folds' danger (out-of-fold).
TARGET_RECALL = 0.80

Sample = list[tuple[Kind, str]]
#: The corpora LOCO leaves out one at a time, each by its own writer (tests/data/safety/
#: README.md); the tune_extra* files, written for the model, are always trained on.
WRITERS = ("tune", "tune2", "tune3", "tune4", "tune5", "tune6", "tune6a", "tune6b", "tune6c",
           "tune6d", "tune6e", "tune6f", "tune6g", "tune6h", "tune7a", "tune7b", "tune7c",
           "tune7d", "tune7e", "tune7f", "tune7g", "tune7h")
#: Files written for the model after studying a corpus's misses (the concepts, in the
#: author's own words) leave with that corpus in LOCO (since safety-net5): training on
#: messages written for a corpus's errors and then measuring on that corpus flattered it.
COMPANIONS = {"tune3": ("tune_extra",), "tune4": ("tune_extra4",), "tune5": ("tune_extra5",)}


@dataclass(frozen=True)
class Design:
    """The choices LOCO decides between (docs/safety.md "Choosing by LOCO")."""

    bigrams: bool = False
    window: int = 0
    past_scope: str = "message"
    cues: bool = False
    #: How the thresholds' out-of-fold messages are held out: "random" thirds or "corpus".
    inner: str = "random"
    #: Out of fold on the training data, the net may call at most this share of the
    #: non-danger messages danger (the issue's goal is 0.10 on blind text).
    budget: float = 0.08
    #: Choose the past model's veto of the danger model first, and the danger model's
    #: thresholds knowing which past disclosures that veto removes.
    veto_first: bool = False
    #: Windows also where the message's cues cast doubt (False: score it whole; safety-net5).
    window_doubt: bool = True
    #: A cue of now next to a "nothing" word ("nothing right now", "nada por ahora") is a
    #: quiet answer, not a sign of now (safety-net6; NgramModel.quiet).
    quiet: bool = False
    #: Each sentence of 3+ words scored too, next to the windows (NgramModel.sentences):
    #: "" no, "plain" where windows are, "always".
    sentences: str = ""
    #: Training: L2, passes over the data, and how much the danger class weighs against
    #: the rest (1.0: each class as much as the other).
    l2: float = 0.03
    epochs: int = 4
    danger_weight: float = 1.0
    #: The budget counts the rules' false alarms the net keeps: a rule's danger without a
    #: cue of now that the past model turns into a disclosure is no false alarm (safety-
    #: net6; before, every rule alarm counted, and on the new writers' text they ate the
    #: whole budget: the model was silenced).
    net_alarms: bool = False
    #: The past model may also turn a rule's danger WITH a cue of now into a disclosure,
    #: at its own threshold (past `threshold_now`), chosen like the others (PAST_LOSS).
    veto_now: bool = False
    #: The danger model may drop a rule's danger without a cue of now that it finds
    #: ordinary (NgramModel.threshold_rules), chosen to lose at most PAST_LOSS of danger.
    doubt_rules: bool = False
    #: The share of the danger out of fold the past model's vetoes (of the model's verdicts
    #: and of a rule's danger without a cue of now) may turn into not-danger: higher is a
    #: stronger veto (safety-net7; PAST_LOSS before).
    veto_loss: float = 0.005
    #: Modes by length (NgramModel.sized; 0: none): a plain message of at most `short`
    #: words, and a plain, now or past one of at least `long` words, each get a threshold
    #: of their own (safety-net7). Chosen out of fold like the others.
    short: int = 0
    long: int = 0
    #: "ratio": the thresholds' search also tries lowering the best mode per false alarm
    #: first, and keeps what catches more (choose_thresholds).
    search: str = ""
    #: The share of the out-of-fold past disclosures the model may call danger in the
    #: thresholds' search (0: none, as before safety-net7).
    past_allow: float = 0.0
    #: The lowest P(over) at which the past model may veto the model's danger (0.5 before
    #: safety-net7: the veto then needs the past model to find the past more likely).
    veto_floor: float = 0.5
    #: The loss allowed to the past model's veto of a rule's danger without a cue of now
    #: (None: `veto_loss`). 0.02 let it turn "terrified for my life" (P(over) 0.55) into a
    #: disclosure: the reliability suite refused it.
    rules_loss: float | None = None
    #: The past model's veto of a rule's danger without a cue of now never under this
    #: P(over) (safety-net7; net6's was 0.60 where it lost 0.5% of the danger out of fold).
    rules_least: float = 0.0

    def template(self, model: NgramModel | None = None) -> NgramModel:
        """A model (empty, or `model`) carrying this design's input options."""
        base = model or NgramModel({}, 0.0, 0.5)
        return replace(base, bigrams=self.bigrams, window=self.window,
                       past_scope=self.past_scope, cues=self.cues,
                       window_doubt=self.window_doubt, quiet=self.quiet,
                       sentences=self.sentences)


#: safety-net3's model, and the candidates compared by LOCO in safety-net4.
BEFORE = Design()
_ALL = Design(bigrams=True, cues=True, window=12, past_scope="sentence", inner="corpus")
DESIGNS = {
    "before (net3)": BEFORE,
    "corpus-held thresholds": Design(inner="corpus"),
    "+ word pairs": Design(bigrams=True, inner="corpus"),
    "+ cue features": Design(bigrams=True, cues=True, inner="corpus"),
    "+ windows of 12": Design(bigrams=True, cues=True, window=12, inner="corpus"),
    "+ past by sentence": _ALL,
    "all, random-held thresholds": replace(_ALL, inner="random"),
    "all, budget 0.10": replace(_ALL, budget=0.10),
    "all, budget 0.12": replace(_ALL, budget=0.12),
    "all but windows, budget 0.10": replace(_ALL, window=0, budget=0.10),
    "all, veto first": replace(_ALL, veto_first=True),
    "all, veto first, random-held": replace(_ALL, veto_first=True, inner="random"),
    "all but windows, veto first, random-held": replace(_ALL, veto_first=True,
                                                        inner="random", window=0),
    "chosen, budget 0.06": replace(_ALL, veto_first=True, budget=0.06),
    "chosen, budget 0.10": replace(_ALL, veto_first=True, budget=0.10),
    "all, veto first, random-held, budget 0.10": replace(_ALL, veto_first=True,
                                                         inner="random", budget=0.10),
    "all, veto first, random-held, budget 0.12": replace(_ALL, veto_first=True,
                                                         inner="random", budget=0.12),
    # safety-net5: extra files leave with their corpus in LOCO (COMPANIONS), tune5 added.
    "net4, budget 0.05": replace(_ALL, veto_first=True, budget=0.05),
    "net4, budget 0.04": replace(_ALL, veto_first=True, budget=0.04),
    "no windows under doubt, budget 0.05": replace(_ALL, veto_first=True, budget=0.05,
                                                   window_doubt=False),
    "no windows under doubt, budget 0.06": replace(_ALL, veto_first=True, budget=0.06,
                                                   window_doubt=False),
    "no windows under doubt, budget 0.07": replace(_ALL, veto_first=True, budget=0.07,
                                                   window_doubt=False),
    "no windows under doubt, budget 0.04": replace(_ALL, veto_first=True, budget=0.04,
                                                   window_doubt=False),
    # safety-net6: ten writers (heldout5 as tune6, four new writers tune6a-d).
    "net5": replace(_ALL, veto_first=True, budget=0.05, window_doubt=False),
}
_NET5 = DESIGNS["net5"]
DESIGNS.update({
    "net alarms": replace(_NET5, net_alarms=True),
    "net alarms, budget 0.06": replace(_NET5, net_alarms=True, budget=0.06),
    "net alarms, budget 0.07": replace(_NET5, net_alarms=True, budget=0.07),
    "net alarms, budget 0.08": replace(_NET5, net_alarms=True, budget=0.08),
    "net5, budget 0.08": replace(_NET5, budget=0.08),
    "+ quiet": replace(_NET5, net_alarms=True, quiet=True),
    "+ veto now": replace(_NET5, net_alarms=True, veto_now=True),
    "B": replace(_NET5, net_alarms=True, veto_now=True, quiet=True),
    "B, doubt rules": replace(_NET5, net_alarms=True, veto_now=True, quiet=True,
                              doubt_rules=True),
    "B, doubt rules, budget 0.08": replace(_NET5, net_alarms=True, veto_now=True, quiet=True,
                                           doubt_rules=True, budget=0.08),
    "B, doubt rules, budget 0.10": replace(_NET5, net_alarms=True, veto_now=True, quiet=True,
                                           doubt_rules=True, budget=0.10),
    "B, doubt rules, budget 0.06": replace(_NET5, net_alarms=True, veto_now=True, quiet=True,
                                           doubt_rules=True, budget=0.06),
    "B, doubt rules, sentences plain": replace(_NET5, net_alarms=True, veto_now=True,
                                               quiet=True, doubt_rules=True, sentences="plain"),
    "B, sentences plain": replace(_NET5, net_alarms=True, veto_now=True, quiet=True,
                                  sentences="plain"),
    "B, budget 0.06": replace(_NET5, net_alarms=True, veto_now=True, quiet=True, budget=0.06),
    "B, budget 0.07": replace(_NET5, net_alarms=True, veto_now=True, quiet=True, budget=0.07),
    "B, l2 0.01": replace(_NET5, net_alarms=True, veto_now=True, quiet=True, l2=0.01),
    "B, l2 0.1": replace(_NET5, net_alarms=True, veto_now=True, quiet=True, l2=0.1),
    "B, danger x1.5": replace(_NET5, net_alarms=True, veto_now=True, quiet=True,
                              danger_weight=1.5),
    "+ veto now, budget 0.07": replace(_NET5, net_alarms=True, veto_now=True, budget=0.07),
    "+ quiet, sentences plain": replace(_NET5, net_alarms=True, quiet=True, sentences="plain"),
    "+ quiet, sentences always": replace(_NET5, net_alarms=True, quiet=True,
                                         sentences="always"),
})
# safety-net7: twenty-two writers (tune7a-h added); the budget between 0.05 and 0.10 with
# a stronger past veto; training options chosen by LOCO.
_NET6 = DESIGNS["B, doubt rules"]
DESIGNS.update({"net6": _NET6})
for _budget in (0.05, 0.06, 0.07, 0.08, 0.09, 0.10):
    for _loss in (0.005, 0.01, 0.02):
        for _short, _long in ((0, 0), (5, 0), (0, 40), (5, 40), (4, 60)):
            _sizes = f", short {_short}, long {_long}" if _short or _long else ""
            DESIGNS[f"net6, budget {_budget}, veto {_loss}{_sizes}"] = replace(
                _NET6, budget=_budget, veto_loss=_loss, short=_short, long=_long)
for _name in list(DESIGNS):
    if _name.startswith("net6, budget"):
        DESIGNS[_name + ", ratio"] = replace(DESIGNS[_name], search="ratio")
for _name in list(DESIGNS):
    if _name.startswith("net6, budget") or _name == "net6":
        DESIGNS[_name.replace("net6", "net6 in 6", 1)] = replace(DESIGNS[_name],
                                                                 inner="corpus6")
for _name in list(DESIGNS):
    if _name.startswith("net6 in 6, budget"):
        for _tag, _opts in (("l2 0.01", {"l2": 0.01}), ("danger x1.5", {"danger_weight": 1.5}),
                            ("epochs 8", {"epochs": 8})):
            DESIGNS[_name.replace("net6 in 6", f"net6 in 6 {_tag}", 1)] = replace(
                DESIGNS[_name], **_opts)
_SIZED = replace(_NET6, inner="corpus6", short=5, long=40)
for _budget in (0.08, 0.1):
    for _loss in (0.02, 0.03, 0.05):
        for _allow in (0.0, 0.003, 0.006):
            for _search in ("", "ratio"):
                DESIGNS[f"net7, budget {_budget}, veto {_loss}, allow {_allow}, "
                        f"search {_search or 'greedy'}"] = replace(
                    _SIZED, budget=_budget, veto_loss=_loss, past_allow=_allow,
                    search=_search)
for _allow in (0.001, 0.002, 0.003):
    for _floor in (0.5, 0.4, 0.3):
        for _search in ("greedy", "ratio"):
            DESIGNS[f"net7, allow {_allow}, floor {_floor}, {_search}"] = replace(
                _SIZED, budget=0.08, veto_loss=0.02, past_allow=_allow, veto_floor=_floor,
                search="" if _search == "greedy" else _search)
_NET7 = DESIGNS["net7, allow 0.003, floor 0.4, ratio"]
DESIGNS["net7, l2 0.01"] = replace(_NET7, l2=0.01)
for _name in ("net7, allow 0.003, floor 0.4, ratio", "net7, allow 0.002, floor 0.5, ratio",
              "net7, allow 0.003, floor 0.3, ratio", "net7, allow 0.002, floor 0.4, ratio"):
    for _rules in (0.005, 0.01, 0.015):
        DESIGNS[f"{_name}, rules {_rules}"] = replace(DESIGNS[_name], rules_loss=_rules)
    for _least in (0.56, 0.6):
        DESIGNS[f"{_name}, rules from {_least}"] = replace(DESIGNS[_name], rules_least=_least)
# Training options, screened on the new writers only (--writers tune7a ... tune7h) with
# thresholds held out by random thirds (3 models a fold, not 22), then confirmed by LOCO.
_SCREEN = replace(_NET6, inner="random", budget=0.08, veto_loss=0.01)
DESIGNS.update({
    "screen net6": _SCREEN,
    "screen l2 0.01": replace(_SCREEN, l2=0.01),
    "screen l2 0.1": replace(_SCREEN, l2=0.1),
    "screen danger x1.5": replace(_SCREEN, danger_weight=1.5),
    "screen danger x0.7": replace(_SCREEN, danger_weight=0.7),
    "screen epochs 8": replace(_SCREEN, epochs=8),
    "screen epochs 2": replace(_SCREEN, epochs=2),
    "screen sentences plain": replace(_SCREEN, sentences="plain"),
})
#: Chosen by LOCO (docs/safety.md "Choosing by LOCO"). safety-net4: word pairs, cue
#: features, windows, past by sentence, veto first, thresholds held out by corpus.
#: safety-net5 (five writers, extra files leaving with their corpus): the false-alarm
#: budget 0.08 -> 0.05 and no windows where the message casts doubt; pooled LOCO 0.908 en
#: / 0.938 es recall at 0.037 / 0.038 false alarms (net4's design on the same data: 0.935
#: / 0.953 at 0.062 / 0.058), because LOCO read blind false alarms ~0.10 low on heldout4.
#: safety-net7 (22 writers, thresholds held out by six groups of corpora): short and long
#: messages under thresholds of their own, the thresholds' search by danger per false
#: alarm, the model allowed 0.2% of the out-of-fold past disclosures, its past veto from
#: 0.4 losing 2% of the danger, the past veto of a rule's danger never under 0.56, budget
#: 0.08: LOCO pooled en 0.803 -> 0.890 recall at 0.051 -> 0.076 false alarms, 13 -> 13
#: past called danger; es 0.816 -> 0.895 at 0.045 -> 0.068, 10 -> 10 (docs/safety.md).
CHOSEN = DESIGNS["net7, allow 0.002, floor 0.4, ratio, rules from 0.56"]


def corpora(locale: str) -> dict[str, Sample]:
    """The tuning files of `locale` by corpus name ("tune3" for tune3_en.tsv), read once per
    process: a --compare of many designs measures them all on the same data."""
    key = (DATA, locale)
    if key not in _READ:
        _READ[key] = _corpora(locale)
    return _READ[key]


_READ: dict[tuple[Path, str], dict[str, Sample]] = {}


def _corpora(locale: str) -> dict[str, Sample]:
    found: dict[str, Sample] = {}
    for path in sorted(DATA.glob(f"tune*_{locale}.tsv")):
        rows = found.setdefault(path.name.rsplit("_", 1)[0], [])
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append((Kind(row["verdict"].strip()), row["message"]))
    return found


def tuning(locale: str) -> Sample:
    return [x for sample in corpora(locale).values() for x in sample]


def grouped(locale: str) -> tuple[Sample, list[str]]:
    """All tuning messages and, for each, its corpus."""
    sample: Sample = []
    groups: list[str] = []
    for name, rows in corpora(locale).items():
        sample.extend(rows)
        groups.extend([name] * len(rows))
    return sample, groups


_RULES: list[DangerNet] = []


def rules_net() -> DangerNet:
    """The rules without a model (built once)."""
    if not _RULES:
        _RULES.append(DangerNet(models={}))
    return _RULES[0]


def all_words(message: str, locale: str) -> list[str]:
    """What the past model reads: every word."""
    return rules_net().past_input(message, locale)


def words(message: str, locale: str, design: Design = BEFORE) -> list[str]:
    """What the model reads (DangerNet.model_input: cues of now left out)."""
    return rules_net().model_input(message, locale, design.template())[0]


#: What a message becomes for training depends on the design's input options only:
#: computed once per message, not once per fold (LOCO trains ~300 models a language).
_FEATURES: dict[tuple[object, ...], frozenset[str]] = {}
_ROUTES: dict[tuple[object, ...], tuple[object, ...]] = {}


def _input_key(design: Design) -> tuple[object, ...]:
    return (design.past_scope, design.cues, design.quiet, design.sentences)


def feature_set(message: str, locale: str, design: Design, past: bool) -> frozenset[str]:
    """The features a model is trained on for `message` (cached)."""
    key = (message, locale, past) + (() if past else (*_input_key(design), design.bigrams))
    found = _FEATURES.get(key)
    if found is None:
        found = frozenset(features(all_words(message, locale)) if past else
                          features(words(message, locale, design), bigrams=design.bigrams))
        _FEATURES[key] = found
    return found


def train(sample: Sample, locale: str, threshold: float = 0.5, past: bool = False,
          design: Design = BEFORE) -> NgramModel:
    """Logistic regression by AdaGrad over feature strings (deterministic).

    The danger model: danger against the rest, over DangerNet.model_input. The past
    model (`past`): disclosure against danger only, over every word of the message (a
    past cue is what it must learn).
    """
    if past:
        rows = [(feature_set(m, locale, design, True), 1.0 if k is Kind.DISCLOSURE else 0.0)
                for k, m in sample if k is not Kind.NONE]
    else:
        rows = [(feature_set(m, locale, design, False), 1.0 if k is Kind.DANGER else 0.0)
                for k, m in sample]
    # Each class weighs as much as the other: the tuning data holds more danger than
    # the messages a net sees, and the bias must not lean to danger for that
    # (`danger_weight` tilts it; the past model keeps the balance).
    danger = sum(label for _, label in rows) or 1.0
    tilt = 1.0 if past else design.danger_weight
    weight = {1.0: tilt * len(rows) / (2 * danger),
              0.0: len(rows) / (2 * max(1.0, len(rows) - danger))}
    l2, epochs = (L2, EPOCHS) if past else (design.l2, design.epochs)
    # AdaGrad one message at a time, as before, over arrays: each message's features
    # are indices (a feature appears once per message, so fancy indexing is exact).
    index: dict[str, int] = {}
    ids = [np.fromiter((index.setdefault(f, len(index)) for f in sorted(feats)), dtype=np.intp)
           for feats, _ in rows]
    weights = np.zeros(len(index))
    squares = np.zeros(len(index))
    bias, bias_sq = 0.0, 0.0
    order = list(range(len(rows)))
    rng = random.Random(SEED)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            at, label = ids[i], rows[i][1]
            w = weights[at]
            z = bias + float(w.sum())
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - label) * weight[label]
            bias_sq += g * g
            bias -= RATE * g / math.sqrt(bias_sq + 1e-8)
            grad = g + l2 * w
            sq = squares[at] + grad * grad
            squares[at] = sq
            weights[at] = w - RATE * grad / np.sqrt(sq + 1e-8)
    names = list(index)
    kept = {names[j]: float(weights[j]) for j in np.flatnonzero(np.abs(weights) >= PRUNE)}
    found = NgramModel(kept, bias, threshold)
    return found if past else design.template(found)


def folds(sample: Sample, k: int) -> list[list[int]]:
    """Stratified by verdict, shuffled with a fixed seed."""
    rng = random.Random(SEED)
    out: list[list[int]] = [[] for _ in range(k)]
    for kind in Kind:
        idx = [i for i, (v, _) in enumerate(sample) if v is kind]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            out[j % k].append(i)
    return out


#: Out of fold on the training folds, the net (rules + model) may call at most this share
#: of non-danger messages danger: under the issue's budget (0.10), since new text costs more.
FALSE_ALARM_BUDGET = 0.08  # net4's; CHOSEN uses its own (Design.budget)
#: The past model may turn at most this share of the danger messages (out of fold) into
#: not-danger, in each of its two uses.
PAST_LOSS = 0.005
#: Thresholds the search may choose from: recall first, but the model must at least find
#: danger more likely than not (a first version allowed 0.4; see docs/safety.md).
GRID = [round(0.50 + 0.02 * i, 2) for i in range(25)]
#: A mode's threshold may also be "off" (1.01): one mode with a past disclosure above every
#: threshold must not turn the others off with it.
CHOICES = [*GRID, 1.01]
MODES = ("plain", "now", "uncertain", "past", "short", "long")


@dataclass(frozen=True)
class Routed:
    """One message out of fold: its truth, the rules' verdict, the gate mode, P(danger)."""

    truth: Kind
    rules: Kind
    mode: str | None
    p: float
    now: bool  # the rules' danger finding has a cue of now
    past: float  # P(over) from the past model
    #: P(danger) of a rule's danger without a cue of now, 3+ words read (else 1.0).
    doubt: float = 1.0
    #: The words the model's input stands for (DangerNet.words_said): the "short" and
    #: "long" modes are chosen from it (Design.short, Design.long).
    size: int = 0


def parts_of(sample: Sample, groups: Sequence[str] | None, design: Design) -> list[list[int]]:
    """The out-of-fold parts for choosing thresholds: one per corpus, or random thirds."""
    if design.inner == "corpus" and groups is not None and len(set(groups)) > 1:
        names = sorted(set(groups))
        return [[i for i, g in enumerate(groups) if g == name] for name in names]
    if design.inner.startswith("corpus") and groups is not None and len(set(groups)) > 1:
        # "corpus6": the corpora in six parts (every sixth name in order), each corpus
        # whole: out of fold by writer still, with 7 models a fit instead of 26 (safety-
        # net7: 22 writers and a shared machine made LOCO with one part a corpus ~1 hour).
        k = int(design.inner.removeprefix("corpus"))
        names = sorted(set(groups))
        parts = [set(names[j::k]) for j in range(k)]
        return [[i for i, g in enumerate(groups) if g in part] for part in parts if part]
    return folds(sample, 3)


def routed(sample: Sample, locale: str, design: Design = BEFORE,
           groups: Sequence[str] | None = None) -> list[Routed]:
    """Each message of `sample` with models trained on the other parts (parts_of)."""
    memo = _memo_key(locale, design, groups)
    if memo is not None and _recall(_ROUTED, memo) is not None:
        return _ROUTED[memo]
    out: list[Routed] = []
    template = design.template()
    for part in parts_of(sample, groups, design):
        chosen = set(part)
        rest = [x for i, x in enumerate(sample) if i not in chosen]
        model = train(rest, locale, design=design)
        past = train(rest, locale, past=True)
        for i in part:
            message = sample[i][1]
            key = (message, locale, *_input_key(design))
            if key not in _ROUTES:
                verdict, mode, said = rules_net().route(message, locale, template)
                now = any(c in ("present", "urgent") for e in verdict.evidence
                          if e.kind is Kind.DANGER for c, _ in e.modifiers)
                read, cues = rules_net().model_input(message, locale, template)
                doubtful = (verdict.kind is Kind.DANGER and not now and not cues & NOW_CUES
                            and sum(w.isalnum() for w in read) >= MODEL_MIN_WORDS)
                _ROUTES[key] = (verdict.kind, mode, said, now, all_words(message, locale),
                                read if doubtful else None,
                                rules_net().words_said(message, locale, read, cues))
            kind, mode, said, now, every, read, size = _ROUTES[key]
            p = model.probability(said) if mode else 0.0  # type: ignore[arg-type]
            doubt = 1.0 if read is None else model.probability(read)  # type: ignore[arg-type]
            out.append(Routed(sample[i][0], kind, mode, p, now,  # type: ignore[arg-type]
                              past.probability(every), doubt, size))  # type: ignore[arg-type]
    if memo is not None:
        _remember(_ROUTED, memo, out)
    return out


#: Thresholds only (the budget, the vetoes, the doubt): what `choose_*` decides from the
#: routed messages. Designs that differ only in these share their trained models, so a
#: --compare of budgets trains once (safety-net7).
_CHOICE_ONLY = ("budget", "veto_first", "net_alarms", "veto_now", "doubt_rules",
                "veto_loss", "short", "long", "search", "past_allow", "veto_floor",
                "rules_loss", "rules_least")
_ROUTED: dict[tuple[object, ...], list[Routed]] = {}
_FITTED: dict[tuple[object, ...], tuple[NgramModel, NgramModel]] = {}


def _memo_key(locale: str, design: Design,
              groups: Sequence[str] | None) -> tuple[object, ...] | None:
    """Which models a fit trains: the locale, the corpora in the sample and the design's
    training and input options (None without corpora: random folds are not memoised)."""
    if groups is None:
        return None
    trained = replace(design, **{f: getattr(BEFORE, f) for f in _CHOICE_ONLY})
    names = tuple(sorted(set(groups)))
    return (locale, names, _digest(locale, names), trained)


def _digest(locale: str, names: tuple[str, ...]) -> str:
    """What the corpora `names` hold, so that a remembered fit is never used on other data."""
    found = corpora(locale)
    text = "\n".join(f"{n}\t{k}\t{m}" for n in names for k, m in found[n])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


#: DANGER_LOCO_CACHE=<path>: the routed messages and trained models of each LOCO fold are
#: kept in a shelve there too, so a later --compare of designs that differ only in their
#: thresholds needs no training at all (hours of CPU on a shared machine).
CACHE_ENV = "DANGER_LOCO_CACHE"


def _recall(memory: dict[Any, Any], key: tuple[object, ...]) -> object:
    """The value for `key` (in memory, else in the shelve of CACHE_ENV), or None."""
    if key in memory:
        return memory[key]
    path = os.environ.get(CACHE_ENV)
    if not path:
        return None
    with shelve.open(f"{path}.{key[0]}") as shelf:  # one file a locale: en, es in parallel
        found = shelf.get(_shelf_key(memory, key))
    if found is not None:
        memory[key] = found
    return found


def _remember(memory: dict[Any, Any], key: tuple[object, ...], value: object) -> None:
    memory[key] = value
    path = os.environ.get(CACHE_ENV)
    if path:
        with shelve.open(f"{path}.{key[0]}") as shelf:
            shelf[_shelf_key(memory, key)] = value


#: Design fields added after the first shelves of safety-net7 were written.
_LATER = ("past_allow", "veto_floor", "rules_loss", "rules_least")


def _shelf_key(memory: dict[Any, Any], key: tuple[object, ...]) -> str:
    """The key as text; a field added to Design after the shelve was begun is left out at
    its default, so that it does not orphan what earlier runs remembered."""
    text = repr(key)
    for name in _LATER:
        text = text.replace(f", {name}={getattr(BEFORE, name)!r}", "")
    return f"{id(memory) == id(_ROUTED)}|{text}"


def _above(items: list[Routed], mode: str, veto: float) -> dict[float, tuple[int, int, int]]:
    """Per threshold of GRID: (danger, non-danger, disclosures) the model would add.

    A message the past model drops (P(over) >= `veto`) adds nothing, either way.
    """
    mine = [r for r in items if r.mode == mode and r.rules is not Kind.DANGER
            and r.past < veto]
    return {t: (sum(r.truth is Kind.DANGER for r in mine if r.p >= t),
                sum(r.truth is not Kind.DANGER for r in mine if r.p >= t),
                sum(r.truth is Kind.DISCLOSURE for r in mine if r.p >= t)) for t in CHOICES}


def choose_veto(items: list[Routed], loss: float = 0.005, floor: float = 0.5) -> float:
    """The past model's threshold for the danger model's verdicts: the lowest from `floor`
    that drops at most `loss` (PAST_LOSS) of the danger out of fold among the messages
    the model is asked."""
    total = max(1, sum(r.truth is Kind.DANGER for r in items))
    asked = [r for r in items if r.rules is not Kind.DANGER and r.mode]
    steps = round((0.98 - floor) / 0.02) + 1
    for t in (round(floor + 0.02 * i, 2) for i in range(steps)):
        if sum(r.truth is Kind.DANGER and r.past >= t for r in asked) <= loss * total:
            return t
    return 1.01


def choose_doubt(items: list[Routed]) -> float:
    """The highest P(danger) under which a rule's danger without a cue of now may be
    dropped losing at most PAST_LOSS of the danger out of fold (0.0: never)."""
    total = max(1, sum(r.truth is Kind.DANGER for r in items))
    for t in DOUBT_GRID:
        if sum(r.truth is Kind.DANGER and r.rules is Kind.DANGER and r.doubt < t
               for r in items) <= PAST_LOSS * total:
            return t
    return 0.0


#: Thresholds for the model's doubt of a rule's danger, highest first. At most 0.10: out
#: of fold 0.20-0.25 lost no more danger, yet it dropped "it's unsafe at home" (p 0.17).
DOUBT_GRID = [0.1, 0.08, 0.06, 0.04, 0.02, 0.01]


def choose_thresholds(items: list[Routed], budget: float = FALSE_ALARM_BUDGET,
                      veto: float = 1.01, rules_veto: float = 1.01,
                      now_veto: float = 1.01, doubt: float = 0.0,
                      search: str = "", past_allow: int = 0) -> dict[str, float]:
    """A threshold per gate mode: the most danger caught out of fold within the budget.

    Rules and model together call at most FALSE_ALARM_BUDGET of the non-danger messages
    danger, and the model calls no past disclosure danger; ties go to the higher
    thresholds (fewer alarms). Modes are searched greedily by the danger each threshold
    adds per false alarm (exhaustive search over four modes is 25^4 tries). With `search`
    "ratio" (safety-net7) the thresholds found by lowering, one step at a time, the mode
    whose step adds the most danger per false alarm are taken when they catch more: the
    greedy order above lets the first rare mode spend what the others could use better.
    """
    others = sum(r.truth is not Kind.DANGER for r in items)
    # A rule's danger the past model turns into a disclosure (no cue of now, P(over) at
    # or above `rules_veto`) is not an alarm the net raises.
    spare = budget * others - sum(
        r.rules is Kind.DANGER and r.truth is not Kind.DANGER
        and r.past < (now_veto if r.now else rules_veto) and r.doubt >= doubt for r in items)
    table = {mode: _above(items, mode, veto) for mode in MODES}
    best: tuple[int, float, tuple[float, ...]] | None = None
    for plain in CHOICES:
        for now in CHOICES:
            rows = [table["plain"][plain], table["now"][now]]
            base_alarms = sum(r[1] for r in rows)
            if base_alarms > spare or sum(r[2] for r in rows) > past_allow:
                continue
            # The rarer modes, each at its best given what is left of the budget.
            left = spare - base_alarms
            past = past_allow - sum(r[2] for r in rows)
            chosen: list[float] = []
            caught = sum(r[0] for r in rows)
            for mode in ("uncertain", "past", "short", "long"):
                options = [(v[0], t) for t, v in table[mode].items()
                           if v[1] <= left and v[2] <= past]
                got, t = max(options, default=(0, 1.01))
                chosen.append(t)
                caught += got
                left -= table[mode][t][1]
                past -= table[mode][t][2]
            key = (caught, plain + now + sum(chosen), (plain, now, *chosen))
            if best is None or key[:2] > best[:2]:
                best = key
    if search == "ratio":
        found, caught = _by_ratio(table, spare, past_allow)
        if best is None or caught > best[0]:
            return found
    if best is None:
        return dict.fromkeys(MODES, 1.01)
    return dict(zip(MODES, best[2], strict=True))


def _by_ratio(table: dict[str, dict[float, tuple[int, int, int]]],
              spare: float, past_allow: int = 0) -> tuple[dict[str, float], int]:
    """Thresholds from all off, each step the one (mode, lower threshold) that adds the most
    danger per false alarm within `spare` and calls at most `past_allow` past disclosures
    danger."""
    chosen = dict.fromkeys(MODES, 1.01)
    alarms = past = 0
    while True:
        best: tuple[float, int, str, float] | None = None
        for mode in MODES:
            now = table[mode][chosen[mode]]
            for t in reversed(CHOICES):  # on a tie, the higher threshold
                v = table[mode][t]
                more, cost = v[0] - now[0], v[1] - now[1]
                if (t >= chosen[mode] or past + v[2] - now[2] > past_allow or more <= 0
                        or alarms + cost > spare):
                    continue
                move = (more / max(cost, 0.5), more, mode, t)
                if best is None or move[:2] > best[:2]:
                    best = move
        if best is None:
            break
        alarms += table[best[2]][best[3]][1] - table[best[2]][chosen[best[2]]][1]
        past += table[best[2]][best[3]][2] - table[best[2]][chosen[best[2]]][2]
        chosen[best[2]] = best[3]
    return chosen, sum(table[m][t][0] for m, t in chosen.items())


def _lowest(items: list[Routed], group: list[Routed], least: float = 0.0,
            loss: float = 0.005) -> float:
    """The lowest past-model threshold from `least` that loses at most `loss` (PAST_LOSS)
    of the danger."""
    total = max(1, sum(r.truth is Kind.DANGER for r in items))
    for t in (t for t in GRID if t >= least):
        if sum(r.truth is Kind.DANGER and r.past >= t for r in group) <= loss * total:
            return t
    return 1.01


#: A rule's danger said with a cue of now is taken back only when the past model is this
#: sure at least: out of fold the lowest threshold (0.50) lost no danger, yet it turned
#: "she was sexually abused last night" (P(over) 0.80: "was") into a disclosure.
NOW_VETO_LEAST = 0.90


def choose_rules_veto(items: list[Routed], now: bool = False, loss: float = 0.005,
                      least: float = 0.0) -> float:
    """The past model's threshold for a rule's danger without (`now`: with) a cue of now,
    never under `least` (without a cue of now) or NOW_VETO_LEAST (with one)."""
    return _lowest(items, [r for r in items if r.rules is Kind.DANGER and r.now is now],
                   NOW_VETO_LEAST if now else least, loss)


def choose_past(items: list[Routed], danger: NgramModel, loss: float = 0.005,
                least: float = 0.0) -> tuple[float, float]:
    """(rules, model): the lowest past-model thresholds that lose at most `loss` of the
    danger out of fold, for a rule's danger without a cue of now (from `least`) and for
    the model's."""
    model = [r for r in items if r.rules is not Kind.DANGER and r.mode
             and r.p >= danger.threshold_for(r.mode)]
    return choose_rules_veto(items, loss=loss, least=least), _lowest(items, model, loss=loss)


def fit(sample: Sample, locale: str, design: Design = BEFORE,
        groups: Sequence[str] | None = None) -> tuple[NgramModel, NgramModel]:
    """The danger and past models on all of `sample`, thresholds chosen out of fold on it.

    The past model's `threshold` is for a rule's danger without a cue of now, its
    `threshold_uncertain` for the danger model's verdicts (bot/danger/net.py `_over`).
    """
    items = sized(routed(sample, locale, design, groups), design)
    veto = (choose_veto(items, design.veto_loss, design.veto_floor) if design.veto_first
            else 1.01)
    rules_loss = design.veto_loss if design.rules_loss is None else design.rules_loss
    rules_veto = (choose_rules_veto(items, loss=rules_loss, least=design.rules_least)
                  if design.net_alarms else 1.01)
    now_veto = choose_rules_veto(items, now=True) if design.veto_now else None
    doubt = choose_doubt(items) if design.doubt_rules else 0.0
    allow = int(design.past_allow * sum(r.truth is Kind.DISCLOSURE for r in items))
    chosen = choose_thresholds(items, design.budget, veto, rules_veto,
                               1.01 if now_veto is None else now_veto, doubt, design.search,
                               allow)
    key = _memo_key(locale, design, groups)
    if key is None or _recall(_FITTED, key) is None:
        trained = (train(sample, locale, design=design), train(sample, locale, past=True))
        if key is None:
            return _thresholded(design, items, *trained, chosen, veto, now_veto, doubt)
        _remember(_FITTED, key, trained)
    return _thresholded(design, items, *_FITTED[key], chosen, veto, now_veto, doubt)


def sized(items: list[Routed], design: Design) -> list[Routed]:
    """Each message under its gate mode with the design's length modes (NgramModel.sized)."""
    if not design.short and not design.long:
        return items
    shape = NgramModel({}, 0.0, 0.5, short=design.short, long=design.long)
    return [replace(r, mode=shape.sized(r.mode, r.size)) if r.mode else r for r in items]


def _thresholded(design: Design, items: list[Routed], danger: NgramModel, over: NgramModel,
                 chosen: dict[str, float], veto: float, now_veto: float | None,
                 doubt: float) -> tuple[NgramModel, NgramModel]:
    """The trained models with the thresholds chosen out of fold (fit)."""
    model = replace(danger, threshold=chosen["plain"],
                    threshold_now=chosen["now"], threshold_uncertain=chosen["uncertain"],
                    threshold_past=chosen["past"], short=design.short, long=design.long,
                    threshold_short=chosen["short"] if design.short else None,
                    threshold_long=chosen["long"] if design.long else None,
                    threshold_rules=doubt if design.doubt_rules else None)
    rules_loss = design.veto_loss if design.rules_loss is None else design.rules_loss
    for_rules, for_model = choose_past(items, model, rules_loss, design.rules_least)
    if design.veto_first:
        for_model = veto
    past = replace(over, threshold=for_rules,
                   threshold_uncertain=for_model, threshold_now=now_veto)
    return model, past


_LOADED: dict[str, LocaleRules] = {}


def net_with(locale: str, model: NgramModel, past: NgramModel) -> DangerNet:
    """The bundled rules (loaded once) with these models for `locale`."""
    if not _LOADED:
        _LOADED.update({x: load_locale(x) for x in ("en", "es")})
    return DangerNet(rules=list(_LOADED.values()), models={locale: model},
                     pasts={locale: past})


def figures(said: Sequence[Kind], truth: Sequence[Kind]) -> str:
    """Danger recall, false alarms (all, on `none`, on disclosures), past called danger."""
    pairs = list(zip(said, truth, strict=True))
    danger = sum(t is Kind.DANGER for t in truth)
    caught = sum(s is Kind.DANGER and t is Kind.DANGER for s, t in pairs)
    others = len(truth) - danger
    alarms = sum(s is Kind.DANGER and t is not Kind.DANGER for s, t in pairs)
    nones = sum(t is Kind.NONE for t in truth)
    on_none = sum(s is Kind.DANGER and t is Kind.NONE for s, t in pairs)
    past = sum(s is Kind.DANGER and t is Kind.DISCLOSURE for s, t in pairs)
    return (f"recall {caught / max(1, danger):.3f} ({caught}/{danger})  false alarms "
            f"{alarms / max(1, others):.3f} ({alarms}/{others}; none {on_none}/{nones})  "
            f"past->danger {past}")


def loco(locale: str, design: Design, quiet: bool = False,
         writers: Sequence[str] = WRITERS) -> tuple[list[Kind], list[Kind]]:
    """Leave each writer's corpus out in turn; print its figures; the pooled verdicts."""
    sample, groups = grouped(locale)
    said_all: list[Kind] = []
    truth_all: list[Kind] = []
    for name in writers:
        if name not in groups:
            continue
        away = {name, *COMPANIONS.get(name, ())}
        keep = [i for i, g in enumerate(groups) if g not in away]
        model, past = fit([sample[i] for i in keep], locale, design, [groups[i] for i in keep])
        net = net_with(locale, model, past)
        test = [x for x, g in zip(sample, groups, strict=True) if g == name]
        verdicts = [net.classify(m, locale) for _, m in test]
        said = [v.kind for v in verdicts]
        truth = [k for k, _ in test]
        # Which layer called a past disclosure danger: the model (no concern) or a rule.
        by_model = sum(v.danger and v.concern is None and k is Kind.DISCLOSURE
                       for v, k in zip(verdicts, truth, strict=True))
        if not quiet:
            print(f"{locale} LOCO {name:<6} (n={len(test)}) {figures(said, truth)} "
                  f"(model {by_model})")
        said_all.extend(said)
        truth_all.extend(truth)
    print(f"{locale} LOCO pooled {figures(said_all, truth_all)}")
    return said_all, truth_all


def report(locale: str, rules_only: DangerNet, design: Design, quiet: bool = False) -> None:
    """Random stratified K-fold figures (thresholds out of fold on the training folds)."""
    sample, groups = grouped(locale)
    totals: dict[str, tuple[list[Kind], list[Kind]]] = {}
    for n, part in enumerate(folds(sample, K), 1):
        chosen = set(part)
        keep = [i for i in range(len(sample)) if i not in chosen]
        model, past = fit([sample[i] for i in keep], locale, design, [groups[i] for i in keep])
        both = net_with(locale, model, past)
        test = [sample[i] for i in part]
        truth = [v for v, _ in test]
        said = {
            "model alone": [Kind.DANGER if model.danger(words(m, locale)) else Kind.NONE
                            for _, m in test],
            # What the model would add on phrasings no rule knows: its verdict as if the
            # rules had found no target, behind the same gate (a cue of now, no veto).
            "model, gated": [both.second_opinion(m, locale).kind for _, m in test],
            "rules alone": [rules_only.classify(m, locale).kind for _, m in test],
            "rules + model": [both.classify(m, locale).kind for _, m in test],
        }
        for name, kinds in said.items():
            if not quiet:
                print(f"{locale} fold {n}/{K} (n={len(test)}, threshold {model.threshold:.2f}) "
                      f"{name:<14} {figures(kinds, truth)}")
            t = totals.setdefault(name, ([], []))
            t[0].extend(kinds)
            t[1].extend(truth)
    for name, (kinds, truth) in totals.items():
        if quiet and name != "rules + model":
            continue
        print(f"{locale} {K}-fold {name:<14} {figures(kinds, truth)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", action="store_true", help="figures only, write nothing")
    parser.add_argument("--compare", action="store_true", help="LOCO of every candidate")
    parser.add_argument("--cv", action="store_true", help="with --compare: k-fold too")
    parser.add_argument("--locale", choices=("en", "es"), action="append")
    parser.add_argument("--only", action="append", help="with --compare: these designs")
    parser.add_argument("--writers", nargs="+", choices=WRITERS,
                        help="with --compare: leave out only these writers (a quick screen)")
    parser.add_argument("--fit-only", action="store_true",
                        help="write the models without the LOCO and k-fold report (the "
                             "LOCO figures of CHOSEN are those of --compare)")
    args = parser.parse_args(argv)
    rules_only = rules_net()
    locales = args.locale or ["en", "es"]
    if args.compare:
        # In the order asked for: the first figures come first.
        for name in args.only or list(DESIGNS):
            design = DESIGNS[name]
            print(f"== {name}: {design}")
            for locale in locales:
                loco(locale, design, writers=args.writers or WRITERS)
                if args.cv:
                    report(locale, rules_only, design, quiet=True)
        return
    for locale in locales:
        if not args.fit_only:
            loco(locale, CHOSEN)
            report(locale, rules_only, CHOSEN)
        if args.report:
            continue
        sample, groups = grouped(locale)
        model, past = fit(sample, locale, CHOSEN, groups)
        path = model_path(locale)
        path.write_text(model.to_json(), encoding="utf-8")
        model_path(locale, PAST_MODEL).write_text(past.to_json(), encoding="utf-8")
        print(f"{locale}: past model {len(past.weights)} weights, thresholds "
              f"{past.threshold:.2f} rules / {past.threshold_uncertain} model")
        print(f"{locale}: {len(model.weights)} weights, thresholds {model.threshold:.2f} plain "
              f"/ {model.threshold_now} now / {model.threshold_uncertain} uncertain / "
              f"{model.threshold_past} past -> {path}")


if __name__ == "__main__":
    main()
