"""The danger net: time per message, a 100 KB message, start-up; medSpaCy side by side.

bot/danger implements ConText itself. This bench measures that choice against medSpaCy
(spaCy 3, blank pipeline, no model) running the SAME rules, translated to its TargetRule
and ConTextRule, on the SAME normalised text, and against medSpaCy with its own default
ConText rules: time per message, start-up, and agreement on the labelled corpus.
medSpaCy is in the `bench-medspacy` extra only (pip install -e '.[bench,bench-medspacy]'),
imported lazily here and never by bot/; without it the bench measures ours and says so.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench._common import header, median, percentile, spread
from bot.danger import DangerNet, Kind
from bot.danger.context import ANY, NUMBER, Category, Direction, expand
from bot.danger.context import parse_pattern as parse
from bot.danger.model import load_model
from bot.danger.normalize import fold, sentences
from bot.danger.rules import LocaleRules, load_locale

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "safety"
Sample = list[tuple[Kind, str, str]]  # (label, locale, message)

LOAD_OURS = (
    "import time; t, c = time.perf_counter(), time.process_time(); "
    "from bot.danger import DangerNet; DangerNet(); "
    "print(time.perf_counter() - t, time.process_time() - c)"
)
LOAD_MEDSPACY = (
    "import time; t, c = time.perf_counter(), time.process_time(); "
    "from bench.bench_safety import medspacy_nets; medspacy_nets(); "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


def corpus() -> Sample:
    """The tuning sets (tune_*, tune2_*): a bench never reads a held-out file."""
    found: Sample = []
    for path in sorted(DATA.glob("tune*.tsv")):
        locale = path.stem.rsplit("_", 1)[-1]
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                found.append((Kind(row["verdict"]), locale, row["message"]))
    return found


def normalised(rules: LocaleRules, text: str) -> str:
    """Our folding, contractions and spelling tolerance, as text medSpaCy can read."""
    return " . ".join(
        " ".join(t.canon for t in rules.tokenizer.tokens(words))
        for words in sentences(fold(text))
    )


def _token_pattern(source: str) -> list[list[dict[str, Any]]]:
    """Our phrase as spaCy Matcher patterns (one per optional-element variant)."""
    patterns = []
    for variant in expand(parse(source)):
        tokens: list[dict[str, Any]] = []
        for element in variant:
            if ANY in element.words:
                tokens.append({})
            elif NUMBER in element.words:
                tokens.append({"LIKE_NUM": True})
            else:
                tokens.append({"LOWER": {"IN": sorted(element.words)}})
        patterns.append(tokens)
    return patterns


class MedspacyNet:
    """One locale's rules run by medSpaCy: target matcher + ConText (ours or its defaults)."""

    def __init__(self, rules: LocaleRules, ours: bool) -> None:
        import medspacy  # noqa: F401  (registers the pipeline factories)
        import spacy
        from medspacy.context import ConTextRule
        from medspacy.ner import TargetRule

        self.rules = rules
        self.nlp = spacy.blank("en" if rules.locale == "en" else rules.locale)
        self.nlp.add_pipe("sentencizer")
        matcher = self.nlp.add_pipe("medspacy_target_matcher")
        context = self.nlp.add_pipe(
            "medspacy_context", config={"rules": None if ours else "default"}
        )
        ctx = rules.context
        targets = []
        for rule in [*ctx.targets, *ctx.idioms]:
            label = "IDIOM" if rule.category is Category.IDIOM else (
                f"{rule.concern}|{rule.tense}"
            )
            for i, pattern in enumerate(_token_pattern(rule.pattern)):
                targets.append(TargetRule(f"{rule.pattern}#{i}", label, pattern=pattern))
        matcher.add(targets)
        if not ours:
            return
        direction = {
            Direction.FORWARD: "FORWARD",
            Direction.BACKWARD: "BACKWARD",
            Direction.BOTH: "BIDIRECTIONAL",
        }
        modifiers = []
        for mod in ctx.modifiers:
            assert mod.category is not None
            kind = "PSEUDO" if mod.category is Category.PSEUDO else direction[mod.direction]
            allowed = (
                {f"{c}|{t}" for c in mod.applies_to for t in ("any", "past")}
                if mod.applies_to else None
            )
            for i, pattern in enumerate(_token_pattern(mod.pattern)):
                modifiers.append(ConTextRule(
                    f"{mod.pattern}#{i}", mod.category.value.upper(), pattern=pattern,
                    direction=kind, max_scope=mod.window, allowed_types=allowed,
                ))
        for stop in ctx.terminators:
            for i, pattern in enumerate(_token_pattern(stop.pattern)):
                modifiers.append(ConTextRule(
                    f"{stop.pattern}#{i}", "TERMINATE", pattern=pattern,
                    direction="TERMINATE",
                    terminated_by=None,
                ))
        context.add(modifiers)

    def classify(self, text: str) -> Kind:
        doc = self.nlp(normalised(self.rules, text))
        worst = Kind.NONE
        for ent in doc.ents:
            if ent.label_ == "IDIOM":
                continue
            categories = {m.category.lower() for m in ent._.modifiers}
            if "negated_existence" in categories:
                categories.add("negated")
            kind = _judge(categories, ent.label_.endswith("|past"))
            if kind is Kind.DANGER:
                return kind
            if kind is Kind.DISCLOSURE:
                worst = kind
        return worst


