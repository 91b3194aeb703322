"""Confirming what was read records it on the case; old cases keep their way (the questions)."""

from __future__ import annotations

from bot.diagnostics.apply import BY, apply, source_time
from bot.diagnostics.assess import assess
from bot.playbook import load_playbook
from bot.walkthrough.case import CASE_SCHEMA_VERSION, RecoveryCase, migrate_diagnostics
from bot.walkthrough.deadlines import to_ask
from bot.walkthrough.rules import leaf_of, pending_question
from tests.diagnostics import corpus
from tests.diagnostics.corpus import read_all
from tests.harness import TENANT

playbook = load_playbook()


def a_case(name: str) -> RecoveryCase:
    case = RecoveryCase("MR-ABC234", "admin-1", upn=corpus.UPN, tenant_id=TENANT)
    case.values["upn"] = corpus.UPN
    case.evidence = read_all(corpus.CORPUS[name])
    return case


def test_confirm_records_answers_values_and_exact_deadlines():
    case = a_case("C6")
    apply(case, assess(case.evidence, playbook, now=corpus.NOW), playbook, mail_for="returning")
    assert case.answers == {
        "mail_for": "returning",
        "onprem": "none",
        "entra": "soft_deleted",
        "mailbox": "soft_deleted",
        "inactive": "false",
        "has_license": "yes",
    }
    assert case.answered_by["mailbox"] == BY and case.leaf_id == "C6" and case.scoping == "diagnostic"
    assert case.values["object_id"] == corpus.USER_ID and source_time(case, "object_id") == "14:02"
    assert case.deadline_starts["mailbox"] == "2026-11-20T09:45:12+00:00"
    assert to_ask(case, playbook) == []  # the date cards are not asked
    assert pending_question(case, playbook) is None


def test_a_situation_leads_to_its_leaf_without_asking():
    case = a_case("recreated_user")
    apply(case, assess(case.evidence, playbook, now=corpus.NOW), playbook)
    assert case.situation == "recreated_user" and leaf_of(case, playbook).id == "R1"
    assert case.values["exchange_guid"] == corpus.OLD_GUID and case.values["target_exchange_guid"] == corpus.NEW_GUID


def test_nothing_is_applied_while_a_choice_is_open():
    case = a_case("several_soft_deleted")
    case.evidence.pop("choice")
    assert apply(case, assess(case.evidence, playbook, now=corpus.NOW), playbook) == [] and case.answers == {}


def test_old_cases_answer_the_questions_and_the_migration_composes():
    old = {"id": "MR-ABC234", "owner_id": "a", "answers": {"onprem": "none"}, "schema_version": 4}
    case = RecoveryCase.from_dict(old)
    assert case.scoping == "questions" and case.evidence == {} and case.schema_version == CASE_SCHEMA_VERSION
    done = {"evidence": {"exo": {}}, "scoping": "diagnostic"}
    migrate_diagnostics(done)  # already there: left alone, whatever the version says
    assert done == {"evidence": {"exo": {}}, "scoping": "diagnostic"}
