"""Where a case stands and how it moves on, on a small playbook made for the test: sub-question
branches of different lengths, a failure path that jumps ahead, a failure that ends in support.
The shipped playbook changes with the recovery knowledge; these rules must not."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bot.playbook import InvalidValue, Leaf, Option, Playbook, Question, Step
from bot.playbook.model import Placeholder
from bot.walkthrough.case import COMPLETE, NEEDS_SUPPORT, OPEN, RecoveryCase, StepRecord
from bot.walkthrough.rules import (
    MAX_VALUE,
    alternative_of,
    answer,
    applicable_steps,
    collected_at,
    complete_step,
    current_step,
    expected_step_count,
    fail_step,
    may_apply,
    missing_values,
    pending_question,
    question_number,
    record_values,
    set_upn,
    step_number,
    total_wait_minutes,
)

OLD = "2000-01-01T00:00:00.000+00:00"


def step(step_id: str, **fields) -> Step:
    if "when" in fields:
        fields["when"] = MappingProxyType(fields["when"])
    commands = {"modern": f"Run-{step_id}", "original": ""}
    return Step(id=step_id, title=f"Title of {step_id}", why="why", commands=commands, **fields)


def option(option_id: str, label: str, **fields) -> Option:
    return Option(id=option_id, label=label, meaning=label, **fields)


def question(question_id: str, *options: Option) -> Question:
    return Question(id=question_id, prompt=f"{question_id}?", options=options)


def make_leaf(leaf_id: str, outcome: str, steps: tuple[Step, ...], answers: dict[str, str] | None = None, **fields) -> Leaf:
    answers = MappingProxyType(answers or {})
    return Leaf(id=leaf_id, answers=answers, outcome=outcome, source="seed", summary="s", steps=steps, **fields)


def placeholder(name: str, label: str, kind: str) -> Placeholder:
    return Placeholder(name=name, label=label, kind=kind)


ENTRA = question("entra", option("present", "Present"), option("deleted", "Deleted"))
MAILBOX = question("mailbox", option("active", "Active"), option("soft", "Soft-deleted"))
ADFS = question("adfs", option("yes", "Yes"), option("no", "No"))
HYBRID = question(
    "hybrid",
    option("yes", "Yes, hybrid", note="Hybrid: the on-premises server leads."),
    option("no", "No"),
    option("unsure", "I cannot tell", end="support", note="Support has to look at the hybrid set-up."),
    option("gone", "Server removed", end="support"),
)

# Steps of SELF: 1 check (collects the guid), 2 asks hybrid; hybrid=yes adds 3 steps, hybrid=no one;
# then restore (its failure jumps to fallback, skipping verify) and fallback (failure -> support).
SELF = make_leaf(
    "S1",
    "self_service",
    (
        step("check", collect=("exchange_guid",), wait_minutes=5),
        step("ask_hybrid", ask="hybrid"),
        step("hybrid_a", when={"hybrid": "yes"}, collect=("name",), wait_minutes=30),
        step("hybrid_b", when={"hybrid": "yes"}),
        step("hybrid_c", when={"hybrid": "yes"}, collect=("exchange_guid",)),
        step("cloud", when={"hybrid": "no"}, collect=("name",)),
        step("restore", on_failure="fallback", failure_note="Try the fallback instead."),
        step("verify", wait_minutes=15),
        step("extra"),
        step("fallback", on_failure="support", failure_note="Support must restore it."),
    ),
    {"entra": "present", "mailbox": "active"},
    ask_first=("adfs",),
)
SUPPORT_LEAF = make_leaf(
    "S2",
    "support",
    (step("gather"), step("stuck_step", failure_note="Check the licence, then try again.")),
    {"entra": "deleted", "mailbox": "soft"},
)
PLAYBOOK = Playbook(
    title="t",
    audience="a",
    estimated_time="e",
    retired_note="r",
    questions=(ENTRA, MAILBOX),
    subquestions=MappingProxyType({"adfs": ADFS, "hybrid": HYBRID}),
    placeholders=MappingProxyType(
        {
            "upn": placeholder("upn", "UPN", "upn"),
            "exchange_guid": placeholder("exchange_guid", "ExchangeGuid", "guid"),
            "name": placeholder("name", "Name", "text"),
        }
    ),
    leaves=MappingProxyType({"S1": SELF, "S2": SUPPORT_LEAF}),
    complete_text="done",
    resources=(),
    support_always=(),
    by_answers=MappingProxyType({("present", "active"): "S1", ("deleted", "soft"): "S2"}),
)


def new_case(**answers: str) -> RecoveryCase:
    case = RecoveryCase("MR-TEST22", "admin-1", upn="jane@contoso.com", answers=dict(answers))
    case.leaf_id = PLAYBOOK.leaf_for(case.answers).id if PLAYBOOK.leaf_for(case.answers) else None
    case.updated_at = OLD
    return case


def done(case: RecoveryCase, *step_ids: str) -> None:
    for step_id in step_ids:
        case.steps[step_id] = StepRecord("done", OLD)


# --- what is asked, in which order -------------------------------------------------------------


def test_questions_come_in_order_upn_first_then_the_leafs_own_sub_questions():
    case = RecoveryCase("MR-TEST22", "admin-1")
    assert pending_question(case, PLAYBOOK) == "upn"
    set_upn(case, "  jane@contoso.com ")
    assert pending_question(case, PLAYBOOK) == "entra"
    answer(case, PLAYBOOK, ENTRA, "present")
    assert pending_question(case, PLAYBOOK) == "mailbox"
    answer(case, PLAYBOOK, MAILBOX, "active")
    assert pending_question(case, PLAYBOOK) == "adfs"
    answer(case, PLAYBOOK, ADFS, "no")
    assert pending_question(case, PLAYBOOK) is None


def test_answers_with_no_leaf_ask_nothing_more():
    case = new_case(entra="present", mailbox="soft")
    assert case.leaf_id is None
    assert pending_question(case, PLAYBOOK) is None


def test_the_upn_is_trimmed_kept_for_the_commands_and_bad_ones_are_refused():
    case = new_case()
    assert set_upn(case, " jane@contoso.com\t") == "jane@contoso.com"
    assert case.upn == "jane@contoso.com" and case.values["upn"] == "jane@contoso.com"
    assert case.updated_at > OLD
    with pytest.raises(InvalidValue, match=r"^The UPN must contain exactly one @"):
        set_upn(case, "jane.contoso.com")
    assert case.upn == "jane@contoso.com"


def test_an_answer_records_who_gave_it_and_the_leaf_once_all_are_in():
    case = RecoveryCase("MR-TEST22", "admin-1", upn="jane@contoso.com")
    case.updated_at = OLD
    answer(case, PLAYBOOK, ENTRA, "present", by="graph")
    assert case.leaf_id is None
    assert case.updated_at > OLD
    answer(case, PLAYBOOK, MAILBOX, "active")
    assert case.answers == {"entra": "present", "mailbox": "active"}
    assert case.answered_by == {"entra": "graph", "mailbox": "admin"}
    assert case.leaf_id == "S1"


def test_an_answer_that_is_not_an_option_is_refused_and_changes_nothing():
    case = new_case(entra="present")
    with pytest.raises(InvalidValue) as refused:
        answer(case, PLAYBOOK, MAILBOX, "maybe")
    assert "'maybe' is not an answer" in str(refused.value)
    assert case.answers == {"entra": "present"} and case.answered_by == {}


# --- which step, and "Step n of m" ------------------------------------------------------------


def test_the_current_step_skips_steps_of_the_other_branch_and_passed_steps():
    case = new_case(entra="present", mailbox="active", hybrid="no")
    assert current_step(case, SELF).id == "check"
    done(case, "check", "ask_hybrid")
    assert current_step(case, SELF).id == "cloud"
    case.steps["cloud"] = StepRecord("skipped", OLD)
    assert current_step(case, SELF).id == "restore"
    case.steps["restore"] = StepRecord("failed", OLD, 1)
    assert current_step(case, SELF).id == "verify"
    case.steps["verify"] = StepRecord("stuck", OLD, 1)
    assert current_step(case, SELF).id == "verify", "a stuck step stays current"
    done(case, "verify", "extra", "fallback")
    assert current_step(case, SELF) is None


def test_applicable_steps_follow_the_answers():
    case = new_case(entra="present", mailbox="active")
    assert [s.id for s in applicable_steps(case, SELF)] == ["check", "ask_hybrid", "restore", "verify", "extra", "fallback"]
    case.answers["hybrid"] = "yes"
    assert [s.id for s in applicable_steps(case, SELF)][2:5] == ["hybrid_a", "hybrid_b", "hybrid_c"]


def test_step_numbers_say_up_to_the_longest_branch_until_the_answer_decides():
    case = new_case(entra="present", mailbox="active")
    check, restore = SELF.step("check"), SELF.step("restore")
    assert step_number(SELF, check, case) == (1, "up to 9")
    case.answers["hybrid"] = "no"
    assert step_number(SELF, check, case) == (1, "7")
    assert step_number(SELF, restore, case) == (4, "7")
    assert step_number(SELF, SELF.step("hybrid_a"), case) == (0, "7"), "a step of the other branch has no number"
    case.answers["hybrid"] = "yes"
    assert step_number(SELF, restore, case) == (6, "9")


def test_a_step_may_apply_until_an_answer_rules_it_out():
    case = new_case(entra="present", mailbox="active")
    hybrid_a = SELF.step("hybrid_a")
    assert may_apply(hybrid_a, case) and may_apply(SELF.step("check"), case)
    case.answers["hybrid"] = "no"
    assert not may_apply(hybrid_a, case)
    case.answers["hybrid"] = "yes"
    assert may_apply(hybrid_a, case)


def test_expected_step_count_is_the_longest_path_still_possible():
    case = new_case(entra="present", mailbox="active")
    assert expected_step_count(case, SELF) == 9
    case.answers["hybrid"] = "no"
    assert expected_step_count(case, SELF) == 7
    assert expected_step_count(new_case(entra="deleted", mailbox="soft"), SUPPORT_LEAF) == 2


def test_no_steps_are_expected_when_the_answers_rule_every_step_out():
    leaf = make_leaf("S5", "self_service", (step("both", when={"adfs": "yes", "hybrid": "yes"}),))
    assert expected_step_count(new_case(adfs="no"), leaf) == 0
    assert expected_step_count(new_case(), leaf) == 1


def test_a_value_is_hinted_with_the_first_step_that_reads_it():
    case = new_case(entra="present", mailbox="active")
    assert collected_at(case, SELF) == {"exchange_guid": 1, "name": 3}
    case.answers["hybrid"] = "no"
    assert collected_at(case, SELF) == {"exchange_guid": 1, "name": 3}
    assert collected_at(new_case(), SUPPORT_LEAF) == {}


def test_total_wait_adds_every_steps_wait():
    assert total_wait_minutes(SELF) == 50
    assert total_wait_minutes(SUPPORT_LEAF) == 0


# --- recorded values ---------------------------------------------------------------------------


def test_recorded_values_are_validated_normalised_and_the_good_ones_kept():
    case = new_case()
    problems = record_values(
        case,
        PLAYBOOK,
        {
            "exchange_guid": "{1B3F4C5D-0000-4E2F-9A8B-123456789ABC}",
            "name": "x" * 300,
            "not_a_placeholder": "ignored",
            "upn": "   ",
            "object_id": "6a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b",  # valid, but not what this step collects
        },
        accepted=("exchange_guid", "name", "upn", "not_a_placeholder"),
    )
    assert case.values == {"exchange_guid": "1b3f4c5d-0000-4e2f-9a8b-123456789abc"}
    assert len(problems) == 1 and "Name" in problems[0] and "at most 256" in problems[0]
    assert case.updated_at > OLD


def test_a_value_that_is_not_text_is_ignored():
    case = new_case()
    assert record_values(case, PLAYBOOK, {"name": 42, "exchange_guid": "nope"}, ("name", "exchange_guid")) == [
        "The ExchangeGuid must be a GUID such as 1b3f4c5d-0000-4e2f-9a8b-123456789abc."
    ]
    assert case.values == {}


# --- Done --------------------------------------------------------------------------------------


def test_done_moves_to_the_next_step_and_keeps_the_failure_count():
    case = new_case(entra="present", mailbox="active")
    case.steps["check"] = StepRecord("stuck", OLD, 2)
    progress = complete_step(case, PLAYBOOK, SELF, SELF.step("check"))
    assert (progress.kind, progress.note) == ("next", "")
    record = case.steps["check"]
    assert (record.status, record.failures) == ("done", 2) and record.at > OLD
    assert case.updated_at > OLD
    assert current_step(case, SELF).id == "ask_hybrid"
    complete_step(case, PLAYBOOK, SELF, SELF.step("restore"))
    assert case.steps["restore"].failures == 0


def test_a_sub_question_step_takes_the_answer_by_id_and_says_its_note():
    case = new_case(entra="present", mailbox="active")
    done(case, "check")
    progress = complete_step(case, PLAYBOOK, SELF, SELF.step("ask_hybrid"), "yes")
    assert (progress.kind, progress.note) == ("next", "Hybrid: the on-premises server leads.")
    assert case.answers["hybrid"] == "yes" and case.answered_by["hybrid"] == "admin"
    assert current_step(case, SELF).id == "hybrid_a"


def test_a_sub_question_step_without_a_valid_answer_lists_the_choices():
    case = new_case(entra="present", mailbox="active")
    for bad in (None, "perhaps"):
        with pytest.raises(InvalidValue) as refused:
            complete_step(case, PLAYBOOK, SELF, SELF.step("ask_hybrid"), bad)
        assert str(refused.value) == "Choose one of: Yes, hybrid, No, I cannot tell, Server removed."
    assert "ask_hybrid" not in case.steps and "hybrid" not in case.answers


def test_an_answer_that_ends_in_support_ends_the_case_with_its_note():
    case = new_case(entra="present", mailbox="active")
    progress = complete_step(case, PLAYBOOK, SELF, SELF.step("ask_hybrid"), "unsure")
    assert (progress.kind, progress.note) == ("support", "Support has to look at the hybrid set-up.")
    assert case.status == NEEDS_SUPPORT and case.end_reason == "Support has to look at the hybrid set-up."
    assert case.steps["ask_hybrid"].status == "done" and case.steps["ask_hybrid"].at > OLD
    assert case.updated_at > OLD


def test_an_answer_that_ends_in_support_without_a_note_says_support_is_needed():
    case = new_case(entra="present", mailbox="active")
    progress = complete_step(case, PLAYBOOK, SELF, SELF.step("ask_hybrid"), "gone")
    assert progress == type(progress)("support", "This answer needs Microsoft Support.")
    assert case.end_reason == "This answer needs Microsoft Support."


def test_the_last_step_completes_a_self_service_case():
    case = new_case(entra="present", mailbox="active", hybrid="no")
    done(case, "check", "ask_hybrid", "cloud", "restore", "verify", "extra")
    progress = complete_step(case, PLAYBOOK, SELF, SELF.step("fallback"))
    assert (progress.kind, progress.note) == ("complete", "")
    assert case.status == COMPLETE and not case.is_open and case.end_reason == ""


def test_a_last_step_that_asks_completes_with_the_answers_note():
    leaf = make_leaf("S4", "self_service", (step("ask_hybrid", ask="hybrid"),))
    case = new_case()
    progress = complete_step(case, PLAYBOOK, leaf, leaf.steps[0], "yes")
    assert (progress.kind, progress.note) == ("complete", "Hybrid: the on-premises server leads.")
    assert case.status == COMPLETE and case.end_reason == "Hybrid: the on-premises server leads."


def test_the_last_step_of_a_support_scenario_hands_over_to_support():
    case = new_case(entra="deleted", mailbox="soft")
    done(case, "gather")
    progress = complete_step(case, PLAYBOOK, SUPPORT_LEAF, SUPPORT_LEAF.step("stuck_step"))
    assert progress.kind == "support"
    assert case.status == NEEDS_SUPPORT
    assert case.end_reason == "The steps are done; this scenario needs Microsoft Support."


# --- It failed ---------------------------------------------------------------------------------


def test_a_failure_with_a_path_jumps_ahead_and_marks_the_steps_between_skipped():
    case = new_case(entra="present", mailbox="active", hybrid="no")
    done(case, "check", "ask_hybrid", "cloud")
    case.steps["extra"] = StepRecord("done", OLD)  # already done: stays done
    progress = fail_step(case, SELF, SELF.step("restore"))
    assert (progress.kind, progress.note) == ("next", "Try the fallback instead.")
    assert case.steps["restore"].status == "failed" and case.steps["restore"].failures == 1
    assert case.steps["restore"].at > OLD
    assert case.steps["verify"].status == "skipped" and case.steps["verify"].at > OLD
    assert case.steps["extra"].status == "done"
    assert "fallback" not in case.steps
    assert current_step(case, SELF).id == "fallback"
    assert case.status == OPEN and case.updated_at > OLD


def test_a_failure_jump_leaves_the_steps_before_it_alone():
    case = new_case(entra="present", mailbox="active", hybrid="yes")
    done(case, "check", "ask_hybrid", "hybrid_a", "hybrid_b", "hybrid_c")
    fail_step(case, SELF, SELF.step("restore"))
    assert set(case.steps) == {"check", "ask_hybrid", "hybrid_a", "hybrid_b", "hybrid_c", "restore", "verify", "extra"}
    assert "cloud" not in case.steps, "a step of the other branch is neither done nor skipped"


def test_a_failure_that_needs_support_ends_the_case():
    case = new_case(entra="present", mailbox="active")
    case.steps["fallback"] = StepRecord("stuck", OLD, 1)
    progress = fail_step(case, SELF, SELF.step("fallback"))
    assert (progress.kind, progress.note) == ("support", "Support must restore it.")
    assert case.steps["fallback"].status == "failed" and case.steps["fallback"].failures == 2
    assert case.steps["fallback"].at > OLD
    assert case.status == NEEDS_SUPPORT and case.end_reason == "Support must restore it."


def test_a_failure_that_needs_support_without_a_note_says_so():
    leaf = make_leaf("S3", "self_service", (step("only", on_failure="support"),))
    case = new_case()
    progress = fail_step(case, leaf, leaf.steps[0])
    assert progress.note == "This step failed; Microsoft Support is needed."
    assert case.steps["only"].failures == 1


def test_a_failure_without_a_path_keeps_the_step_and_counts_the_failures():
    case = new_case(entra="deleted", mailbox="soft")
    first = fail_step(case, SUPPORT_LEAF, SUPPORT_LEAF.step("gather"))
    assert (first.kind, first.note) == ("stuck", "")
    second = fail_step(case, SUPPORT_LEAF, SUPPORT_LEAF.step("gather"))
    assert second.kind == "stuck"
    record = case.steps["gather"]
    assert (record.status, record.failures) == ("stuck", 2) and record.at > OLD
    assert current_step(case, SUPPORT_LEAF).id == "gather"
    assert case.status == OPEN and case.updated_at > OLD


def test_a_failure_without_a_path_says_its_note():
    case = new_case(entra="deleted", mailbox="soft")
    done(case, "gather")
    progress = fail_step(case, SUPPORT_LEAF, SUPPORT_LEAF.step("stuck_step"))
    assert (progress.kind, progress.note) == ("stuck", "Check the licence, then try again.")


def test_the_pasted_error_is_kept_on_the_failed_step_whatever_the_failure_leads_to():
    error = "Restore-MsolUser : User not found."
    case = new_case(entra="present", mailbox="active", hybrid="no")
    case.pending_failure = {"step": "restore", "error": error}
    fail_step(case, SELF, SELF.step("restore"), error=error)
    assert case.steps["restore"].error == error and case.pending_failure is None
    fail_step(case, SELF, SELF.step("fallback"), error=error)
    assert case.steps["fallback"].error == error
    stuck = new_case(entra="deleted", mailbox="soft")
    fail_step(stuck, SUPPORT_LEAF, SUPPORT_LEAF.step("gather"), error=error)
    assert stuck.steps["gather"].error == error
    fail_step(stuck, SUPPORT_LEAF, SUPPORT_LEAF.step("stuck_step"))
    assert stuck.steps["stuck_step"].error == "", "no error pasted, none recorded"


def test_escalating_a_failure_that_has_a_path_follows_no_path():
    case = new_case(entra="present", mailbox="active", hybrid="no")
    done(case, "check", "ask_hybrid", "cloud")
    progress = fail_step(case, SELF, SELF.step("restore"), choice="escalate", error="boom")
    assert progress.kind == "stuck"
    assert case.steps["restore"] == StepRecord("stuck", case.steps["restore"].at, 1, "boom")
    assert "verify" not in case.steps and current_step(case, SELF).id == "restore"


def test_the_alternative_of_a_step_is_the_later_step_its_failure_goes_to():
    assert alternative_of(SELF, SELF.step("restore")) == SELF.step("fallback")
    assert alternative_of(SELF, SELF.step("check")) is None
    # a failure that ends in support has no alternative, even in a leaf with a step called "support"
    leaf = make_leaf("S5", "self_service", (step("first", on_failure="support"), step("support")))
    assert alternative_of(leaf, leaf.steps[0]) is None
    assert alternative_of(SELF, SELF.step("fallback")) is None


def test_missing_values_name_the_values_not_held_yet_in_the_order_asked():
    case = new_case()
    case.values = {"upn": "jane@contoso.com", "name": ""}
    assert missing_values(case, PLAYBOOK, ("exchange_guid", "upn", "name")) == ["ExchangeGuid", "Name"]
    assert missing_values(case, PLAYBOOK, ("upn",)) == []
    assert missing_values(case, PLAYBOOK, ()) == []


def test_a_value_of_the_longest_length_is_kept_and_a_too_long_one_does_not_stop_the_others():
    case = new_case()
    problems = record_values(
        case, PLAYBOOK, {"exchange_guid": "x" * (MAX_VALUE + 1), "name": "n" * MAX_VALUE}, ("exchange_guid", "name")
    )
    assert problems == [f"The ExchangeGuid is {MAX_VALUE + 1:,} characters long; at most {MAX_VALUE} fit."]
    assert case.values == {"name": "n" * MAX_VALUE}


def test_questions_are_numbered_with_the_sub_questions_of_the_scenario_once_it_is_known():
    case = new_case(entra="present", mailbox="active")
    assert question_number(case, PLAYBOOK, "entra") == (1, "3")
    assert question_number(case, PLAYBOOK, "mailbox") == (2, "3")
    assert question_number(case, PLAYBOOK, "adfs") == (3, "3")
    assert question_number(case, PLAYBOOK, "hybrid") == (0, "3"), "asked during the steps, not before the plan"
    assert question_number(new_case(entra="deleted", mailbox="soft"), PLAYBOOK, "mailbox") == (2, "2")


def test_questions_are_numbered_up_to_the_most_a_still_possible_scenario_asks():
    assert question_number(new_case(), PLAYBOOK, "entra") == (1, "up to 3")
    assert question_number(new_case(), PLAYBOOK, "mailbox") == (2, "up to 3")
    assert question_number(new_case(), PLAYBOOK, "adfs") == (0, "up to 3")
    assert question_number(new_case(entra="present"), PLAYBOOK, "mailbox") == (2, "up to 3")
    # only the support scenario (no sub-questions) is left: the count is exact
    assert question_number(new_case(entra="deleted"), PLAYBOOK, "mailbox") == (2, "2")
    # answers no scenario has: only the scoping questions
    assert question_number(new_case(entra="deleted", mailbox="active"), PLAYBOOK, "entra") == (1, "2")