def _judge(categories: set[str], past: bool) -> Kind:
    """bot.danger.net.judge on medSpaCy's category names."""
    if "negated" in categories and "historical" in categories:
        return Kind.DISCLOSURE
    if categories & {"negated", "hypothetical", "figurative", "behaviour"}:
        return Kind.NONE
    if "present" in categories:
        return Kind.DANGER
    if "historical" in categories or (past and "urgent" not in categories):
        return Kind.DISCLOSURE
    return Kind.DANGER


def medspacy_nets(ours: bool = True) -> dict[str, MedspacyNet]:
    return {x: MedspacyNet(load_locale(x), ours) for x in ("en", "es")}


def time_each(classify: Callable[[str, str], object], sample: Sample,
              rounds: int) -> list[float]:
    """Seconds per message, every message `rounds` times."""
    times = []
    for _ in range(rounds):
        for _, locale, message in sample:
            start = time.perf_counter()
            classify(message, locale)
            times.append(time.perf_counter() - start)
    return times


def scores(classify: Callable[[str, str], Kind], sample: Sample) -> str:
    danger = [k is Kind.DANGER for k, _, _ in sample]
    said = [classify(m, x) is Kind.DANGER for _, x, m in sample]
    caught = sum(d and s for d, s in zip(danger, said, strict=True))
    alarms = sum(s and not d for d, s in zip(danger, said, strict=True))
    others = len(sample) - sum(danger)
    return (f"danger recall {caught / max(1, sum(danger)):.3f}, "
            f"false alarms {alarms / max(1, others):.3f}")


def big_message(sample: Iterable[tuple[Kind, str, str]], size: int, punctuated: bool) -> str:
    """About `size` characters of the sample's messages, every sentence different.

    Sentences are pairs of messages ("a, b"), so the net cannot skip repeats: this is
    the work of a long text, not of one pasted many times (which the net reads once).
    """
    messages = [m for _, _, m in sample]
    parts, total = [], 0
    for first in messages:
        for second in messages:
            piece = f"{first}, {second}" + (". " if punctuated else " ")
            parts.append(piece)
            total += len(piece)
            if total >= size:
                return "".join(parts)[:size]
    return "".join(parts)[:size]


def start_up(code: str, runs: int, root: Path | None = None) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds from the first import to a loaded net, in fresh interpreters
    (in `root`'s tree: another checkout's net, e.g. main's, side by side)."""
    root = root or Path(__file__).resolve().parents[1]
    wall, cpu = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=root, check=True,
                             capture_output=True, text=True).stdout.split()
        wall.append(float(out[-2]))
        cpu.append(float(out[-1]))
    return wall, cpu


