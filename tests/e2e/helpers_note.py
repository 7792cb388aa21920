"""Keyboard-only helpers for the note page, shared by the browser journeys (the safety and
supervision journeys reuse them). Each helper jumps to its stage with its Alt+<n> shortcut and
then only types, tabs and presses keys — no clicks, no fill()."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def wait_ready(page: Page) -> None:
    """After loading a note page: wait until note.js runs (shortcuts and autosave are live)."""
    expect(page.locator("#note-form[data-autosave=ready]")).to_have_count(1)


def stage_number(page: Page, key: str) -> str:
    return page.locator(f"#stage-{key}").get_attribute("data-stage-number") or ""


def jump_to(page: Page, key: str) -> None:
    """Alt+<n>: focus the first field of the stage."""
    page.keyboard.press(f"Alt+{stage_number(page, key)}")


def tab(page: Page, times: int = 1) -> None:
    for _ in range(times):
        page.keyboard.press("Tab")


def tab_to(page: Page, field_id: str, limit: int = 120) -> None:
    """Press Tab until the field has the focus (keyboard only, robust to layout changes)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == field_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{field_id}")


def expect_focus(page: Page, field_id: str) -> None:
    expect(page.locator(f"#{field_id}")).to_be_focused()


def wait_saved(page: Page) -> None:
    expect(page.get_by_test_id("save-status")).to_have_text(
        re.compile(r"^saved \d\d:\d\d:\d\d$"), timeout=10_000
    )


def completion(page: Page, key: str):
    return page.locator(f"#stage-{key} .completion-badge")


def fill_header(page: Page) -> None:
    """Alt+0 lands on the contact type (full session, already chosen); Tab goes on past the
    modality (already chosen) to "limits of confidentiality explained"."""
    page.keyboard.press("Alt+0")
    tab_to(page, "id_header-confidentiality_explained", limit=4)
    expect_focus(page, "id_header-confidentiality_explained")
    page.keyboard.press("Space")


def fill_safety(page: Page) -> None:
    """The minimum a no-risk call needs in the Safety stage (owned by the safety app): C-SSRS
    screener questions 1, 2 and 6 answered "no" (skip logic hides 3–5) and agitation rated.
    Does nothing when no Safety stage is installed."""
    if page.locator("#stage-safety").count() == 0:
        return
    jump_to(page, "safety")
    for question in ("q1", "q2", "q6"):
        tab_to(page, f"id_safety-screen-{question}")  # an unanswered group: its first radio
        page.keyboard.press("ArrowDown")  # → "No", checked
        expect(page.locator(f"#id_safety-screen-{question}_no")).to_be_checked()
    tab_to(page, "id_safety-means-agitation")
    page.keyboard.type("2")


def fill_exploration(page: Page) -> None:
    jump_to(page, "exploration")
    expect_focus(page, "id_exploration-precipitating_event")
    page.keyboard.type("Lost night-shift hours again; landlord called about rent.")
    tab(page)
    page.keyboard.type("Feels like everything is falling apart.")
    tab(page)
    page.keyboard.type("Blames the new manager.")
    tab(page)
    expect_focus(page, "id_exploration-suds_start")
    page.keyboard.type("8")
    tab(page)
    page.keyboard.type("4")
    tab(page, 2)  # past "SUDS not obtained: reason" to the first affect box
    tab(page)  # "Anxious"
    page.keyboard.press("Space")


def fill_rapport(page: Page) -> None:
    jump_to(page, "rapport")
    expect_focus(page, "id_rapport-engagement_notes")
    page.keyboard.type("Engaged after a slow start.")
    tab(page)
    page.keyboard.type("Validated how exhausting the uncertainty is.")
    tab(page)
    page.keyboard.type("Suggested writing down questions for the landlord.")
    tab_to(page, "id_rapport-resources_given_3")  # the demo directory's shelter
    page.keyboard.press("Space")


def fill_problem_solving(page: Page) -> None:
    jump_to(page, "problem_solving")
    expect_focus(page, "id_problem_solving-cognitive_errors_0")
    page.keyboard.press("Space")  # catastrophising
    tab(page, 6)
    expect_focus(page, "id_problem_solving-reframes")
    page.keyboard.type("One bad month is not a lost home.")
    tab(page)
    page.keyboard.type("Went for a walk; helped a little.")
    tab(page)
    page.keyboard.type("Ask a coworker to swap shifts.")
    tab(page)
    page.keyboard.type("Call the landlord Monday at 10.")
    tab(page)
    page.keyboard.press("Space")  # supportive
    tab(page, 4)
    expect_focus(page, "id_problem_solving-interventions")
    page.keyboard.type("Active listening, grounding, problem-solving.")


def fill_follow_up(page: Page) -> None:
    jump_to(page, "follow_up")
    expect_focus(page, "id_follow_up-supports")
    page.keyboard.type(" Sibling two towns away.")
    tab(page)
    page.keyboard.type(" Long nights alone.")
    tab(page)
    expect_focus(page, "id_follow_up-referral_1_to")
    tab(page, 12)
    expect_focus(page, "id_follow_up-followup_plan")
    page.keyboard.type("Check-in call tomorrow evening.")
    tab(page)
    page.keyboard.press("Space")  # crisis numbers given
    tab(page)
    expect_focus(page, "id_follow_up-disposition_0")
    page.keyboard.press("Space")  # stabilised at home


def save_now(page: Page) -> None:
    page.keyboard.press("Control+s")
    wait_saved(page)
