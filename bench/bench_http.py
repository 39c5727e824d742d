"""Black box over real HTTP: `hearth run` beside a bare PTB bot and the ConversationHandler peer.

Every bot is its own process, polling a fake Bot API served by this process on loopback
(HTTP/1.1, keep-alive) that answers every call after `--delay-ms` (the round trip). The
simulated caregivers live here too: each sends its next update only once it has seen the
reply to the last one. Several Hearth processes run side by side, differing only in the
HTTP client's pool size (HEARTH_TELEGRAM_CONNECTIONS). All bots stay up for the whole
run; in each round every contender gets one timed window while the others sit idle in
their long poll. Figures per contender: updates/s, reply latency p50/p99, the bot
process's CPU per update, and how often getUpdates handed each update out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bench._common import (
    Caregiver,
    Move,
    View,
    catalog,
    header,
    median,
    percentile,
    spread,
    temp_dir,
)
from bench._telegram import BOT_USER, TOKEN, update_json
from bot.model import Kind

FIRST_USER = 20_000
ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


# -- the fake Bot API ---------------------------------------------------------------------------


class FakeBotApi:
    """A Bot API on loopback: getUpdates with offsets and long polling; messages go to the
    person whose chat they name."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.pending: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        self.people: dict[int, Person] = {}
        self.handed_out: Counter[int] = Counter()
        self.first_handed: dict[int, float] = {}  # update id -> when getUpdates first gave it
        self.polls = 0
        self.beyond = 0  # summed over polls: updates waiting past the poll's limit
        self.calls = 0
        self.polled = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.connection, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def push(self, data: dict[str, Any]) -> None:
        self.pending.append(data)
        self.arrived.set()

    async def connection(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                target = line.split(b" ")[1].decode()
                headers: dict[str, str] = {}
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                params = self.params(body, headers.get("content-type", ""))
                result = await self.call(target.rsplit("/", 1)[-1], params)
                payload = json.dumps({"ok": True, "result": result}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    @staticmethod
    def params(body: bytes, content_type: str) -> dict[str, Any]:
        if not body:
            return {}
        if "json" in content_type:
            loaded: dict[str, Any] = json.loads(body)
            return loaded
        return dict(parse_qsl(body.decode()))

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if method == "getUpdates":
            return await self.get_updates(params)
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if method in ("sendMessage", "editMessageText"):
            chat = int(params["chat_id"])
            message_id = int(params.get("message_id") or next(self.message_ids))
            markup = params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            buttons = [(b["text"], b["callback_data"])
                       for row in (markup or {}).get("inline_keyboard", []) for b in row]
            person = self.people.get(chat)
            if person is not None:
                person.shown(message_id, View(str(params["text"]), buttons))
            message: dict[str, Any] = {
                "message_id": message_id, "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Caregiver"},
                "from": BOT_USER, "text": params["text"]}
            if markup:
                message["reply_markup"] = markup
            return message
        return True

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polled.set()
        self.polls += 1
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.perf_counter() + timeout
        while True:
            if offset:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
            if self.pending or time.perf_counter() >= deadline:
                break
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), deadline - time.perf_counter())
        handed = self.pending[:limit]
        # Updates past getUpdates' limit (100): a bot that confirms only what it handled
        # cannot see them until the oldest in hand are done.
        self.beyond += max(0, len(self.pending) - limit)
        now = time.perf_counter()
        for update in handed:
            self.handed_out[update["update_id"]] += 1
            self.first_handed.setdefault(update["update_id"], now)
        return handed


# -- the people -----------------------------------------------------------------------------------


