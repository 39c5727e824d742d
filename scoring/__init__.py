"""Scoring: answers in, a `Report` out (pure; the rules are data under scoring/rules/).

The names below are loaded on first use: parsing the rule models costs ~0.1 s, and
`hearth chat` asks only `has_rules` before its first question.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scoring.bundle import has_rules

if TYPE_CHECKING:
    from scoring.build import build_report, build_report_with
    from scoring.report import Report
    from scoring.rules import NoScoringRules, RuleProblem, RulesError, RuleSet

__all__ = [
    "NoScoringRules",
    "Report",
    "RuleProblem",
    "RuleSet",
    "RulesError",
    "build_report",
    "build_report_with",
    "has_rules",
]

_WHERE = {
    "NoScoringRules": "scoring.rules",
    "Report": "scoring.report",
    "RuleProblem": "scoring.rules",
    "RuleSet": "scoring.rules",
    "RulesError": "scoring.rules",
    "build_report": "scoring.build",
    "build_report_with": "scoring.build",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'scoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
