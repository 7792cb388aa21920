"""Helpers for the Safety stage of the note page, for any browser journey that signs a note (the
safety app's sign rules need the C-SSRS answered and agitation rated)."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def answer(page: Page, item: str, yes: bool) -> None:
    """Answer one C-SSRS item ("q1" … "q6b")."""
    suffix = "" if yes else "_no"
    page.locator(f"#id_safety-screen-{item}{suffix}").check()


def fill_safety_no_risk(page: Page, agitation: str = "2") -> None:
    """A screen with every asked item "no" (risk none) and agitation rated: enough for the
    safety rules of a no-risk session."""
    for item in ("q1", "q2", "q6"):
        answer(page, item, yes=False)
    expect(page.locator("#cssrs-risk")).to_have_text("None")
    page.locator("#id_safety-means-agitation").select_option(agitation)
