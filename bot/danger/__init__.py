"""The danger classifier: ConText rules per language, three verdicts (docs/safety.md)."""

from bot.danger.net import DangerNet, Evidence, Kind, Verdict

__all__ = ["DangerNet", "Evidence", "Kind", "Verdict"]
