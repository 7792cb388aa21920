"""The C-SSRS screen: skip logic and risk, checked over every combination of answers."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from safety.cssrs import (
    ITEM6_EXAMPLES,
    ITEMS,
    WINDOW_TEXT,
    CssrsVersion,
    _completions,
    _levels,
    _risk_of_complete,
    cssrs_asked,
    cssrs_item_text,
    cssrs_items,
    cssrs_missing,
    cssrs_risk,
    cssrs_risk_floor,
    cssrs_risk_text,
    cssrs_validate,
)

KEYS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6b"]
VALUES = (None, True, False)
Y, N, NA = True, False, None


def every_combination() -> list[dict[str, bool | None]]:
    return [dict(zip(KEYS, combo, strict=True)) for combo in itertools.product(VALUES, repeat=7)]


def follows_skip_logic(a: dict[str, bool | None], version: str) -> bool:
    """CLINICAL.md §1 read literally, written independently of safety.cssrs: every answered item
    must be one the interview reaches."""
    reached = {"q1", "q2"}
    if a["q2"] is True:
        reached |= {"q3", "q4", "q5", "q6"}
    if a["q2"] is False:
        reached |= {"q6"}
    if version == CssrsVersion.RECENT and "q6" in reached and a["q6"] is True:
        reached |= {"q6b"}
    return all(a[k] is None or k in reached for k in KEYS)


def is_complete(a: dict[str, bool | None], version: str) -> bool:
    if a["q1"] is None or a["q2"] is None or a["q6"] is None:
        return False
    if a["q2"] and None in (a["q3"], a["q4"], a["q5"]):
        return False
    return not (version == CssrsVersion.RECENT and a["q6"] and a["q6b"] is None)


def table_risk(a: dict[str, bool | None], version: str) -> str:
    """The risk rule of CLINICAL.md §1 for a complete screen."""
    recent = version == CssrsVersion.RECENT
    if a["q4"] or a["q5"] or (a["q6"] and (a["q6b"] if recent else True)):
        return "high"
    if a["q3"] or a["q6"]:
        return "moderate"
    if a["q1"] or a["q2"]:
        return "low"
    return "none"


# The complete screens written out by hand as a second, human-readable check (recent version).
# q1, q2, q3, q4, q5, q6, q6b → risk
HAND_TABLE = [
    ((N, N, NA, NA, NA, N, NA), "none"),
    ((Y, N, NA, NA, NA, N, NA), "low"),
    ((N, N, NA, NA, NA, Y, N), "moderate"),
    ((N, N, NA, NA, NA, Y, Y), "high"),
    ((Y, N, NA, NA, NA, Y, N), "moderate"),
    ((Y, Y, N, N, N, N, NA), "low"),
    ((N, Y, N, N, N, N, NA), "low"),
    ((Y, Y, Y, N, N, N, NA), "moderate"),
    ((Y, Y, N, Y, N, N, NA), "high"),
    ((Y, Y, N, N, Y, N, NA), "high"),
    ((Y, Y, Y, Y, Y, Y, Y), "high"),
    ((Y, Y, N, N, N, Y, N), "moderate"),
    ((Y, Y, N, N, N, Y, Y), "high"),
]


def test_items_are_worded_verbatim() -> None:
    texts = {item.key: item.text for item in ITEMS}
    assert texts["q1"] == (
        "Have you wished you were dead or wished you could go to sleep and not wake up?"
    )
    assert texts["q2"] == "Have you actually had any thoughts of killing yourself?"
    assert texts["q3"] == "Have you been thinking about how you might do this?"
    assert texts["q4"] == "Have you had these thoughts and had some intention of acting on them?"
    assert texts["q5"] == (
        "Have you started to work out or worked out the details of how to kill yourself? "
        "Do you intend to carry out this plan?"
    )
    assert texts["q6"] == (
        "Have you ever done anything, started to do anything, or prepared to do anything to end "
        "your life?"
    )
    assert texts["q6b"] == "Was this within the past 3 months?"
    assert [item.loinc for item in ITEMS] == [
        "93246-7",
        "93247-5",
        "93248-3",
        "93249-1",
        "93250-9",
        "93267-3",
        "93269-9",
    ]


@pytest.mark.parametrize(("answers", "risk"), HAND_TABLE)
def test_hand_written_table_rows_score_as_listed(answers: tuple, risk: str) -> None:
    a = dict(zip(KEYS, answers, strict=True))
    assert cssrs_validate(a, CssrsVersion.RECENT) == {}
    assert cssrs_missing(a, CssrsVersion.RECENT) == []
    assert cssrs_risk(a, CssrsVersion.RECENT) == risk


@pytest.mark.parametrize("version", list(CssrsVersion))
def test_every_complete_consistent_screen_scores_as_the_table_says(version: str) -> None:
    scored = 0
    for a in every_combination():
        if follows_skip_logic(a, version) and is_complete(a, version):
            assert cssrs_validate(a, version) == {}, a
            assert cssrs_missing(a, version) == [], a
            assert cssrs_risk(a, version) == table_risk(a, version), a
            scored += 1
    # recent: q2 no → q1 × (q6 no | q6 yes × q6b) = 2×3 = 6; q2 yes → 2×8×3 = 48.
    # since last contact: no 6b → 2×2 + 2×8×2 = 36.
    assert scored == (54 if version == CssrsVersion.RECENT else 36)


@pytest.mark.parametrize("version", list(CssrsVersion))
def test_every_inconsistent_combination_is_rejected_with_a_message(version: str) -> None:
    rejected = 0
    for a in every_combination():
        errors = cssrs_validate(a, version)
        if follows_skip_logic(a, version):
            assert errors == {}, a
        else:
            assert errors, a
            assert set(errors) <= set(KEYS)
            assert all("leave it blank" in m or "asked only" in m for m in errors.values())
            assert cssrs_risk(a, version) is None
            rejected += 1
    assert rejected > 0


def test_since_last_contact_version_never_asks_6b() -> None:
    a = {"q1": True, "q2": False, "q6": True}
    assert "q6b" not in cssrs_asked(a, CssrsVersion.SINCE_LAST_CONTACT)
    errors = cssrs_validate({**a, "q6b": True}, CssrsVersion.SINCE_LAST_CONTACT)
    assert "since-last-contact" in errors["q6b"]
    assert cssrs_risk(a, CssrsVersion.SINCE_LAST_CONTACT) == "high"


def test_answer_to_an_item_skipped_by_question_2_names_the_reason() -> None:
    errors = cssrs_validate({"q1": True, "q2": False, "q4": True}, CssrsVersion.RECENT)
    assert errors == {"q4": "Question 4 is skipped when question 2 is no: leave it blank."}


def every_finish(version: str) -> list[tuple[dict[str, bool | None], str]]:
    """Every way a screen of `version` can finish (answered as its skip logic asks, complete),
    with the table's risk for it: the brute force the partial screens are checked against,
    independently of cssrs_risk's own search."""
    return [
        (done, table_risk(done, version))
        for done in every_combination()
        if follows_skip_logic(done, version) and is_complete(done, version)
    ]


