"""A keyboard's payloads built from one shared head (bot.payload.encoder) are the payloads."""

from __future__ import annotations

import random

from bot.payload import Action, Payload, decode, encoder
from store.repos.interviews import new_interview_id


def test_encoder__any_button__same_as_payload_encode_and_decodes_back() -> None:
    rng = random.Random()
    for _ in range(300):
        interview_id = new_interview_id()
        revision = rng.randrange(0, 10**9)
        tag = rng.choice(["-", str(rng.randrange(1, 999)),
                          f"{rng.randrange(1, 999)}.{rng.randrange(0, 99)}"])
        action = rng.choice(list(Action))
        arg = rng.choice([None, rng.randrange(0, 20), rng.randrange(0, 9999)])
        built = encoder(interview_id, revision, tag)(action, arg)
        assert built == Payload(interview_id, revision, tag, action, arg).encode()
        assert decode(built) == Payload(interview_id, revision, tag, action, arg)
