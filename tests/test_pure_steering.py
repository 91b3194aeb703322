"""Steering a case without the bot: reopening an ended case, taking an answer back, stepping back
over the last step, what a changed answer did to the plan, which values Done waits for, and how a
value is accepted. On a small playbook made for the test (the shipped one changes)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bot.playbook import InvalidValue, Leaf, Option, Playbook, Question, Step
from bot.playbook.model import Placeholder
from bot.walkthrough.case import CLOSED, COMPLETE, ESCALATED, NEEDS_SUPPORT, OPEN, RecoveryCase, StepRecord
from bot.walkthrough.rules import (
    MAX_VALUE,
    accept_value,
    changed_plan,
    complete_step,
    current_step,
    fail_step,
    leaf_of,
    needed_for_done,
    pending_question,
    plan_titles,
    record_values,
    reopen,
    step_back,
    take_back,
)

OLD = "2000-01-01T00:00:00.000+00:00"


def step(step_id: str, commands: dict[str, str] | None = None, **fields) -> Step:
    if "when" in fields:
        fields["when"] = MappingProxyType(fields["when"])
    commands = commands if commands is not None else {"modern": f"Run-{step_id}", "original": ""}
    return Step(id=step_id, title=f"Title of {step_id}", why="why", commands=commands, **fields)


def option(option_id: str, **fields) -> Option:
    return Option(id=option_id, label=option_id.title(), meaning=option_id, **fields)


def question(question_id: str, *options: Option) -> Question:
    return Question(id=question_id, prompt=f"{question_id}?", options=options)


def make_leaf(leaf_id: str, steps: tuple[Step, ...], answers: dict[str, str], **fields) -> Leaf:
    fields.setdefault("outcome", "self_service")
    return Leaf(id=leaf_id, answers=MappingProxyType(answers), source="seed", summary="s", steps=steps, **fields)


ENTRA = question("entra", option("present"), option("deleted"))
MAILBOX = question("mailbox", option("active"), option("soft"))
LICENCE = question("licence", option("yes"), option("no"))  # asked in every scenario
ADFS = question("adfs", option("yes"), option("no"), option("broken", end="support"))
HYBRID = question("hybrid", option("yes"), option("no"), option("unsure", end="support"))
BACK = question("back", option("yes"), option("not_yet", end="support"))

SELF = make_leaf(
    "S1",
    (
        step("check", collect=("exchange_guid", "name")),
        step("ask_hybrid", ask="hybrid"),
        step("hybrid_a", when={"hybrid": "yes"}),
        step("cloud", when={"hybrid": "no"}),
        step("restore", on_failure="fallback", failure_note="Try the fallback."),
        step("verify"),
        step("extra"),
        step("fallback", on_failure="support", failure_note="Support must restore it."),
        step("wait_back", ask="back"),
    ),
    {"entra": "present", "mailbox": "active"},
    ask_first=("licence", "adfs"),
)
OTHER = make_leaf(
    "S2",
    (step("check"), step("gather")),
    {"entra": "present", "mailbox": "soft"},
    ask_first=("licence",),
)
# A failure path over a step that asks (so it is skipped unanswered), then a step that asks and
# whose failure needs support.
JUMPING = make_leaf(
    "S4",
    (
        step("first"),
        step("jump", on_failure="last"),
        step("asks", ask="hybrid"),
        step("last", ask="back", on_failure="support"),
    ),
    {"entra": "deleted", "mailbox": "active"},
)
SITUATED = make_leaf("S3", (step("look"),), {}, ask_first=("licence",), situation="orphan")
PLACEHOLDERS = {
    "upn": Placeholder("upn", "UPN", "upn"),
    "exchange_guid": Placeholder("exchange_guid", "ExchangeGuid", "guid"),
    "name": Placeholder("name", "Name", "text"),
}
PLAYBOOK = Playbook(
    title="t",
    audience="a",
    estimated_time="e",
    retired_note="r",
    questions=(ENTRA, MAILBOX),
    subquestions=MappingProxyType({"licence": LICENCE, "adfs": ADFS, "hybrid": HYBRID, "back": BACK}),
    placeholders=MappingProxyType(PLACEHOLDERS),
    leaves=MappingProxyType({"S1": SELF, "S2": OTHER, "S3": SITUATED, "S4": JUMPING}),
    complete_text="done",
    resources=(),
    support_always=(),
    by_answers=MappingProxyType({("present", "active"): "S1", ("present", "soft"): "S2", ("deleted", "active"): "S4"}),
    by_situation=MappingProxyType({"orphan": "S3"}),
    ask_every_leaf=("licence",),
)
SCOPED = {"entra": "present", "mailbox": "active", "licence": "yes", "adfs": "no"}


def a_case(**answers: str) -> RecoveryCase:
    case = RecoveryCase("MR-TEST2222", "admin-1", upn="jane@contoso.com", answers=dict(answers))
    case.answered_by = dict.fromkeys(answers, "admin")
    leaf = PLAYBOOK.leaf_for(case.answers)
    case.leaf_id = leaf.id if leaf else None
    case.updated_at = OLD
    return case


def passed(case: RecoveryCase, status: str, *step_ids: str) -> None:
    for step_id in step_ids:
        case.steps[step_id] = StepRecord(status, OLD)


# --- reopen ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CLOSED, COMPLETE, ESCALATED])
def test_reopening_a_case_that_did_not_end_in_support_only_opens_it(status):
    case = a_case(**SCOPED, hybrid="unsure")
    case.answers["adfs"] = "broken"  # answers that would end in support are left as they are
    passed(case, "done", "check", "ask_hybrid")
    passed(case, "failed", "fallback")
    case.status, case.end_reason = status, "Finished."
    answers, steps = dict(case.answers), dict(case.steps)
    reopen(case, PLAYBOOK)
    assert (case.status, case.end_reason) == (OPEN, "")
    assert case.answers == answers and case.steps == steps
    assert case.updated_at > OLD


def test_reopening_takes_back_the_scoping_sub_answer_that_ended_in_support():
    case = a_case(**{**SCOPED, "adfs": "broken"})
    case.status, case.end_reason = NEEDS_SUPPORT, "Support has to look at ADFS."
    reopen(case, PLAYBOOK)
    assert case.answers == {"entra": "present", "mailbox": "active", "licence": "yes"}
    assert (case.status, case.end_reason) == (OPEN, "")
    assert pending_question(case, PLAYBOOK) == "adfs", "asked again"
    assert case.updated_at > OLD


def test_reopening_takes_back_a_steps_answer_that_gave_up_and_makes_that_step_current():
    case = a_case(**SCOPED, hybrid="unsure")
    passed(case, "done", "check", "ask_hybrid")
    case.status = NEEDS_SUPPORT
    reopen(case, PLAYBOOK)
    assert "hybrid" not in case.answers and set(case.steps) == {"check"}
    assert current_step(case, SELF).id == "ask_hybrid"
    assert case.answers == SCOPED


def test_reopening_makes_a_step_that_failed_into_support_current_and_keeps_the_rest():
    case = a_case(**SCOPED, hybrid="yes", back="yes")
    passed(case, "done", "check", "ask_hybrid")  # hybrid_a and cloud have no record: looked past
    passed(case, "failed", "restore")  # its failure has a path: not what ended the case
    passed(case, "skipped", "verify", "extra")
    passed(case, "failed", "fallback")
    passed(case, "done", "wait_back")  # answered 'yes': did not give up
    case.status = NEEDS_SUPPORT
    reopen(case, PLAYBOOK)
    assert set(case.steps) == {"check", "ask_hybrid", "restore", "verify", "extra", "wait_back"}
    assert case.answers == {**SCOPED, "hybrid": "yes", "back": "yes"}
    assert case.status == OPEN


def test_reopening_keeps_a_done_step_whose_failure_would_need_support():
    case = a_case(**SCOPED, hybrid="no")
    passed(case, "done", "check", "ask_hybrid", "cloud", "restore", "verify", "extra", "fallback")
    case.steps["wait_back"] = StepRecord("done", OLD)
    case.answers["back"] = "not_yet"
    case.status = NEEDS_SUPPORT
    reopen(case, PLAYBOOK)
    assert "fallback" in case.steps and "wait_back" not in case.steps and "back" not in case.answers


def test_reopening_after_a_step_that_asks_failed_into_support_before_it_was_answered():
    case = a_case(entra="deleted", mailbox="active")
    passed(case, "done", "first", "jump")
    passed(case, "failed", "last")
    case.status = NEEDS_SUPPORT
    reopen(case, PLAYBOOK)
    assert set(case.steps) == {"first", "jump"} and case.status == OPEN
    assert current_step(case, JUMPING).id == "asks"


def test_reopening_a_case_without_a_scenario_just_opens_it():
    case = a_case(entra="present")
    case.status = NEEDS_SUPPORT
    reopen(case, PLAYBOOK)
    assert case.status == OPEN and case.answers == {"entra": "present"}


# --- take_back ---------------------------------------------------------------------------------


def test_taking_back_an_unanswered_question_changes_nothing():
    case = a_case(**SCOPED)
    take_back(case, PLAYBOOK, "hybrid")
    assert case.answers == SCOPED and case.replan is None and case.updated_at == OLD


def test_taking_back_a_sub_question_unanswers_only_it_and_keeps_the_scenario():
    case = a_case(**SCOPED, hybrid="yes")
    case.answered_by["hybrid"] = "graph"
    before = plan_titles(case, PLAYBOOK)
    take_back(case, PLAYBOOK, "adfs")
    assert case.answers == {"entra": "present", "mailbox": "active", "licence": "yes", "hybrid": "yes"}
    assert case.answered_by == {"entra": "admin", "mailbox": "admin", "licence": "admin", "hybrid": "graph"}
    assert case.leaf_id == "S1"
    assert case.replan == before
    assert case.updated_at > OLD
    assert pending_question(case, PLAYBOOK) == "adfs"


def test_taking_back_a_scoping_answer_drops_the_old_scenarios_sub_answers_but_not_those_every_scenario_asks():
    case = a_case(**SCOPED, hybrid="yes")
    before = plan_titles(case, PLAYBOOK)
    take_back(case, PLAYBOOK, "mailbox")
    assert case.answers == {"entra": "present", "licence": "yes"}
    assert case.answered_by == {"entra": "admin", "licence": "admin"}
    assert case.leaf_id is None
    assert (
        case.replan
        == before
        == [
            "Title of check",
            "Title of ask_hybrid",
            "Title of hybrid_a",
            "Title of restore",
            "Title of verify",
            "Title of extra",
            "Title of fallback",
            "Title of wait_back",
        ]
    )
    assert pending_question(case, PLAYBOOK) == "mailbox"


def test_taking_back_the_first_scoping_answer_keeps_the_other_scoping_answer():
    case = a_case(**SCOPED)
    take_back(case, PLAYBOOK, "entra")
    assert case.answers == {"mailbox": "active", "licence": "yes"}


def test_an_answer_with_no_record_of_who_gave_it_is_taken_back_too():
    case = a_case(**SCOPED, hybrid="yes")
    del case.answered_by["hybrid"], case.answered_by["adfs"]  # as a version 2 case may have it
    take_back(case, PLAYBOOK, "mailbox")
    assert case.answers == {"entra": "present", "licence": "yes"}
    assert case.answered_by == {"entra": "admin", "licence": "admin"}


def test_the_plan_before_the_first_change_is_the_one_kept():
    case = a_case(**SCOPED)
    case.replan = ["Title of an older plan"]
    take_back(case, PLAYBOOK, "adfs")
    assert case.replan == ["Title of an older plan"]


def test_taking_back_before_there_was_a_plan_keeps_no_plan_to_compare():
    case = a_case(entra="present", licence="yes")
    take_back(case, PLAYBOOK, "licence")
    assert case.answers == {"entra": "present"} and case.replan is None
    assert case.updated_at > OLD


def test_a_scenario_changed_by_a_taken_back_answer_is_found_again():
    case = a_case(**SCOPED)
    take_back(case, PLAYBOOK, "mailbox")
    case.answers["mailbox"] = "soft"
    take_back(case, PLAYBOOK, "licence")  # a sub-question: the scenario is looked up again
    assert case.leaf_id == "S2"


# --- step_back ---------------------------------------------------------------------------------


def test_stepping_back_with_no_step_passed_gives_none():
    case = a_case(**SCOPED)
    assert step_back(case, PLAYBOOK) is None
    assert step_back(a_case(entra="present"), PLAYBOOK) is None
    assert case.updated_at == OLD


def test_stepping_back_reopens_the_last_step_in_the_leafs_order():
    case = a_case(**SCOPED, hybrid="no")
    passed(case, "done", "cloud", "check", "ask_hybrid")  # recorded in another order
    case.confirmed = ["check", "cloud"]
    case.pending_failure = {"step": "restore", "error": "boom"}
    back = step_back(case, PLAYBOOK)
    assert back is not None and back.id == "cloud"
    assert set(case.steps) == {"check", "ask_hybrid"}
    assert case.confirmed == ["check"]
    assert case.pending_failure is None
    assert case.answers["hybrid"] == "no", "a step that asks nothing leaves the answers alone"
    assert current_step(case, SELF).id == "cloud"
    assert case.updated_at > OLD


def test_stepping_back_over_a_step_that_asks_unanswers_it():
    case = a_case(**SCOPED, hybrid="yes")
    passed(case, "done", "check", "ask_hybrid")
    case.confirmed = ["check"]
    assert step_back(case, PLAYBOOK).id == "ask_hybrid"
    assert "hybrid" not in case.answers and case.answers == SCOPED
    assert set(case.steps) == {"check"} and case.confirmed == ["check"]


def test_stepping_back_after_a_failure_jump_reopens_the_failed_step_and_the_skipped_ones():
    case = a_case(**SCOPED, hybrid="no")
    passed(case, "done", "check", "ask_hybrid", "cloud")
    fail_step(case, SELF, SELF.step("restore"))
    assert current_step(case, SELF).id == "fallback"
    case.confirmed = ["extra", "cloud"]
    case.pending_failure = {"step": "fallback", "error": "again"}
    assert step_back(case, PLAYBOOK).id == "restore"
    assert set(case.steps) == {"check", "ask_hybrid", "cloud"}
    assert case.confirmed == ["cloud"]
    assert case.pending_failure is None
    assert current_step(case, SELF).id == "restore"


def test_stepping_back_over_a_skipped_step_that_asks_reopens_the_failure_before_it():
    case = a_case(entra="deleted", mailbox="active")
    passed(case, "done", "first")
    fail_step(case, JUMPING, JUMPING.step("jump"))
    assert case.steps["asks"].status == "skipped" and "hybrid" not in case.answers
    assert step_back(case, PLAYBOOK).id == "jump"
    assert set(case.steps) == {"first"}


def test_stepping_back_when_only_skipped_steps_are_left_reopens_them_all_and_gives_none():
    case = a_case(**SCOPED)
    passed(case, "skipped", "check", "verify")
    case.pending_failure = {"step": "x", "error": ""}
    assert step_back(case, PLAYBOOK) is None
    assert case.steps == {}
    assert case.pending_failure == {"step": "x", "error": ""}


# --- changed_plan ------------------------------------------------------------------------------


def test_a_plan_with_the_same_steps_is_the_same():
    assert changed_plan(["A", "B"], ["A", "B"]) == "The plan is the same as before."
    assert changed_plan([], []) == "The plan is the same as before."


def test_a_plan_with_new_steps_lists_them():
    assert changed_plan(["A"], ["A", "B", "C"]) == "The plan changed: now 3 steps. New: B; C."


def test_a_plan_with_steps_dropped_lists_them():
    assert changed_plan(["A", "B", "C"], ["B"]) == "The plan changed: now 1 steps. No longer needed: A; C."


def test_a_plan_with_steps_new_and_dropped_says_both():
    assert changed_plan(["A", "B"], ["A", "C", "D"]) == "The plan changed: now 3 steps. New: C; D. No longer needed: B."


# --- needed_for_done ---------------------------------------------------------------------------


def done_leaf(admin_center: str) -> tuple[Leaf, Step]:
    collecting = step(
        "collect",
        commands={"modern": "Get-Thing {own}", "original": ""},
        collect=("earlier", "own", "next", "original", "later", "unused"),
        admin_center=admin_center,
    )
    leaf = make_leaf(
        "L",
        (
            step("before", commands={"modern": "Set-It {earlier}", "original": ""}),
            collecting,
            step("next_step", commands={"modern": "Set-It -Id {next}", "original": "Set-Old {original}"}),
            step("last_step", commands={"modern": "Set-It {later} -Name later", "original": ""}),
        ),
        {},
    )
    return leaf, collecting


def test_done_waits_for_every_value_a_step_collects_when_it_has_no_admin_center_way():
    leaf, collecting = done_leaf("")
    assert needed_for_done(leaf, collecting) == ("earlier", "own", "next", "original", "later", "unused")


def test_done_in_the_admin_center_waits_only_for_values_later_steps_use_in_any_dialect():
    leaf, collecting = done_leaf("Open Exchange admin center > Recipients")
    assert needed_for_done(leaf, collecting) == ("next", "original", "later")


def test_a_last_step_done_in_the_admin_center_waits_for_nothing():
    last = step("last", collect=("name",), admin_center="Open the admin center")
    leaf = make_leaf("L", (step("first", commands={"modern": "Use {name}"}), last), {})
    assert needed_for_done(leaf, last) == ()


# --- accept_value ------------------------------------------------------------------------------


def test_a_value_of_the_longest_length_is_accepted_one_more_is_refused_with_its_length():
    name = PLACEHOLDERS["name"]
    assert accept_value(name, "x" * MAX_VALUE) == "x" * MAX_VALUE
    with pytest.raises(InvalidValue) as refused:
        accept_value(name, "x" * (MAX_VALUE + 1))
    assert str(refused.value) == f"The Name is {MAX_VALUE + 1} characters long; at most {MAX_VALUE} fit."
    with pytest.raises(InvalidValue, match=r"^The Name is 1,000 characters long; at most 256 fit\.$"):
        accept_value(name, "y" * 1000)


def test_a_value_holding_a_secret_is_refused_and_not_echoed():
    with pytest.raises(InvalidValue) as refused:
        accept_value(PLACEHOLDERS["name"], "password: Hunter2-secret!")
    assert str(refused.value) == (
        "The Name looks like it holds a password or a secret, so it was not recorded: "
        "paste only the value the step asks for. The bot never needs a password."
    )
    assert "Hunter2" not in str(refused.value)


def test_a_value_is_checked_for_length_then_secrets_then_shape():
    guid = PLACEHOLDERS["exchange_guid"]
    with pytest.raises(InvalidValue, match=r"characters long"):
        accept_value(guid, "password: " + "x" * MAX_VALUE)  # too long and a secret: the length is said
    with pytest.raises(InvalidValue, match=r"looks like it holds a password"):
        accept_value(guid, "password=Hunter2")  # a secret and not a GUID: the secret is said
    with pytest.raises(InvalidValue, match=r"^The ExchangeGuid must be a GUID"):
        accept_value(guid, "not a guid")


def test_an_accepted_value_is_normalised_to_its_shape():
    guid = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"
    assert accept_value(PLACEHOLDERS["exchange_guid"], "{" + guid.upper() + "}") == guid


# --- the situation leaf, record_values, complete_step ------------------------------------------


def test_a_situation_the_playbook_knows_skips_the_scoping_questions():
    case = a_case()
    case.situation = "orphan"
    assert leaf_of(case, PLAYBOOK) is SITUATED
    assert pending_question(case, PLAYBOOK) == "licence"
    case.answers["licence"] = "no"
    assert pending_question(case, PLAYBOOK) is None


def test_a_situation_the_playbook_does_not_know_falls_back_to_the_answers():
    case = a_case(entra="present", mailbox="soft")
    case.situation = "never_heard_of"
    assert leaf_of(case, PLAYBOOK) is OTHER
    assert pending_question(case, PLAYBOOK) == "licence"
    case.answers = {}
    assert leaf_of(case, PLAYBOOK) is None and pending_question(case, PLAYBOOK) == "entra"


def test_a_playbook_without_situations_reads_the_answers():
    class Plain:
        questions = PLAYBOOK.questions

        @staticmethod
        def leaf_for(answers):
            return PLAYBOOK.leaf_for(answers)

    case = a_case(**SCOPED)
    case.situation = "orphan"
    assert leaf_of(case, Plain()) is SELF


def test_record_values_keeps_only_accepted_known_non_blank_text_and_touches_the_case():
    case = a_case(**SCOPED)
    raw = {"name": "Jane", "exchange_guid": "  ", "upn": "john@contoso.com", "other": "x", "unused": 3}
    assert record_values(case, PLAYBOOK, raw, ("name", "exchange_guid", "other", "unused")) == []
    assert case.values == {"name": "Jane"}
    assert case.updated_at > OLD
    problems = record_values(case, PLAYBOOK, {"exchange_guid": "nope", "name": "Joan"}, ["exchange_guid", "name"])
    assert problems == ["The ExchangeGuid must be a GUID such as 1b3f4c5d-0000-4e2f-9a8b-123456789abc."]
    assert case.values == {"name": "Joan"}


def test_done_takes_away_the_warnings_a_step_resolves_once():
    resolving = step("resolve", resolves=("license", "mailbox"))
    leaf = make_leaf("R", (resolving, step("after")), {})
    case = a_case()
    case.resolved = ["mailbox"]
    assert complete_step(case, PLAYBOOK, leaf, resolving).kind == "next"
    assert case.resolved == ["mailbox", "license"]
