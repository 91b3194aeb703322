"""Where an admin's cases live: one document per case and one small index per admin.

    cases/<channel>/<user>/index        current case, a summary of each open case and of the few
                                        most recent finished ones (what the `cases` card shows)
    cases/<channel>/<user>/<case id>    the case
    cases/<channel>/<user>/closed/<n>   the n-th finished case to leave the index: the closed list

What a turn reads and writes does not grow with the admin's finished cases: the index lists at
most MAX_OPEN_CASES + FINISHED_KEPT. A finished case leaving the index is written to the closed
list, and with more than `max_closed` there the oldest is purged (its case, transcript and
transcript counter): one read and a few deletes on the turn that closes a case, whatever the
history. A case from the closed list stays readable by number (`status MR-...`) until then.

A turn reads the index and only the cases it works on (the current one, one it names, and the
newest open one when there is no current case), so one admin's long history never slows another
admin's turn. Every document has its own e_tag: a turn that lost a race is re-run on fresh state.
Case books kept by earlier versions inside the Bot Framework user state are moved here on the
admin's first turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.storage import Conflict, DocumentStore
from bot.storage.keys import CASE_NUMBERS, CASES, TRANSCRIPT_COUNTS, TRANSCRIPTS
from bot.walkthrough.case import CaseBook, RecoveryCase, is_case_id, is_legacy_case_id

PREFIX = CASES.prefix
MAX_CLOSED_CASES = 200  # finished cases kept per admin beyond the index (MAX_CLOSED_CASES setting)
CLOSED_LIST = "closed"  # cases/<owner>/closed/<n>
LEGACY_FIELD = "CaseBook"  # where v1-v3 kept the whole case book, in the user state document


def fingerprint(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def index_fingerprint(index: dict) -> str:
    """The index as far as a turn must rewrite it. The current case's `updated_at` counts only to
    the hour: it changes every turn, and every turn loads the current case, whose own document has
    it exact; so an answer on the current case writes one document, not two. Any other change (a
    status, a deadline, another case touched, the current case switched) rewrites the index with
    the exact times, and it is rewritten at least hourly while its admin works (housekeeping keeps
    cases/ two hours past the retention). Two turns of one admin at the same moment in two
    conversations can leave a case's time in the list behind, by less than that hour."""
    current = index.get("current_id")
    summary = index.get("cases", {}).get(current)
    if summary is None:
        return fingerprint(index)
    hour = str(summary.get("updated_at", ""))[:13]  # 2026-11-26T10 (UTC)
    return fingerprint({**index, "cases": {**index["cases"], current: {**summary, "updated_at": hour}}})


@dataclass
class Loaded:
    """What a turn read, to write back only what it changed, each with the e_tag it read."""

    owner: str
    e_tags: dict[str, str | None] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)  # the case ids the index held when read


