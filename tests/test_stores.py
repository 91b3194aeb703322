"""The document store contract, the same for memory, SQLite and Azure Blob (on Azurite)."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio

from bot.storage import Conflict, MemoryDocumentStore, SqliteDocumentStore, StoreUnavailable
from bot.storage.blob_store import BlobDocumentStore
from tests.entra import StorageTokenCredential
from tests.processes import AzuriteProcess


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    process = AzuriteProcess(tmp_path_factory.mktemp("azurite")).start()
    yield process
    process.stop()


def oauth_store(azurite: AzuriteProcess, credential: StorageTokenCredential) -> BlobDocumentStore:
    return BlobDocumentStore(
        "",
        f"t{time.time_ns()}",
        account_url=azurite.account_url,
        credential=credential,
        connection_verify=azurite.ca_bundle,
    )


@pytest_asyncio.fixture(params=["memory", "sqlite", "blob", "blob-managed-identity"])
async def store(request, tmp_path):
    if request.param == "memory":
        created = MemoryDocumentStore()
    elif request.param == "sqlite":
        created = SqliteDocumentStore(tmp_path / "docs.sqlite3")
    elif request.param == "blob-managed-identity":
        created = oauth_store(request.getfixturevalue("azurite_oauth"), StorageTokenCredential())
    else:
        azurite = request.getfixturevalue("azurite")
        created = BlobDocumentStore(azurite.connection_string, f"t{int(time.time() * 1000)}")
    yield created
    await created.close()


async def test_read_what_was_written_with_its_e_tag(store):
    tag = await store.write("state/a:1/x", {"n": 1, "text": "Zoë"}, None)
    found = await store.read(["state/a:1/x", "missing"])
    assert found == {"state/a:1/x": ({"n": 1, "text": "Zoë"}, tag)}


async def test_insert_if_absent_only_once(store):
    assert await store.insert_if_absent("activities/c/1", {"at": 1}) is True
    assert await store.insert_if_absent("activities/c/1", {"at": 2}) is False
    assert (await store.read(["activities/c/1"]))["activities/c/1"][0] == {"at": 1}


async def test_stale_e_tag_is_a_conflict_and_changes_nothing(store):
    first = await store.write("k", {"v": 1}, None)
    second = await store.write("k", {"v": 2}, first)
    assert second != first
    with pytest.raises(Conflict):
        await store.write("k", {"v": 3}, first)
    with pytest.raises(Conflict):
        await store.write("k", {"v": 4}, None)
    assert (await store.read(["k"]))["k"] == ({"v": 2}, second)
    await store.write("k", {"v": 5}, "*")
    assert (await store.read(["k"]))["k"][0] == {"v": 5}


async def test_concurrent_writers_one_wins(store):
    tag = await store.write("race", {"v": 0}, None)
    results = await asyncio.gather(*(store.write("race", {"v": i}, tag) for i in range(1, 6)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))


async def test_delete_and_purge(store):
    await store.write("transcripts/old", {"x": 1}, None)
    await store.write("other/old", {"x": 1}, None)
    await asyncio.sleep(1.1)
    cutoff = time.time()
    await store.write("transcripts/new", {"x": 1}, None)
    assert await store.purge("transcripts/", cutoff) == 1
    assert set(await store.read(["transcripts/old", "transcripts/new", "other/old"])) == {"transcripts/new", "other/old"}
    await store.delete(["other/old", "never-there"])
    assert await store.read(["other/old"]) == {}


async def test_sqlite_survives_a_reopen(tmp_path):
    path = tmp_path / "state.sqlite3"
    first = SqliteDocumentStore(path)
    tag = await first.write("k", {"v": 1}, None)
    await first.close()
    second = SqliteDocumentStore(path)
    assert (await second.read(["k"]))["k"] == ({"v": 1}, tag)
    await second.close()


async def test_sqlite_many_turns_writing_at_once_all_land_and_survive_a_reopen(tmp_path):
    # Writes that arrive while a batch is on the SQLite thread go together as the next batch.
    path = tmp_path / "busy.sqlite3"
    first = SqliteDocumentStore(path)
    tags = await asyncio.gather(*(first.write(f"cases/{i}", {"n": i}, None if i % 2 else "*") for i in range(300)))
    found = await asyncio.gather(*(first.read([f"cases/{i}"]) for i in range(300)))
    assert [f[f"cases/{i}"] for i, f in enumerate(found)] == [({"n": i}, tags[i]) for i in range(300)]
    await first.close()
    second = SqliteDocumentStore(path)
    assert len(await second.read_prefix("cases/")) == 300
    await second.close()


async def test_sqlite_a_full_disk_refuses_the_writes_it_stops_keeps_what_it_acknowledged_and_the_store_recovers(tmp_path):
    store = SqliteDocumentStore(tmp_path / "full.sqlite3")
    await store.write("before", {"v": 1}, None)
    connection = store._connect()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    # The read goes alone; the two writes wait for it and go together, in one transaction.
    results = await asyncio.gather(
        store.read(["before"]),
        store.write("small", {"v": 2}, None),
        store.write("big", {"v": "x" * 200_000}, None),
        return_exceptions=True,
    )
    assert results[0] == {"before": ({"v": 1}, "1")}
    assert isinstance(results[2], StoreUnavailable) and "full" in str(results[2])
    kept = await store.read(["small", "big"])
    # Each write is acknowledged and kept, or refused and absent: never refused yet kept.
    assert ("small" in kept) == (results[1] == "1") and "big" not in kept
    connection.execute("PRAGMA max_page_count = 1000000")  # space again
    assert await store.write("big", {"v": "x" * 200_000}, None) == "1"
    assert set(await store.read(["before", "big"])) == {"before", "big"}
    await store.close()


async def test_sqlite_one_bad_job_fails_alone_and_its_batch_mates_land(tmp_path):
    # A row that will not decode (a damaged file, another tool) and a statement that fails: the
    # admins whose writes share their batch are not refused with them.
    store = SqliteDocumentStore(tmp_path / "mixed.sqlite3")
    connection = store._connect()
    connection.execute("INSERT INTO documents VALUES ('cases/eve/bad', 1, CAST(X'FFFE' AS TEXT), 0)")
    connection.execute("INSERT INTO documents VALUES ('cases/eve/junk', 1, 'not json', 0)")
    results = await asyncio.gather(
        store.read(["anything"]),  # alone: the rest wait for it and go as one batch
        store.read(["cases/eve/bad"]),
        store.write("cases/dave/x", {"v": 1}, None),
        store.read(["cases/eve/junk"]),
        store._run(lambda: connection.execute("INSERT INTO nowhere VALUES (1)"), writes=True),
        store.write("cases/frank/y", {"v": 2}, None),
        store._run(lambda: (connection.execute("INSERT INTO documents VALUES ('half', 1, '{}', 0)"), 1 / 0), writes=True),
        return_exceptions=True,
    )
    assert results[0] == {} and results[2] == "1" and results[5] == "1"
    assert isinstance(results[1], StoreUnavailable) and isinstance(results[4], StoreUnavailable)
    assert isinstance(results[3], ValueError) and isinstance(results[6], ZeroDivisionError)
    found = await store.read(["cases/dave/x", "cases/frank/y", "half"])
    assert set(found) == {"cases/dave/x", "cases/frank/y"}  # a failed write is kept whole or not at all
    await store.close()


async def test_sqlite_a_cancelled_write_that_has_not_started_never_lands(tmp_path):
    store = SqliteDocumentStore(tmp_path / "cancel.sqlite3")
    first = asyncio.ensure_future(store.read(["anything"]))
    await asyncio.sleep(0)  # its batch is on the SQLite thread
    waiting = asyncio.ensure_future(store.write("cancelled", {"v": 1}, None))
    await asyncio.sleep(0)
    waiting.cancel()
    await first
    assert await store.read(["cancelled"]) == {}
    await store.close()


async def test_sqlite_closing_finishes_what_waits_and_then_refuses_clearly(tmp_path):
    store = SqliteDocumentStore(tmp_path / "closing.sqlite3")
    writes = [asyncio.ensure_future(store.write(f"k/{i}", {"v": i}, None)) for i in range(50)]
    await asyncio.sleep(0)
    await store.close()
    assert await asyncio.gather(*writes) == ["1"] * 50  # acknowledged before the store closed
    with pytest.raises(StoreUnavailable, match="closed"):
        await asyncio.wait_for(store.write("late", {"v": 0}, None), 5)  # refused, never left hanging
    reopened = SqliteDocumentStore(tmp_path / "closing.sqlite3")
    assert len(await reopened.read_prefix("k/")) == 50
    await reopened.close()


async def test_unreachable_blob_storage_is_reported_not_taken_for_missing(tmp_path):
    azurite = AzuriteProcess(tmp_path / "gone")  # never started: nothing listens on its port
    store = BlobDocumentStore(azurite.connection_string, "state", timeout_seconds=1)
    with pytest.raises(StoreUnavailable):
        await store.read(["k"])
    await store.close()


async def test_read_prefix_returns_only_that_prefix_in_key_order(store):
    for key in ("transcripts/MR-1/002", "transcripts/MR-1/001", "transcripts/MR-10/001", "transcripts/MR-2/001"):
        await store.write(key, {"k": key}, None)
    found = await store.read_prefix("transcripts/MR-1/")
    assert list(found) == ["transcripts/MR-1/001", "transcripts/MR-1/002"]
    assert found["transcripts/MR-1/002"] == {"k": "transcripts/MR-1/002"}


async def test_blob_with_a_managed_identity_asks_for_a_storage_token_and_uses_it(azurite_oauth):
    credential = StorageTokenCredential()
    store = oauth_store(azurite_oauth, credential)
    try:
        tag = await store.write("cases/u1", {"upn": "jane.doe@contoso.com"}, None)
        assert (await store.read(["cases/u1"]))["cases/u1"] == ({"upn": "jane.doe@contoso.com"}, tag)
        assert set(credential.scopes_asked) == {"https://storage.azure.com/.default"}
    finally:
        await store.close()
    assert credential.closed


async def test_blob_refuses_a_token_for_another_audience_and_says_so(azurite_oauth):
    store = oauth_store(azurite_oauth, StorageTokenCredential(audience="https://vault.azure.net"))
    try:
        with pytest.raises(StoreUnavailable, match="refused the bot's sign-in"):
            await store.write("cases/u1", {"upn": "x"}, None)
    finally:
        await store.close()