class Person:
    """One caregiver: sends a move, waits until the replies show what to do next."""

    def __init__(self, api: FakeBotApi, user: int, caregiver: Caregiver | None,
                 think: float = 0.0) -> None:
        self.api = api
        #: Mean seconds a person takes to read the reply and answer (0: at once); each
        #: pause is drawn uniformly from 0 to twice that, never counted in the latency.
        self.think = think
        self.rng = random.Random(user)
        self.user = user
        self.caregiver = caregiver  # None: a tapper (first button shown, else /start)
        self.messages: list[tuple[int, View]] = []
        self.since: list[View] = []
        self.waiting: asyncio.Future[Move | None] | None = None
        self.incoming = itertools.count(1)
        self.move: Move | None = caregiver.first() if caregiver else Move(Kind.COMMAND, "start")
        #: Of the last step: seconds from sending to getUpdates handing the update out.
        self.unfetched = 0.0
        api.people[user] = self

    def shown(self, message_id: int, view: View) -> None:
        self.messages = [*self.messages[-6:], (message_id, view)]
        if self.waiting is None or self.waiting.done():
            return
        self.since.append(view)
        if self.caregiver is None:
            move = (Move(Kind.CHOICE, view.buttons[0][1]) if view.buttons
                    else Move(Kind.COMMAND, "start"))
            self.waiting.set_result(move)
            return
        try:
            move = self.caregiver.next(self.since)
        except RuntimeError:
            return  # not the whole reply yet: a question to act on is still to come
        self.waiting.set_result(move)

    async def step(self) -> float | None:
        """Send the next move; the seconds until its reply was seen (None: no reply)."""
        move = self.move
        if move is None:
            return None
        if self.think:
            await asyncio.sleep(self.rng.uniform(0, 2 * self.think))
        pressed = None
        if move.kind is Kind.CHOICE:
            pressed = next((m for m, v in reversed(self.messages)
                            if any(p == move.payload for _, p in v.buttons)), None)
        data = update_json(next(self.api.ids), self.user, move, pressed,
                           lambda: next(self.incoming))
        self.since = []
        self.waiting = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        self.api.push(data)
        try:
            self.move = await asyncio.wait_for(self.waiting, 60)
        except TimeoutError:
            self.move = None  # lost: counted by the caller
            return None
        self.unfetched = self.api.first_handed.pop(data["update_id"], started) - started
        return time.perf_counter() - started


# -- the contenders --------------------------------------------------------------------------------


@dataclass
class Window:
    replies: int
    seconds: float
    latencies: list[float]
    cpu: float  # the bot process's CPU seconds
    lost: int
    #: This process's CPU seconds in the window: the fake Bot API and the crowd (the
    #: harness). Near `seconds` it is the harness, not the bot, that sets the pace.
    harness: float = 0.0
    #: Per reply: seconds the update waited at the fake Bot API before a getUpdates took it
    #: (the rest of the latency is in the bot).
    unfetched: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.replies / self.seconds


