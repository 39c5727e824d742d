"""The danger net on every labelled corpus in tests/data/safety/: recall and false alarms.

Each `<name>_<locale>.tsv` (header `verdict<TAB>concern<TAB>message`) is measured on its
own and pooled per language, with the locale given and with it unknown (the net guesses).
tune_*.tsv is the set the rules were tuned on; heldout_*.tsv was written by another
author who never saw the rules, and no rule was changed after it was first measured
(tests/data/safety/README.md). Issue 14's goals:
- danger recall >= 0.95, in every file and every language;
- false alarms (non-danger messages called danger) <= 0.10;
- a past disclosure is never called danger.
The tuning sets must meet them. The held-out sets do NOT meet them yet (2026-11-29: danger
recall 0.77 en / 0.67 es, false alarms 0.13 / 0.08, past called danger 4 / 3): their test
prints the gap and fails only if the net gets worse than that first measurement, so a
change that loses ground shows at once while the goal stays visibly unmet. The figures go
to the run's terminal summary (tests/conftest.py FIGURES), so CI shows them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.danger import DangerNet, Kind
from tests.conftest import FIGURES

DATA = Path(__file__).resolve().parents[1] / "data" / "safety"
MIN_DANGER_RECALL = 0.95
MAX_FALSE_ALARMS = 0.10
#: The held-out sets as first measured (locale given), the floor a change may not go below:
#: (danger messages caught, non-danger messages called danger, past disclosures called
#: danger). en: 44/57 caught, 9/71 false alarms; es: 39/58, 6/73.
HELD_OUT_FIRST = {
    "heldout_en.tsv": (44, 9, 4),
    "heldout_es.tsv": (39, 6, 3),
}


@dataclass(frozen=True)
class Labelled:
    verdict: Kind
    concern: str
    message: str
    source: str


@dataclass(frozen=True)
class Figures:
    """What the goals are about, for one sample of messages."""

    name: str
    n: int
    danger: int
    danger_caught: int
    disclosures: int
    disclosures_caught: int
    others: int
    false_alarms: int
    disclosures_called_danger: tuple[str, ...]
    missed: tuple[str, ...]
    alarmed: tuple[str, ...]

    @property
    def danger_recall(self) -> float:
        return self.danger_caught / self.danger if self.danger else 1.0

    @property
    def disclosure_recall(self) -> float:
        return self.disclosures_caught / self.disclosures if self.disclosures else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.others if self.others else 0.0

    def line(self) -> str:
        return (
            f"{self.name:<28} n={self.n:<4} danger recall {self.danger_recall:.3f} "
            f"({self.danger_caught}/{self.danger})  disclosure recall "
            f"{self.disclosure_recall:.3f} ({self.disclosures_caught}/{self.disclosures})  "
            f"false alarms {self.false_alarm_rate:.3f} ({self.false_alarms}/{self.others})  "
            f"past called danger {len(self.disclosures_called_danger)}"
        )

    def problems(self) -> list[str]:
        found = []
        if self.danger_recall < MIN_DANGER_RECALL:
            found.append(f"{self.name}: danger recall {self.danger_recall:.3f} "
                         f"< {MIN_DANGER_RECALL}; missed: {list(self.missed)}")
        if self.false_alarm_rate > MAX_FALSE_ALARMS:
            found.append(f"{self.name}: false alarms {self.false_alarm_rate:.3f} "
                         f"> {MAX_FALSE_ALARMS}; on: {list(self.alarmed)}")
        if self.disclosures_called_danger:
            found.append(f"{self.name}: past disclosures called danger: "
                         f"{list(self.disclosures_called_danger)}")
        return found


def corpora() -> dict[str, list[Labelled]]:
    """Every labelled file, by file name; each file's locale is its name's suffix."""
    found = {}
    for path in sorted(DATA.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
        found[path.name] = [
            Labelled(Kind(row["verdict"].strip()), row["concern"].strip(),
                     row["message"], path.name)
            for row in rows if row.get("message")
        ]
    return found


def locale_of(name: str) -> str:
    return Path(name).stem.rsplit("_", 1)[-1]


def measure(name: str, sample: Iterable[Labelled], net: DangerNet,
            locale: str | None) -> Figures:
    n = danger = caught = disclosures = disclosed = others = alarms = 0
    past_as_danger: list[str] = []
    missed: list[str] = []
    alarmed: list[str] = []
    for item in sample:
        n += 1
        said = net.classify(item.message, locale).kind
        if item.verdict is Kind.DANGER:
            danger += 1
            caught += said is Kind.DANGER
            if said is not Kind.DANGER:
                missed.append(item.message)
            continue
        others += 1
        if said is Kind.DANGER:
            alarms += 1
            alarmed.append(item.message)
        if item.verdict is Kind.DISCLOSURE:
            disclosures += 1
            disclosed += said is Kind.DISCLOSURE
            if said is Kind.DANGER:
                past_as_danger.append(item.message)
    return Figures(name, n, danger, caught, disclosures, disclosed, others, alarms,
                   tuple(past_as_danger), tuple(missed), tuple(alarmed))


@pytest.fixture(scope="module")
def net() -> DangerNet:
    return DangerNet()


def _measure_all(
    net: DangerNet, request: pytest.FixtureRequest, prefix: str
) -> dict[str, Figures]:
    files = {name: sample for name, sample in corpora().items() if name.startswith(prefix)}
    assert files, f"no {prefix}*.tsv in {DATA}"
    figures: dict[str, Figures] = {}
    for mode in ("given", "unknown"):
        for name, sample in files.items():
            locale = locale_of(name)
            figures[f"{name} ({mode})"] = measure(
                f"{name} ({mode})", sample, net, locale if mode == "given" else None
            )
    lines = request.config.stash.setdefault(FIGURES, [])
    lines.append(f"danger net on tests/data/safety/{prefix}* (locale given / unknown):")
    lines.extend("  " + f.line() for f in figures.values())
    print("\n".join(lines))
    return figures


def test_corpus__tuning_sets__meet_the_goals(
    net: DangerNet, request: pytest.FixtureRequest
) -> None:
    figures = _measure_all(net, request, "tune_")
    problems = [p for f in figures.values() for p in f.problems()]
    assert not problems, "\n".join(problems)


def test_corpus__held_out_sets__measured_against_the_goals_and_never_worse(
    net: DangerNet, request: pytest.FixtureRequest
) -> None:
    figures = _measure_all(net, request, "heldout_")
    lines = request.config.stash.setdefault(FIGURES, [])
    worse = []
    for name, (caught, alarms, past) in HELD_OUT_FIRST.items():
        f = figures[f"{name} (given)"]
        lines.append(f"  {name}: issue 14 goals {'NOT met' if f.problems() else 'met'}")
        if f.danger_caught < caught:
            worse.append(f"{name}: {f.danger_caught} danger messages caught < first {caught}")
        if f.false_alarms > alarms:
            worse.append(f"{name}: {f.false_alarms} false alarms > first {alarms}")
        if len(f.disclosures_called_danger) > past:
            worse.append(f"{name}: {len(f.disclosures_called_danger)} past called danger > {past}")
    assert not worse, "\n".join(worse)


def test_corpus__issue_examples__present_and_labelled() -> None:
    """The examples issue 14 names are part of the tuning set, with the issue's verdicts."""
    tune = {item.message: item.verdict for name, sample in corpora().items()
            if name.startswith("tune_") for item in sample}
    expected = {
        "i wanna die": Kind.DANGER,
        "he beats the kids": Kind.DANGER,
        "my partner strangled me last night": Kind.DANGER,
        "hes threatening us with a knife": Kind.DANGER,
        "mi marido me pega": Kind.DANGER,
        "me voy a quitar la vida": Kind.DANGER,
        "se tomó todas las pastillas": Kind.DANGER,
        "no estoy a salvo": Kind.DANGER,
        "I would never hurt myself": Kind.NONE,
        "his mother tried to kill herself when he was a baby": Kind.DISCLOSURE,
    }
    assert {m: tune.get(m) for m in expected} == expected


def test_corpus__tune_sets__large_enough_and_varied() -> None:
    for name, sample in corpora().items():
        if not name.startswith("tune_"):
            continue
        kinds = {item.verdict for item in sample}
        assert len(sample) >= 110 and kinds == set(Kind), name
