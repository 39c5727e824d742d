"""Flows kept between runs: the same flow back, parsed again whenever the copy cannot be used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bot.flow_cache as flow_cache
from bot.flow_cache import cache_folder, load_cached
from flows.loader import bundled_flow_paths, load_flow_file
from flows.schema import Flow


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.yaml"
    path.write_text(next(p for p in bundled_flow_paths() if p.name == "sample.yaml").read_text())
    return path


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the real parses `load_cached` falls back to."""
    seen: list[str] = []
    real = flow_cache.load_indexed

    def counted(key: str, path: Path) -> Flow:
        seen.append(key)
        return real(key, path)

    monkeypatch.setattr(flow_cache, "load_indexed", counted)
    return seen


def folder_in(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    return folder


def test_the_second_load_is_the_kept_copy_and_the_same_flow(
    tmp_path: Path, sample: Path, parses: list[str]
) -> None:
    folder = folder_in(tmp_path)
    first = load_cached("sample@1", sample, folder)
    second = load_cached("sample@1", sample, folder)
    assert parses == ["sample@1"]
    assert second == first == load_flow_file(sample).flow
    assert second.item(first.sections[0].items[0].id) == first.sections[0].items[0]
    assert [oct(p.stat().st_mode & 0o777) for p in folder.iterdir()] == ["0o600"]


def test_an_edited_flow_is_parsed_afresh(tmp_path: Path, sample: Path, parses: list[str]) -> None:
    folder = folder_in(tmp_path)
    load_cached("sample@1", sample, folder)
    sample.write_text(sample.read_text().replace("\nversion: 1\n", "\nversion: 1 # edited\n", 1))
    load_cached("sample@1", sample, folder)
    assert parses == ["sample@1", "sample@1"]


def test_a_broken_copy_is_parsed_again_and_replaced(
    tmp_path: Path, sample: Path, parses: list[str]
) -> None:
    folder = folder_in(tmp_path)
    load_cached("sample@1", sample, folder)
    (entry,) = folder.iterdir()
    entry.write_bytes(b"not a pickle")
    assert load_cached("sample@1", sample, folder) == load_flow_file(sample).flow
    assert load_cached("sample@1", sample, folder).key == "sample@1"
    assert parses == ["sample@1", "sample@1"]  # the third came from the rewritten copy


def test_a_folder_others_may_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flow_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    folder = cache_folder()
    assert folder is not None and folder.parent == tmp_path
    os.chmod(folder, 0o777)
    assert cache_folder() is None
