"""A stored case read by a newer release: each schema step from v1 to v6, field by field (the
stored document as migrate_case leaves it, not only the case it becomes), the fields added in v5
and v6 keeping their defaults and values across to_dict/from_dict, the case list an admin is shown,
and case numbers and refs of both lengths."""

from __future__ import annotations

import pytest

from bot.walkthrough.case import (
    CASE_SCHEMA_VERSION,
    CLOSED,
    COMPLETE,
    NEEDS_SUPPORT,
    OPEN,
    CaseBook,
    CaseSummary,
    RecoveryCase,
    StepRecord,
    is_case_id,
    is_case_ref,
    is_legacy_case_id,
    migrate_case,
    migrate_diagnostics,
)

AT = "2025-01-01T00:00:00.000+00:00"
NO_EVIDENCE = {"evidence": {}, "value_sources": {}, "situation": None}


def test_the_current_schema_is_six():
    assert CASE_SCHEMA_VERSION == 6


def test_a_version_1_document_is_brought_to_version_6_field_by_field():
    v1 = {
        "id": "MR-ABC234",
        "answers": {"entra": "present", "hybrid": "old"},
        "sub_answers": {"hybrid": "yes"},
        "ticket": {"number": "MR-ABC234", "posted": True},
        "steps": {"a": {"status": "done", "at": AT}, "b": {"status": "stuck", "at": AT}, "c": {"status": "done", "at": AT}},
    }
    assert migrate_case(dict(v1)) == {
        "id": "MR-ABC234",
        "answers": {"entra": "present", "hybrid": "yes"},  # the sub-answer was the later one
        "answered_by": {"entra": "admin", "hybrid": "admin"},
        "ticket_id": "MR-ABC234",
        "steps": v1["steps"],
        "reminded_steps": ["a", "c"],
        **NO_EVIDENCE,
        "scoping": "questions",
        "schema_version": 6,
    }


def test_an_empty_version_1_document_gets_every_field_empty():
    assert migrate_case({"schema_version": 1}) == {
        "answers": {},
        "answered_by": {},
        "ticket_id": None,
        "reminded_steps": [],
        **NO_EVIDENCE,
        "scoping": "",
        "schema_version": 6,
    }


def test_a_version_1_document_that_names_who_answered_keeps_it():
    migrated = migrate_case({"schema_version": 1, "answers": {"entra": "present"}, "answered_by": {"entra": "graph"}})
    assert migrated["answered_by"] == {"entra": "graph"}


def test_a_version_2_document_keeps_its_answers_as_they_are():
    v2 = {"schema_version": 2, "answers": {"entra": "present"}, "sub_answers": {"stale": "x"}, "ticket": {"number": "MR-ABC234"}}
    assert migrate_case(dict(v2)) == {
        "answers": {"entra": "present"},
        "sub_answers": {"stale": "x"},  # only v1 kept them apart
        "ticket_id": "MR-ABC234",
        "reminded_steps": [],
        **NO_EVIDENCE,
        "scoping": "questions",
        "schema_version": 6,
    }  # no answered_by is made up for a version 2 case


@pytest.mark.parametrize("ticket", [None, "MR-ABC234", ["MR-ABC234"], {"posted": True}])
def test_a_version_2_ticket_that_is_not_a_numbered_document_leaves_no_ticket_id(ticket):
    migrated = migrate_case({"schema_version": 2, "ticket": ticket})
    assert migrated["ticket_id"] is None and "ticket" not in migrated


def test_a_version_3_document_keeps_its_ticket_and_reminds_of_no_step_done_before():
    v3 = {
        "schema_version": 3,
        "ticket_id": "MR-ABC234",
        "ticket": {"number": "MR-OTHER2"},  # left over: not read again
        "steps": {"done": {"status": "done", "at": AT}, "failed": {"status": "failed", "at": AT}, "odd": {"at": AT}},
    }
    assert migrate_case(dict(v3)) == {
        **v3,
        "reminded_steps": ["done"],
        **NO_EVIDENCE,
        "scoping": "",
        "schema_version": 6,
    }


