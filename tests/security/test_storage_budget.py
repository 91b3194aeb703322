"""Issue 25 item 8: no per-user storage budget. At the default rate limit one admin could store
about 0.35 GiB a day (every typed text kept up to 4,000 characters, closed cases unlimited) for 30
days, and a full disk stops every write for everyone.

Now: a daily budget per admin (turns and bytes), a cap on turns per case transcript, a cap on
closed cases kept per admin (the oldest purged first), and the store's size in /readyz's details
(and the store.bytes gauge)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import replace

import aiohttp

from tests.conftest import RunningBot
from tests.harness import Admin, joined
from tests.walker import UPN


def keys(settings, like: str) -> list[str]:
    with sqlite3.connect(settings.sqlite_path) as db:
        return [key for (key,) in db.execute("SELECT key FROM documents WHERE key LIKE ?", (like,))]


async def test_a_daily_budget_of_turns_per_admin(settings, connector):
    async with RunningBot(replace(settings, daily_turns_per_user=6)) as bot:
        admin, other = Admin(bot.url, connector), Admin(bot.url, connector)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        for n in range(4):
            await admin.say(f"note {n}")
        stored = len(keys(settings, "transcripts/%"))
        refused = joined(await admin.say("one more"))
        assert "today's limit of messages" in refused and "6 messages a day" in refused
        assert len(keys(settings, "transcripts/%")) == stored  # nothing of it was kept
        assert "today's limit" not in joined(await other.say("help"))  # another admin has their own
        await admin.close()
        await other.close()


async def test_a_daily_budget_of_bytes_per_admin(settings, connector):
    async with RunningBot(replace(settings, daily_bytes_per_user=10_000)) as bot:
        admin = Admin(bot.url, connector)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        told = [joined(await admin.say("x" * 4000)) for _ in range(3)]
        assert "today's limit" not in told[0] and "today's limit of messages to this bot (9 KB of text a day)" in told[2]
        await admin.close()


async def test_a_case_transcript_keeps_at_most_its_cap_of_turns(settings, connector):
    async with RunningBot(replace(settings, max_transcript_turns=5)) as bot:
        admin = Admin(bot.url, connector)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        for n in range(12):
            await admin.say(f"line {n} " + "y" * 3000)
        turns = [k for k in keys(settings, "transcripts/%") if "/MR-" in k]
        assert len(turns) == 5
        text = joined(await admin.say("transcript"))
        assert "The transcript of this case is full (5 turns)" in text and "line 11" not in text
        await admin.close()


async def test_closed_cases_per_admin_are_capped_oldest_first(settings, connector):
    async with RunningBot(replace(settings, max_closed_cases=3)) as bot:
        admin = Admin(bot.url, connector)
        numbers = []
        for n in range(14):
            await admin.say("start over" if n else "start")
            await admin.press("Next", upn=f"user{n}@contoso.com")
            await admin.say(f"detail of case {n}")
            numbers.append(re.search(r"MR-[A-Z0-9]{6,8}\b", joined(await admin.say("status"))).group(0))
        cases = [k for k in keys(settings, f"cases/msteams/{admin.user_id}/MR-%")]
        assert len(cases) <= 1 + 5 + 3  # the open one, the index's five most recent finished, three closed
        assert f"You have no case {numbers[0]}" in joined(await admin.say(f"status {numbers[0]}"))  # the oldest went
        assert [k for k in keys(settings, "transcripts/%") if f"/{numbers[0]}/" in k] == []  # with its transcript
        assert f"Status of case {numbers[-6]}" in joined(await admin.say(f"status {numbers[-6]}"))  # newer ones stay
        await admin.close()


async def test_the_store_size_is_in_readyz_details(bot):
    async def details():
        async with aiohttp.ClientSession() as session, session.get(bot.url.replace("/api/messages", "/readyz")) as response:
            return (await response.json()).get("details", {})

    for _ in range(100):  # measured as the bot starts, then hourly
        found = await details()
        if found:
            break
        await asyncio.sleep(0.05)
    assert found["store_bytes"] > 0
