"""The store's one read-modify-write loop (`update`) and the one lease helper (bot.storage.lease),
on every store that runs without Node: memory and SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.storage import Conflict, MemoryDocumentStore, SqliteDocumentStore, TooManyConflicts
from bot.storage.documents import UPDATE_ATTEMPTS
from bot.storage.lease import Lease


class Interleaving(MemoryDocumentStore):
    """Hands the loop to the other writers between every read and write, so that read-modify-write
    races are the rule, not luck."""

    async def read(self, keys):
        found = await super().read(keys)
        await asyncio.sleep(0)
        return found


class AlwaysChanged(MemoryDocumentStore):
    """Someone else always writes first."""

    reads = 0

    async def read(self, keys):
        self.reads += 1
        return await super().read(keys)

    async def write(self, key, document, e_tag):
        if e_tag != "*":
            raise Conflict(key)
        return await super().write(key, document, e_tag)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request, tmp_path):
    documents = Interleaving() if request.param == "memory" else SqliteDocumentStore(tmp_path / "s.sqlite3")
    yield documents
    await documents.close()


def add(n: int):
    def change(document):
        return {"count": (document or {}).get("count", 0) + n}

    return change


async def test_concurrent_changers_both_land(store):
    await asyncio.gather(store.update("counter", add(1)), store.update("counter", add(10)))
    assert (await store.read(["counter"]))["counter"][0] == {"count": 11}
    await asyncio.gather(*(store.update("counter", add(1)) for _ in range(6)))
    assert (await store.read(["counter"]))["counter"][0] == {"count": 17}


async def test_a_change_that_returns_none_writes_nothing(store):
    assert await store.update("absent", lambda document: None) is None
    assert await store.read(["absent"]) == {}
    await store.write("there", {"v": 1}, None)
    (_, e_tag) = (await store.read(["there"]))["there"]
    assert await store.update("there", lambda document: None) == {"v": 1}
    assert (await store.read(["there"]))["there"][1] == e_tag  # not rewritten


async def test_update_creates_an_absent_document_only_if_still_absent():
    documents = Interleaving()
    results = await asyncio.gather(*(documents.update("new", add(1)) for _ in range(3)))
    assert (await documents.read(["new"]))["new"][0] == {"count": 3} and sorted(r["count"] for r in results) == [1, 2, 3]


async def test_update_gives_up_clearly_after_n_conflicts():
    documents = AlwaysChanged()
    await documents.write("hot", {"count": 0}, "*")
    with pytest.raises(TooManyConflicts, match="changed under 8 attempts"):
        await documents.update("hot", add(1))
    assert documents.reads == UPDATE_ATTEMPTS == 8
    with pytest.raises(Conflict):  # a TooManyConflicts is a Conflict: a turn is re-run on it as before
        await documents.update("hot", add(1), attempts=2)
    assert (await documents.read(["hot"]))["hot"][0] == {"count": 0}


async def test_an_error_in_the_change_is_raised_and_nothing_is_written():
    documents = MemoryDocumentStore()

    def broken(document):
        raise KeyError("gone")

    with pytest.raises(KeyError):
        await documents.update("x", broken)
    assert await documents.read(["x"]) == {}


# --- Lease -------------------------------------------------------------------------------------

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def test_a_lease_is_taken_held_lapses_on_the_injected_clock_and_is_taken_over():
    clock = ManualClock(START)
    lease = Lease(60.0, clock)
    documents = MemoryDocumentStore()
    await documents.write("job", {"what": "post the ticket", "leased_at": 0.0}, None)

    first = await lease.claim(documents, "job", "leased_at")
    assert first == {"what": "post the ticket", "leased_at": START.timestamp()}  # taken
    assert lease.held(first["leased_at"]) and not lease.lapsed(first["leased_at"])
    clock.advance(seconds=59)
    assert await lease.claim(documents, "job", "leased_at") is None  # held by the first
    clock.advance(seconds=1)
    assert lease.lapsed(first["leased_at"])  # its holder died: 60 s on the clock, no sleeping
    second = await lease.claim(documents, "job", "leased_at", taken_over=True)
    assert second == {"what": "post the ticket", "leased_at": clock.now().timestamp(), "taken_over": True}  # taken over
    assert await lease.claim(documents, "job", "leased_at") is None  # and now held by the second


async def test_of_two_claims_at_once_exactly_one_takes_the_lease():
    lease = Lease(60.0, ManualClock(START))
    documents = Interleaving()
    await documents.write("job", {"leased_at": 0.0}, None)
    claims = await asyncio.gather(*(lease.claim(documents, "job", "leased_at") for _ in range(5)))
    assert sum(claim is not None for claim in claims) == 1


async def test_a_released_or_never_taken_lease_is_free_and_a_missing_document_has_none():
    lease = Lease(60.0, ManualClock(START))
    assert lease.take(0.0) == START.timestamp() and lease.take(None) == START.timestamp()
    assert not lease.lapsed(0.0)
    assert lease.take(START.timestamp() - 10) is None
    assert lease.take(START.timestamp() - 10, now=START.timestamp() + 50) == START.timestamp() + 50  # a round's own time
    assert await lease.claim(MemoryDocumentStore(), "gone", "leased_at") is None