@pytest.mark.parametrize("version", list(CssrsVersion))
def test_risk_appears_as_soon_as_every_way_to_finish_agrees(version: str) -> None:
    finished = every_finish(version)
    for a in every_combination():
        if not follows_skip_logic(a, version):
            continue
        outcomes = {
            risk for done, risk in finished if all(a[k] is None or done[k] == a[k] for k in KEYS)
        }
        expected = outcomes.pop() if len(outcomes) == 1 else None
        assert cssrs_risk(a, version) == expected, a


ORDER = ["none", "low", "moderate", "high"]


@pytest.mark.parametrize("version", list(CssrsVersion))
def test_risk_floor_is_the_lowest_level_any_way_to_finish_could_give(version: str) -> None:
    checked = 0
    finished = every_finish(version)
    for a in every_combination():
        if not follows_skip_logic(a, version):
            assert cssrs_risk_floor(a, version) is None, a
            continue
        outcomes = {
            risk for done, risk in finished if all(a[k] is None or done[k] == a[k] for k in KEYS)
        }
        floor = cssrs_risk_floor(a, version)
        assert floor == min(outcomes, key=ORDER.index), a
        if len(outcomes) == 1:
            assert floor == cssrs_risk(a, version), a
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("version", list(CssrsVersion))
def test_risk_text_shows_the_level_else_the_floor_else_not_determined(version: str) -> None:
    for a in every_combination():
        if not follows_skip_logic(a, version):
            continue
        text = cssrs_risk_text(a, version)
        risk, floor = cssrs_risk(a, version), cssrs_risk_floor(a, version)
        if risk:
            assert text == risk.capitalize(), a
        elif floor != "none":
            assert text == f"at least {floor.capitalize()} so far", a
        else:
            assert text == "not determined yet", a


def test_items_1_to_3_yes_show_at_least_moderate_before_item_4() -> None:
    a = {"q1": True, "q2": True, "q3": True}
    assert cssrs_risk(a, CssrsVersion.RECENT) is None
    assert cssrs_risk_floor(a, CssrsVersion.RECENT) == "moderate"
    assert cssrs_risk_text(a, CssrsVersion.RECENT) == "at least Moderate so far"
    assert cssrs_risk_text({"q1": True}, CssrsVersion.RECENT) == "at least Low so far"
    assert cssrs_risk_text({"q1": False}, CssrsVersion.RECENT) == "not determined yet"
    assert cssrs_risk_text({**a, "q4": True}, CssrsVersion.RECENT) == "High"