class CaseStore:
    def __init__(self, documents: DocumentStore, max_closed: int = MAX_CLOSED_CASES) -> None:
        self.documents = documents
        self.max_closed = max_closed

    @staticmethod
    def key(owner: str, name: str) -> str:
        return f"{PREFIX}{owner}/{name}"

    async def load(self, owner: str, legacy_key: str, wanted: Iterable[str] = ()) -> tuple[CaseBook, Loaded]:
        loaded = Loaded(owner)
        index_key = self.key(owner, "index")
        found = await self.documents.read([index_key])
        if index_key in found:
            document, e_tag = found[index_key]
            book = CaseBook.from_index(document)
            loaded.e_tags[index_key], loaded.fingerprints[index_key] = e_tag, index_fingerprint(document)
        else:
            book = await self._migrate(owner, legacy_key)
            loaded.e_tags[index_key] = None
        loaded.listed = set(book.index)
        for case in book.cases.values():  # migrated cases are written as new documents
            loaded.e_tags[self.key(owner, case.id)] = None
        await self._read_cases(book, loaded, self._needed(book, wanted))
        return book, loaded

    @staticmethod
    def _needed(book: CaseBook, wanted: Iterable[str]) -> list[str]:
        needed = [case_id for case_id in wanted if is_case_id(case_id)]
        if book.current_id:
            needed.append(book.current_id)
        current = book.index.get(book.current_id or "")
        if current is None or not current.is_open:
            newest_open = next(iter(book.open_cases()), None)
            if newest_open is not None:
                needed.append(newest_open.id)
        return [case_id for case_id in dict.fromkeys(needed) if case_id not in book.cases]

    async def _read_cases(self, book: CaseBook, loaded: Loaded, case_ids: list[str]) -> None:
        if not case_ids:
            return
        keys = {self.key(loaded.owner, case_id): case_id for case_id in case_ids}
        found = await self.documents.read(keys)
        for key, case_id in keys.items():
            if key not in found:
                book.index.pop(case_id, None)  # purged by housekeeping: the index forgets it
                if book.current_id == case_id:
                    book.current_id = None
                continue
            document, e_tag = found[key]
            book.cases[case_id] = RecoveryCase.from_dict(document)
            loaded.e_tags[key], loaded.fingerprints[key] = e_tag, fingerprint(document)

    async def _migrate(self, owner: str, legacy_key: str) -> CaseBook:
        found = await self.documents.read([legacy_key])
        if legacy_key not in found or LEGACY_FIELD not in found[legacy_key][0]:
            return CaseBook()
        return CaseBook.from_dict(found[legacy_key][0][LEGACY_FIELD])

    async def reserve(self, case_id: str) -> bool:
        """Take a case number for good (insert-if-absent): False when any case anywhere has it."""
        return await self.documents.insert_if_absent(CASE_NUMBERS.prefix + case_id, {})

    async def save(self, book: CaseBook, loaded: Loaded) -> None:
        """Write the cases that changed, then the index; raises Conflict if any changed meanwhile.
        A new case's number is reserved first: one taken since it was drawn (by anyone, in any
        tenant) is a Conflict too, and the turn is re-run with a new draw before anything of it
        is sent."""
        for case in book.cases.values():
            key = self.key(loaded.owner, case.id)
            new = key not in loaded.e_tags and not is_legacy_case_id(case.id)
            if new and not await self.reserve(case.id):
                raise Conflict(f"case number {case.id} is taken")
            document = case.to_dict()
            if fingerprint(document) != loaded.fingerprints.get(key):
                await self.documents.write(key, document, loaded.e_tags.get(key))
        index_key = self.key(loaded.owner, "index")
        if index_key not in loaded.fingerprints and not book.summaries():
            return  # an admin with no case yet: nothing to remember
        index = book.index_dict()
        live = {summary.id for summary in book.summaries()}
        leaving = sorted(cid for cid in loaded.listed if cid in live and cid not in index["cases"])
        if leaving:  # finished cases the index no longer lists: onto the closed list
            await self._close(book, loaded.owner, leaving)
            index = book.index_dict()
        if index_fingerprint(index) != loaded.fingerprints.get(index_key):
            await self.documents.write(index_key, index, loaded.e_tags.get(index_key))

    async def _close(self, book: CaseBook, owner: str, case_ids: list[str]) -> None:
        for case_id in case_ids:
            seq = book.closed_seq
            await self.documents.write(self.key(owner, f"{CLOSED_LIST}/{seq:08d}"), {"id": case_id}, "*")
            book.closed_seq = seq + 1
            if seq >= self.max_closed:
                await self._purge_closed(book, owner, seq - self.max_closed)

    async def _purge_closed(self, book: CaseBook, owner: str, seq: int) -> None:
        """The oldest on the closed list goes: its case, transcript and counter (unless reopened since)."""
        pointer = self.key(owner, f"{CLOSED_LIST}/{seq:08d}")
        found = await self.documents.read([pointer])
        case_id = found[pointer][0].get("id", "") if found else ""
        case_key = self.key(owner, case_id)
        stored = await self.documents.read([case_key]) if case_id and case_id not in book.index else {}
        if case_key in stored:
            case = RecoveryCase.from_dict(stored[case_key][0])
            if not case.is_open:
                await self.documents.purge(f"{TRANSCRIPTS.prefix}{case.ref}/", float("inf"))
                await self.documents.delete([TRANSCRIPT_COUNTS.prefix + case.ref, case_key])
        await self.documents.delete([pointer])

    async def delete(self, owner: str, case_ids: Iterable[str]) -> None:
        await self.documents.delete([self.key(owner, case_id) for case_id in case_ids])
