"""Liveness, readiness and graceful restarts: /healthz answers while the process runs, /readyz
says why the bot cannot serve (store unreachable, playbook broken), and SIGTERM lets the turn in
flight finish and be saved while new requests get 503. The bot runs as a real process where the
platform's signal is what is tested."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace

import aiohttp
import pytest_asyncio
from aiohttp import web

from bot.playbook import DEFAULT_PATH
from tests.conftest import RunningBot
from tests.harness import Admin, Connector, joined
from tests.processes import BotProcess, free_port

UPN = "jane.doe@contoso.com"


async def get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


def base(url: str) -> str:
    return url.rsplit("/api/messages", 1)[0]


async def test_ready_when_the_store_answers(bot):
    status, body = await get(base(bot.url) + "/readyz")
    assert status == 200 and body["status"] == "ready" and set(body) <= {"status", "details"}  # details: the store's size


async def test_not_ready_with_the_reason_when_the_store_is_unreachable_yet_alive(settings):
    nowhere = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"BlobEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    )
    async with RunningBot(replace(settings, state_store="blob", blob_connection_string=nowhere)) as running:
        status, body = await get(base(running.url) + "/readyz")
        assert status == 503 and body["status"] == "not ready"
        assert body["reasons"] == ["the state store is unreachable"]  # the error's own text stays in the log
        assert (await get(base(running.url) + "/healthz"))[0] == 200  # liveness: the process answers


async def test_a_broken_playbook_leaves_the_process_alive_not_ready_and_taking_no_turns(tmp_path, connector):
    broken = tmp_path / "playbook.toml"
    broken.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace("{upn}", "{upm}", 1), encoding="utf-8")
    env = {"STATE_STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "s.sqlite3"), "PLAYBOOK_PATH": str(broken)}
    process = BotProcess(env, tmp_path / "bot.log").start()  # waits for /healthz
    try:
        status, body = await get(base(process.url) + "/readyz")
        assert status == 503 and body["reasons"][0].startswith("the playbook failed to load:") and "upm" in body["reasons"][0]
        admin = Admin(process.url, connector)
        assert (await admin.post(admin.activity(text="start"))).status == 503
        await admin.close()
        assert connector.records == []
    finally:
        process.stop()


class HoldingConnector(Connector):
    """Holds the first reply after `hold` is set until `release` (a turn kept in flight)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def reply(self, request: web.Request) -> web.Response:
        if self.hold:
            self.hold = False
            self.arrived.set()
            await self.release.wait()
        return await super().reply(request)


@pytest_asyncio.fixture
async def holding_connector():
    holding = HoldingConnector()
    await holding.start()
    yield holding
    await holding.stop()


async def readyz_status(url: str) -> int:
    try:
        return (await get(base(url) + "/readyz"))[0]
    except aiohttp.ClientError:
        return 0


async def test_sigterm_finishes_the_turn_in_flight_refuses_new_ones_and_exits_0(tmp_path, holding_connector):
    env = {"STATE_STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "state.sqlite3"), "TURNS_PER_MINUTE": "0"}
    env["LOCAL_SERVICE_URL"] = holding_connector.url  # sign-in off: the one connector it answers
    process = BotProcess(env, tmp_path / "bot.log").start()
    admin = Admin(process.url, holding_connector)
    try:
        await admin.say("start")
        holding_connector.hold = True
        in_flight = asyncio.create_task(admin.post(admin.activity(text=UPN)))
        await asyncio.wait_for(holding_connector.arrived.wait(), 10)

        process.process.send_signal(signal.SIGTERM)
        for _ in range(200):  # the signal is handled on the bot's own loop: wait until it says so
            if await readyz_status(process.url) == 503:
                break
            await asyncio.sleep(0.05)
        latecomer = Admin(process.url, holding_connector)
        refused = await latecomer.post(latecomer.activity(text="start"))
        await latecomer.close()
        assert refused.status == 503 and refused.headers["Retry-After"] == "2"

        holding_connector.release.set()
        assert (await asyncio.wait_for(in_flight, 15)).status in (200, 201)
        exit_code = await asyncio.get_running_loop().run_in_executor(None, process.process.wait, 20)
        assert exit_code == 0
        assert "stopped" in (tmp_path / "bot.log").read_text()
    finally:
        await admin.close()
        process.stop()

    restarted = BotProcess(env, tmp_path / "bot2.log").start()
    try:
        again = Admin(restarted.url, holding_connector, aad_object_id=admin.aad_object_id, conversation_id=admin.conversation_id)
        transcript = joined(await again.say("transcript"))
        await again.close()
        assert UPN in transcript  # the turn that was in flight is in the saved transcript
    finally:
        restarted.stop()
