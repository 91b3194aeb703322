"""A recovery case and an admin's case book: numbers read over the phone, stored cases that stay
readable across schema versions, newest first, retention."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

import bot.walkthrough.case
from bot.walkthrough.case import (
    CASE_SCHEMA_VERSION,
    CLOSED,
    COMPLETE,
    FINISHED_KEPT,
    MAX_OPEN_CASES,
    OPEN,
    CaseBook,
    CaseSummary,
    RecoveryCase,
    StepRecord,
    TooManyOpenCases,
    is_case_id,
    new_case_id,
    now_iso,
)


def test_case_numbers_avoid_characters_misread_over_the_phone():
    seen = {new_case_id() for _ in range(300)}
    assert len(seen) > 290, "case numbers are random"
    for case_id in seen:
        assert re.fullmatch(r"MR-[2-9A-HJKMNP-Z]{8}", case_id), case_id
        assert is_case_id(case_id)
    used = set("".join(seen).replace("MR-", ""))
    assert used <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ") and not used & set("01ILO")


def test_only_well_formed_case_numbers_are_taken_as_such():
    assert is_case_id("MR-ABC234")
    for bad in ("MR-ABC23", "MR-ABC2345", "mr-ABC234", "MR-ABC23O", "MR-ABC231", "XMR-ABC234", "MR-ABC234 ", "MR-abc234"):
        assert not is_case_id(bad), bad


def test_times_are_utc_with_milliseconds_and_sort_as_text():
    stamp = now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", stamp)
    assert abs(datetime.fromisoformat(stamp) - datetime.now(UTC)) < timedelta(minutes=1)


def full_case() -> RecoveryCase:
    return RecoveryCase(
        "MR-ABC234",
        "admin-1",
        "Ada Admin",
        "tenant-1",
        upn="jane@contoso.com",
        answers={"entra": "present"},
        answered_by={"entra": "graph"},
        values={"upn": "jane@contoso.com"},
        steps={"check": StepRecord("failed", "2026-01-01T00:00:00.000+00:00", 2)},
        confirmed=["remove"],
        dialect="original",
        leaf_id="A1",
        ticket_id="MR-ABC234",
        graph={"entra": "present"},
    )


def test_a_new_case_is_open_modern_and_current_schema():
    case = RecoveryCase("MR-ABC234", "admin-1")
    assert case.is_open and case.status == OPEN
    assert case.dialect == "modern" and case.schema_version == CASE_SCHEMA_VERSION
    assert case.upn is None and case.leaf_id is None and case.ticket_id is None and case.graph is None
    assert case.answers == {} and case.steps == {} and case.end_reason == ""
    case.status = COMPLETE
    assert not case.is_open


def test_a_stored_case_reads_back_the_same_and_ignores_fields_it_does_not_know():
    case = full_case()
    stored = case.to_dict()
    assert stored["steps"]["check"] == {"status": "failed", "at": "2026-01-01T00:00:00.000+00:00", "failures": 2, "error": ""}
    back = RecoveryCase.from_dict({**stored, "field_from_a_newer_release": 1})
    assert back == case
    assert isinstance(back.steps["check"], StepRecord)


def test_touch_moves_the_last_change_time():
    case = RecoveryCase("MR-ABC234", "admin-1", updated_at="2000-01-01T00:00:00.000+00:00")
    case.touch()
    assert case.updated_at > "2026"


def test_a_version_1_case_gets_its_sub_answers_merged_and_answered_by_the_admin():
    v1 = {
        "id": "MR-ABC234",
        "owner_id": "admin-1",
        "answers": {"entra": "present"},
        "sub_answers": {"hybrid": "yes"},
        "steps": {"check": {"status": "done", "at": "2025-01-01T00:00:00.000+00:00"}},
        "ticket": {"number": "MR-ABC234", "posted": True},
    }
    case = RecoveryCase.from_dict(v1)
    assert case.answers == {"entra": "present", "hybrid": "yes"}
    assert case.answered_by == {"entra": "admin", "hybrid": "admin"}
    assert case.ticket_id == "MR-ABC234"
    assert case.steps["check"] == StepRecord("done", "2025-01-01T00:00:00.000+00:00", 0)
    assert case.schema_version == CASE_SCHEMA_VERSION
    assert "sub_answers" in v1, "the stored document is not changed in place"


def test_a_version_1_case_without_answers_reads():
    case = RecoveryCase.from_dict({"id": "MR-ABC234", "owner_id": "admin-1", "schema_version": 1})
    assert case.answers == {} and case.answered_by == {} and case.schema_version == CASE_SCHEMA_VERSION


def test_a_version_2_case_keeps_who_answered_and_its_ticket_number():
    v2 = {
        "id": "MR-ABC234",
        "owner_id": "admin-1",
        "schema_version": 2,
        "answers": {"entra": "present"},
        "answered_by": {"entra": "graph"},
        "ticket": {"number": "MR-ABC234"},
    }
    case = RecoveryCase.from_dict(v2)
    assert case.answered_by == {"entra": "graph"} and case.ticket_id == "MR-ABC234" and case.schema_version == CASE_SCHEMA_VERSION
    assert RecoveryCase.from_dict({**v2, "ticket": None}).ticket_id is None
    assert RecoveryCase.from_dict({**v2, "ticket": "MR-ABC234"}).ticket_id is None


def test_a_current_case_is_read_as_it_is():
    stored = {**full_case().to_dict(), "ticket": {"number": "MR-OTHER2"}}
    assert RecoveryCase.from_dict(stored).ticket_id == "MR-ABC234"


def dated(case_id: str, updated_at: str, status: str = OPEN) -> RecoveryCase:
    return RecoveryCase(case_id, "admin-1", status=status, updated_at=updated_at)


def book_of(*cases: RecoveryCase, current: str | None = None) -> CaseBook:
    return CaseBook({c.id: c for c in cases}, current)


def test_start_makes_the_new_case_current_with_the_admins_details():
    book = CaseBook()
    assert book.current is None
    case = book.start("admin-1", "Ada Admin", "tenant-1", dialect="original")
    assert book.current is case and book.cases == {case.id: case}
    assert (case.owner_id, case.owner_name, case.tenant_id, case.dialect) == ("admin-1", "Ada Admin", "tenant-1", "original")
    assert is_case_id(case.id) and case.is_open
    assert book.start("admin-1", "Ada Admin", "tenant-1").dialect == "modern"


def test_start_never_reuses_a_taken_case_number(monkeypatch):
    book = book_of(dated("MR-AAAAAA", "2026-01-01"))
    numbers = iter(["MR-AAAAAA", "MR-AAAAAA", "MR-BBBBBB"])
    monkeypatch.setattr(bot.walkthrough.case, "new_case_id", lambda: next(numbers))
    case = book.start("admin-1", "Ada", "tenant-1")
    assert case.id == "MR-BBBBBB"
    assert set(book.cases) == {"MR-AAAAAA", "MR-BBBBBB"}


def test_open_cases_newest_first_and_recent_lists_every_case():
    book = book_of(
        dated("MR-AAAAAA", "2026-01-02"),
        dated("MR-BBBBBB", "2026-01-03", CLOSED),
        dated("MR-CCCCCC", "2026-01-04"),
        dated("MR-DDDDDD", "2026-01-01"),
    )
    assert [c.id for c in book.open_cases()] == ["MR-CCCCCC", "MR-AAAAAA", "MR-DDDDDD"]
    assert [c.id for c in book.recent()] == ["MR-CCCCCC", "MR-BBBBBB", "MR-AAAAAA", "MR-DDDDDD"]


def test_purge_drops_cases_last_touched_before_the_cutoff():
    book = book_of(dated("MR-AAAAAA", "2026-01-01"), dated("MR-BBBBBB", "2026-02-01"), dated("MR-CCCCCC", "2026-03-01"))
    book.current_id = "MR-CCCCCC"
    assert book.purge_older_than("2026-02-01") == ["MR-AAAAAA"]
    assert set(book.cases) == {"MR-BBBBBB", "MR-CCCCCC"}, "a case touched at the cutoff stays"
    assert book.current_id == "MR-CCCCCC"
    assert book.purge_older_than("2026-02-15") == ["MR-BBBBBB"]
    assert book.purge_older_than("2026-04-01") == ["MR-CCCCCC"]
    assert book.current is None and book.current_id is None


def test_a_case_books_index_reads_back_the_same_cases_and_current_one():
    case = full_case()
    book = book_of(case, dated("MR-BBBBBB", "2026-01-01"), current=case.id)
    stored = book.index_dict()
    assert stored["schema_version"] == CASE_SCHEMA_VERSION and stored["current_id"] == case.id
    back = CaseBook.from_index(stored)
    assert back.summaries() == book.summaries() and back.current_id == case.id
    assert back.cases == {}  # the index lists the cases; each is read from its own document


def test_an_empty_or_dangling_case_book_reads_as_no_current_case():
    assert CaseBook.from_dict(None) == CaseBook() == CaseBook.from_dict({})
    assert CaseBook.from_dict({"cases": {}, "current_id": "MR-GONE22"}).current_id is None
    assert CaseBook.from_dict({"current_id": None}).cases == {}


def test_a_version_3_case_gets_no_reminder_for_the_steps_already_done():
    v3 = {
        "id": "MR-ABC234",
        "owner_id": "admin-1",
        "schema_version": 3,
        "ticket_id": "MR-ABC234",
        "steps": {
            "wait_sync": {"status": "done", "at": "2025-01-01T00:00:00.000+00:00"},
            "restore": {"status": "failed", "at": "2025-01-01T00:00:00.000+00:00", "failures": 1},
            "verify": {"status": "skipped", "at": "2025-01-01T00:00:00.000+00:00"},
            "wait_again": {"status": "done", "at": "2025-01-02T00:00:00.000+00:00"},
        },
    }
    case = RecoveryCase.from_dict(v3)
    assert case.reminded_steps == ["wait_sync", "wait_again"]
    assert case.ticket_id == "MR-ABC234", "a version 3 case keeps its ticket number"
    assert case.schema_version == CASE_SCHEMA_VERSION
    assert RecoveryCase.from_dict({"id": "MR-ABC234", "owner_id": "admin-1", "schema_version": 3}).reminded_steps == []


def test_a_current_case_keeps_its_own_list_of_reminded_steps():
    case = full_case()
    case.steps["wait_sync"] = StepRecord("done", "2026-01-01T00:00:00.000+00:00")
    case.reminded_steps = []
    assert RecoveryCase.from_dict(case.to_dict()).reminded_steps == []


def test_a_summary_lists_the_case_with_its_nearest_deadline():
    case = full_case()
    case.status = COMPLETE
    case.created_at, case.updated_at = "2026-01-01T00:00:00.000+00:00", "2026-01-02T00:00:00.000+00:00"
    assert CaseSummary.of(case) == CaseSummary(
        "MR-ABC234", "jane@contoso.com", COMPLETE, "2026-01-02T00:00:00.000+00:00", "2026-01-01T00:00:00.000+00:00", ""
    )
    case.deadline_starts = {"license": "2026-11-10T00:00:00+00:00", "mailbox": "2026-11-01T00:00:00+00:00"}
    summary = CaseSummary.of(case)
    assert summary.deadline == "2026-12-01T00:00:00+00:00", "30 days after the earliest start"
    assert not summary.is_open and CaseSummary.of(RecoveryCase("MR-BBBBBB", "admin-1")).is_open


CASE_LETTERS = [a + b for a in "23456789" for b in "ABCDEFGH"]


def test_an_admin_with_too_many_open_cases_cannot_start_another():
    book = book_of(*(dated(f"MR-AAAA{CASE_LETTERS[i]}", "2026-01-01") for i in range(MAX_OPEN_CASES - 1)))
    book.cases.update({c.id: c for c in (dated("MR-CLSD22", "2026-01-01", CLOSED), dated("MR-DNE222", "2026-01-01", COMPLETE))})
    book.start("admin-1", "Ada", "tenant-1")  # finished cases do not count
    assert len(book.open_cases()) == MAX_OPEN_CASES
    current = book.current_id
    with pytest.raises(TooManyOpenCases) as full:
        book.start("admin-1", "Ada", "tenant-1")
    assert full.value.args == (MAX_OPEN_CASES,), "the admin is told the limit"
    assert len(book.cases) == MAX_OPEN_CASES + 2 and book.current_id == current


def test_purge_also_drops_cases_only_listed_in_the_index():
    book = CaseBook.from_index(book_of(dated("MR-AAAAAA", "2026-01-01"), dated("MR-BBBBBB", "2026-03-01")).index_dict())
    book.cases["MR-CCCCCC"] = dated("MR-CCCCCC", "2026-01-15")
    assert sorted(book.purge_older_than("2026-02-01")) == ["MR-AAAAAA", "MR-CCCCCC"]
    assert [c.id for c in book.summaries()] == ["MR-BBBBBB"]
    assert CaseBook.from_index(book.index_dict()).summaries() == book.summaries()


def test_the_stored_index_keeps_every_open_case_and_only_the_most_recent_finished_ones():
    finished = [dated(f"MR-F{i:05d}", f"2026-02-{1 + i // 24:02d}T{i % 24:02d}:00", COMPLETE) for i in range(FINISHED_KEPT + 5)]
    old_open = [dated("MR-OPEN22", "2020-01-01"), dated("MR-OPEN33", "2020-01-02")]
    stored = CaseBook({c.id: c for c in finished + old_open}).index_dict()
    newest = sorted(finished, key=lambda c: c.updated_at, reverse=True)[:FINISHED_KEPT]
    assert set(stored["cases"]) == {c.id for c in newest} | {"MR-OPEN22", "MR-OPEN33"}
    assert stored["cases"]["MR-OPEN22"] == asdict(CaseSummary.of(old_open[0]))


def test_an_index_without_cases_or_with_a_dangling_current_case_reads_as_empty():
    assert CaseBook.from_index({}) == CaseBook()
    assert CaseBook.from_index({"current_id": "MR-GONE22", "cases": {}}).current_id is None
    stored = book_of(dated("MR-AAAAAA", "2026-01-01")).index_dict()
    assert CaseBook.from_index({**stored, "current_id": "MR-GONE22"}).current_id is None


def test_a_whole_case_book_of_an_old_release_reads_with_every_case_loaded_and_listed():
    v1 = {"id": "MR-AAAAAA", "owner_id": "admin-1", "answers": {"entra": "present"}, "sub_answers": {"hybrid": "no"}}
    case = full_case()
    book = CaseBook.from_dict({"cases": {"MR-AAAAAA": v1, "MR-ABC234": case.to_dict()}, "current_id": "MR-ABC234"})
    assert book.current == case
    assert book.cases["MR-AAAAAA"].answers == {"entra": "present", "hybrid": "no"}, "each case is migrated"
    assert book.index == {cid: CaseSummary.of(c) for cid, c in book.cases.items()}
    assert {c.id for c in book.summaries()} == {"MR-AAAAAA", "MR-ABC234"}
