"""Item 10: a key with dot segments (a conversation id is whatever the caller sends) cannot reach
another document in Azure Blob Storage, read or written, with a SAS connection string (where the
service does not refuse a normalised path) on Azurite."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from bot.storage.blob_store import BlobDocumentStore
from tests.conftest import RunningBot
from tests.harness import Admin
from tests.processes import AZURITE_ACCOUNT, AZURITE_KEY, AzuriteProcess


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    process = AzuriteProcess(tmp_path_factory.mktemp("azurite")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sas_connection_string(azurite) -> str:
    sas = generate_account_sas(
        AZURITE_ACCOUNT,
        AZURITE_KEY,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, create=True, add=True),
        datetime.now(UTC) + timedelta(hours=2),
    )
    return f"BlobEndpoint=http://127.0.0.1:{azurite.port}/{AZURITE_ACCOUNT};SharedAccessSignature={sas}"


def container() -> str:
    return f"sec{time.time_ns()}"


@pytest_asyncio.fixture
async def store(sas_connection_string):
    created = BlobDocumentStore(sas_connection_string, container())
    yield created
    await created.close()


@pytest.mark.parametrize(
    "traversal",
    [
        "state/msteams/conversations/../../../tickets/MR-ABCDEF",
        "state/./../tickets/MR-ABCDEF",
        "x/../tickets/MR-ABCDEF",
        "x/%2E%2E/tickets/MR-ABCDEF",
        "tickets/./MR-ABCDEF",
        "tickets/MR-ABCDEF/.",
    ],
)
async def test_dot_segments_never_reach_another_document(store, traversal):
    ticket = await store.write("tickets/MR-ABCDEF", {"summary": "the victim's ticket"}, None)
    assert await store.read([traversal]) == {}
    await store.write(traversal, {"forged": True}, "*")
    assert (await store.read(["tickets/MR-ABCDEF"]))["tickets/MR-ABCDEF"] == ({"summary": "the victim's ticket"}, ticket)
    assert (await store.read([traversal]))[traversal][0] == {"forged": True}  # a document of its own, by its own key
    assert set(await store.read_prefix("")) == {"tickets/MR-ABCDEF", traversal}


async def test_trailing_dots_and_odd_characters_keep_keys_apart(store):
    keys = ["a/b.", "a/b", "a/b..", "a/%2E", "a/\\b", "a/b c", "a/ü"]
    for n, key in enumerate(keys):
        await store.write(key, {"n": n}, None)
    found = await store.read_prefix("a/")
    assert {key: doc["n"] for key, doc in found.items()} == {key: n for n, key in enumerate(keys)}


async def test_a_conversation_id_with_dot_segments_has_its_own_state(settings, connector, sas_connection_string):
    blob = replace(settings, state_store="blob", blob_connection_string=sas_connection_string, blob_container=container())
    async with RunningBot(blob) as running:
        victim = Admin(running.url, connector)
        await victim.say("start")
        attacker = Admin(running.url, connector, conversation_id=f"a:1x/../{victim.conversation_id}")
        await attacker.say("hello")
        await victim.close()
        await attacker.close()
    store = BlobDocumentStore(sas_connection_string, blob.blob_container)
    prefix = "state/msteams/conversations/"
    found = await store.read([prefix + victim.conversation_id, prefix + attacker.conversation_id])
    await store.close()
    assert set(found) == {prefix + victim.conversation_id, prefix + attacker.conversation_id}
    assert found[prefix + victim.conversation_id] != found[prefix + attacker.conversation_id]
