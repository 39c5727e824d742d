"""The lazy flow catalog: the same flows as loading every file, parsed only when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.catalog import FlowCatalog, LazyFlows
from flows.errors import FlowError, ProblemCode
from flows.loader import bundled_flow_paths, flow_index, header_key, load_flows


def test_the_index_names_every_bundled_flow_as_loading_it_does() -> None:
    index, loaded = flow_index(bundled_flow_paths())
    assert loaded == {}  # the bundled headers are plain: nothing parsed to index them
    assert sorted(index) == sorted(load_flows())


def test_a_flow_is_parsed_when_first_asked_for_and_equals_the_eager_one() -> None:
    catalog = FlowCatalog.bundled("sample")
    flows = catalog.flows
    assert isinstance(flows, LazyFlows)
    assert "developmental_history@1" in flows and len(flows) == len(load_flows())
    assert flows._loaded == {}
    sample = catalog.latest("sample")
    assert list(flows._loaded) == ["sample@1"]
    assert sample == load_flows()["sample@1"]
    assert catalog.get("sample@1") is sample  # parsed once
    assert catalog.lifecycle("sample@1") is catalog.lifecycle("sample@1")
    catalog.load_all()
    assert sorted(flows._loaded) == sorted(load_flows())


def test_an_unknown_default_flow_or_key_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="unknown flow 'nope'"):
        FlowCatalog.bundled("nope")
    with pytest.raises(KeyError):
        FlowCatalog.bundled("sample").get("nope@1")
    with pytest.raises(KeyError):
        FlowCatalog.bundled("sample").latest("nope")


def test_latest_is_the_highest_version_not_the_last_file(tmp_path: Path) -> None:
    sample = next(p for p in bundled_flow_paths() if p.name == "sample.yaml").read_text()
    for version in (2, 10, 9):
        text = sample.replace("\nversion: 1\n", f"\nversion: {version}\n", 1)
        (tmp_path / f"v{version}.yaml").write_text(text)
    catalog = FlowCatalog(LazyFlows(flow_index(sorted(tmp_path.glob("*.yaml")))[0]), "sample")
    assert catalog.latest("sample").version == 10


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("id: a\nversion: 3\n", "a@3"),
        ("# note\nid: 'a_b'  # why\nversion: \"12\"\nsections:\n  - id: x\n", "a_b@12"),
        ("id: a\n", None),  # no version: parsed whole instead
        ("id: a\nversion: 1\nx:\n  id: b\nid: c\n", None),  # two ids: parsed whole
        ("id: a\nversion: one\n", None),
    ],
)
def test_header_key(text: str, key: str | None) -> None:
    assert header_key(text) == key


def test_two_files_with_one_key_are_refused_together(tmp_path: Path) -> None:
    sample = next(p for p in bundled_flow_paths() if p.name == "sample.yaml").read_text()
    (tmp_path / "a.yaml").write_text(sample)
    (tmp_path / "b.yaml").write_text(sample)
    with pytest.raises(FlowError) as caught:
        flow_index(sorted(tmp_path.glob("*.yaml")))
    assert [p.code for p in caught.value.problems] == [ProblemCode.DUPLICATE_ID]


def test_a_file_whose_header_misleads_the_index_is_refused_when_loaded(tmp_path: Path) -> None:
    sample = next(p for p in bundled_flow_paths() if p.name == "sample.yaml").read_text()
    path = tmp_path / "odd.yaml"
    path.write_text(sample)
    flows = LazyFlows({"sample@7": path})
    with pytest.raises(FlowError, match="loads as 'sample@1'"):
        flows["sample@7"]