def time_big(net: DangerNet, text: str, runs: int = 7) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds per call (CPU time is what the net costs on a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, used = time.perf_counter(), time.process_time()
        net.classify(text)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    return wall, cpu


def medspacy_figures(sample: Sample, ours: list[float], rounds: int, runs: int) -> None:
    ms = 1000.0
    for rules_ours in (True, False):
        nets = medspacy_nets(rules_ours)
        label = "our rules" if rules_ours else "its default ConText rules"

        def classify(message: str, locale: str, nets: dict[str, MedspacyNet] = nets) -> Kind:
            return nets[locale].classify(message)

        theirs = time_each(classify, sample, rounds)
        print(f"medSpaCy ({label}), locale given  median {median(theirs) * ms:.3f} ms  "
              f"p99 {percentile(theirs, 99) * ms:.3f} ms  "
              f"ratio medSpaCy/ours (median) {median(theirs) / median(ours):.1f}x")
        print(f"medSpaCy ({label}) on the corpus: {scores(classify, sample)}")
        if rules_ours:
            text = big_message(sample, 100_000, True)
            start = time.perf_counter()
            nets["en"].classify(text)
            print(f"medSpaCy (our rules), 100 KB message: "
                  f"{(time.perf_counter() - start) * ms:.0f} ms (one run)")
    wall, cpu = start_up(LOAD_MEDSPACY, runs)
    print(f"medSpaCy (our rules), start-up (fresh interpreter): wall median "
          f"{median(wall):.3f} s (spread {spread(wall)}), CPU median {median(cpu):.3f} s")


def net_from(folder: Path) -> DangerNet:
    """The bundled rules with the models of `folder`/<locale>/danger*_model.json."""
    models = {x: load_model(x, folder / x / "danger_model.json") for x in ("en", "es")}
    pasts = {x: load_model(x, folder / x / "danger_past_model.json") for x in ("en", "es")}
    return DangerNet(models={x: m for x, m in models.items() if m is not None},
                     pasts={x: m for x, m in pasts.items() if m is not None})


def side_by_side(before: DangerNet, after: DangerNet, sample: Sample, rounds: int) -> None:
    """Both nets on the same texts in one run, interleaved round by round (CPU medians)."""
    ms = 1000.0
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(rounds):
        for name, net in (("before", before), ("after", after)):
            times[name].extend(time_each(net.classify, sample, 1))
    print("side by side, median per message (locale given): " + ", ".join(
        f"{k} {median(v) * ms:.3f} ms (p99 {percentile(v, 99) * ms:.3f})"
        for k, v in times.items()))
    ordinary = [x for x in sample if x[0] is Kind.NONE and x[1] == "en"]
    text = big_message(ordinary, 100_000, True)
    for name, net in (("before", before), ("after", after), ("before", before),
                      ("after", after)):
        wall, cpu = time_big(net, text, 5)
        print(f"side by side, 100 KB worst case, {name}: CPU median {median(cpu) * ms:.1f} ms"
              f", wall median {median(wall) * ms:.1f} ms")
    for name, net in (("before", before), ("after", after)):
        print(f"side by side, {name} on the corpus: "
              f"{scores(lambda m, x, n=net: n.classify(m, x).kind, sample)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the corpus")
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters for start-up")
    parser.add_argument("--no-medspacy", action="store_true", help="ours only")
    parser.add_argument("--before", type=Path, help="a folder of <locale>/danger*_model.json"
                        " (e.g. from git show main:messages/...) to time side by side")
    parser.add_argument("--before-tree", type=Path,
                        help="another checkout (e.g. /work/main): its start-up side by side")
    args = parser.parse_args(argv)
    header("danger net (bot/danger) vs medSpaCy")
    sample = corpus()
    ms = 1000.0
    net = DangerNet()
    print(f"corpus: {len(sample)} messages from tests/data/safety")

    ours = time_each(net.classify, sample, args.rounds)
    unknown = time_each(lambda m, x: net.classify(m), sample, args.rounds)
    print(f"ours, locale given     median {median(ours) * ms:.3f} ms  "
          f"p99 {percentile(ours, 99) * ms:.3f} ms  ({len(ours)} calls)")
    print(f"ours, locale unknown   median {median(unknown) * ms:.3f} ms  "
          f"p99 {percentile(unknown, 99) * ms:.3f} ms")
    ordinary = [x for x in sample if x[0] is Kind.NONE and x[1] == "en"]
    cases = {
        "every sentence a different hard negative (worst case)": big_message(
            ordinary, 100_000, True),
        "the same, no punctuation (64-token pieces)": big_message(ordinary, 100_000, False),
        "the whole corpus, danger included": big_message(sample, 100_000, True),
    }
    for label, text in cases.items():
        wall, cpu = time_big(net, text)
        print(f"ours, 100 KB, {label}: wall median {median(wall) * ms:.1f} ms "
              f"(min {min(wall) * ms:.1f}, spread {spread(wall)}), CPU median "
              f"{median(cpu) * ms:.1f} ms -> {net.classify(text).kind}")
    wall, cpu = start_up(LOAD_OURS, args.runs)
    print(f"ours, start-up (import + load both languages, fresh interpreter): wall median "
          f"{median(wall):.3f} s (spread {spread(wall)}), CPU median {median(cpu):.3f} s")
    print(f"ours on the corpus: {scores(lambda m, x: net.classify(m, x).kind, sample)}")
    if args.before:
        side_by_side(net_from(args.before), net, sample, args.rounds)
    if args.before_tree:
        # Interleaved, one fresh interpreter at a time: the machine's load falls on both.
        runs: dict[str, tuple[list[float], list[float]]] = {"before": ([], []),
                                                            "after": ([], [])}
        for _ in range(args.runs):
            for name, root in (("before", args.before_tree), ("after", None)):
                wall, cpu = start_up(LOAD_OURS, 1, root)
                runs[name][0].extend(wall)
                runs[name][1].extend(cpu)
        for name, (wall, cpu) in runs.items():
            print(f"side by side, start-up, {name}: wall median {median(wall):.3f} s, "
                  f"CPU median {median(cpu):.3f} s")
    if args.no_medspacy:
        return
    try:
        import medspacy  # noqa: F401
    except ImportError:
        print("medSpaCy: not installed (pip install -e '.[bench,bench-medspacy]')")
        return
    medspacy_figures(sample, ours, args.rounds, args.runs)


if __name__ == "__main__":
    main()
