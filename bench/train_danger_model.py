"""Train the danger net's n-gram model on the tuning sets; report k-fold figures (docs/safety.md).

    python -m bench.train_danger_model            # k-fold report, then write the models
    python -m bench.train_danger_model --report   # k-fold report only

Reads only tests/data/safety/tune*_{en,es}.tsv (never a held-out file). Labels: danger
against everything else (disclosure, none). For each of K stratified folds it trains on
the other folds and reports, on the fold: the model alone, the model behind its gate as
if no rule had found a target (what it adds on phrasings no rule knows), the rules alone,
and the rules with the model as second opinion (bot/danger/net.py), with danger recall,
false alarms, and past disclosures called danger. The rules were written against all of
the tuning data, so "rules alone" on a fold is not a generalisation figure. The
threshold is chosen on the training folds only (the highest that keeps their danger
recall at TARGET_RECALL, out-of-fold). Then it trains on all tuning data and writes
messages/<locale>/danger_model.json.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.danger import DangerNet, Kind
from bot.danger.model import PAST_MODEL, NgramModel, features, model_path

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


def tuning(locale: str) -> Sample:
    found: Sample = []
    for path in sorted(DATA.glob(f"tune*_{locale}.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                found.append((Kind(row["verdict"].strip()), row["message"]))
    return found


_RULES: list[DangerNet] = []


def rules_net() -> DangerNet:
    """The rules without a model (built once)."""
    if not _RULES:
        _RULES.append(DangerNet(models={}))
    return _RULES[0]


def all_words(message: str, locale: str) -> list[str]:
    """What the past model reads: every word."""
    return rules_net().past_input(message, locale)


def words(message: str, locale: str) -> list[str]:
    """What the model reads (DangerNet.model_input: cues of now left out)."""
    return rules_net().model_input(message, locale)[0]


def train(sample: Sample, locale: str, threshold: float = 0.5, past: bool = False) -> NgramModel:
    """Logistic regression by AdaGrad over feature strings (deterministic).

    The danger model: danger against the rest, over DangerNet.model_input. The past
    model (`past`): disclosure against danger only, over every word of the message (a
    past cue is what it must learn).
    """
    if past:
        rows = [(features(all_words(m, locale)), 1.0 if k is Kind.DISCLOSURE else 0.0)
                for k, m in sample if k is not Kind.NONE]
    else:
        rows = [(features(words(m, locale)), 1.0 if k is Kind.DANGER else 0.0)
                for k, m in sample]
    # Each class weighs as much as the other: the tuning data holds more danger than
    # the messages a net sees, and the bias must not lean to danger for that.
    danger = sum(label for _, label in rows) or 1.0
    weight = {1.0: len(rows) / (2 * danger), 0.0: len(rows) / (2 * max(1.0, len(rows) - danger))}
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias, bias_sq = 0.0, 0.0
    order = list(range(len(rows)))
    rng = random.Random(SEED)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            feats, label = rows[i]
            z = bias + sum(weights.get(f, 0.0) for f in feats)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - label) * weight[label]
            bias_sq += g * g
            bias -= RATE * g / math.sqrt(bias_sq + 1e-8)
            for f in feats:
                w = weights.get(f, 0.0)
                grad = g + L2 * w
                sq = squares.get(f, 0.0) + grad * grad
                squares[f] = sq
                weights[f] = w - RATE * grad / math.sqrt(sq + 1e-8)
    kept = {f: w for f, w in weights.items() if abs(w) >= PRUNE}
    return NgramModel(kept, bias, threshold)


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
FALSE_ALARM_BUDGET = 0.08
#: The past model may turn at most this share of the danger messages (out of fold) into
#: not-danger, in each of its two uses.
PAST_LOSS = 0.005
#: Thresholds the search may choose from: recall first, but the model must at least find
#: danger more likely than not (a first version allowed 0.4; see docs/safety.md).
GRID = [round(0.50 + 0.02 * i, 2) for i in range(25)]
MODES = ("plain", "now", "uncertain")


@dataclass(frozen=True)
class Routed:
    """One message out of fold: its truth, the rules' verdict, the gate mode, P(danger)."""

    truth: Kind
    rules: Kind
    mode: str | None
    p: float
    now: bool  # the rules' danger finding has a cue of now
    past: float  # P(over) from the past model


def routed(sample: Sample, locale: str, k: int = 3) -> list[Routed]:
    """Each message of `sample` with a model trained on the other k-1 parts."""
    out: list[Routed] = []
    for part in folds(sample, k):
        chosen = set(part)
        rest = [x for i, x in enumerate(sample) if i not in chosen]
        model, past = train(rest, locale), train(rest, locale, past=True)
        for i in part:
            verdict, mode, said = rules_net().route(sample[i][1], locale)
            p = model.probability(said) if mode else 0.0
            now = any(c in ("present", "urgent") for e in verdict.evidence
                      if e.kind is Kind.DANGER for c, _ in e.modifiers)
            out.append(Routed(sample[i][0], verdict.kind, mode, p, now,
                              past.probability(all_words(sample[i][1], locale))))
    return out


