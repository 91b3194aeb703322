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

from bot.playbook import DIALECTS, load_playbook, render_blocks
from bot.playbook.model import CommandBlock
from tests import powershell_reference as ps
from tests.walker import SAMPLE_VALUES

playbook = load_playbook()
reference = ps.load_reference()

# Which places a cmdlet may run in, by where the reference says it comes from.
PLACES_BY_PRODUCT = {
    "Microsoft Graph PowerShell v1.0": {"graph"},
    "MSOnline module (retired)": {"graph"},
    "Windows Server (ActiveDirectory module)": {"ad"},
    "Microsoft Entra Connect Sync server (ADSync module)": {"entra_connect"},
    "Exchange Online": {"exchange_online"},
}


def sample_values() -> dict[str, str]:
    return {name: SAMPLE_VALUES[p.kind] for name, p in playbook.placeholders.items() if not p.derive}


def allowed_places(entry: dict) -> set[str] | None:
    """None: runs anywhere (PowerShell's own cmdlets)."""
    places: set[str] = set()
    for product in entry.get("products", []):
        if product.startswith("Exchange Server"):
            places.add("exchange_onprem")
        places |= PLACES_BY_PRODUCT.get(product, set())
    return places or None


def problems_in(block: CommandBlock, dialect: str, where: str) -> list[str]:
    problems: list[str] = []
    for values in (sample_values(), {}):
        for rendered in render_blocks([block], dialect, playbook, values):
            try:
                commands = ps.commands_in(rendered.text)
            except ps.TokenizeError as exc:
                problems.append(f"{where} [{dialect}]: does not tokenise: {exc}\n{rendered.text}")
                continue
            undefined = ps.used_variables(rendered.text) - ps.assigned_variables(rendered.text)
            if undefined:
                problems.append(f"{where} [{dialect}]: uses ${', $'.join(sorted(undefined))}, which the block never sets")
            on_premises = "exchange_onprem" in block.runs_in
            for command in commands:
                for problem in ps.check_command(command, reference, on_premises):
                    problems.append(f"{where} [{dialect}]: {problem}")
                found = reference.find(command.name)
                if found is None:
                    continue
                name, entry = found
                if dialect == "modern" and (entry.get("retired") or name in ("New-PSSession", "Import-PSSession")):
                    problems.append(f"{where} [modern]: {name} is retired")
                places = allowed_places(entry)
                if places is not None and not places & set(block.runs_in):
                    problems.append(f"{where} [{dialect}]: {name} runs in {sorted(places)}, the block says {list(block.runs_in)}")
    return sorted(set(problems))


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
