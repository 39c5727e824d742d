"""The loaded flows, each with its one shared lifecycle machine."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.lifecycle import Lifecycle
from flows.loader import load_flows
from flows.schema import Flow


@dataclass
class FlowCatalog:
    """Flows by `id@version`, the newest version per id, and one `Lifecycle` per flow."""

    flows: dict[str, Flow]
    default_flow: str
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default_flow not in {f.id for f in self.flows.values()}:
            known = ", ".join(sorted({f.id for f in self.flows.values()})) or "(none)"
            raise ValueError(f"unknown flow '{self.default_flow}': expected one of {known}")
        self.lifecycles = {key: Lifecycle(flow) for key, flow in self.flows.items()}

    @classmethod
    def bundled(cls, default_flow: str) -> FlowCatalog:
        """The flows shipped with Hearth."""
        return cls(load_flows(), default_flow)

    def get(self, key: str) -> Flow:
        """The flow `id@version` an interview was started on."""
        return self.flows[key]

    def latest(self, flow_id: str) -> Flow:
        """The newest version of a flow: what a new interview starts on."""
        versions = [f for f in self.flows.values() if f.id == flow_id]
        if not versions:
            raise KeyError(flow_id)
        return max(versions, key=lambda f: f.version)

    def lifecycle(self, key: str) -> Lifecycle:
        """The shared machine of the flow `id@version`."""
        return self.lifecycles[key]
