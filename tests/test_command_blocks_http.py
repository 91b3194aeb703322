"""Step cards over real HTTP: alternatives as separate command blocks with their condition above,
where each block runs, the "retired" banner only on blocks with retired cmdlets, and unknown
values as valid PowerShell strings."""

from __future__ import annotations

from tests.harness import cards_of
from tests.walker import UPN, settle_dates

A9 = ("Deleted", "Soft-deleted", "Soft-deleted", "The user, who is coming back")
IMMUTABLE_ID = "AAECAwQFBgcICQoLDA0ODw=="
EXCHANGE_GUID = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"
LEGACY_DN = "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=obrien"
EXO = "Runs in: the Exchange Online window (Exchange Online PowerShell)"
AD = "Runs in: a domain-joined computer with the ActiveDirectory module"


def step_card(records) -> dict:
    """The live step card: sent, or updated in place (a dialect switch redraws the current card)."""
    return [c for c in cards_of(records) if c["body"][0]["text"].startswith("Step") and c.get("actions")][-1]


def blocks_of(card: dict) -> list[tuple[str, str, str, bool]]:
    """(condition, where, commands, retired banner) for each CodeBlock, read off the card as shown:
    the block's "Runs in" line, the banner, and the bold condition right above them."""
    body = card["body"]
    found = []
    for i, element in enumerate(body):
        if element.get("type") != "CodeBlock":
            continue
        j = i - 1
        retired = body[j].get("text", "").startswith("Retired commands.")
        j -= retired
        where = body[j].get("text", "")
        assert where.startswith("Runs in: "), body[j]
        above = body[j - 1]
        condition = above.get("text", "") if above.get("weight") == "Bolder" and j - 1 > 0 else ""
        found.append((condition, where, element["codeSnippet"], retired))
    return found


async def reach_a9(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    records = []
    for label in A9:
        records = await admin.press(label)
    return records + await settle_dates(admin)


async def to_the_ad_restore(admin):
    """A9 for a returning user: the two windows, the soft-deleted mailbox, the ImmutableId."""
    await admin.press("Done")  # the Exchange Online window
    await settle_dates(admin)  # now that Exchange Online is connected: when was the mailbox soft-deleted?
    await admin.press("Done")  # the Graph window
    await admin.press("Done", **{"value.exchange_guid": EXCHANGE_GUID, "value.legacy_dn": LEGACY_DN})
    return await admin.press("Done", **{"value.immutable_id": IMMUTABLE_ID})


async def test_alternatives_are_separate_blocks_each_with_its_condition_and_where_it_runs(admin):
    await reach_a9(admin)
    await to_the_ad_restore(admin)
    await admin.press("Done: No, nothing to restore")
    records = await admin.press("Done: mS-DS-ConsistencyGuid")
    card = step_card(records)
    assert card["body"][0]["text"].startswith("Step 7 of")
    blocks = blocks_of(card)
    assert [(c, w) for c, w, _, _ in blocks] == [
        ("If Get-Mailbox returns the mailbox (it is active):", EXO),
        ("If it is only among the soft-deleted mailboxes (by the ExchangeGuid you recorded):", EXO),
    ]
    assert blocks[0][2] == "(Get-Mailbox -Identity 'o''brien@contoso.com').EmailAddresses -join ';'"
    assert blocks[1][2] == f"(Get-Mailbox -SoftDeletedMailbox -Identity '{EXCHANGE_GUID}').EmailAddresses -join ';'"


async def test_the_retired_banner_marks_only_blocks_with_retired_cmdlets(admin):
    await reach_a9(admin)
    records = await admin.say("commands original")
    connect = blocks_of(step_card(records))
    assert connect and all(retired for *_, retired in connect), "remote PowerShell is retired"
    records = await admin.press("Done")  # the Exchange Online window
    records += await settle_dates(admin)  # then when the mailbox was soft-deleted
    graph = blocks_of(step_card(records))
    assert graph and all(retired for *_, retired in graph), "MSOnline is retired"
    await admin.press("Done")
    await admin.press("Done", **{"value.exchange_guid": EXCHANGE_GUID, "value.legacy_dn": LEGACY_DN})
    records = await admin.press("Done", **{"value.immutable_id": IMMUTABLE_ID})
    restore = blocks_of(step_card(records))
    assert [(w, retired) for _, w, _, retired in restore] == [(AD, False)], "AD commands are current"
    assert "-IncludeDeletedObjects" in restore[0][2] and "Restore-ADObject" not in restore[0][2], "listed, then one restored"


async def test_a_value_the_bot_cannot_fill_is_still_a_powershell_string(admin):
    await reach_a9(admin)
    await to_the_ad_restore(admin)
    await admin.press("Done: No, nothing to restore")
    await admin.press("Done: mS-DS-ConsistencyGuid")
    records = await admin.press(
        "Done",
        **{"value.email_addresses": "SMTP:obrien@contoso.com;smtp:ob@contoso.com", "value.primary_smtp": "obrien@contoso.com"},
    )
    create = blocks_of(step_card(records))[0][2]
    assert "New-ADUser -Name '<display name>' -SamAccountName '<on-premises logon name of the user (sAMAccountName" in create
    assert "@('SMTP:obrien@contoso.com;smtp:ob@contoso.com' -split ';' | Where-Object" in create
