"""The lock files pin what pyproject.toml asks for, identically; the audit says what it saw."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$",
                 re.MULTILINE)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(name: str) -> dict[str, list[tuple[str, str]]]:
    """Package -> its pins (version, marker) in one lock file."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for package, version, marker in PIN.findall((ROOT / name).read_text()):
        pins.setdefault(normalise(package), []).append((version, marker))
    return pins


def project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def test_locks__every_pin_hashed() -> None:
    for name in ("requirements.lock", "requirements-test.lock"):
        text = (ROOT / name).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
        assert blocks and all("--hash=sha256:" in block for block in blocks), name


@pytest.mark.parametrize(("lock", "groups"), [
    ("requirements.lock", ("postgres",)),
    ("requirements-test.lock", ("test", "bench", "postgres")),
])
def test_locks__every_dependency_of_pyproject_pinned_within_its_range(
    lock: str, groups: tuple[str, ...]
) -> None:
    meta = project()
    wanted = [*meta["project"]["dependencies"], *meta["build-system"]["requires"]]
    for group in groups:
        wanted += meta["project"]["optional-dependencies"][group]
    pins = locked(lock)
    for text in wanted:
        requirement = Requirement(text)
        versions = pins.get(normalise(requirement.name))
        assert versions, f"{requirement.name} is not in {lock}: run .ci/lock"
        for version, _ in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {requirement.name}=={version}, pyproject asks {requirement}: "
                "run .ci/lock")


def test_locks__runtime_pins_are_the_test_pins() -> None:
    runtime, test = locked("requirements.lock"), locked("requirements-test.lock")
    assert "tornado" in runtime  # the webhook server comes pinned (issue 16)
    for package, pins in runtime.items():
        assert sorted(pins) == sorted(test.get(package, [])), package


# -- .ci/audit.py, without the network --------------------------------------------------------


@pytest.fixture
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_pypi(audit: ModuleType, monkeypatch: pytest.MonkeyPatch,
              latest: dict[str, tuple[str, list[str]]]) -> None:
    monkeypatch.setattr(audit, "pins", lambda: {("tornado", "6.6.1"), ("numpy", "2.4.6"),
                                                ("jinja2", "3.1.6")})
    monkeypatch.setattr(audit, "pip_audit", lambda: ({("jinja2", "3.1.6"): []}, ""))

    def fetch(url: str) -> Any:
        name = url.split("/pypi/")[1].split("/")[0]
        version, ids = latest.get(name, ("1.0", []))
        return {"info": {"version": version}, "vulnerabilities": [{"id": i} for i in ids]}

    monkeypatch.setattr(audit, "fetch", fetch)


def test_audit__latest_pin_with_advisory__fails_naming_it(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pypi(audit, monkeypatch, {"tornado": ("6.6.1", ["PYSEC-2099-1"]),
                                   "numpy": ("2.4.6", [])})
    assert audit.main() == 1
    assert "VULNERABLE tornado 6.6.1: PYSEC-2099-1" in capsys.readouterr().out


def test_audit__older_pin_without_per_version_data__listed_not_audited(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pypi(audit, monkeypatch, {"tornado": ("6.6.1", []), "numpy": ("2.5.5", ["X-1"])})
    assert audit.main() == 0
    said = capsys.readouterr().out
    assert "NOT AUDITED here (1)" in said and "numpy 2.4.6 (latest 2.5.5)" in said
    assert "no known vulnerability in the 2 versions audited" in said


def test_audit__no_network__reported_not_failed(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import urllib.error

    def unreachable(url: str) -> Any:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(audit, "fetch", unreachable)
    assert audit.main() == 0
    assert capsys.readouterr().out.startswith("audit: NOT RUN: PyPI is unreachable")
