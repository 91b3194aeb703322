"""A client that can set replyToId (Web Chat, Direct Line; not Teams, which sets it itself) must
not make the bot update or send a card of its choosing, nor write a document named by it: the
provisional ids the bot keeps for cards not yet sent are its own, never taken from a sender."""

from __future__ import annotations

from bot.hosting.outgoing import OutgoingBuffer, is_provisional
from bot.storage import SqliteDocumentStore
from tests.harness import find_action, joined
from tests.walker import UPN


async def _at_the_escalation_form(admin) -> tuple[dict, str]:
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.say("escalate")
    return find_action(admin.history(), "Send to support")


async def test_a_sender_cannot_pass_a_provisional_id_off_as_the_card_it_clicked(admin, settings):
    data, real_form = await _at_the_escalation_form(admin)
    forged = "pending-0123456789ab-1"  # shaped exactly like the bot's own
    records = await admin.click(data, forged, description="access denied")
    assert "ready for support" in joined(records)
    assert not [r for r in records if r.kind == "update" and r.activity_id != real_form]
    store = SqliteDocumentStore(settings.sqlite_path)
    assert await store.read_prefix(f"cardids/{admin.conversation_id}/{forged.rsplit('-', 1)[0]}") == {}
    await store.close()


def test_only_the_bots_own_shape_of_id_counts_as_provisional():
    assert is_provisional(OutgoingBuffer().add_send(object()))
    for other in ("pending-0123456789ab-1\n", "pending-0123456789ab-1x", "pending-../../cases/x", "pending-", "", None):
        assert not is_provisional(other), other
