"""Hearth against the ConversationHandler peer and PTB's bare reply, in-process, interleaved.

One run, `--rounds` rounds; in each round every contender gets the same timed window
over the same offline Bot API (a fixed round trip per call), each with `--people`
simulated caregivers who send their next update only after seeing the reply:

- hearth        Hearth's adapter (bot/telegram handlers, Sender, per-person order) and
                the real DialogueService on a SQLite file (WAL, FULL).
- hearth-typed  the same, with the Sender as it was before issue 18 (every reply built
                back into a Message, keyboards built as PTB objects): before/after.
- zero-cost     Hearth's adapter with a service that costs nothing (a canned question
                with four buttons): the design's own limit.
- bare          PTB's bare reply: one sendMessage per update, no state, same processor.
- peer          bench/_peer.py: a ConversationHandler intake bot, one update at a time,
                one durable SQLite commit per answer.

Then the order check: several updates in flight per person, a random delay on every
Bot API call, through PTB's unordered processor and through Hearth's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import random
import sqlite3
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes, TypeHandler

from bench._common import (
    Caregiver,
    Timer,
    catalog,
    check_answers,
    header,
    median,
    percentile,
    spread,
    temp_dir,
)
from bench._peer import peer_application
from bench._telegram import (
    BOT_USER,
    TOKEN,
    App,
    OfflineRequest,
    Session,
    Traffic,
    hearth_application,
    processor,
    user_json,
)
from bot.model import Choice, Inbound, Kind, Outbound
from bot.service import DialogueService
from bot.telegram.sending import Sender, keyboard, split_text
from store.sqlite import Store

FIRST_USER = 10_000
CONTENDERS = ("hearth", "hearth-typed", "zero-cost", "bare", "peer")


@dataclass
class Run:
    """One timed window of one contender."""

    updates: int
    seconds: float
    latencies: list[float]
    calls: int
    #: CPU seconds of this whole process in the window (every contender shares it, but
    #: only one runs at a time): per update, what the bot, PTB and the caregivers cost.
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def calls_per_update(self) -> float:
        return self.calls / max(1, self.updates)


async def started(app: App) -> None:
    await app.initialize()
    await app.start()


async def stopped(app: App) -> None:
    await app.stop()
    await app.shutdown()


# -- the Sender before issue 18 (for the before/after in the same run) -----------------------


class TypedSender(Sender):
    """The Sender as it was: typed Bot methods, a Message built from every answer."""

    async def send(self, chat_id: int | str, outbound: Outbound) -> None:
        chunks = split_text(outbound.text)
        markup = keyboard(outbound.choices)
        for index, chunk in enumerate(chunks):
            buttons = markup if index == len(chunks) - 1 else None
            await self.call("sendMessage", chat_id, lambda c=chunk, b=buttons:  # type: ignore[misc]
                            self.bot.send_message(chat_id, c, reply_markup=b))

    async def edit(self, message: Message, outbound: Outbound) -> None:
        await self.call("editMessageText", message.chat.id, lambda: self.bot.edit_message_text(
            outbound.text, chat_id=message.chat.id, message_id=message.message_id,
            reply_markup=keyboard(outbound.choices)))


# -- a service that costs nothing --------------------------------------------------------------


class ZeroService:
    """Answers every event at once with a canned question (four buttons): no store, no
    flow. Through Hearth's adapter it measures what the adapter and PTB cost alone."""

    def __init__(self) -> None:
        self.store = None
        text = ("Question 12 of 74 · Sleep\nHow does your child usually fall asleep at night? "
                "Choose the answer closest to the last month.")
        choices = [[Choice(label, f"1:a:12:0:o{n}")] for n, label in
                   enumerate(["Easily", "With some help", "With a lot of help", "I don't know"])]
        self.new = [Outbound(text, choices=choices)]
        self.edited = [Outbound(text, choices=choices, replace=True)]

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        return self.edited if inbound.kind is Kind.CHOICE else self.new


