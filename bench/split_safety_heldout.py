"""Split a measured blind safety set into tuning and set-aside parts, without reading it.

    python -m bench.split_safety_heldout heldout5 tune6 aside6

Every third row of each verdict, in file order (the 3rd, 6th, 9th ...), goes to the
aside file (measuring only, never read while tuning); the rest to the tuning file. Rows
are copied whole (concern tags kept); the blind file is removed (git keeps its history).
Only counts are printed: whoever runs it does not see a message (docs/safety.md).
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "safety"
HEADER = ["verdict", "concern", "message"]


def split(rows: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """(tuning, aside): every third row of each verdict in file order goes aside."""
    seen: Counter[str] = Counter()
    tune: list[list[str]] = []
    aside: list[list[str]] = []
    for row in rows:
        seen[row[0]] += 1
        (aside if seen[row[0]] % 3 == 0 else tune).append(row)
    return tune, aside


def write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar=None,
                         lineterminator="\n")
        out.writerow(HEADER)
        out.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("blind", help="prefix of the measured blind set, e.g. heldout5")
    parser.add_argument("tune", help="prefix of the tuning part, e.g. tune6")
    parser.add_argument("aside", help="prefix of the set-aside part, e.g. aside6")
    args = parser.parse_args(argv)
    for locale in ("en", "es"):
        source = DATA / f"{args.blind}_{locale}.tsv"
        with source.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader)
            rows = [row for row in reader if row]
        if header != HEADER or any(len(row) != 3 for row in rows):
            raise SystemExit(f"{source.name}: expected 3 tab-separated fields {HEADER}")
        tune, aside = split(rows)
        write(DATA / f"{args.tune}_{locale}.tsv", tune)
        write(DATA / f"{args.aside}_{locale}.tsv", aside)
        source.unlink()
        for name, part in ((args.tune, tune), (args.aside, aside)):
            counts = Counter(row[0] for row in part)
            print(f"{name}_{locale}.tsv: " + ", ".join(
                f"{counts[v]} {v}" for v in ("danger", "disclosure", "none")))


if __name__ == "__main__":
    main()
