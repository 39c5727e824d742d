"""`hearth run`: configuration mistakes are one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from tests.conftest import said


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKEN", "BASE_URL", "BASE_FILE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(f"HEARTH_TELEGRAM_{name}", raising=False)


def test_run__no_token__one_line_pointing_to_botfather(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_TELEGRAM_TOKEN", "")  # exported but empty counts as missing
    assert main(["--db", str(tmp_path / "h.db"), "run"]) == 2
    err = capsys.readouterr().err
    assert err == f"hearth: {said('operator.telegram_token_missing')}\n"


def test_run__plain_http_webhook__refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_TELEGRAM_TOKEN", "123:abc")
    assert main(["--db", str(tmp_path / "h.db"), "run", "--webhook", "http://example.org/h"]) == 2
    refused = said("operator.webhook_https", got="http://example.org/h")
    assert capsys.readouterr().err == f"hearth: {refused}\n"


def test_run__bot_api_unreachable__one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("HEARTH_TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")  # nothing listens
    assert main(["--db", str(tmp_path / "h.db"), "run"]) == 2
    err = capsys.readouterr().err
    # The reason is the HTTP client's words: the operator's message around it, on one line.
    before, after = said("operator.api_unreachable", url="http://127.0.0.1:9/bot",
                         reason="\0").split("\0")
    assert err.startswith(f"hearth: {before}") and err.endswith(f"{after}\n")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_settings__self_hosted_bot_api__file_url_derived() -> None:
    settings = load_settings(telegram_base_url="http://localhost:8081/bot")
    assert settings.telegram_file_url == "http://localhost:8081/file/bot"
    assert load_settings().telegram_file_url == "https://api.telegram.org/file/bot"


def test_settings__bad_webhook_secret__named_and_not_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(telegram_webhook_secret="has spaces!")
    assert str(caught.value).startswith("HEARTH_TELEGRAM_WEBHOOK_SECRET:")
    assert "has spaces" not in str(caught.value)
