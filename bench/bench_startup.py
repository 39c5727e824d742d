"""Time from launching `hearth chat` to its first question; import time of the main modules."""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench._common import header, median, spread, temp_dir

#: Modules timed one by one, each in a fresh interpreter (so shared imports count in each).
MODULES = [
    "bot.cli",
    "bot.console",
    "bot.service",
    "bot.steps",
    "bot.render",
    "flows.catalog",
    "store.sqlite",
    "messages.render",
    "bot.telegram",
    "scoring",
    "telegram.ext",
    "pydantic",
    "jinja2",
    "transitions",
    "matplotlib.pyplot",
]
#: What `hearth chat` imports before it can answer.
CHAT_PATH = "import bot.cli, bot.console, bot.service, flows.catalog, store.sqlite"


def hearth_command() -> list[str]:
    found = shutil.which("hearth") or str(Path(sys.executable).parent / "hearth")
    return [found] if Path(found).exists() else [sys.executable, "-m", "bot.cli"]


def read_until(stream: object, pattern: re.Pattern[str], deadline: float) -> str:
    """Read the child's output until `pattern` appears (or the deadline passes)."""
    seen = ""
    fd = stream.fileno()  # type: ignore[attr-defined]
    while not pattern.search(seen):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no {pattern.pattern!r} in {seen[-300:]!r}")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise EOFError(f"hearth chat ended before {pattern.pattern!r}: {seen[-300:]!r}")
        seen += chunk.decode(errors="replace")
    return seen


def chat_once(folder: Path, flow: str | None, n: int,
              source: Path | None = None, read: float = 0.0) -> tuple[float, float]:
    """(launch -> consent shown, launch -> first question shown after agreeing), seconds.

    `read`: seconds the person takes to read the consent before agreeing (0: at once);
    the second figure then leaves that time out.

    `source`: run the code of that checkout instead (PYTHONPATH goes ahead of the editable
    install), through `python -m bot.cli` as the installed command does.
    """
    # Each launch gets its own database: a shared one would resume, not start, an interview.
    label = "" if source is None else f"-{abs(hash(str(source)))}"
    env = dict(os.environ, HEARTH_DATABASE=str(folder / f"start{n}{label}.db"),
               PYTHONUNBUFFERED="1")
    # An installed hearth has its bytecode (pip compiles it); without it every launch
    # compiles ~90 modules from source (~150 ms here), which no deployment pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [*hearth_command(), "chat", "--as", f"bench{n}"]
    if source is not None:
        env["PYTHONPATH"] = str(source)
        command = [sys.executable, "-m", "bot.cli", "chat", "--as", f"bench{n}"]
    if flow:
        command += ["--flow", flow]
    start = time.perf_counter()
    # From the scratch folder: `python -m` puts the working directory first on sys.path,
    # ahead of PYTHONPATH, and the repository root would shadow `source`.
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env, cwd=folder)
    assert child.stdin is not None and child.stdout is not None
    try:
        deadline = start + 60
        # The consent's options read "1) ..." or "a) ..." depending on the version.
        read_until(child.stdout, re.compile(r"(1|a)\) .*\n(.*\n)*> "), deadline)
        consent = time.perf_counter() - start
        time.sleep(read)
        child.stdin.write(b"yes\n")  # agreeing in words works in every version
        child.stdin.flush()
        read_until(child.stdout, re.compile(r"question 1 of|Part 1 of"), deadline)
        question = time.perf_counter() - start - read
        child.stdin.close()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return consent, question


