"""What an admin types reaches support as written, within sensible sizes, and a card submit can
record only what the step asks for (red-team: a Markdown link went live on the support card, a
150 KB contact made a card Teams rejects forever, any placeholder could be planted)."""

from __future__ import annotations

from dataclasses import replace

from tests.cardcheck import rendered_as_markdown
from tests.conftest import RunningBot
from tests.harness import Admin, cards_of, find_action, joined
from tests.walker import UPN

SUPPORT = "19:support@thread.tacv2"
LURE = "[Reset your MFA here](https://evil.example)"
GUID = "6a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b"


async def test_markdown_typed_by_the_admin_stays_inert_on_the_support_card(settings, connector):
    async with RunningBot(replace(settings, support_channel_id=SUPPORT, support_service_url=connector.url)) as running:
        admin = Admin(running.url, connector, name=f"Eve {LURE}")
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await admin.say("escalate")
        await admin.press("Send to support", description=f"Click {LURE}", contact=LURE)
        ticket = connector.created()[0].activity["activity"]["attachments"][0]["content"]
        assert "evil.example" in str(ticket)  # it is there, as written...
        assert not [t for t in rendered_as_markdown(ticket, []) if "evil.example" in t]  # ...and never as a link
        await admin.close()


async def test_an_oversized_contact_is_refused_with_a_clear_message_and_nothing_is_sent(settings, connector):
    async with RunningBot(replace(settings, support_channel_id=SUPPORT, support_service_url=connector.url)) as running:
        admin = Admin(running.url, connector)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await admin.say("escalate")
        data, card_id = find_action(admin.history(), "Send to support")
        reply = joined(await admin.click(data, card_id, description="x", contact="c" * 150_000))
        assert "Not sent: Contact is 150,000 characters long; at most 256 fit" in reply
        assert connector.created() == []
        reply = joined(await admin.click(data, card_id, description="x", contact="adele@contoso.com"))
        assert "sent to support" in reply and len(connector.created()) == 1  # the same form works once shortened
        await admin.close()


async def test_a_card_submit_records_only_what_the_step_collects(admin, playbook):
    def later_guid(leaf):
        return next((n for step in leaf.steps[1:] for n in step.collect if playbook.placeholders[n].kind == "guid"), None)

    leaf = next(
        leaf
        for leaf in playbook.leaves.values()
        if leaf.answers and not leaf.steps[0].collect and later_guid(leaf) and set(leaf.ask_first) <= {"mail_for"}
    )
    planted = later_guid(leaf)  # a GUID a later step collects; the first step collects nothing
    labels = {q.id: q.option(leaf.answers[q.id]).label for q in playbook.questions}
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    for question in playbook.questions:
        await admin.press(labels[question.id])
    for sub in leaf.ask_first:
        await admin.press(playbook.subquestions[sub].options[0].label)
    data, card_id = find_action(admin.history(), "Done")
    next_step = await admin.click(data, card_id, **{f"value.{planted}": GUID})  # forged: step 1 collects nothing
    assert cards_of(next_step) and GUID not in str(cards_of(next_step))


async def test_a_note_added_to_the_ticket_thread_stays_inert_too(settings, connector):
    async with RunningBot(replace(settings, support_channel_id=SUPPORT, support_service_url=connector.url)) as running:
        admin = Admin(running.url, connector, name=f"Eve {LURE}")
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        for description in ("first", f"again: {LURE}"):  # the second escalation is a note in the thread
            await admin.say("escalate")
            await admin.press("Send to support", description=description)
        thread = connector.sent_to(connector.created()[0].conversation_id)
        assert any("evil.example" in str(r.activity) for r in thread)
        assert not [r for r in thread if "evil.example" in (r.activity.get("text") or "")]  # never as Markdown text
        assert not [t for r in thread for t in rendered_as_markdown(r.activity.get("attachments"), []) if "evil.example" in t]
        ticket_updates = [r for r in connector.records if r.kind == "update" and r.conversation_id != admin.conversation_id]
        assert not [t for r in ticket_updates for t in rendered_as_markdown(r.activity, []) if "evil.example" in t]
        await admin.close()
