"""Which flows have scoring rules bundled: a file check, no rule parsing."""

from __future__ import annotations

from importlib import resources


def has_rules(flow_id: str) -> bool:
    """Whether a flow id has bundled scoring rules."""
    return (resources.files("scoring") / "rules" / f"{flow_id}.yaml").is_file()