def child_cpu() -> float:
    """CPU seconds used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def before_after(before: Path, runs: int, read: float = 0.0) -> None:
    """`hearth chat` to its first question, this code against `before`, alternating.

    Also the child's CPU time (launch to exit, after the first question): on a loaded
    machine the wall time mostly measures the wait for a core; the CPU time does not.
    """
    here = Path(__file__).resolve().parent.parent
    found: dict[str, list[float]] = {"before": [], "after": []}
    waited: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    with temp_dir() as folder:
        # One untimed launch each first: bytecode and template caches written, as after
        # the first launch of an installed copy (that first one is printed apart).
        for name, source in (("before", before), ("after", here)):
            first = chat_once(folder, None, -1, source)[1]
            print(f"   {name}: first launch (no caches yet) {1000 * first:.0f} ms")
        for n in range(runs):
            for name, source in (("before", before), ("after", here)):
                used = child_cpu()
                consent, question = chat_once(folder, None, n, source, read)
                found[name].append(question)
                waited[name].append(question - consent)
                cpu[name].append(child_cpu() - used)
    cpu_ratios = [a / b for a, b in zip(cpu["after"], cpu["before"], strict=True)]
    print(f"   CPU of the whole `chat` process (launch, first question, exit): "
          f"{1000 * median(cpu['before']):.0f} ms before, {1000 * median(cpu['after']):.0f} ms "
          f"after; after / before {median(cpu_ratios):.2f} (spread {spread(cpu_ratios)})")
    ratios = [a / b for a, b in zip(found["after"], found["before"], strict=True)]
    print(f"   before/after, alternating, {runs} runs each (python -m bot.cli chat, default flow):"
          f" first question after {1000 * median(found['before']):.0f} ms before "
          f"(spread {spread(found['before'])}), {1000 * median(found['after']):.0f} ms after "
          f"(spread {spread(found['after'])}); after / before {median(ratios):.2f} "
          f"(spread {spread(ratios)}); goal < 700 ms")
    pairs = [a / b for a, b in zip(waited["after"], waited["before"], strict=True)]
    print(f"   from agreeing ({1000 * read:.0f} ms after the consent showed) to the first "
          f"question: {1000 * median(waited['before']):.0f} ms before, "
          f"{1000 * median(waited['after']):.0f} ms after; after / before {median(pairs):.2f} "
          f"(spread {spread(pairs)})")


def import_seconds(statement: str) -> float:
    """Wall time of `statement` in a fresh interpreter, timed inside it."""
    code = (f"import time; t = time.perf_counter(); {statement}; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def interpreter_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def heaviest_imports(statement: str, top: int) -> list[tuple[float, str]]:
    """Top-level packages by the import time spent in their own modules (-X importtime)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], check=True,
                         capture_output=True, text=True).stderr
    totals: dict[str, float] = {}
    for line in out.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if match:
            name = match.group(3).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1e6
    return sorted(((s, n) for n, s in totals.items()), reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of the code before a change (e.g. `git archive main "
                             "| tar -x -C DIR`): its time to the first question, interleaved "
                             "with this code's (only that is measured then)")
    parser.add_argument("--read-ms", type=float, default=0.0,
                        help="--before: the person reads the consent this long before agreeing "
                             "(0: at once); the figures leave that time out")
    args = parser.parse_args()
    header("startup: `hearth chat` to its first question; import times")
    base = median([interpreter_seconds() for _ in range(args.runs)])
    print(f"   bare interpreter (python -c pass): {1000 * base:.0f} ms")
    if args.before is not None:
        before_after(args.before, args.runs, args.read_ms / 1000)
        return
    with temp_dir() as folder:
        chat_once(folder, None, -1)  # untimed: bytecode and template caches, as installed
        for flow in (None, "developmental_history"):
            times = [chat_once(folder, flow, n) for n in range(args.runs)]
            consent = [c for c, _ in times]
            question = [q for _, q in times]
            label = flow or "default flow (HEARTH_FLOW, developmental_history)"
            print(f"   hearth chat, {label}: consent shown after "
                  f"{1000 * median(consent):.0f} ms, first question after "
                  f"{1000 * median(question):.0f} ms (spread {spread(question)}; "
                  f"{median(question) / base:.1f}x a bare interpreter)")
    chat = [import_seconds(CHAT_PATH) for _ in range(args.runs)]
    print(f"   imports on the chat path ({CHAT_PATH[7:]}): {1000 * median(chat):.0f} ms")
    print("   where that goes (own import time by package): " + ", ".join(
        f"{name} {1000 * seconds:.0f} ms" for seconds, name in heaviest_imports(CHAT_PATH, 8)))
    print("   each module alone, fresh interpreter (shared imports counted in each):")
    for module in MODULES:
        try:
            seconds = median([import_seconds(f"import {module}") for _ in range(args.runs)])
        except subprocess.CalledProcessError:
            print(f"     {module:<18} (not importable here)")
            continue
        print(f"     {module:<18} {1000 * seconds:6.0f} ms")


if __name__ == "__main__":
    main()
