"""Reminders with real processes: one scheduled and then the bot killed with kill -9 is sent once
when it comes back; two instances on one Azurite send each reminder once. The bots run on the
real clock with WAIT_SCALE so small that a 30-minute wait is over before a restarted bot is up."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.harness import Admin, RoundRobinAdmin, cards_of, wait_for
from tests.processes import BotProcess
from tests.walker import B7, open_case

FAST = {"WAIT_SCALE": "0.0003", "REMINDER_POLL_SECONDS": "0.1"}  # 30 minutes -> 0.54 s


def wait_over(admin: Admin) -> list[dict]:
    return [c for c in cards_of(admin.history()) if "-minute wait for" in c["body"][0]["text"]]


async def rounds(bot: BotProcess) -> int:
    async with aiohttp.ClientSession() as session, session.get(bot.url.replace("/api/messages", "/healthz")) as response:
        return (await response.json())["counters"].get("reminder-rounds", 0)


async def after_more_rounds(bots: list[BotProcess], more: int = 3) -> None:
    """Let every instance run `more` further rounds (a duplicate would have gone out by then)."""
    targets = [await rounds(bot) + more for bot in bots]
    for bot, target in zip(bots, targets, strict=True):
        for _ in range(400):  # polled, not timed: a round every 0.1 s
            if await rounds(bot) >= target:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the scheduler of {bot.url} stopped running rounds")


async def test_a_reminder_scheduled_before_kill_9_is_sent_once_after_the_restart(tmp_path, connector):
    env = {"STATE_STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "state.sqlite3"), "WAIT_SCALE": FAST["WAIT_SCALE"]}
    first = BotProcess({**env, "REMINDER_POLL_SECONDS": "3600"}, tmp_path / "bot.log").start()  # never gets to send it
    admin = Admin(first.url, connector)
    try:
        await open_case(admin, B7)
        await admin.press("Done")
        first.kill()
        assert wait_over(admin) == []
        restarted = BotProcess({**env, **FAST, "PORT": str(first.port)}, tmp_path / "bot.log").start()
        try:
            await wait_for(lambda: wait_over(admin), timeout=20)
            await after_more_rounds([restarted])
            assert len(wait_over(admin)) == 1
        finally:
            restarted.stop()
    finally:
        first.stop()
        await admin.close()


async def test_two_instances_on_one_azurite_send_each_reminder_once(tmp_path, connector, azurite):
    env = {"STATE_STORE": "blob", "BLOB_CONNECTION_STRING": azurite.connection_string, "BLOB_CONTAINER": "reminders", **FAST}
    bots = [BotProcess(env, tmp_path / "first.log").start(), BotProcess(env, tmp_path / "second.log").start()]
    admin = RoundRobinAdmin(bots[0].url, connector)
    admin.urls = [bot.url for bot in bots]
    try:
        await open_case(admin, B7)
        await admin.press("Done")
        await admin.say("remind me in 1 minute")  # a second reminder, 0.018 s away
        await wait_for(lambda: len(wait_over(admin)) == 1 and "Reminder:" in str(cards_of(admin.history())), timeout=20)
        await after_more_rounds(bots)
        assert len(wait_over(admin)) == 1
        assert sum(c["body"][0]["text"].startswith("Reminder:") for c in cards_of(admin.history())) == 1
    finally:
        for bot in bots:
            bot.stop()
        await admin.close()
