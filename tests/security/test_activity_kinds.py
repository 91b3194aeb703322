"""Issue 25, "Also": activities other than messages. A malformed adaptiveCard/action invoke is a
400 in the invoke error shape (it was a 500), every activity with an id is processed once (a
handoff.status event delivered three times changed the ticket three times), and the role check
holds for every activity that answers (a non-admin's conversationUpdate got the welcome card).
All with sign-in on."""

from __future__ import annotations

from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.graph_standin import ADMIN_ID, with_graph
from tests.harness import Admin, joined
from tests.security.conftest import TENANT, secured, signed_in
from tests.walker import UPN


async def test_a_malformed_card_action_invoke_is_a_400_in_the_invoke_error_shape(secured_bot, signing_key, connector):
    admin = signed_in(Admin(secured_bot.url, connector, tenant_id=TENANT), signing_key)
    for value in (None, {"action": "not an action"}, {"action": {"type": "Action.Execute", "data": "x"}}):
        response = await admin.post(admin.activity(type="invoke", name="adaptiveCard/action", value=value, text=None))
        assert response.status == 400, value
        answer = await response.json()
        assert answer["statusCode"] == 400 and answer["type"] == "application/vnd.microsoft.error"
        assert answer["value"]["code"] == "BadRequest" and answer["value"]["message"]
    still = await admin.post(admin.activity(text="hello"))
    await admin.close()
    assert still.status in (200, 201)


async def test_a_handoff_status_event_delivered_three_times_changes_the_ticket_once(settings, openid, signing_key, connector):
    async with RunningBot(secured(settings, openid), credentials_factory=LoopbackCredentials()) as running:
        admin = signed_in(Admin(running.url, connector, tenant_id=TENANT), signing_key)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await admin.say("escalate")
        await admin.press("Send to support", description="help")  # no channel yet: the ticket waits
        (case_id,) = await running.assembly.services.escalation.tickets.pending()
        event = admin.activity(type="event", name="handoff.status", value={"state": "accepted"}, text=None, id="event-1")
        statuses = [(await admin.post(event)).status for _ in range(3)]
        ticket = await running.assembly.services.escalation.tickets.load(case_id)
        await admin.close()
    assert all(status in (200, 201) for status in statuses)
    assert [h["what"] for h in ticket.history].count("handoff accepted") == 1
    assert joined(admin.history()).count("Support hub: your case") == 1


async def test_a_non_admins_conversation_update_gets_no_welcome_card(settings, openid, signing_key, connector, microsoft):
    graph_settings = with_graph(secured(settings, openid), microsoft, graph_require_admin_role=True)
    async with RunningBot(graph_settings, credentials_factory=LoopbackCredentials()) as running:
        microsoft.roles = []  # an ordinary user of the tenant installs the bot
        outsider = signed_in(Admin(running.url, connector, tenant_id=TENANT, aad_object_id=ADMIN_ID), signing_key)
        installed = outsider.activity(type="conversationUpdate", membersAdded=[{"id": "28:bot-app-id"}], text=None)
        response = await outsider.post(installed)
        await outsider.close()
    assert response.status in (200, 201)
    assert "Start a recovery" not in joined(outsider.history())
    assert microsoft.role_requests == 1  # the role was checked for it
