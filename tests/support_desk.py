"""Escalation to support, shared by the tests that escalate: the support channel tickets are posted
to, the requesting admin's UPN as Teams reports it, and escalating the admin's open case."""

from __future__ import annotations

from tests.harness import Admin

SUPPORT_CHANNEL = "19:support-channel@thread.tacv2"
ADMIN_UPN = "adele.vance@contoso.com"


async def escalate(admin: Admin, description: str = "Remove-Mailbox failed: access denied") -> list:
    await admin.say("escalate")
    return await admin.press("Send to support", description=description)
