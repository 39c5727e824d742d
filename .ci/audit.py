"""Audit the locked dependencies against PyPI's advisories; say plainly what was not audited.

pip-audit (pinned in requirements-test.lock) asks PyPI about each exact version
(`/pypi/<name>/<version>/json`). Where that answer cannot be had (no network, or a mirror
that serves only `/pypi/<name>/json`, as on this project's machines), a pin that is the
project's latest release is audited from the project's own page, whose `vulnerabilities`
are those of the latest release; any other pin is listed as NOT AUDITED. Exit status 1
only for a known vulnerability; no network is reported, never a failure (docs/security.md).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCKS = (ROOT / "requirements-test.lock", ROOT / "requirements.lock")
PYPI = "https://pypi.org/pypi/{name}/json"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> set[tuple[str, str]]:
    """Every (name, version) pinned in the lock files, whatever the platform markers."""
    found: set[tuple[str, str]] = set()
    for lock in LOCKS:
        found |= {(normalise(n), v) for n, v in _PIN.findall(lock.read_text())}
    return found


def fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=20) as response:
        return json.load(response)


def pip_audit() -> tuple[dict[tuple[str, str], list[str]], str]:
    """What pip-audit could audit: (name, version) -> advisory ids; and its error, if any."""
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--disable-pip", "--progress-spinner", "off",
         "--format", "json", "-r", str(LOCKS[0])],
        capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {}, (result.stderr.strip().splitlines() or ["no output"])[-1]
    audited: dict[tuple[str, str], list[str]] = {}
    for dep in report.get("dependencies", []):
        if "version" in dep and "skip_reason" not in dep:
            audited[(normalise(dep["name"]), dep["version"])] = [v["id"] for v in dep["vulns"]]
    return audited, ""


def latest_release(name: str) -> tuple[str, list[str]] | None:
    """The project's latest version and the advisories PyPI lists for it; None if unknown."""
    try:
        page = fetch(PYPI.format(name=name))
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError):
        return None
    return page["info"]["version"], [v["id"] for v in page.get("vulnerabilities") or []]


def main() -> int:
    try:
        fetch(PYPI.format(name="pip"))
    except (urllib.error.URLError, TimeoutError) as exc:
        print(f"audit: NOT RUN: PyPI is unreachable ({exc}); nothing was audited")
        return 0
    wanted = pins()
    audited, error = pip_audit()
    print(f"audit: {len(wanted)} locked versions; pip-audit (PyPI, per version) audited "
          f"{len(audited)}" + (f" (pip-audit failed: {error})" if error else ""))
    rest = sorted(wanted - set(audited))
    with ThreadPoolExecutor(8) as pool:
        latest = dict(zip(rest, pool.map(lambda pin: latest_release(pin[0]), rest),
                          strict=True))
    not_audited = []
    for pin, found in latest.items():
        if found is not None and found[0] == pin[1]:
            audited[pin] = found[1]
        else:
            not_audited.append(f"{pin[0]} {pin[1]}"
                               + (f" (latest {found[0]})" if found else " (no answer)"))
    if rest:
        print(f"audit: {len(rest) - len(not_audited)} more audited from PyPI's page of their "
              "latest release (the pin is that release)")
    vulnerable = {pin: ids for pin, ids in audited.items() if ids}
    if not_audited:
        print(f"audit: NOT AUDITED here ({len(not_audited)}): PyPI's per-version data was not "
              "reachable and the pin is not the latest release: " + ", ".join(not_audited))
    for (name, version), ids in sorted(vulnerable.items()):
        print(f"audit: VULNERABLE {name} {version}: {', '.join(ids)}")
    if vulnerable:
        return 1
    print(f"audit: no known vulnerability in the {len(audited)} versions audited")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
