"""Issue 25 item 1: case numbers were unique per admin only, while transcripts, reminders, tickets
and the retention purge were keyed by the number alone. Two admins on one number (forced here)
read each other's transcripts, wrote into each other's ticket, overwrote each other's reminders,
purged each other's transcripts and blocked each other's escalation, across tenants too.

Now every per-case key carries its owner (tenant and user), and a number is reserved for good
(insert-if-absent) when its case is first saved: a real draw never repeats a live number."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest_asyncio

import bot.walkthrough.case as case_module
import bot.walkthrough.case_store as case_store_module
from bot.clock import ManualClock
from bot.storage import SqliteDocumentStore
from tests.conftest import RunningBot
from tests.harness import Admin, joined

UPN_A, UPN_B = "alice.mailbox@contoso.com", "bob.mailbox@fabrikam.com"
TENANT_A, TENANT_B = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
FORCED = "MR-QQQQQQQQ"
B7 = ("Present (synced)", "Hard-deleted", "Present")  # step 1 is a 30-minute wait: reminders


def case_number_in(text: str) -> str:
    return re.search(r"MR-[A-Z0-9]{6,8}\b", text).group(0)


@pytest_asyncio.fixture
async def running(settings, connector):
    async with RunningBot(replace(settings, reminder_poll_seconds=3600), clock=ManualClock()) as bot:
        yield bot


async def open_case(admin: Admin, upn: str) -> str:
    await admin.say("start new")
    await admin.press("Next", upn=upn)
    for label in B7:
        await admin.press(label)
    return case_number_in(joined(await admin.say("status")))


async def test_two_admins_in_two_tenants_on_one_forced_number_share_nothing(running, connector, monkeypatch, settings):
    monkeypatch.setattr(case_module, "new_case_id", lambda: FORCED)  # the generator gives both one number
    monkeypatch.setattr(case_store_module.CaseStore, "reserve", lambda self, case_id: _true(), raising=False)
    alice = Admin(running.url, connector, name="Alice", tenant_id=TENANT_A)
    bob = Admin(running.url, connector, name="Bob", tenant_id=TENANT_B)
    assert await open_case(alice, UPN_A) == FORCED
    assert await open_case(bob, UPN_B) == FORCED
    await alice.say("the error said alice-only-detail")
    await bob.say("the error said bob-only-detail")
    await alice.say("remind me in 2 hours")
    await bob.say("remind me in 3 hours")

    # Transcripts: each reads their own, never the other's.
    theirs = joined(await bob.say("transcript"))
    assert "bob-only-detail" in theirs and "alice-only-detail" not in theirs and UPN_A not in theirs
    assert "alice-only-detail" in joined(await alice.say("transcript"))

    # Reminders: both kept (neither overwrote the other).
    documents = running.assembly.documents
    due = await documents.read_prefix("reminders/due/")
    asked = sorted(r["upn"] for r in due.values() if r["kind"] == "asked")
    assert asked == sorted([UPN_A, UPN_B])

    # Tickets: both escalate; each gets a ticket of their own, with their own lines only.
    await alice.say("escalate")
    told_alice = joined(await alice.press("Send to support", description="alice needs help"))
    await bob.say("escalate")
    told_bob = joined(await bob.press("Send to support", description="bob needs help"))
    assert "is ready for support" in told_alice and "is ready for support" in told_bob
    assert "alice-only-detail" not in told_bob and "bob-only-detail" not in told_alice
    tickets = await documents.read_prefix("tickets/")
    by_admin = {t["summary"]["admin"]["name"]: t for t in tickets.values()}
    assert set(by_admin) == {"Alice", "Bob"}
    assert by_admin["Bob"]["summary"]["tenant_id"] == TENANT_B and by_admin["Bob"]["summary"]["target_upn"] == UPN_B

    # Retention: Alice's case expires and is purged on her next turn; Bob's transcript stays whole.
    store = SqliteDocumentStore(settings.sqlite_path)
    index_key = f"cases/msteams/{alice.user_id}/index"
    case_key = f"cases/msteams/{alice.user_id}/{FORCED}"
    (index, e_tag), (case, case_e_tag) = (await store.read([index_key]))[index_key], (await store.read([case_key]))[case_key]
    index["cases"][FORCED]["updated_at"] = case["updated_at"] = "2020-01-01T00:00:00.000+00:00"  # past RETENTION_DAYS
    await store.write(index_key, index, e_tag)
    await store.write(case_key, case, case_e_tag)
    await store.close()
    await alice.say("cases")
    assert "bob-only-detail" in joined(await bob.say("transcript"))
    assert "alice-only-detail" not in joined(await alice.say("transcript"))
    await alice.close()
    await bob.close()


async def _true() -> bool:
    return True


async def test_a_real_draw_never_repeats_a_live_number(running, connector, monkeypatch):
    alice = Admin(running.url, connector, name="Alice", tenant_id=TENANT_A)
    taken = await open_case(alice, UPN_A)
    real = case_module.new_case_id
    draws = itertools.chain([taken], iter(real, None))  # the generator first repeats Alice's live number
    monkeypatch.setattr(case_module, "new_case_id", lambda: next(draws))
    bob = Admin(running.url, connector, name="Bob", tenant_id=TENANT_B)
    given = await open_case(bob, UPN_B)
    assert given != taken and case_module.is_case_id(given)
    assert case_number_in(joined(await alice.say("status"))) == taken  # Alice's case is still hers alone
    await alice.close()
    await bob.close()
