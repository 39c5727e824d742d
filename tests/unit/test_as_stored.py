"""`as_stored` gives what storing and loading an answer gives, whatever the value."""

from __future__ import annotations

import json
import random

import pytest

from bot.answer_cache import as_stored
from flows.answers import Periods, decode_value, encode_value
from flows.engine import AgeValue, Answer, Value


def round_trip(answer: Answer) -> Answer:
    """The answer through the store's own encoding (store/repos/answers.py), decoded."""
    if answer.value is None:
        return answer
    stored = json.loads(json.dumps(encode_value(answer.value), ensure_ascii=False))
    return Answer(decode_value(stored), answer.skips)


def some_value(rng: random.Random) -> Value | None:
    text = "".join(rng.choice("aé 3ñ\"\\\n😀") for _ in range(rng.randint(0, 8)))
    return rng.choice([
        None, text, rng.randint(-10**12, 10**12), rng.random() * 100, float(rng.randint(0, 9)),
        True, [text, "x"], [], AgeValue(3, rng.randint(3, 40), rng.choice([None, text])),
        Periods(["walked"], AgeValue(12, 18, None)),
    ])


@pytest.mark.parametrize("seed", range(20))
def test_as_stored__what_the_store_gives_back(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        answer = Answer(some_value(rng), rng.randint(0, 2))
        kept, loaded = as_stored(answer), round_trip(answer)
        assert kept == loaded and type(kept.value) is type(loaded.value), answer
