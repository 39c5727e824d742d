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
from pathlib import Path

from bot.danger import DangerNet, Kind
from bot.danger.model import NgramModel, features, model_path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "safety"
K = 5
SEED = 14
EPOCHS = 12
RATE = 0.3
L2 = 1e-4
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


_READER: list[DangerNet] = []


def words(message: str, locale: str) -> list[str]:
    """What the model reads (DangerNet.model_input: cues of now left out)."""
    if not _READER:
        _READER.append(DangerNet(models={}))
    return _READER[0].model_input(message, locale)[0]


def train(sample: Sample, locale: str, threshold: float = 0.5) -> NgramModel:
    """Logistic regression by AdaGrad over feature strings (deterministic)."""
    rows = [(features(words(m, locale)), 1.0 if k is Kind.DANGER else 0.0)
            for k, m in sample]
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
            g = p - label
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


def choose_threshold(sample: Sample, locale: str) -> float:
    """Out-of-fold probabilities on `sample`; the highest threshold keeping TARGET_RECALL."""
    probs: list[tuple[float, bool]] = []
    for part in folds(sample, 3):
        chosen = set(part)
        model = train([x for i, x in enumerate(sample) if i not in chosen], locale)
        probs += [(model.probability(words(sample[i][1], locale)),
                   sample[i][0] is Kind.DANGER) for i in part]
    danger = sorted((p for p, d in probs if d), reverse=True)
    if not danger:
        return 0.5
    return max(0.5, danger[min(len(danger) - 1, int(TARGET_RECALL * len(danger)))])


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
        model = train(rest, locale, choose_threshold(rest, locale))
        both = DangerNet(models={locale: model})
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
    rules_only = DangerNet(models={})
    for locale in ("en", "es"):
        sample = tuning(locale)
        report(locale, sample, rules_only)
        if args.report:
            continue
        model = train(sample, locale, choose_threshold(sample, locale))
        path = model_path(locale)
        path.write_text(model.to_json(), encoding="utf-8")
        print(f"{locale}: {len(model.weights)} weights, threshold {model.threshold:.2f} "
              f"-> {path}")


if __name__ == "__main__":
    main()