@dataclass
class Contender:
    name: str
    command: list[str]
    env: dict[str, str]
    api: FakeBotApi
    people: list[Person] = field(default_factory=list)
    process: asyncio.subprocess.Process | None = None
    log: Path | None = None

    async def launch(self, folder: Path) -> None:
        await self.api.start()
        env = dict(os.environ, **self.env)
        env["HEARTH_TELEGRAM_BASE_URL"] = self.api.base_url
        self.log = folder / f"{self.name}.log"
        command = [c.replace("{base_url}", self.api.base_url) for c in self.command]
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
        try:
            await asyncio.wait_for(self.api.polled.wait(), 60)
        except TimeoutError:
            raise RuntimeError(f"{self.name} never polled; see {self.log}") from None

    def problems(self) -> int:
        """Warnings and errors the bot logged (failed sends, pool timeouts...)."""
        if self.log is None or not self.log.exists():
            return 0
        text = self.log.read_text(errors="replace")
        return text.count(" WARNING ") + text.count(" ERROR ") + text.count("Traceback")

    def cpu(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    async def warm(self, steps: int) -> None:
        for _ in range(steps):
            await asyncio.gather(*(p.step() for p in self.people))

    async def window(self, ramp: float, seconds: float) -> Window:
        """People answer from now on; what finished in [now + ramp, now + ramp + seconds]
        counts (the ramp lets replies reach their steady rate first)."""
        latencies: list[float] = []
        unfetched: list[float] = []
        lost = 0
        start = time.perf_counter() + ramp
        deadline = start + seconds

        async def person(p: Person) -> None:
            nonlocal lost
            while time.perf_counter() < deadline and p.move is not None:
                took = await p.step()
                if took is None:
                    lost += p.caregiver is None or not p.caregiver.done
                    return
                if start <= time.perf_counter() <= deadline:
                    latencies.append(took)
                    unfetched.append(p.unfetched)

        work = asyncio.gather(*(person(p) for p in self.people))
        await asyncio.sleep(ramp)
        cpu, own = self.cpu(), time.process_time()
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        cpu, own = self.cpu() - cpu, time.process_time() - own
        await work
        return Window(len(latencies), seconds, latencies, cpu, lost, own, unfetched)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self.api.stop()


def hearth_command() -> list[str]:
    found = shutil.which("hearth") or str(Path(sys.executable).parent / "hearth")
    return [found, "run"] if Path(found).exists() else [sys.executable, "-m", "bot.cli", "run"]


async def run(args: argparse.Namespace) -> None:
    delay = args.delay_ms / 1000
    cat = catalog()
    flow = cat.latest(cat.default_flow)
    header("Over real HTTP: `hearth run`, a bare PTB bot, the ConversationHandler peer")
    print(f"-- {args.people} caregivers per bot, {args.delay_ms:g} ms per Bot API call, "
          f"{args.seconds:g} s windows after {args.ramp:g} s of ramp, {args.rounds} interleaved "
          f"rounds; flow {flow.id}; think time {args.think_ms:g} ms mean")
    with temp_dir() as folder:
        contenders: list[Contender] = []
        trees = [("", None)] + [("-" + Path(d).name, d) for d in args.before]
        for (suffix, tree), client, pool, active, sync in itertools.product(
                trees, args.clients, args.pools, args.concurrency or [None],
                args.synchronous or [None]):
            api = FakeBotApi(delay)
            name = (f"hearth-c{pool}" + ("" if client == "aiohttp" else f"-{client}")
                    + (f"-a{active}" if active else "")
                    + (f"-{sync.lower()}" if sync else "") + suffix)
            env = {"HEARTH_TELEGRAM_TOKEN": TOKEN,
                   "HEARTH_DATABASE": str(folder / f"{name}.db"),
                   "HEARTH_TELEGRAM_MAX_RATE": "0", "HEARTH_TELEGRAM_CONNECTIONS": str(pool),
                   "HEARTH_TELEGRAM_CLIENT": client, "HEARTH_FLOW": flow.id}
            if args.data_key:
                env["HEARTH_DATA_KEY"] = args.data_key
            if active:
                env["HEARTH_TELEGRAM_CONCURRENCY"] = str(active)
            if sync:
                env["HEARTH_SYNCHRONOUS"] = sync
            command = hearth_command()
            if tree is not None:  # the code before a change, from its own tree
                env["PYTHONPATH"] = tree
                command = [sys.executable, "-m", "bot.cli", "run"]
            contenders.append(Contender(name, command, env, api,
                [Person(api, FIRST_USER + u, Caregiver(flow, 7 * u + pool), args.think)
                 for u in range(args.people)]))
        others = [((f"bare-c{pool}" if pool != 256 else "bare")
                   + ("" if client == "httpx" else f"-{client}"), "bare", pool, client)
                  for client in args.bare_clients for pool in args.bare_pools]
        others += [("peer", "peer", 256, "httpx")] if args.peer else []
        for name, kind, pool, client in others:
            api = FakeBotApi(delay)
            command = [sys.executable, "-m", "bench._bots", kind, "--base-url", "{base_url}",
                       "--token", TOKEN, "--database", str(folder / "peer.db"),
                       "--pool", str(pool), "--client", client]
            contenders.append(Contender(name, command, {"PYTHONPATH": str(ROOT)}, api,
                                        [Person(api, FIRST_USER + u, None, args.think)
                                         for u in range(args.people)]))
        try:
            for c in contenders:
                await c.launch(folder)
            for c in contenders:
                await c.warm(2 if c.name.startswith("hearth") else 1)
            print("   all bots up and warmed (Hearth: /start and consent; the others: /start)",
                  flush=True)
            results: dict[str, list[Window]] = {c.name: [] for c in contenders}
            for round_ in range(args.rounds):
                shift = round_ % len(contenders)
                for c in contenders[shift:] + contenders[:shift]:
                    results[c.name].append(await c.window(args.ramp, args.seconds))
                    await asyncio.sleep(0.5)  # let the last replies settle
                print(f"   round {round_ + 1}: " + ", ".join(
                    f"{n} {w[-1].rate:,.0f}/s" for n, w in results.items()), flush=True)
        finally:
            for c in contenders:
                await c.stop()
        report(contenders, results, args)
        print("   warnings/errors logged: " + ", ".join(
            f"{c.name} {c.problems()}" for c in contenders))


def report(contenders: list[Contender], results: dict[str, list[Window]],
           args: argparse.Namespace) -> None:
    print(f"   {'bot':<12} {'replies/s':>9} {'spread':>7} {'p50':>8} {'p99':>8} "
          f"{'CPU/upd':>8} {'fetched':>8} {'polls/upd':>9} {'lost':>5} {'bot CPU':>8} "
          f"{'harness':>8} {'unseen':>6}")
    for c in contenders:
        windows = results[c.name]
        lat = [x for w in windows for x in w.latencies]
        cpu = sum(w.cpu for w in windows) / max(1, sum(w.replies for w in windows))
        handed = c.api.handed_out
        fetched = sum(handed.values()) / max(1, len(handed))
        polls = c.api.polls / max(1, len(handed))
        print(f"   {c.name:<12} {median([w.rate for w in windows]):>9,.1f} "
              f"{spread([w.rate for w in windows]):>7} {1000 * percentile(lat, 50):>6,.0f}ms "
              f"{1000 * percentile(lat, 99):>6,.0f}ms {1000 * cpu:>6.1f}ms {fetched:>7.1f}x "
              f"{polls:>9.2f} "
              f"{sum(w.lost for w in windows):>5} "
              f"{median([w.cpu / w.seconds for w in windows]):>7.0%} "
              f"{median([w.harness / w.seconds for w in windows]):>7.0%} "
              f"{c.api.beyond / max(1, c.api.polls):>6.0f}")
    print("   where the wait was: at the Bot API before a getUpdates took the update / in the "
          "bot after (p50, p99)")
    for c in contenders:
        windows = results[c.name]
        waits = [x for w in windows for x in w.unfetched]
        inside = [t - u for w in windows for t, u in zip(w.latencies, w.unfetched, strict=True)]
        print(f"   {c.name:<18} unfetched {1000 * percentile(waits, 50):>5,.0f} / "
              f"{1000 * percentile(waits, 99):>5,.0f} ms   in the bot "
              f"{1000 * percentile(inside, 50):>5,.0f} / {1000 * percentile(inside, 99):>5,.0f} ms")
    names = list(results)
    hearths = [n for n in names if n.startswith("hearth")]
    for h in hearths:
        for other in [n for n in names if n.startswith("bare") or n == "peer"]:
            goal = "goal >= 0.8" if other.startswith("bare") else ""
            ratios = [a.rate / b.rate for a, b in zip(results[h], results[other], strict=True)]
            print(f"   {h + ' / ' + other:<22} {median(ratios):5.2f} (spread {spread(ratios)}; "
                  f"rounds {', '.join(f'{r:.2f}' for r in ratios)}) {goal}")
    for h in names:
        lat = [x for w in results[h] for x in w.latencies]
        print(f"   {h}: p99 reply latency {1000 * percentile(lat, 99):,.0f} ms at "
              f"{args.people} caregivers (goal < 1,000 ms): "
              f"{'met' if percentile(lat, 99) < 1 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=8.0, help="timed window")
    parser.add_argument("--ramp", type=float, default=4.0,
                        help="untimed seconds before each window (replies reach a steady rate)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pools", type=int, nargs="+", default=[256, 16, 8],
                        help="HEARTH_TELEGRAM_CONNECTIONS, one Hearth process each")
    parser.add_argument("--bare-pools", type=int, nargs="+", default=[256, 8],
                        help="connection_pool_size of the bare bot, one process each "
                             "(256: PTB's default, shown as `bare`)")
    parser.add_argument("--clients", nargs="+", default=["aiohttp"],
                        choices=["aiohttp", "httpx"],
                        help="HEARTH_TELEGRAM_CLIENT, one Hearth process per client and pool")
    parser.add_argument("--bare-clients", nargs="+", default=["httpx", "aiohttp"],
                        choices=["aiohttp", "httpx"],
                        help="the bare bot's HTTP client: PTB's httpx, or Hearth's aiohttp")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="mean time a person takes to answer after seeing the reply "
                             "(uniform 0 to twice it; 0: at once, a closed loop)")
    parser.add_argument("--before", metavar="DIR", nargs="+", default=[],
                        help="also run Hearth from each DIR (the code before a change: "
                             "`git archive main | tar -x -C DIR`), named hearth-c<pool>-<DIR's "
                             "name>")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[],
                        help="HEARTH_TELEGRAM_CONCURRENCY (updates handled at once), one "
                             "Hearth process each (default: its own default)")
    parser.add_argument("--synchronous", nargs="+", default=[],
                        choices=["FULL", "NORMAL"],
                        help="HEARTH_SYNCHRONOUS, one Hearth process each (NORMAL: to "
                             "see what the commit's fsync costs, not for production)")
    parser.add_argument("--data-key", metavar="KEY",
                        help="HEARTH_DATA_KEY for every Hearth (sealed store; hearth keygen)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                        help="run the ConversationHandler peer too")
    args = parser.parse_args()
    args.think = args.think_ms / 1000
    args.before = [str(Path(d).resolve()) for d in args.before]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
