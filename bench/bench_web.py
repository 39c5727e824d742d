"""The web channel: server time per answer step, page weight, requests/s at 200 people.

1. In process (httpx's ASGI transport, real SQLite file): the time of one answer through
   the web (POST /step + its GET /) beside the same step through DialogueService.handle,
   so the ratio is the web adapter's own cost.
2. Page weight: HTML of every question page of the flow, plus the stylesheet.
3. Over loopback: `hearth web` in a child process; N simulated people (default 200), each
   its own httpx client with its own cookie, answering as fast as the server lets them.

Run: python -m bench.bench_web [--people 200] [--seconds 20] [--flow sample]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench._common import Caregiver, Move, header, median, percentile, temp_dir, views
from bot.model import Inbound
from bot.service import DialogueService
from bot.web.app import WebConfig, create_app
from flows.catalog import FlowCatalog
from store.sqlite import Store

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_NONCE = re.compile(r'name="nonce" value="([^"]*)"')
_CHOICE = re.compile(r'name="choice" value="([^"]*)" data-key="([^"]*)"')
_QUESTION = re.compile(r'data-key="replies.ask" data-question="([^"]*)"')
_TYPED = {"child_age": "3 years", "siblings": "2"}


def next_form(html: str) -> dict[str, str] | None:
    """What a person posts next on this page: the first option, a typed answer, or onwards."""
    csrf, nonce = _CSRF.search(html), _NONCE.search(html)
    if csrf is None or nonce is None:
        return None
    form = {"csrf": csrf.group(1), "nonce": nonce.group(1)}
    asked = _QUESTION.search(html)
    choices = [(v, k) for v, k in _CHOICE.findall(html)]
    if asked and 'id="answer"' in html:
        form["text"] = _TYPED.get(asked.group(1), "about 3")
        if asked.group(1) not in _TYPED:
            form["text"] = "Fine, thank you"
    elif any(k == "done" for _, k in choices):
        # Tick the first option, then "Done" (a ticked box shows as ☑).
        ticked = "☑" in html
        form["choice"] = next(v for v, k in choices if (k == "done") == ticked)
    elif choices:
        form["choice"] = choices[0][0]
    elif "replies.review" in html or "replies.submitted" in html:
        return None
    else:
        form["command"] = "start"
    return form


async def in_process(flow: str, people: int) -> None:
    """Server time per answer through the web vs through the service alone."""
    with temp_dir() as tmp:
        store = await Store.open(tmp / "web.db")
        service = DialogueService(store, FlowCatalog.bundled(flow))
        app = create_app(service, WebConfig(rate_per_minute=10**6))
        web_steps: list[float] = []
        pages: list[float] = []
        weights: list[int] = []
        for _ in range(people):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                html = (await client.get("/")).text
                for _ in range(200):
                    form = next_form(html)
                    if form is None:
                        break
                    started = time.perf_counter()
                    posted = await client.post("/step", data=form)
                    posted_at = time.perf_counter()
                    html = (await client.get("/")).text
                    web_steps.append(posted_at - started)
                    pages.append(time.perf_counter() - posted_at)
                    if 'data-key="replies.ask"' in html:
                        weights.append(len(html.encode()))
                    assert posted.status_code == 303, posted.text[:300]
        # The same interview through the service alone: a caregiver pressing buttons.
        service_steps: list[float] = []
        for n in range(people):
            caregiver = Caregiver(service.catalog.latest(flow), seed=n, typed_share=0.3)
            move: Move | None = caregiver.first()
            i = 0
            while move is not None and i < 300:
                user, i = f"direct-{n}", i + 1
                started = time.perf_counter()
                shown = await service.handle(
                    Inbound("bench", user, user, move.kind, move.payload, f"{n}-{i}"))
                service_steps.append(time.perf_counter() - started)
                move = caregiver.next(views(shown))
        await store.close()
    css = len((Path(__file__).parent.parent / "bot/web/static/app.css").read_bytes())
    ms = 1000
    print(f"   answer steps through the web: {len(web_steps)} ({people} people, {flow})")
    print(f"   POST /step (the step, committed): median {median(web_steps) * ms:.2f} ms, "
          f"p95 {percentile(web_steps, 95) * ms:.2f} ms")
    print(f"   GET / after it (read-only page):  median {median(pages) * ms:.2f} ms, "
          f"p95 {percentile(pages, 95) * ms:.2f} ms")
    print(f"   a step of the same interview via DialogueService.handle alone: median "
          f"{median(service_steps) * ms:.2f} ms  -> web POST+GET / service step = "
          f"{(median(web_steps) + median(pages)) / median(service_steps):.1f}x")
    print(f"   page weight (question pages, HTML): median {median(weights):.0f} B, "
          f"max {max(weights)} B; stylesheet {css} B (cached: immutable, versioned)")
    print(f"   heaviest question page + CSS: {max(weights) + css} B (target < 30,000 B)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """A minimal HTTP/1.1 keep-alive client with one cookie: a cheap simulated person.

    httpx costs the load generator several times the server's CPU per request; on two
    shared cores that would measure the clients. This speaks just enough HTTP for the app.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookie = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if self.cookie:
            head += f"Cookie: {self.cookie}\r\n"
        if body:
            head += ("Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {len(body)}\r\n")
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "set-cookie":
                self.cookie = value.strip().split(";")[0]
        text = (await self.reader.readexactly(length)).decode() if length else ""
        return int(status_line.split()[1]), text

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def person(base: str, ready: asyncio.Barrier, seconds: float,
                 latencies: list[float], counts: list[int]) -> None:
    """One browser: opens its page, waits for everyone, then answers until time is up."""
    host, port = base.removeprefix("http://").split(":")
    browser = Browser(host, int(port))
    try:
        html = (await browser.request("GET", "/"))[1]
        await ready.wait()
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            form = next_form(html)
            if form is None:  # at the end: begin again in a new browser
                browser.cookie = ""
                html = (await browser.request("GET", "/"))[1]
                counts[0] += 1
                continue
            started = time.perf_counter()
            status, _ = await browser.request("POST", "/step", urlencode(form).encode())
            html = (await browser.request("GET", "/"))[1]
            latencies.append(time.perf_counter() - started)
            counts[0] += 2
            counts[1] += 1 if status == 303 else 0
    finally:
        await browser.close()