# -- a simple person: taps the first button shown, or sends /start ----------------------------


class Tapper:
    """Taps the first button of the last message it was sent; /start when there is none."""

    def __init__(self, user: int, request: OfflineRequest) -> None:
        self.user = user
        self.inbox = request.inbox.setdefault(user, [])
        self.incoming = itertools.count(1)

    def update(self, update_id: int) -> dict[str, Any]:
        chat = {"id": self.user, "type": "private", "first_name": f"Caregiver{self.user}"}
        last = self.inbox[-1] if self.inbox else None
        if last is not None and last.view.buttons:
            return {"update_id": update_id, "callback_query": {
                "id": str(update_id), "from": user_json(self.user),
                "chat_instance": str(self.user), "data": last.view.buttons[0][1],
                "message": {"message_id": last.message_id, "date": int(time.time()),
                            "chat": chat, "from": BOT_USER, "text": "…"}}}
        return {"update_id": update_id, "message": {
            "message_id": next(self.incoming), "date": int(time.time()), "chat": chat,
            "from": user_json(self.user), "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}

    async def run(self, traffic: Traffic, deadline: float) -> None:
        while time.perf_counter() < deadline:
            await traffic.send(self.update(next(traffic.update_ids)))
            del self.inbox[:-2]


# -- the contenders --------------------------------------------------------------------------


class Contender:
    """One bot under test, kept across rounds (its people continue where they were)."""

    name = ""
    note = ""

    async def warm(self) -> None:
        """Bring everyone past the first messages, untimed."""

    async def window(self, ramp: float, seconds: float) -> Run:
        raise NotImplementedError

    async def close(self) -> list[str]:
        return []


async def timed(app: App, request: OfflineRequest, traffic: Traffic, ramp: float,
                seconds: float, people: Callable[[float], list[Awaitable[Any]]]) -> Run:
    """Run the people against `app`: `ramp` seconds untimed (until replies flow at the
    steady rate), then count what finished in the next `seconds`."""
    await started(app)
    first = len(traffic.latencies)
    start = time.perf_counter() + ramp
    deadline = start + seconds

    async def guarded(work: Awaitable[Any]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await work

    tasks = [asyncio.create_task(guarded(p)) for p in people(deadline)]
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    calls, cpu = request.calls, time.process_time()
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
    calls, cpu = request.calls - calls, time.process_time() - cpu
    traffic.drop_pending()
    await asyncio.gather(*tasks, return_exceptions=True)
    await stopped(app)
    return measured(traffic, first, start, seconds, calls, cpu)


class TapperContender(Contender):
    """Tappers against one app kept running across rounds (bare, zero-cost, peer): the
    peer's ConversationHandler keeps each person's state in that app's memory."""

    def __init__(self, name: str, people: int, delay: float,
                 build: Callable[[OfflineRequest], App], note: str) -> None:
        self.name, self.note = name, note
        self.request = OfflineRequest(delay)
        self.app = build(self.request)
        self.traffic = Traffic(self.app, self.request)
        self.traffic.install()
        self.tappers = [Tapper(FIRST_USER + u, self.request) for u in range(people)]
        self.running = False

    async def warm(self) -> None:
        """Everyone's first update (/start) untimed: the windows then time answers."""
        await started(self.app)
        self.running = True
        await asyncio.gather(*(self.traffic.send(t.update(next(self.traffic.update_ids)))
                               for t in self.tappers))

    async def window(self, ramp: float, seconds: float) -> Run:
        traffic = self.traffic
        traffic.latencies, traffic.ended = [], []
        start = time.perf_counter() + ramp
        deadline = start + seconds

        async def guarded(work: Awaitable[Any]) -> None:
            with contextlib.suppress(asyncio.CancelledError):
                await work

        tasks = [asyncio.create_task(guarded(t.run(traffic, deadline))) for t in self.tappers]
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        calls, cpu = self.request.calls, time.process_time()
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        calls, cpu = self.request.calls - calls, time.process_time() - cpu
        traffic.drop_pending()
        await asyncio.gather(*tasks, return_exceptions=True)
        run = measured(traffic, 0, start, seconds, calls, cpu)
        # The sequential peer may still be inside one update: let it finish untimed.
        await self.app.update_queue.join()
        return run

    async def close(self) -> list[str]:
        if self.running:
            await stopped(self.app)
        return []


class HearthContender(Contender):
    """Caregivers completing the real interview through Hearth's adapter and service."""

    def __init__(self, name: str, store: Store, people: int, delay: float,
                 sender: type[Sender] | None, seed: int) -> None:
        self.name = name
        cat = catalog()
        flow = cat.latest(cat.default_flow)
        self.store = store
        self.service = DialogueService(store, cat)
        self.request = OfflineRequest(delay)
        self.sender = sender
        self.ids = itertools.count(1)
        self.sessions = [Session(Caregiver(flow, seed * 1_000_003 + u), FIRST_USER + u,
                                 self.request) for u in range(people)]
        self.done_ids: set[int] = set()
        self.errors: list[str] = []

    def app(self) -> tuple[App, Traffic]:
        app, self.note = hearth_application(self.request, self.service, True,  # type: ignore[arg-type]
                                            sender=self.sender)
        traffic = Traffic(app, self.request, self.ids)
        traffic.install()
        return app, traffic

    async def warm(self) -> None:
        """/start and consent for everyone, untimed."""
        app, traffic = self.app()
        await started(app)
        await asyncio.gather(*(s.run(traffic, max_steps=2) for s in self.sessions))
        await stopped(app)
        self.done_ids |= traffic.done_ids
        self.errors += traffic.errors

    async def window(self, ramp: float, seconds: float) -> Run:
        app, traffic = self.app()
        run = await timed(app, self.request, traffic, ramp, seconds, lambda deadline: [
            s.run(traffic, deadline=deadline) for s in self.sessions])
        self.done_ids |= traffic.done_ids
        self.errors += traffic.errors
        return run

    async def close(self) -> list[str]:
        await self.store.close()
        problems = self.errors[:3]
        problems += check_answers(self.store.path, "telegram",
                                  {str(s.user): s.confirmed for s in self.sessions})
        conn = sqlite3.connect(self.store.path)
        try:
            stored = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        finally:
            conn.close()
        if stored != len(self.done_ids):
            problems.append(f"{stored} deliveries stored for {len(self.done_ids)} updates")
        return problems


def bare_app(request: OfflineRequest) -> App:
    """PTB's bare reply: one sendMessage per update, Hearth's processor."""
    from telegram.ext import ApplicationBuilder

    app = (ApplicationBuilder().token(TOKEN).request(request).updater(None)
           .concurrent_updates(processor(True)).build())

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "ok")

    app.add_handler(TypeHandler(Update, reply))
    return app


def zero_app(request: OfflineRequest) -> App:
    app, _ = hearth_application(request, ZeroService(), True)  # type: ignore[arg-type]
    return app


# -- the interleaved run ------------------------------------------------------------------------


@dataclass
class Table:
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def add(self, name: str, run: Run) -> None:
        self.runs.setdefault(name, []).append(run)

    def ratio(self, a: str, b: str) -> list[float]:
        return [x.rate / y.rate for x, y in zip(self.runs[a], self.runs[b], strict=True)]


def measured(traffic: Traffic, first: int, start: float, seconds: float, calls: int,
             cpu: float = 0.0) -> Run:
    """The updates that finished inside [start, start + seconds], from index `first` on."""
    inside = [lat for lat, end in zip(traffic.latencies[first:], traffic.ended[first:],
                                      strict=True) if start <= end <= start + seconds]
    return Run(len(inside), seconds, inside, calls, cpu)


def ms(seconds: float) -> str:
    return f"{1000 * seconds:,.0f} ms"


async def throughput(folder: Path, args: argparse.Namespace) -> None:
    delay = args.delay_ms / 1000
    people = args.people
    print(f"-- {people} caregivers per contender, {args.delay_ms:g} ms per Bot API call, "
          f"{args.seconds:g} s windows after {args.ramp:g} s of ramp, {args.rounds} "
          f"interleaved rounds")
    contenders: list[Contender] = []
    hearths: list[HearthContender] = []
    for name, sender in (("hearth", None), ("hearth-typed", TypedSender)):
        if name not in args.only:
            continue
        h = HearthContender(name, await Store.open(folder / f"{name}.db", "FULL"), people,
                            delay, sender, seed=len(hearths))
        hearths.append(h)
        contenders.append(h)
    if "zero-cost" in args.only:
        contenders.append(TapperContender("zero-cost", people, delay, zero_app,
                                          "Hearth's adapter, zero-cost service"))
    if "bare" in args.only:
        contenders.append(TapperContender("bare", people, delay, bare_app,
                                          "PTB bare reply, per-person processor"))
    if "peer" in args.only:
        contenders.append(TapperContender(
            "peer", people, delay,
            lambda req: peer_application(folder / "peer.db", token=TOKEN, request=req),
            "ConversationHandler, 10 states, sequential, 1 commit/answer"))
    with Timer() as warming:
        for contender in contenders:
            await contender.warm()
    print(f"   warm-up (everyone's first updates, untimed): {warming.seconds:.0f} s", flush=True)
    table = Table()
    for round_ in range(args.rounds):
        order = contenders[round_ % len(contenders):] + contenders[:round_ % len(contenders)]
        for contender in order:
            table.add(contender.name, await contender.window(args.ramp, args.seconds))
        print(f"   round {round_ + 1}: " + ", ".join(
            f"{c.name} {table.runs[c.name][-1].rate:,.0f}/s" for c in contenders), flush=True)
    problems = []
    for contender in contenders:
        problems += await contender.close()
    print(f"   {'contender':<13} {'updates/s':>10} {'spread':>7} {'calls/upd':>9} "
          f"{'p50':>9} {'p99':>9} {'CPU/upd':>8}   what")
    for contender in contenders:
        runs = table.runs[contender.name]
        lat = [x for r in runs for x in r.latencies]
        calls = sum(r.calls for r in runs) / max(1, sum(r.updates for r in runs))
        print(f"   {contender.name:<13} {median([r.rate for r in runs]):>10,.1f} "
              f"{spread([r.rate for r in runs]):>7} {calls:>9.2f} "
              f"{ms(percentile(lat, 50)):>9} {ms(percentile(lat, 99)):>9} "
              f"{median([1e3 * r.cpu / max(1, r.updates) for r in runs]):>6.2f}ms"
              f"   {contender.note}")
    names = {c.name for c in contenders}
    for a, b, goal in (("hearth", "peer", "aim 30x"), ("hearth", "bare", "goal >= 0.5"),
                       ("hearth", "zero-cost", "how close the step comes to the design limit"),
                       ("zero-cost", "bare", "the design limit against the bare reply"),
                       ("hearth", "hearth-typed", "lean Sender: after / before")):
        if a in names and b in names:
            ratios = table.ratio(a, b)
            print(f"   {a + ' / ' + b:<26} {median(ratios):6.2f}  (spread {spread(ratios)}; "
                  f"rounds {', '.join(f'{r:.2f}' for r in ratios)}) {goal}")
    print(f"   Hearth checks (order, exactly-once, deliveries): "
          f"{'PASS' if not problems else 'FAIL ' + '; '.join(problems[:3])}")


# -- the order check --------------------------------------------------------------------------


class JitteryRequest(OfflineRequest):
    """The offline Bot API with a random delay, 0 to `most` seconds, on every call."""

    def __init__(self, most: float, seed: int) -> None:
        super().__init__(0.0)
        self.most = most
        self.rng = random.Random(seed)

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None
                         ) -> tuple[int, bytes]:
        await asyncio.sleep(self.rng.uniform(0, self.most))
        return await super().do_request(url, method, request_data)


class Recorder:
    """The real service, noting per person when each update reaches it and whether two
    of one person's updates were inside it at once."""

    def __init__(self, inner: DialogueService) -> None:
        self.inner, self.store = inner, inner.store
        self.arrived: dict[str, list[int]] = {}
        self.inside: dict[str, int] = {}
        self.overlaps = 0

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        user = inbound.user_id
        self.arrived.setdefault(user, []).append(int(inbound.delivery_id.split(":")[1]))
        if self.inside.get(user):
            self.overlaps += 1
        self.inside[user] = self.inside.get(user, 0) + 1
        try:
            return await self.inner.handle(inbound)
        finally:
            self.inside[user] -= 1


async def order_round(path: Path, people: int, in_flight: int, most: float, *,
                      unordered: bool, seed: int) -> tuple[int, int, int]:
    """(people whose updates reached the service out of order, overlapping steps, updates)."""
    cat = catalog()
    store = await Store.open(path, "FULL")
    recorder = Recorder(DialogueService(store, cat))
    request = JitteryRequest(most, seed)
    app, _ = hearth_application(request, recorder, True, unordered=unordered)  # type: ignore[arg-type]
    traffic = Traffic(app, request)
    traffic.install()
    await started(app)
    tappers = [Tapper(FIRST_USER + u, request) for u in range(people)]
    await asyncio.gather(*(traffic.send(t.update(next(traffic.update_ids))) for t in tappers))
    sent: dict[str, list[int]] = {}

    async def burst(tapper: Tapper) -> None:
        # Several updates in flight at once, as when a person taps and types quickly.
        datas = [tapper.update(next(traffic.update_ids)) for _ in range(in_flight)]
        sent[str(tapper.user)] = [d["update_id"] for d in datas]
        await asyncio.gather(*(traffic.send(d) for d in datas))

    await asyncio.gather(*(burst(t) for t in tappers))
    await stopped(app)
    await store.close()
    reordered = sum(
        1 for user, ids in sent.items()
        if [i for i in recorder.arrived.get(user, []) if i in set(ids)] != ids)
    return reordered, recorder.overlaps, people * in_flight


async def order_check(folder: Path, args: argparse.Namespace) -> None:
    print(f"-- order check: {args.order_people} people, {args.in_flight} updates in flight "
          f"each (a tap's answerCallbackQuery precedes its step), 0-{args.jitter_ms:g} ms "
          f"random delay on every Bot API call, {args.rounds} rounds")
    for unordered, label in ((True, "PTB's unordered processor"),
                             (False, "Hearth's PerPersonUpdateProcessor")):
        results = [await order_round(folder / f"o{unordered}{r}.db", args.order_people,
                                     args.in_flight, args.jitter_ms / 1000,
                                     unordered=unordered, seed=r) for r in range(args.rounds)]
        bad = [r for r, _, _ in results]
        overlaps = [o for _, o, _ in results]
        verdict = "PASS" if not any(bad) and not any(overlaps) else "FAIL"
        print(f"   {label:<34}: {verdict}: people out of order per round "
              f"{bad} of {args.order_people}; one person's steps overlapping {overlaps}")


async def main() -> None:
    for name in ("bot", "telegram", "store", "httpx"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message=".*per_message.*")
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=6.0, help="timed window per contender")
    parser.add_argument("--ramp", type=float, default=5.0,
                        help="untimed seconds before each window (replies reach a steady rate)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--order-people", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=3)
    parser.add_argument("--jitter-ms", type=float, default=30.0)
    parser.add_argument("--skip", choices=["throughput", "order"], default=None)
    args = parser.parse_args()
    header("Telegram in-process: Hearth, the ConversationHandler peer, PTB's bare reply")
    print(f"   flow {catalog().default_flow}")
    with temp_dir() as folder:
        if args.skip != "throughput":
            await throughput(folder, args)
        if args.skip != "order":
            await order_check(folder, args)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
