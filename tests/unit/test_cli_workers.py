"""`hearth run --webhook --listen-only`: an extra worker is refused unless it can be safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.telegram.webhook import Webhook
from tests.conftest import said


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(f"HEARTH_TELEGRAM_{name}", raising=False)
    monkeypatch.delenv("HEARTH_DATABASE_URL", raising=False)
    monkeypatch.setenv("HEARTH_TELEGRAM_TOKEN", "123:abc")


def run(tmp_path: Path, *args: str) -> int:
    return main(["--db", str(tmp_path / "h.db"), "run", *args])


def test_listen_only__without_webhook__refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "--listen-only") == 2
    assert capsys.readouterr().err == f"hearth: {said('operator.listen_only_needs_webhook')}\n"


def test_listen_only__on_sqlite__refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "--webhook", "https://bot.example.org/h", "--listen-only",
               "--secret-token", "s3cret") == 2
    assert capsys.readouterr().err == f"hearth: {said('operator.listen_only_needs_database')}\n"


def test_listen_only__without_secret__refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_DATABASE_URL", "postgresql://hearth@127.0.0.1:9/hearth")
    assert run(tmp_path, "--webhook", "https://bot.example.org/h", "--listen-only") == 2
    err = capsys.readouterr().err
    assert err == f"hearth: {said('operator.listen_only_needs_secret')}\n"


def test_webhook__primary_registers_by_default() -> None:
    assert Webhook("https://bot.example.org/h").register is True
    with pytest.raises(ValueError) as refused:
        Webhook("https://bot.example.org/h", register=False)
    assert str(refused.value) == said("operator.listen_only_needs_secret")
