"""bench/split_safety_heldout.py: every third row of each verdict, in file order, aside."""

from __future__ import annotations

from bench.split_safety_heldout import split


def test_split__every_third_row_of_each_verdict_goes_aside__in_file_order() -> None:
    rows = [["danger", "x", f"d{i}"] for i in range(1, 7)] + [
        ["none", "-", f"n{i}"] for i in range(1, 5)]
    rows.insert(2, ["disclosure", "history", "p1"])
    tune, aside = split(rows)
    assert [r[2] for r in aside] == ["d3", "d6", "n3"]
    assert [r[2] for r in tune] == ["d1", "d2", "p1", "d4", "d5", "n1", "n2", "n4"]
    assert sorted(map(tuple, tune + aside)) == sorted(map(tuple, rows))
