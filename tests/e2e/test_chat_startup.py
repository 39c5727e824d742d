"""What `hearth chat` has loaded when it shows its first question (issue 18's start-up goal).

Time is not asserted (the machine is shared); what is imported and built is: a module
that creeps back onto the path to the first question shows up here, whatever the load.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from flows.catalog import FlowCatalog
from flows.engine import questions

#: The child process: the real `hearth chat`, its input() answering the consent in words
#: and then, at the first question, writing down what the process holds and hanging up.
CHILD = """
import builtins, json, sys

prompts = []


def answer(prompt=""):
    prompts.append(prompt)
    if len(prompts) == 1:
        return "yes"
    import pydantic
    from flows import catalog

    loaded = [
        key
        for obj in __import__("gc").get_objects()
        if isinstance(obj, catalog.LazyFlows)
        for key in obj._loaded
    ]
    built = sorted(
        f"{m.__module__}.{m.__qualname__}"
        for name in list(sys.modules)
        if name.startswith("scoring.")
        for m in vars(sys.modules[name]).values()
        if isinstance(m, type) and issubclass(m, pydantic.BaseModel)
        and m.__module__ == name and m.__pydantic_complete__
    )
    with open(sys.argv[1], "w") as out:
        json.dump({"modules": sorted(sys.modules), "flows": loaded, "built": built}, out)
    raise EOFError


builtins.input = answer  # before bot.console binds it as the default reader
from bot.cli import main

sys.exit(main(["chat", "--as", "startup"]))
"""

#: Never needed to show a question: charts, PDF, PostgreSQL, the web app, Telegram, exports.
HEAVY = (
    "matplotlib",
    "weasyprint",
    "psycopg",
    "starlette",
    "uvicorn",
    "telegram",
    "bot.web",
    "bot.telegram",
    "bot.data.exporting",
    "bot.data.fhir",
    "bot.pdf",
    "cryptography",  # no HEARTH_DATA_KEY here: nothing is sealed
    "babel",  # numbers and dates: no question before the first needs them
    # Scoring's rules, report and computations: the ratings feature asks for them on
    # first use (~40-100 ms of class building; the report needs them at the end).
    "scoring.rules",
    "scoring.report",
    "scoring.compute",
    "scoring.informants",
    "scoring.ratings",
)


def first_question_state(tmp_path: Path) -> dict[str, list[str]]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    seen = tmp_path / "seen.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env |= {"HEARTH_DATABASE": str(tmp_path / "chat.db"), "HEARTH_FLOW": "developmental_history",
            "TMPDIR": str(tmp_path)}  # the flow and template caches start empty, and stay here
    done = subprocess.run(
        [sys.executable, str(script), str(seen)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(seen.read_text())
    return found


def test_first_question_needs_no_heavy_module_no_scoring_model_and_one_flow(
    tmp_path: Path,
) -> None:
    state = first_question_state(tmp_path)

    # It did reach the first question: the interview waits there (paused by the hang-up).
    flow = FlowCatalog.bundled("developmental_history").latest("developmental_history")
    with sqlite3.connect(tmp_path / "chat.db") as db:
        rows = db.execute("SELECT state, cursor FROM interviews").fetchall()
    assert rows == [("paused", questions(flow, {})[0].key)]

    modules = set(state["modules"])
    eager = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert eager == [], f"imported before the first question: {eager}"
    # And none of scoring's rule models is built, no rules file read.
    assert state["built"] == []
    # Only the flow the person answers is parsed; the others stay an index entry.
    assert state["flows"] == [flow.key]