def test_intention_determines_high_before_the_screen_is_finished() -> None:
    assert cssrs_risk({"q1": True, "q2": True, "q4": True}, CssrsVersion.RECENT) == "high"
    assert cssrs_risk({"q1": True, "q2": True}, CssrsVersion.RECENT) is None


@pytest.mark.parametrize("version", list(CssrsVersion))
def test_the_screen_form_accepts_exactly_the_consistent_combinations(version: str) -> None:
    from safety.forms import ScreenForm
    from safety.models import SafetyScreen

    for a in every_combination():
        data = {"s-version": version}
        data.update({f"s-{k}": ("yes" if v else "no") for k, v in a.items() if v is not None})
        form = ScreenForm(data=data, instance=SafetyScreen(), prefix="s")
        assert form.is_valid() == follows_skip_logic(a, version), (a, form.errors)


# --- the "since last contact" version: wording and scoring say the same thing -------------------


def test_since_last_contact_items_ask_since_last_contact_and_never_ever() -> None:
    items = cssrs_items(CssrsVersion.SINCE_LAST_CONTACT)
    assert [item.key for item in items] == ["q1", "q2", "q3", "q4", "q5", "q6"]  # no 6b
    for item in items:
        assert item.text.startswith("Since last contact, have you "), item.key
        assert not re.search(r"\b(ever|lifetime|past month|3 months)\b", item.text, re.I), item.key
    assert cssrs_item_text("q6", CssrsVersion.SINCE_LAST_CONTACT) == (
        "Since last contact, have you done anything, started to do anything, or prepared to do "
        "anything to end your life?"
    )
    assert not re.search(r"\bever\b", str(WINDOW_TEXT[CssrsVersion.SINCE_LAST_CONTACT]), re.I)
    assert cssrs_item_text("q6b", CssrsVersion.SINCE_LAST_CONTACT) == ""


def test_since_last_contact_wording_keeps_the_validated_item_after_the_prefix() -> None:
    """Only the time frame changes: the rest of each item is the screener's own words."""
    for item in ITEMS[:5]:
        slc = cssrs_item_text(item.key, CssrsVersion.SINCE_LAST_CONTACT)
        assert slc == "Since last contact, h" + item.text[1:]


def test_recent_version_wording_is_the_screen_version() -> None:
    assert cssrs_items(CssrsVersion.RECENT) == ITEMS
    assert "ever" in cssrs_item_text("q6", CssrsVersion.RECENT)


def test_since_last_contact_item_6_yes_scores_high_as_it_asks() -> None:
    """Item 6 asks about the time since the last contact (recent by definition): yes is high,
    with no 6b to ask; in the recent version the same yes waits for 6b."""
    answers = {"q1": False, "q2": False, "q6": True}
    assert cssrs_risk(answers, CssrsVersion.SINCE_LAST_CONTACT) == "high"
    assert cssrs_risk(answers, CssrsVersion.RECENT) is None
    assert cssrs_risk({**answers, "q6b": False}, CssrsVersion.RECENT) == "moderate"


def test_item_6_examples_are_the_screeners() -> None:
    for phrase in ("collected pills", "obtained a gun", "gave away valuables", "went to the roof"):
        assert phrase in ITEM6_EXAMPLES


def _walked(answers: dict, version: str) -> set[str] | None:
    """Every level some way of finishing gives, walked afresh (what cssrs_risk and
    cssrs_risk_floor computed at every call before their per-state cache)."""
    if cssrs_validate(answers, version):
        return None
    clean = {key: answers.get(key) for key in KEYS}
    return {_risk_of_complete(done, version) for done in _completions(clean, version)}


@pytest.mark.parametrize("version", [*CssrsVersion, "recent", "since_last_contact"])
def test_cached_risk_equals_the_walk_for_every_answer_state(version: str) -> None:
    _levels.cache_clear()
    states = every_combination()
    random.Random(15).shuffle(states)  # the cache filled in an order of its own
    # Answers other than True / False / None (a mapping may hold anything): 1 is not "yes",
    # 0 not "no", and an answer all the same.
    rng = random.Random(7)
    odd = [{k: rng.choice((None, True, False, 1, 0, "yes")) for k in KEYS} for _ in range(400)]
    for a in [*states, *odd, *states]:
        walked = _walked(a, version)
        risk = walked.copy().pop() if walked is not None and len(walked) == 1 else None
        floor = None if walked is None else min(walked, key=ORDER.index)
        assert cssrs_risk(a, version) == risk, a
        assert cssrs_risk_floor(a, version) == floor, a
    assert _levels.cache_info().hits > len(states)
