"""`hearth web` as a real server on loopback: killed with SIGKILL, no acknowledged answer lost."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import said
from tests.e2e.web_client import Page, parse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`hearth web` in a child process, on a loopback port, with its own database file."""

    def __init__(self, db: Path, port: int) -> None:
        env = {**os.environ, "HEARTH_DATABASE": str(db), "HEARTH_FLOW": "sample",
               "PYTHONUNBUFFERED": "1"}
        self.log = db.with_suffix(".log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("hearth web did not start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


def submit(client: httpx.Client, page: Page, **fields: str) -> Page:
    hidden = page.text_form or page.buttons[0].fields
    response = client.post("/step", data={"csrf": hidden["csrf"], "nonce": hidden["nonce"],
                                          **fields})
    assert response.status_code == 303, response.text[:500]
    return parse(client.get("/"))


def test_killed_server__keeps_every_acknowledged_answer(
    tmp_path: Path, servers: list[Server]
) -> None:
    db, port = tmp_path / "hearth.db", free_port()
    servers.append(Server(db, port))
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        page = parse(client.get("/"))
        page = submit(client, page, command="start")
        page = submit(client, page, choice=page.button("agree").value or "")
        page = submit(client, page, text="Sam")
        page = submit(client, page, text="3 years")
        assert page.question == "respondent"
        page = submit(client, page, choice=page.button("parent").value or "")
        assert page.question == "sleep"
        servers[-1].kill()  # SIGKILL: no shutdown, no flush of ours

        servers.append(Server(db, port))
        page = parse(client.get("/"))  # the same browser, its session in the store
    assert page.question == "sleep"
    with sqlite3.connect(db) as conn:
        saved = sorted(r[0] for r in conn.execute("SELECT item_key FROM current_answers"))
    assert saved == ["child_age", "child_name", "respondent"]


async def test_run_with_web__bot_and_web_in_one_loop__both_stop(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from bot.cli import serve_channels
    from bot.service import DialogueService
    from bot.settings import Settings
    from flows.catalog import FlowCatalog
    from store.sqlite import Store
    from tests.e2e.telegram_harness import FakeBotApi, Phone
    from tests.e2e.test_telegram import TOKEN, recorded

    api = FakeBotApi()
    recorded(monkeypatch, api)
    service = DialogueService(await Store.open(db_path), FlowCatalog.bundled("sample"))
    port, stop = free_port(), asyncio.Event()
    both = asyncio.create_task(serve_channels(
        service, Settings(telegram_token=TOKEN), None, ("127.0.0.1", port), stop, request=api))
    try:
        await api.wait_until(lambda: bool(api.calls_of("getUpdates")))
        api.deliver(Phone(api, None, 1001).command("start"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    page = parse(await client.get("/"))
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            form = page.buttons[0].fields
            response = await client.post("/step", data={**form, "command": "start"})
            assert response.status_code == 303
            page = parse(await client.get("/"))
        await api.wait_until(lambda: bool(api.from_bot(1001)))
    finally:
        stop.set()
        await asyncio.wait_for(both, 20)
        await service.store.close()
    assert page.keys == ["replies.consent"]  # the web person, on the same service
    assert api.last(1001).key == "replies.consent"  # and the Telegram one


def test_hearth_web__port_in_use__one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "HEARTH_DATABASE": str(tmp_path / "h.db")}
        done = subprocess.run([sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
                              capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    # The reason is the system's words: the operator's message around it, on one line.
    before, after = said("operator.cannot_listen", host="127.0.0.1", port=port,
                         reason="\0").split("\0")
    assert done.stderr.startswith(f"hearth: {before}") and done.stderr.endswith(f"{after}\n")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
