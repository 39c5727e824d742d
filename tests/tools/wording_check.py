"""One-off check, not run in CI: does any test depend on a sentence's wording?

Copies messages/ to a temporary folder with every sentence changed (each word of two or
more letters in a template's literal text, and in its quoted display strings, spelled
backwards: "Welcome back" -> "emocleW kcab"), runs the suite against that copy through
HEARTH_MESSAGES_DIR, and lists the tests that fail. Issue 13 asks for none outside the
locale-parity tests, which read the templates themselves.

    python tests/tools/wording_check.py              # the whole suite
    python tests/tools/wording_check.py tests/e2e    # a part of it (pytest arguments)
    python tests/tools/wording_check.py --show buttons.j2   # print one changed library

What stays as it is, because it is not wording: the jinja2 tags and the names and
comparison keys inside them ({% if type == "scale" %}, dict keys, replace()'s pattern),
HTML tags and entities, digits and punctuation, and the data files beside the templates
(safety.yaml: phrases to match, not sentences to show). Flow texts (flows/data) are not
under messages/ and are not changed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "messages"
#: Tests whose subject is the templates themselves: they may, and should, notice.
EXPECTED = ("tests/integration/test_locale_parity.py",)

_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)
_MARKUP = re.compile(r"(<[A-Za-z/!][^>]*>|&#?\w+;)")
_WORD = re.compile(r"[^\W\d_]{2,}")
_STRING = re.compile(r'"[^"\n]*"|\'[^\'\n]*\'')
#: Strings inside a tag that are keys, not words: compared, looked up, or replaced.
_KEYS = re.compile(
    r'(?:==|!=)\s*"[^"]*"'  # == "scale"
    r'|"[^"]*"\s*(?:==|!=)'  # "scale" == type
    r"|\bin\s*[(\[][^)\]]*[)\]]"  # in ("a", "b")
    r'|"[^"]*"\s*:'  # {"key": ...}
    r'|replace\(\s*"[^"]*"'  # replace("pattern", ...
    r'|\b(?:selectattr|rejectattr|select|reject|map|sort|groupby|sum|date)\([^)]*\)'  # filters
    r'|\[\s*"[^"]*"\s*\]'  # x["key"]
)


def _backwards(text: str) -> str:
    return _WORD.sub(lambda m: m.group(0)[::-1], text)


def _data(text: str) -> str:
    """Literal template text: every word changed, markup left whole."""
    return "".join(
        part if _MARKUP.fullmatch(part) else _backwards(part) for part in _MARKUP.split(text)
    )


def _tag(tag: str) -> str:
    """A jinja2 tag: its quoted display strings changed, its keys and names left alone."""
    if tag.startswith("{#") or re.match(r"\{%-?\s*(from|import|include|extends)\b", tag):
        return tag
    kept = [(m.start(), m.end()) for m in _KEYS.finditer(tag)]

    def change(m: re.Match[str]) -> str:
        if any(start <= m.start() < end for start, end in kept):
            return m.group(0)
        return _backwards(m.group(0))

    return _STRING.sub(change, tag)


_WHOLE_MARKUP = re.compile(r"<[A-Za-z/!](?:[^>{]|\{\{.*?\}\}|\{%.*?%\})*?>", re.DOTALL)


def reword(source: str) -> str:
    """A template with the same tags and every sentence changed; an HTML tag holding jinja
    tags (`<html lang="{{ locale }}">`) stays whole, only its jinja tags reworded."""
    out, last = [], 0
    for m in _WHOLE_MARKUP.finditer(source):
        out.append(_reword(source[last:m.start()]))
        out.append("".join(_tag(p) if _TAG.fullmatch(p) else p for p in _TAG.split(m.group(0))))
        last = m.end()
    out.append(_reword(source[last:]))
    return "".join(out)


def _reword(source: str) -> str:
    return "".join(
        _tag(part) if _TAG.fullmatch(part) else _data(part) for part in _TAG.split(source)
    )


def reworded_copy(target: Path) -> Path:
    """messages/ copied to `target`, its templates reworded; returns the copy."""
    shutil.copytree(MESSAGES, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for path in target.rglob("*.j2"):
        if path.parent.name == "web":
            continue  # messages/web/: the web page's HTML structure; its words are in web.j2
        path.write_text(reword(path.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def run(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="hearth-wording-") as tmp:
        copy = reworded_copy(Path(tmp) / "messages")
        env = dict(os.environ, HEARTH_MESSAGES_DIR=str(copy))
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=line",
             "-rfE", *(pytest_args or ["tests"])],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
    failed = sorted(
        {line.split(" ", 2)[1] for line in result.stdout.splitlines()
         if line.startswith(("FAILED ", "ERROR "))}
    )
    expected = [t for t in failed if t.startswith(EXPECTED)]
    other = [t for t in failed if not t.startswith(EXPECTED)]
    print(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr)
    print(f"\nfailing on reworded messages, as expected (they read the templates): {len(expected)}")
    for test in expected:
        print(f"  {test}")
    print(f"failing on reworded messages, NOT expected (they depend on wording): {len(other)}")
    for test in other:
        print(f"  {test}")
    return 1 if other else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", metavar="LIBRARY", help="print one reworded template and stop")
    parser.add_argument("--locale", default="en")
    args, pytest_args = parser.parse_known_args()
    if args.show:
        print(reword((MESSAGES / args.locale / args.show).read_text(encoding="utf-8")))
        return 0
    return run(pytest_args)


if __name__ == "__main__":
    sys.exit(main())
