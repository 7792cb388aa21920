"""Helpers for the Safety stage of the note page in browser journeys."""

from __future__ import annotations

from playwright.sync_api import Page


def answer(page: Page, item: str, yes: bool) -> None:
    """Answer one C-SSRS item ("q1" … "q6b")."""
    suffix = "" if yes else "_no"
    page.locator(f"#id_safety-screen-{item}{suffix}").check()
