"""Filling command templates, on placeholders made for the test: known values as one quoted
PowerShell string, derived values escaped for their own layer only, unknown ones as hints."""

from __future__ import annotations

from types import MappingProxyType

from bot.playbook import Playbook, render_commands, render_text
from bot.playbook.model import CommandBlock, Placeholder
from bot.playbook.render import RenderedBlock, render_blocks, resolve, uses_retired, where_label

PLAYBOOK = Playbook(
    title="t",
    audience="a",
    estimated_time="e",
    retired_note="r",
    questions=(),
    subquestions=MappingProxyType({}),
    placeholders=MappingProxyType(
        {
            "upn": Placeholder(name="upn", label="UPN", kind="upn"),
            "alias": Placeholder(name="alias", label="Alias", kind="alias"),
            "tenant": Placeholder(name="tenant", label="tenant name", kind="label"),
            "routing": Placeholder(
                name="routing", label="routing address", kind="text", derive="{alias}@{tenant}.mail.onmicrosoft.com"
            ),
            "filter": Placeholder(
                name="filter", label="filter", kind="text", derive="startswith(mail,'{alias}')", escape="odata"
            ),
        }
    ),
    leaves=MappingProxyType({}),
    complete_text="done",
    resources=(),
    support_always=(),
    by_answers=MappingProxyType({}),
)


def test_a_derived_value_is_built_from_its_parts_once_all_are_known():
    assert resolve("routing", PLAYBOOK, {"alias": "kim", "tenant": "contoso"}) == "kim@contoso.mail.onmicrosoft.com"
    assert resolve("routing", PLAYBOOK, {"alias": "kim"}) is None
    assert resolve("upn", PLAYBOOK, {"upn": "a@contoso.com"}) == "a@contoso.com"
    assert resolve("upn", PLAYBOOK, {}) is None


def test_only_an_odata_value_doubles_quotes_for_odata_and_powershell_doubles_them_again():
    values = {"alias": "o'hara", "tenant": "contoso"}
    assert render_text("-Address {routing}", PLAYBOOK, values) == "-Address 'o''hara@contoso.mail.onmicrosoft.com'"
    assert render_text("-Filter {filter}", PLAYBOOK, values) == "-Filter 'startswith(mail,''o''''hara'')'"


def test_unknown_values_are_named_with_the_step_that_reads_them_when_there_is_one():
    text = render_text("Set-User {upn} -Alias {alias} -Routing {routing}", PLAYBOOK, {}, {"alias": 2})
    # quoted, so that a command with a value still to come is still one valid PowerShell line
    assert text == "Set-User '<UPN>' -Alias '<Alias from step 2>' -Routing '<routing address>'"


def test_commands_render_in_the_chosen_dialect_and_a_missing_dialect_shows_nothing():
    commands = {"modern": "Get-MgUser -UserId {upn}", "original": "Get-MsolUser -UserPrincipalName {upn}"}
    values = {"upn": "jane@contoso.com"}
    assert render_commands(commands, "modern", PLAYBOOK, values) == "Get-MgUser -UserId 'jane@contoso.com'"
    assert render_commands(commands, "original", PLAYBOOK, values) == "Get-MsolUser -UserPrincipalName 'jane@contoso.com'"
    assert render_commands({"modern": "Get-MgUser"}, "original", PLAYBOOK, values) == ""
    unknown = render_commands({"modern": "Set-User {alias}"}, "modern", PLAYBOOK, {}, {"alias": 4})
    assert unknown == "Set-User '<Alias from step 4>'"


def test_where_a_block_runs_names_one_place_or_every_place_in_one_window():
    # Graph and Exchange Online are two windows (the loader refuses a block that needs both).
    assert where_label(("exchange_online",), "modern") == "the Exchange Online window (Exchange Online PowerShell)"
    assert where_label(("graph",), "modern") == "the Graph window (Microsoft Graph PowerShell)"
    assert where_label(("graph",), "original") == "MSOnline PowerShell (retired)"
    assert where_label(("ad", "exchange_online"), "modern") == (
        "a domain-joined computer with the ActiveDirectory module and the Exchange Online window"
        " (Exchange Online PowerShell) (one window)"
    )
    assert where_label(("ad", "exchange_online", "graph"), "original") == (
        "a domain-joined computer with the ActiveDirectory module, the Exchange Online window (Exchange Online PowerShell)"
        " and MSOnline PowerShell (retired) (one window)"
    )


def test_retired_cmdlets_are_recognised_in_any_case_and_current_ones_are_not():
    for retired in (
        "Get-MsolUser -All",
        "Restore-MsolUser",
        "get-azureaduser",
        "Get-AzureADUser -ObjectId x",
        "$s = New-PSSession -ConfigurationName Microsoft.Exchange",
        "Import-PSSession $s",
    ):
        assert uses_retired(retired), retired
    for current in ("Get-MgUser -UserId x", "Get-Mailbox jane", "Get-ADUser jane", "Start-ADSyncSyncCycle", "", "Msol"):
        assert not uses_retired(current), current


def test_blocks_render_in_the_dialect_with_where_they_run_and_blocks_without_that_dialect_are_left_out():
    blocks = (
        CommandBlock({"modern": "Get-MgUser -UserId {upn}", "original": "Get-MsolUser -UserPrincipalName {upn}"}, ("graph",)),
        CommandBlock({"modern": "Get-Mailbox {alias}"}, ("exchange_online",), condition="If the mailbox is active"),
        CommandBlock({"original": "Get-ADUser {upn}", "modern": ""}, ("ad", "exchange_online")),
    )
    values = {"upn": "jane@contoso.com"}
    modern = render_blocks(blocks, "modern", PLAYBOOK, values, {"alias": 3})
    assert modern == [
        RenderedBlock(
            "", "Get-MgUser -UserId 'jane@contoso.com'", ("graph",), "the Graph window (Microsoft Graph PowerShell)", False
        ),
        RenderedBlock(
            "If the mailbox is active",
            "Get-Mailbox '<Alias from step 3>'",
            ("exchange_online",),
            "the Exchange Online window (Exchange Online PowerShell)",
            False,
        ),
    ]
    original = render_blocks(blocks, "original", PLAYBOOK, values)
    assert original == [
        RenderedBlock(
            "", "Get-MsolUser -UserPrincipalName 'jane@contoso.com'", ("graph",), "MSOnline PowerShell (retired)", True
        ),
        RenderedBlock(
            "",
            "Get-ADUser 'jane@contoso.com'",
            ("ad", "exchange_online"),
            "a domain-joined computer with the ActiveDirectory module and the Exchange Online window"
            " (Exchange Online PowerShell) (one window)",
            False,
        ),
    ]
    assert render_blocks((), "modern", PLAYBOOK, values) == []
