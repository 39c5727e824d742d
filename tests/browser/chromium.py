"""Debian's chromium for the browser tests: found, launched offline, or skipped (failed in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: Where Debian's package puts it; HEARTH_TEST_CHROMIUM names another build.
ENV = "HEARTH_TEST_CHROMIUM"
DEFAULT = "/usr/bin/chromium"

#: As root in a sandboxed machine with no network beyond loopback: no sandbox (root), no
#: GPU, and none of Chromium's own background connections (updates, sync, field trials),
#: which this machine refuses by the dozen and which would only slow every start.
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # An http_proxy in the environment must not take loopback traffic elsewhere.
    "--no-proxy-server",
)


def chromium_path() -> str:
    """The browser to drive; outside CI a missing one skips, inside CI it fails."""
    named = os.environ.get(ENV, "").strip()
    found = named or shutil.which("chromium") or (DEFAULT if Path(DEFAULT).exists() else "")
    if found and Path(found).exists():
        return found
    if os.environ.get("CI", "").lower() == "true":
        # .ci/run installs it (.ci/chromium.sh): a missing browser is a broken pipeline.
        pytest.fail(f"no chromium in CI ({named or DEFAULT}): .ci/run should have installed it")
    pytest.skip(
        "browser tests need Debian's chromium: `apt-get install chromium` "
        f"(or set {ENV} to a Chromium binary); bash .ci/run installs it"
    )
    raise AssertionError("unreachable")  # pytest.skip raises