def _above(items: list[Routed], mode: str) -> dict[float, tuple[int, int, int]]:
    """Per threshold of GRID: (danger, non-danger, disclosures) the model would add."""
    mine = [r for r in items if r.mode == mode and r.rules is not Kind.DANGER]
    return {t: (sum(r.truth is Kind.DANGER for r in mine if r.p >= t),
                sum(r.truth is not Kind.DANGER for r in mine if r.p >= t),
                sum(r.truth is Kind.DISCLOSURE for r in mine if r.p >= t)) for t in GRID}


def choose_thresholds(items: list[Routed]) -> tuple[float, float, float]:
    """(plain, now, uncertain): the most danger caught out of fold within the budget.

    Rules and model together call at most FALSE_ALARM_BUDGET of the non-danger messages
    danger, and the model calls no past disclosure danger; ties go to the higher
    thresholds (fewer alarms).
    """
    others = sum(r.truth is not Kind.DANGER for r in items)
    spare = FALSE_ALARM_BUDGET * others - sum(
        r.rules is Kind.DANGER and r.truth is not Kind.DANGER for r in items)
    table = {mode: _above(items, mode) for mode in MODES}
    best: tuple[int, float, float, float, float] | None = None
    for plain in GRID:
        for now in GRID:
            for unsure in GRID:
                rows = (table["plain"][plain], table["now"][now], table["uncertain"][unsure])
                if sum(r[1] for r in rows) > spare or any(r[2] for r in rows):
                    continue
                key = (sum(r[0] for r in rows), plain + now + unsure, plain, now, unsure)
                if best is None or key > best:
                    best = key
    return (best[2], best[3], best[4]) if best else (1.01, 1.01, 1.01)


def choose_past(items: list[Routed], danger: NgramModel) -> tuple[float, float]:
    """(rules, model): the lowest past-model thresholds that lose at most PAST_LOSS of the
    danger out of fold, for a rule's danger without a cue of now and for the model's."""
    total = max(1, sum(r.truth is Kind.DANGER for r in items))
    rules = [r for r in items if r.rules is Kind.DANGER and not r.now]
    model = [r for r in items if r.rules is not Kind.DANGER and r.mode
             and r.p >= danger.threshold_for(r.mode)]

    def lowest(group: list[Routed]) -> float:
        for t in GRID:
            if sum(r.truth is Kind.DANGER and r.past >= t for r in group) <= PAST_LOSS * total:
                return t
        return 1.01
    return lowest(rules), lowest(model)


def fit(sample: Sample, locale: str) -> tuple[NgramModel, NgramModel]:
    """The danger and past models on all of `sample`, thresholds chosen out of fold on it.

    The past model's `threshold` is for a rule's danger without a cue of now, its
    `threshold_uncertain` for the danger model's verdicts (bot/danger/net.py `_over`).
    """
    items = routed(sample, locale)
    plain, now, unsure = choose_thresholds(items)
    model = replace(train(sample, locale), threshold=plain, threshold_now=now,
                    threshold_uncertain=unsure)
    for_rules, for_model = choose_past(items, model)
    past = replace(train(sample, locale, past=True), threshold=for_rules,
                   threshold_uncertain=for_model)
    return model, past


def figures(said: Sequence[Kind], truth: Sequence[Kind]) -> str:
    danger = sum(t is Kind.DANGER for t in truth)
    caught = sum(s is Kind.DANGER and t is Kind.DANGER for s, t in zip(said, truth, strict=True))
    others = len(truth) - danger
    alarms = sum(s is Kind.DANGER and t is not Kind.DANGER
                 for s, t in zip(said, truth, strict=True))
    past = sum(s is Kind.DANGER and t is Kind.DISCLOSURE for s, t in zip(said, truth, strict=True))
    return (f"recall {caught / max(1, danger):.3f} ({caught}/{danger})  false alarms "
            f"{alarms / max(1, others):.3f} ({alarms}/{others})  past->danger {past}")


def report(locale: str, sample: Sample, rules_only: DangerNet) -> None:
    totals: dict[str, tuple[list[Kind], list[Kind]]] = {}
    for n, part in enumerate(folds(sample, K), 1):
        chosen = set(part)
        rest = [x for i, x in enumerate(sample) if i not in chosen]
        model, past = fit(rest, locale)
        both = DangerNet(models={locale: model}, pasts={locale: past})
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
            print(f"{locale} fold {n}/{K} (n={len(test)}, threshold {model.threshold:.2f}) "
                  f"{name:<14} {figures(kinds, truth)}")
            t = totals.setdefault(name, ([], []))
            t[0].extend(kinds)
            t[1].extend(truth)
    for name, (kinds, truth) in totals.items():
        print(f"{locale} all folds {name:<14} {figures(kinds, truth)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", action="store_true", help="k-fold figures only")
    args = parser.parse_args(argv)
    rules_only = rules_net()
    for locale in ("en", "es"):
        sample = tuning(locale)
        report(locale, sample, rules_only)
        if args.report:
            continue
        model, past = fit(sample, locale)
        path = model_path(locale)
        path.write_text(model.to_json(), encoding="utf-8")
        model_path(locale, PAST_MODEL).write_text(past.to_json(), encoding="utf-8")
        print(f"{locale}: past model {len(past.weights)} weights, thresholds "
              f"{past.threshold:.2f} rules / {past.threshold_uncertain} model")
        print(f"{locale}: {len(model.weights)} weights, thresholds {model.threshold:.2f} plain "
              f"/ {model.threshold_now} now / {model.threshold_uncertain} uncertain -> {path}")


if __name__ == "__main__":
    main()
