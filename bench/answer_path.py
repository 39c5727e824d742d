"""Which project files one typed answer on Telegram passes through, in the order first met.

Not a benchmark of speed: a map. It feeds one text answer through the real Application
(offline Bot API, real SQLite file) with a profiler hook on every thread, and lists the
project modules whose code ran, in first-call order, with how often control moved from
one file to another. Run it on two checkouts to compare designs:

    python bench/answer_path.py            # this checkout
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PACKAGES = ("bot", "flows", "scoring", "store", "messages")

from bot.service import DialogueService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram import build_application  # noqa: E402
from flows.catalog import FlowCatalog  # noqa: E402
from store.sqlite import Store  # noqa: E402
from tests.e2e.telegram_harness import FakeBotApi, Phone  # noqa: E402

#: The conversation's features, in either design (the old one kept them in these files).
FEATURES = ("bot/features/", "bot/intake/", "bot/steps.py", "bot/clinician.py",
            "bot/safety.py", "bot/bookclub.py", "bot/data/followup.py", "bot/data/commands.py")
#: Higher number, higher layer: adapters call the service, the service the router, the
#: router the features, features the context and the core; never the other way.
LAYERS = (("bot/telegram/", 5), ("bot/console.py", 5), ("bot/service.py", 4),
          ("bot/render.py", 4), ("bot/router.py", 3))


def layer(name: str) -> int:
    # In the new design bot/bookclub.py and bot/safety.py are shared modules, not features.
    if name.startswith(FEATURES) and not (IS_NEW and name in ("bot/bookclub.py", "bot/safety.py")):
        return 2
    for prefix, number in LAYERS:
        if name.startswith(prefix):
            return number
    return 1 if name.startswith("bot/") else 0


IS_NEW = (ROOT / "bot" / "router.py").exists()


def feature_of(name: str) -> str:
    """The intake is one feature over several files."""
    return "bot/intake" if name.startswith("bot/intake/") else name


def _project(path: str) -> str | None:
    try:
        relative = Path(path).resolve().relative_to(ROOT)
    except ValueError:
        return None
    return str(relative) if relative.parts[0] in PACKAGES else None


class Trace:
    """Project files in first-call order, moves between files, and calls that go back up
    a layer or sideways from one feature into another (main and writer threads)."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.moves = 0
        self.upward: set[tuple[str, str]] = set()
        self.sideways: set[tuple[str, str]] = set()
        self._last: dict[int, str] = {}
        self._lock = threading.Lock()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        name = _project(frame.f_code.co_filename)
        if name is None or name.endswith(".j2"):
            return
        caller = _project(frame.f_back.f_code.co_filename) if frame.f_back else None
        with self._lock:
            if caller is not None and caller != name:
                if layer(name) > layer(caller) and frame.f_code.co_name != "<lambda>":
                    self.upward.add((caller, f"{name}:{frame.f_code.co_name}"))
                if layer(name) == layer(caller) == 2 and feature_of(name) != feature_of(caller):
                    self.sideways.add((caller, f"{name}:{frame.f_code.co_name}"))
            if name not in self.order:
                self.order.append(name)
            thread = threading.get_ident()
            if self._last.get(thread) not in (None, name):
                self.moves += 1
            self._last[thread] = name


async def main() -> None:
    catalog = FlowCatalog.bundled("sample")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "hearth.db")
        service = DialogueService(store, catalog)
        api = FakeBotApi()
        app = build_application(service, Settings(telegram_token="1:offline"), request=api)
        await app.initialize()
        phone = Phone(api, app.bot, 1001)
        await app.process_update(phone.command("start"))
        await app.process_update(phone.tap("I agree"))
        await app.process_update(phone.text("Sam"))  # warm: first-use imports and caches
        trace = Trace()
        loop = asyncio.get_running_loop()
        # The step runs on the store's writer thread: trace there too.
        await loop.run_in_executor(store._writer_pool, sys.setprofile, trace)
        sys.setprofile(trace)  # type: ignore[arg-type]
        await app.process_update(phone.text("2 years 6 months"))
        sys.setprofile(None)
        await loop.run_in_executor(store._writer_pool, sys.setprofile, None)
        await app.shutdown()
        await store.close()
    print(f"one typed answer on Telegram: {len(trace.order)} project files, "
          f"{trace.moves} moves between files, {len(trace.upward)} calls back up a layer, "
          f"{len(trace.sideways)} calls from one feature into another")
    for name in trace.order:
        print(f"  {name}")
    for title, calls in (("back up", trace.upward), ("feature to feature", trace.sideways)):
        for caller, callee in sorted(calls):
            print(f"  {title}: {caller} -> {callee}")


if __name__ == "__main__":
    asyncio.run(main())
