"""Every command the bot shows, checked against Microsoft's published cmdlet reference.

Each block of each step of all 27 leaves, in both dialects, and every "How do I check?" command
is rendered (once with sample values, once with every value unknown, so the '<hints>' must be
valid PowerShell too), tokenised, and each command must: exist in the reference; use only
parameters (names, unambiguous prefixes, aliases) it has; fit a parameter set with that set's
mandatory parameters given by name, position or pipeline; apply to Exchange Online unless its
block runs in the on-premises Exchange Management Shell; run where its block says it runs.
The modern dialect uses no retired cmdlet; the original uses only retired or current ones.
"""

from __future__ import annotations

import pytest

from bot.playbook import DIALECTS, load_playbook
from bot.playbook.model import CommandBlock
from tests import powershell_reference as ps
from tests.powershell_reference import problems_in

playbook = load_playbook()


def test_the_reference_is_the_projects_own_with_its_corrections_applied():
    assert ps.REFERENCE.is_relative_to(ps.ROOT)
    reference = ps.load_reference()
    restore = reference.cmdlets["New-MailboxRestoreRequest"]
    # Microsoft's page documents the Remote* parameters as internal and its own example omits them.
    assert restore["parameter_sets"]["SourceMailbox"]["mandatory"] == ["SourceMailbox", "TargetMailbox"]
    assert restore["corrections"][0]["source"]["repo"] == "MicrosoftDocs/office-docs-powershell"
    assert reference.cmdlets["Get-MsolDirSyncFeatures"]["added_by_project"] is True
    for name, entry in reference.cmdlets.items():
        assert entry["source"]["repo"] and entry["url"].startswith("https://learn.microsoft.com/"), name


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("leaf_id", sorted(playbook.leaves))
def test_every_step_command_fits_the_reference(leaf_id, dialect):
    leaf = playbook.leaves[leaf_id]
    problems = []
    for number, step in enumerate(leaf.steps, start=1):
        for n, block in enumerate(step.blocks, start=1):
            problems += problems_in(block, dialect, f"{leaf_id} step {number} ({step.id}) block {n}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_how_do_i_check_command_fits_the_reference(dialect):
    problems = []
    for question in playbook.questions:
        for n, check in enumerate(question.check, start=1):
            for block in check.blocks:
                problems += problems_in(block, dialect, f"question {question.id} check {n}")
    assert not problems, "\n".join(problems)


# The checker itself must bite: each of these is a mistake the playbook once made or could make.
BAD = {
    "a parameter the cmdlet lacks (defect 2)": (
        "Get-MgDirectoryDeletedItemAsUser -Filter 'x' -CountVariable count -ConsistencyLevel eventual",
        ("graph",),
        "-ConsistencyLevel is not a parameter",
    ),
    "a cmdlet that does not exist": ("Get-MgDeletedUser -All", ("graph",), "not in the cmdlet reference"),
    "a set's mandatory parameter missing": (
        "New-Mailbox -Name 'x' -InactiveMailbox 'g' -MicrosoftOnlineServicesID 'x@contoso.com'",
        ("exchange_online",),
        "no parameter set takes",
    ),
    "parameters from two sets": ("Get-ADObject -Filter 'x' -Identity 'y'", ("ad",), "no parameter set takes"),
    "an ambiguous prefix": ("Get-Mailbox -Include 'x'", ("exchange_online",), "ambiguous"),
    "an on-premises-only cmdlet run in Exchange Online": (
        "Enable-RemoteMailbox -Identity 'x' -RemoteRoutingAddress 'x@contoso.mail.onmicrosoft.com'",
        ("exchange_online",),
        "not available in Exchange Online",
    ),
    "an Exchange Online-only parameter on premises": (
        "Get-Mailbox -SoftDeletedMailbox -Identity 'x'",
        ("exchange_onprem",),
        "does not apply to on-premises Exchange",
    ),
    "too many positional values": ("Get-MgUser 'a' 'b'", ("graph",), "positional"),
    "a variable from another block": ("Get-MgUser -UserId $upn", ("graph",), "never sets"),
    "a cmdlet run in the wrong place": ("Start-ADSyncSyncCycle -PolicyType Delta", ("ad",), "runs in ['entra_connect']"),
    "a retired cmdlet in the modern dialect": ("Get-MsolUser -All", ("graph",), "is retired"),
    "a bare <hint> that breaks the line": ("Get-Mailbox -Identity <display name>", ("exchange_online",), "a bare"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_checker_catches(case):
    command, places, expected = BAD[case]
    block = CommandBlock({"modern": command, "original": command}, places)
    problems = "\n".join(problems_in(block, "modern", "test"))
    assert problems and expected in problems, problems


def test_the_checker_accepts_prefixes_aliases_positions_and_the_pipeline():
    good = (
        "Get-MgUser -UserId 'a@contoso.com' -Prop Id, UserPrincipalName -Select Id | Select-Object Id\n"
        "Undo-SoftDeletedMailbox 'a@contoso.com' -WindowsLiveID 'a@contoso.com'"
        " -Password (Read-Host -Prompt 'p' -AsSecureString)\n"
        "Get-ADObject -Filter 'x' -IncludeDeletedObjects | Restore-ADObject\n"
        "Get-Mailbox -Identity 'x' -ErrorAction Stop -Verbose | Format-List"
    )
    block = CommandBlock({"modern": good, "original": good}, ("graph", "exchange_online", "ad"))
    assert problems_in(block, "modern", "test") == []
