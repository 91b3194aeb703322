"""Issue 25 item 5: a secret typed into a recorded-value field (`password: Hunter2!Summer` as the
LegacyExchangeDN) was stored and shown on support's ticket card unredacted, while the transcript
of the same click was redacted. Such a value is refused, and a recorded value that is not its
expected shape (stored before the checks, or planted) never reaches a ticket. Sign-in on."""

from __future__ import annotations

from bot.support.escalation import ticket_summary
from bot.walkthrough.case import RecoveryCase
from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, cards_of, joined, texts_of
from tests.security.conftest import TENANT, secured, signed_in
from tests.walker import UPN, button_titles, inputs_for, settle_dates

SUPPORT = "19:support@thread.tacv2"
SECRET = "password: Hunter2!Summer"
# C2, where the licensed user got another mailbox (same_owner: no): a step records the LegacyExchangeDN
C2 = {"onprem": "none", "entra": "present", "mailbox": "soft_deleted"}


async def test_a_secret_typed_as_a_recorded_value_is_refused_and_never_reaches_the_ticket(
    settings, openid, signing_key, connector, playbook
):
    configured = secured(settings, openid, support_channel_id=SUPPORT, support_service_url=connector.url)
    async with RunningBot(configured, credentials_factory=LoopbackCredentials()) as running:
        admin = signed_in(Admin(running.url, connector, tenant_id=TENANT), signing_key)
        await admin.say("start")
        records = await admin.press("Next", upn=UPN)
        for question in playbook.questions:
            records = await admin.press(question.option(C2[question.id]).label)
        records = await admin.press(playbook.subquestions["mail_for"].option("returning").label)
        records += await settle_dates(admin)
        for _ in range(20):  # Done on each step until the one that records the LegacyExchangeDN
            card = [c for c in cards_of(records) if any(t.startswith(("Done", "I have")) for t in button_titles(c))][-1]
            inputs = inputs_for(card, playbook)
            if "value.legacy_dn" in inputs:
                break
            titles = button_titles(card)
            different = [t for t in titles if t.endswith(playbook.subquestions["same_owner"].option("no").label)]
            done = different or [t for t in titles if t.startswith("Done")]
            title = "I have recorded them" if "I have recorded them" in titles else done[0]
            records = await admin.press(title, records, **inputs)
            records += await settle_dates(admin)
        done = next(t for t in button_titles(card) if t.startswith("Done"))
        refused = joined(await admin.press(done, records, **{**inputs, "value.legacy_dn": SECRET}))
        await admin.say("escalate")
        await admin.press("Send to support", description="help")
        ticket = connector.created()[-1].activity["activity"]
        thread = connector.sent_to(connector.created()[-1].conversation_id)
        await admin.close()
    assert "looks like it holds a password or a secret" in refused
    assert "Hunter2" not in str(ticket) and "Hunter2" not in "\n".join(texts_of(thread))
    assert inputs["value.exchange_guid"] in str(ticket)  # the well-shaped values of that click are kept


def test_values_not_of_their_expected_shape_never_reach_a_ticket(playbook):
    case = RecoveryCase("MR-ABC123", "00000000-0000-4000-8000-00000000ad01", tenant_id=TENANT, upn=UPN)
    case.values.update(
        {
            "upn": UPN,
            "exchange_guid": "1b3f4c5d-0000-4e2f-9a8b-123456789abc",
            "target_exchange_guid": "not a GUID [click](https://evil.example)",  # stored before the checks
            "legacy_dn": SECRET,  # a text value that trips the redaction screen
            "usage_location": "United States of America",  # a country must be two letters
            "no_such_placeholder": "planted",
        }
    )
    shown = ticket_summary(case, playbook, {"name": "Adele"}, "help", "")["recorded_values"]
    assert shown == {"upn": UPN, "exchange_guid": "1b3f4c5d-0000-4e2f-9a8b-123456789abc"}