@contextmanager
def hearth_web(flow: str) -> Iterator[tuple[str, int]]:
    """`hearth web` in its own process on a loopback port; yields its base URL and pid."""
    with temp_dir() as tmp:
        port = free_port()
        env = {**os.environ, "HEARTH_DATABASE": str(tmp / "web.db"), "HEARTH_FLOW": flow,
               "HEARTH_WEB_RATE_PER_MINUTE": "100000"}
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base, server.pid
        finally:
            server.terminate()
            server.wait(20)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def over_loopback(base: str, pid: int, people: int, seconds: float) -> None:
    """`people` clients at once against the server at `base` (process `pid`)."""
    latencies: list[float] = []
    counts = [0, 0]
    # Everyone opens their first page before the clock starts (200 clients connecting at
    # once is not the steady state being measured).
    ready = asyncio.Barrier(people + 1)
    tasks = [asyncio.create_task(person(base, ready, seconds, latencies, counts))
             for _ in range(people)]
    await ready.wait()
    cpu_before = cpu_seconds(pid)
    ours_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    ours = time.process_time() - ours_before
    print(f"   {people} people at once for {elapsed:.0f} s, server and clients on one machine:")
    print(f"   {counts[0] / elapsed:.0f} requests/s ({counts[1] / elapsed:.0f} answers/s, "
          f"each a POST /step + GET /)")
    print(f"   answer round trip (POST + GET): median {median(latencies) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 95) * 1000:.0f} ms")
    print(f"   server CPU: {cpu / max(counts[0], 1) * 1000:.1f} ms per request "
          f"({cpu / elapsed * 100:.0f}% of one core; the clients share the same 2 cores): "
          f"~{counts[0] / cpu:.0f} requests/s per server core")
    print(f"   load generator CPU: {ours / elapsed * 100:.0f}% of one core "
          f"({ours / max(counts[0], 1) * 1000:.1f} ms per request)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--flow", default="sample")
    parser.add_argument("--in-process-people", type=int, default=10)
    args = parser.parse_args()
    header("web channel (bench_web)")
    asyncio.run(in_process(args.flow, args.in_process_people))
    with hearth_web(args.flow) as (base, pid):
        asyncio.run(over_loopback(base, pid, args.people, args.seconds))


if __name__ == "__main__":
    main()
