"""The web channel: the interview in a phone's browser, on the same dialogue service."""
