"""A recovery case and an admin's case book: numbers read over the phone, stored cases that stay
readable across schema versions, newest first, retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import bot.walkthrough.case
from bot.walkthrough.case import (
    CASE_SCHEMA_VERSION,
    CLOSED,
    COMPLETE,
    OPEN,
    CaseBook,
    RecoveryCase,
    StepRecord,
    is_case_id,
    new_case_id,
    now_iso,
)


def test_case_numbers_avoid_characters_misread_over_the_phone():
    seen = {new_case_id() for _ in range(300)}
    assert len(seen) > 290, "case numbers are random"
    for case_id in seen:
        assert re.fullmatch(r"MR-[2-9A-HJKMNP-Z]{6}", case_id), case_id
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