def test_a_version_4_document_keeps_its_reminders_and_ticket_and_gets_no_evidence():
    v4 = {
        "schema_version": 4,
        "answers": {"entra": "present"},
        "ticket_id": "MR-ABC234",
        "ticket": {"number": "MR-OTHER2"},
        "steps": {"wait": {"status": "done", "at": AT}},
        "reminded_steps": [],
    }
    assert migrate_case(dict(v4)) == {**v4, **NO_EVIDENCE, "scoping": "questions", "schema_version": 6}


def test_a_version_5_document_gets_the_diagnostics_fields_only():
    v5 = {"schema_version": 5, "answers": {}, "ticket_id": "tenant/owner/MR-ABC23456", "reminded_steps": []}
    assert migrate_case(dict(v5)) == {**v5, **NO_EVIDENCE, "scoping": "", "schema_version": 6}


def test_a_version_5_document_that_already_has_evidence_keeps_it():
    v5 = {"schema_version": 5, "answers": {"entra": "present"}, "evidence": {"graph": {"x": 1}}}
    assert migrate_case(dict(v5)) == {**v5, "schema_version": 6}


def test_a_version_6_document_is_left_as_it_is():
    v6 = {
        "schema_version": 6,
        "answers": {"entra": "present"},
        "ticket": {"number": "MR-OTHER2"},
        "steps": {"s": {"status": "done"}},
    }
    assert migrate_case(dict(v6)) == v6


def test_the_diagnostics_migration_is_keyed_on_the_fields_not_the_version():
    data = {"answers": {"entra": "present"}}
    migrate_diagnostics(data)
    assert data == {"answers": {"entra": "present"}, **NO_EVIDENCE, "scoping": "questions"}
    data = {"evidence": {}, "situation": "orphan", "scoping": "diagnostic"}
    migrate_diagnostics(data)
    assert data == {"evidence": {}, "situation": "orphan", "scoping": "diagnostic"}
    data = {}
    migrate_diagnostics(data)
    assert data == {**NO_EVIDENCE, "scoping": ""}


def test_a_version_5_case_reads_with_the_diagnostics_defaults():
    case = RecoveryCase.from_dict(
        {"id": "MR-ABC23456", "owner_id": "admin-1", "schema_version": 5, "answers": {"entra": "present"}}
    )
    assert (case.evidence, case.value_sources, case.situation, case.scoping) == ({}, {}, None, "questions")
    assert case.schema_version == 6


def test_a_new_cases_newer_fields_start_empty():
    case = RecoveryCase("MR-ABC23456", "admin-1")
    assert case.evidence == {} and case.value_sources == {} and case.situation is None and case.scoping == ""
    assert case.replan is None and case.time_zone == "" and case.resolved == [] and case.step_shown == {}
    assert case.pending_failure is None and case.live_card is None and case.live_card_shows == {}
    assert case.deadline_starts == {} and case.deadline_asked == [] and case.reminders == {} and case.reminded_steps == []
    assert case.plan_card_id == "" and case.confirmed == [] and case.values == {} and case.answered_by == {}
    assert RecoveryCase.from_dict(case.to_dict()) == case


def test_the_newer_fields_read_back_as_they_were_stored():
    case = RecoveryCase("MR-ABC23456", "admin-1", "Ada", "tenant-1", upn="jane@contoso.com")
    case.steps = {"s": StepRecord("failed", AT, 2, "The error")}
    case.pending_failure = {"step": "s", "error": "boom"}
    case.deadline_starts, case.deadline_asked = {"license": AT}, ["license"]
    case.reminders = {"wait": {"key": "k", "due": AT, "guard": "g"}}
    case.reminded_steps, case.plan_card_id = ["s"], "card-1"
    case.step_shown, case.replan, case.time_zone = {"s": AT}, ["Title"], "Europe/Berlin"
    case.resolved = ["license"]
    case.evidence, case.value_sources = {"graph": {"mailbox": "active"}}, {"exchange_guid": AT}
    case.situation, case.scoping = "orphan", "diagnostic"
    case.live_card, case.live_card_shows = "act-1", {"kind": "step", "step": "s"}
    stored = case.to_dict()
    assert stored["steps"]["s"] == {"status": "failed", "at": AT, "failures": 2, "error": "The error"}
    assert (stored["situation"], stored["scoping"], stored["schema_version"]) == ("orphan", "diagnostic", 6)
    back = RecoveryCase.from_dict(stored)
    assert back == case and back.steps["s"] == StepRecord("failed", AT, 2, "The error")
    assert stored == case.to_dict(), "reading does not change the stored document"


