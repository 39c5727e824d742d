"""`hearth web` as a subprocess on loopback, with its own SQLite file, and invitations to it."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest

from bot.access import AccessPolicy, code_hash
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Person

#: The operator and the clinician who invite the families of these tests (console people:
#: the invitations are made beside the server, in the same database file).
OPERATOR = "op"
CLINICIAN = "doc"
FLOW = "sample"

T = TypeVar("T")


@dataclass(frozen=True)
class Invitation:
    """A clinician's web invitation: its link, the code in it, and the interview it opens."""

    link: str
    code: str
    interview_id: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _in_thread(make: Callable[[], Awaitable[T]]) -> T:
    # The tests drive the browser through Playwright's sync API, which keeps an event loop
    # of its own on this thread: the store's coroutines get a fresh loop on another one.
    async def run() -> T:
        return await make()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


class WebServer:
    """`hearth web` on a free loopback port; no token, no network, no inherited HEARTH_*."""

    def __init__(self, folder: Path, *, locale: str = "en") -> None:
        self.folder = folder
        self.db = folder / "hearth.db"
        self.log_path = folder / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.locale = locale
        self._process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
        env.update(
            HEARTH_DATABASE=str(self.db),
            HEARTH_FLOW=FLOW,
            HEARTH_LOCALE=self.locale,
            HEARTH_WEB_URL=self.url,
            # Normal durability is enough for a throwaway file and spares the shared disk.
            HEARTH_SYNCHRONOUS="NORMAL",
            # Every person of these tests comes from 127.0.0.1, where real families come
            # from addresses of their own: one address's limit would stop the module.
            HEARTH_WEB_RATE_PER_MINUTE="100000",
            # The web app's own scheduler (plans for web families) looks twice a second
            # here, not every minute: a test waits for it, not a family.
            HEARTH_WEB_PLAN_CHECK_SECONDS="0.5",
        )
        return env

    def start(self, timeout: float = 60.0) -> None:
        _in_thread(self._register_clinician)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
                 "web", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env(), cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        # Loopback only: no proxy from the environment may take the health check elsewhere.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if self._process.poll() is not None:
                pytest.fail(f"`hearth web` exited with {self._process.returncode}:\n{self.log()}")
            try:
                with opener.open(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"`hearth web` gave no /healthz in {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

    def log(self) -> str:
        """What the server printed (its log): for the failure messages and the log checks."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- invitations, made beside the running server in the same database file ------------

    async def _service(self, flow: str = FLOW, clock: Callable[[], datetime] | None = None
                       ) -> tuple[Store, DialogueService]:
        store = await Store.open(self.db)
        # The server's own address, as HEARTH_WEB_URL gives it there: links point at it.
        access = AccessPolicy.build([f"console:{OPERATOR}"], web_url=self.url)
        catalog = FlowCatalog.bundled(flow)
        if clock is None:
            return store, DialogueService(store, catalog, access=access)
        return store, DialogueService(store, catalog, access=access, clock=clock)

    def beside(self, work: Callable[[DialogueService], Awaitable[T]], *,
               clock: Callable[[], datetime] | None = None) -> T:
        """Run `work` with a service on the server's database file (the bot beside the web
        app, as in production), on another thread: the family's chat, the scheduler."""

        async def run() -> T:
            store, service = await self._service(clock=clock)
            try:
                return await work(service)
            finally:
                await store.close()

        return _in_thread(run)

    def cli(self, *args: str) -> str:
        """`hearth <args>` run by the operator on the server's machine: what it printed."""
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
             *args],
            env=self.env(), cwd=self.folder, capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL, check=False,
        )
        assert done.returncode == 0, f"hearth {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def clinician_link(self, channel: str, external_id: str) -> str:
        """`hearth clinician link`: the one-time sign-in link it prints (read as data)."""
        printed = self.cli("clinician", "link", channel, external_id)
        found = re.search(rf"{re.escape(self.url)}/clinic/signin/[A-Za-z0-9_-]+", printed)
        assert found, f"no sign-in link printed: {printed!r}"
        return found.group(0)

    async def _register_clinician(self) -> None:
        store, service = await self._service()
        try:
            operator = Person(service, OPERATOR)
            await operator.command("clinician", f"add {CLINICIAN}")
            assert "clinician.clinician_added" in operator.keys, operator.keys
        finally:
            await store.close()

    async def _link(self, command: str, args: str, flow: str = FLOW) -> tuple[str, str]:
        store, service = await self._service(flow)
        try:
            clinician = Person(service, CLINICIAN)
            await clinician.command(command, args)
            if clinician.keys == ["replies.unknown_command"]:
                pytest.skip(f"the /{command} command is not here yet")
            # The code is read from the link in the reply (data, not wording).
            found = re.search(rf"{re.escape(self.url)}/start/([A-Za-z0-9_-]+)", clinician.text)
            assert found, f"no web link in the reply to /{command}: {clinician.keys}"
            return found.group(0), found.group(1)
        finally:
            await store.close()

    async def _interview_of(self, code: str) -> str:
        store = await Store.open(self.db)
        try:
            rows = await store.read(
                lambda repo: repo.conn.execute(
                    "SELECT interview_id FROM invites WHERE code_hash = ?", (code_hash(code),)
                ).fetchall()
            )
        finally:
            await store.close()
        assert rows, "no invitation stored for that code"
        return str(rows[0][0])

    def invite(self, nickname: str, flow: str = FLOW) -> Invitation:
        """A clinician's `/new <nickname> web`: a family's link to a new interview on `flow`
        (the short sample by default)."""
        link, code = _in_thread(lambda: self._link("new", f"{nickname} web", flow))
        return Invitation(link, code, _in_thread(lambda: self._interview_of(code)))

    def invite_informant(self, interview_id: str, role: str = "teacher") -> str:
        """`/informant <interview id> <role> web`: a second informant's link
        (skips while the informants' command is not there).
        """
        link, _ = _in_thread(lambda: self._link("informant", f"{interview_id} {role} web"))
        return link
