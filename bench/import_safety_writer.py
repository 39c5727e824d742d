"""Copy a blind writer's safety corpus into tests/data/safety, measuring the net on it first.

    PYTHONPATH=/work/main python -m bench.import_safety_writer /work/corpora/tune7a tune7a

For each locale: reads `<source>_<locale>.tsv`, checks the format (header
`verdict<TAB>concern<TAB>message`, three fields, a known verdict), drops exact repeats
(within the file, and against every tune* and aside* file already in tests/data/safety,
compared after case, accents and spacing are folded; the held-out files are never opened),
measures the danger net importable here (run it with PYTHONPATH pointing at main's tree to
measure the net as shipped, before any training on the file), then writes
tests/data/safety/<name>_<locale>.tsv. Only figures and counts are printed, never a
message: the README of the copy quotes them (README-tune7a.md ...).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import unicodedata
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "safety"
HEADER = ["verdict", "concern", "message"]
VERDICTS = ("danger", "disclosure", "none")


def folded(message: str) -> str:
    """Case, accents and spacing folded: what counts as the same message."""
    text = unicodedata.normalize("NFKD", message.casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        rows = [row for row in reader if row]
    if [h.strip() for h in header] != HEADER:
        raise SystemExit(f"{path.name}: header {header}, expected {HEADER}")
    bad = [n for n, row in enumerate(rows, 2)
           if len(row) != 3 or row[0].strip() not in VERDICTS or not row[2].strip()]
    if bad:
        raise SystemExit(f"{path.name}: lines {bad[:10]} are not verdict, concern, message")
    return [[row[0].strip(), row[1].strip(), row[2].strip()] for row in rows]


def earlier(locale: str, name: str) -> set[str]:
    """Every message already in a tune* or aside* file of `locale` (folded)."""
    seen: set[str] = set()
    for path in sorted(DATA.glob(f"*_{locale}.tsv")):
        if not path.name.startswith(("tune", "aside")) or path.name.startswith(f"{name}_"):
            continue
        seen.update(folded(row[2]) for row in rows_of(path))
    return seen


def fresh(rows: list[list[str]], seen: set[str]) -> tuple[list[list[str]], int, int]:
    """The rows not seen before, and how many repeats were dropped (within, earlier)."""
    kept: list[list[str]] = []
    mine: set[str] = set()
    within = before = 0
    for row in rows:
        key = folded(row[2])
        if key in seen:
            before += 1
        elif key in mine:
            within += 1
        else:
            mine.add(key)
            kept.append(row)
    return kept, within, before


def measure(rows: list[list[str]], locale: str) -> str:
    """The net importable here on `rows`: recall, false alarms, past called danger."""
    from bot.danger import DangerNet, Kind

    net = DangerNet()
    said = [net.classify(row[2], locale).kind for row in rows]
    danger = [s for s, row in zip(said, rows, strict=True) if row[0] == "danger"]
    others = [(s, row[0]) for s, row in zip(said, rows, strict=True) if row[0] != "danger"]
    caught = sum(s is Kind.DANGER for s in danger)
    alarms = sum(s is Kind.DANGER for s, _ in others)
    past = sum(s is Kind.DANGER and v == "disclosure" for s, v in others)
    return (f"recall {caught / max(1, len(danger)):.3f} ({caught}/{len(danger)}), false alarms "
            f"{alarms / max(1, len(others)):.3f} ({alarms}/{len(others)}), past->danger {past}")


def counts(rows: list[list[str]]) -> str:
    """The README's counts row: per verdict, total, short and long danger, median words."""
    by = Counter(row[0] for row in rows)
    sizes = [len(row[2].split()) for row in rows]
    danger = [len(row[2].split()) for row in rows if row[0] == "danger"]
    return (f"| {by['danger']} | {by['disclosure']} | {by['none']} | {len(rows)} | "
            f"{sum(n < 5 for n in danger)} | {sum(n >= 35 for n in danger)} | "
            f"{statistics.median(sizes) if sizes else 0:g} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", help="path prefix of the writer's files, without _en.tsv")
    parser.add_argument("name", help="the copy's prefix in tests/data/safety, e.g. tune7a")
    parser.add_argument("--measure-only", action="store_true", help="write nothing")
    args = parser.parse_args(argv)
    for locale in ("en", "es"):
        rows = rows_of(Path(f"{args.source}_{locale}.tsv"))
        kept, within, before = fresh(rows, earlier(locale, args.name))
        print(f"{args.name}_{locale}: {len(rows)} rows, {within} repeats within, {before} "
              f"repeats of earlier files dropped, {len(kept)} kept")
        print(f"{args.name}_{locale}: net as importable here: {measure(kept, locale)}")
        if locale == "en":
            import bot.danger

            print(f"(the net of {Path(bot.danger.__file__).parents[2]})")
        print(f"{args.name}_{locale}: counts {counts(kept)}")
        if args.measure_only:
            continue
        # Written as read (csv.QUOTE_NONE): a quote mark in a message is a character of it.
        (DATA / f"{args.name}_{locale}.tsv").write_text(
            "".join("\t".join(row) + "\n" for row in [HEADER, *kept]), encoding="utf-8")


if __name__ == "__main__":
    main()
