"""Tests of the web channel in a real browser (Debian chromium, driven by Playwright)."""
