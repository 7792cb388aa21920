"""The confirm dialog of irreversible actions (static/js/confirm.js), for browser journeys."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def confirm(page: Page) -> None:
    """The dialog is open with its confirm button focused: Enter confirms."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-ok]")).to_be_focused()
    page.keyboard.press("Enter")
