"""One admin's history never slows another admin's turn, and nobody piles up open cases without
bound (issue: a whole case book read and written every turn; 43k injected cases stalled others)."""

from __future__ import annotations

import json

import pytest

import app as composition
from bot.storage import SqliteDocumentStore
from bot.walkthrough.case import CASE_ALPHABET, MAX_OPEN_CASES, RecoveryCase
from tests.conftest import RunningBot
from tests.harness import Admin, joined
from tests.walker import UPN


class CountingStore(SqliteDocumentStore):
    """The real SQLite store, counting the bytes each read hands back."""

    bytes_read = 0

    async def read(self, keys):
        found = await super().read(keys)
        CountingStore.bytes_read += sum(len(json.dumps(document)) for document, _ in found.values())
        return found


@pytest.fixture
def counting(monkeypatch):
    monkeypatch.setattr(composition, "create_documents", lambda settings: CountingStore(settings.sqlite_path))
    CountingStore.bytes_read = 0
    return CountingStore


def case_number(n: int) -> str:
    digits = ""
    for _ in range(6):
        n, digit = divmod(n, len(CASE_ALPHABET))
        digits = CASE_ALPHABET[digit] + digits
    return f"MR-{digits}"


async def read_by(admin: Admin, text: str) -> int:
    before = CountingStore.bytes_read
    await admin.say(text)
    return CountingStore.bytes_read - before


async def test_a_long_history_costs_the_turn_nothing_and_another_admin_nothing(settings, connector, counting):
    async with RunningBot(settings) as bot:
        heavy, light = Admin(bot.url, connector), Admin(bot.url, connector)
        await heavy.say("start")
        await heavy.press("Next", upn=UPN)
        await light.say("start")
        await light.press("Next", upn=UPN)
        baseline = await read_by(heavy, "help")
        # 2,000 finished cases, injected straight into the store as an attacker with a script would.
        store = SqliteDocumentStore(settings.sqlite_path)
        owner = f"cases/msteams/{heavy.user_id}"
        index, e_tag = (await store.read([f"{owner}/index"]))[f"{owner}/index"]
        for n in range(2000):
            case = RecoveryCase(case_number(n), heavy.aad_object_id, upn=f"user{n}@contoso.com", status="complete")
            await store.write(f"{owner}/{case.id}", case.to_dict(), "*")
            index["cases"][case.id] = {k: getattr(case, k) for k in ("id", "upn", "status", "updated_at", "created_at")}
        await store.write(f"{owner}/index", index, e_tag)
        await store.close()
        await heavy.say("help")  # the first turn trims the index to what the case list keeps
        assert await read_by(heavy, "help") < baseline + 20_000  # the index is capped, no case is read in bulk
        assert await read_by(light, "help") <= baseline + 2_000  # another admin reads only their own
        oldest = joined(await heavy.say(f"status {case_number(0)}"))  # out of the list, still readable by id
        assert f"Status of case {case_number(0)}" in oldest and "user0@contoso.com" in oldest
        await heavy.close()
        await light.close()


async def test_open_cases_are_capped_with_a_clear_message(admin):
    for n in range(MAX_OPEN_CASES):
        await admin.say("start new")
        await admin.press("Next", upn=f"user{n}@contoso.com")
    records = await admin.say("start new")
    assert f"You have {MAX_OPEN_CASES} open recovery cases" in joined(records)
    assert "Which user's mailbox" not in joined(records)
