"""The loaded flows, each with its one shared lifecycle machine."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from flows.lifecycle import Lifecycle
from flows.loader import bundled_flow_paths, flow_index, load_indexed
from flows.schema import Flow


class LazyFlows(Mapping[str, Flow]):
    """Flow files by `id@version`, each parsed and validated the first time it is asked for.

    The keys come from the files' headers (`flow_index`), so listing, `in` and `len` cost a
    few file reads; `hearth chat` parses only the flow it runs (~35-65 ms a file saved).
    """

    def __init__(self, paths: Mapping[str, Path], loaded: Mapping[str, Flow] | None = None,
                 load: Callable[[str, Path], Flow] = load_indexed) -> None:
        self._paths = dict(paths)
        self._load = load  # `key, path -> Flow`; bot/flow_cache.py keeps them between runs
        self._loaded: dict[str, Flow] = dict(loaded or {})
        # The render thread and the event loop may ask for a flow at once: one load each.
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> Flow:
        flow = self._loaded.get(key)
        if flow is not None:
            return flow
        path = self._paths[key]  # KeyError for an unknown flow, as a dict would
        with self._lock:
            flow = self._loaded.get(key)
            if flow is None:
                flow = self._loaded[key] = self._load(key, path)
        return flow

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, key: object) -> bool:
        return key in self._paths

    def ids(self) -> set[str]:
        """Every flow id, without loading a flow."""
        return {key.rpartition("@")[0] for key in self._paths}

    def load_all(self) -> None:
        """Parse and check every flow now (a server's start-up: a broken file stops it)."""
        for key in self._paths:
            self[key]


def _ids(flows: Mapping[str, Flow]) -> set[str]:
    if isinstance(flows, LazyFlows):
        return flows.ids()
    return {f.id for f in flows.values()}


class FlowCatalog:
    """Flows by `id@version`, the newest version per id, and one `Lifecycle` per flow."""

    def __init__(self, flows: Mapping[str, Flow], default_flow: str) -> None:
        self.flows = flows
        self.default_flow = default_flow
        known = _ids(flows)
        if default_flow not in known:
            listed = ", ".join(sorted(known)) or "(none)"
            raise ValueError(f"unknown flow '{default_flow}': expected one of {listed}")
        self._lifecycles: dict[str, Lifecycle] = {}
        self._lock = threading.Lock()
        # Flows already asked for, in a plain dict: `get` runs a dozen times a step, and
        # the Mapping's own lookup costs ~1 us more each time.
        self._ready: dict[str, Flow] = {}
        self._newest: dict[str, str] = {}

    @classmethod
    def bundled(cls, default_flow: str,
                load: Callable[[str, Path], Flow] = load_indexed) -> FlowCatalog:
        """The flows shipped with Hearth, each loaded (by `load`) when first needed."""
        index, loaded = flow_index(bundled_flow_paths())
        return cls(LazyFlows(index, loaded, load), default_flow)

    def load_all(self) -> None:
        """Load and check every flow now instead of on first use."""
        if isinstance(self.flows, LazyFlows):
            self.flows.load_all()

    def get(self, key: str) -> Flow:
        """The flow `id@version` an interview was started on."""
        flow = self._ready.get(key)
        if flow is None:
            flow = self._ready[key] = self.flows[key]
        return flow

    def latest(self, flow_id: str) -> Flow:
        """The newest version of a flow: what a new interview starts on."""
        key = self._newest.get(flow_id)
        if key is None:
            versions = [(int(v), k) for k in self.flows for i, _, v in [k.rpartition("@")]
                        if i == flow_id]
            if not versions:
                raise KeyError(flow_id)
            key = self._newest[flow_id] = max(versions)[1]
        return self.get(key)

    def lifecycle(self, key: str) -> Lifecycle:
        """The shared machine of the flow `id@version`."""
        machine = self._lifecycles.get(key)
        if machine is None:
            with self._lock:
                machine = self._lifecycles.get(key)
                if machine is None:
                    machine = self._lifecycles[key] = Lifecycle(self.get(key))
        return machine