def test_a_cases_ref_names_its_tenant_and_owner():
    assert RecoveryCase("MR-ABC23456", "a:b", tenant_id="t-1").ref == "t-1/a%3Ab/MR-ABC23456"
    assert RecoveryCase("MR-ABC234", "").ref == "~/~/MR-ABC234"


def test_the_case_books_ref_is_the_loaded_cases_own_or_made_for_the_owner():
    loaded = RecoveryCase("MR-ABC23456", "owner-1", tenant_id="tenant-1")
    book = CaseBook({loaded.id: loaded})
    assert book.ref("MR-ABC23456", "other-tenant", "other-owner") == "tenant-1/owner-1/MR-ABC23456"
    assert book.ref("MR-XYZ23456", "tenant-2", "owner-2") == "tenant-2/owner-2/MR-XYZ23456"


def summary(case_id: str, upn: str | None, status: str, updated_at: str) -> CaseSummary:
    return CaseSummary(case_id, upn, status, updated_at, "2026-01-01")


def test_the_listed_cases_leave_out_open_ones_without_a_user_newest_first():
    book = CaseBook(
        {"MR-LOAD2222": RecoveryCase("MR-LOAD2222", "a", upn=None, updated_at="2026-01-09")},  # loaded, still empty
        index={
            "MR-AAAA2222": summary("MR-AAAA2222", "jane@contoso.com", OPEN, "2026-01-02"),
            "MR-BBBB2222": summary("MR-BBBB2222", None, OPEN, "2026-01-05"),  # 'start' after 'start over'
            "MR-CCCC2222": summary("MR-CCCC2222", None, CLOSED, "2026-01-03"),
            "MR-DDDD2222": summary("MR-DDDD2222", "john@contoso.com", COMPLETE, "2026-01-04"),
            "MR-EEEE2222": summary("MR-EEEE2222", "", NEEDS_SUPPORT, "2026-01-01"),
        },
    )
    assert [c.id for c in book.listed()] == ["MR-DDDD2222", "MR-CCCC2222", "MR-AAAA2222", "MR-EEEE2222"]
    assert len(book.open_cases()) == 3, "the empty ones still count towards the limit"


def test_a_loaded_case_is_listed_as_it_is_now_not_as_the_index_had_it():
    case = RecoveryCase("MR-AAAA2222", "a", upn="jane@contoso.com", updated_at="2026-02-01")
    book = CaseBook({case.id: case}, index={case.id: summary(case.id, None, OPEN, "2026-01-01")})
    assert book.listed() == [CaseSummary.of(case)]


def test_the_closed_count_is_stored_only_once_there_is_one_and_reads_back():
    assert "closed_seq" not in CaseBook().index_dict()
    stored = CaseBook(closed_seq=3).index_dict()
    assert stored["closed_seq"] == 3
    assert CaseBook.from_index(stored).closed_seq == 3
    assert CaseBook.from_index({"closed_seq": "4"}).closed_seq == 4
    assert CaseBook.from_index({}).closed_seq == 0


def test_case_numbers_of_either_length_are_numbers_and_the_six_character_ones_are_legacy():
    assert is_case_id("MR-ABC23456") and not is_legacy_case_id("MR-ABC23456")
    assert is_case_id("MR-ABC234") and is_legacy_case_id("MR-ABC234")
    for bad in ("MR-ABC2345", "MR-ABC234567", "MR-ABC2345O", None, 42):
        assert not is_case_id(bad) and not is_legacy_case_id(bad), bad


def test_a_case_ref_is_tenant_owner_and_number_or_a_number_alone():
    for good in ("t-1/a%3Ab/MR-ABC23456", "~/~/MR-ABC234", "tenant_1/owner-1/MR-ABC234", "MR-ABC23456", "MR-ABC234"):
        assert is_case_ref(good), good
    for bad in (
        "t-1/MR-ABC23456",
        "a/b/c/MR-ABC23456",
        "t.1/a/MR-ABC23456",
        "t-1/a/MR-ABC2345",
        "/a/MR-ABC23456",
        "t-1/a/MR-ABC23456/x",
        "x t-1/a/MR-ABC23456",
        "~~/a/MR-ABC23456",
        None,
        7,
    ):
        assert not is_case_ref(bad), bad
