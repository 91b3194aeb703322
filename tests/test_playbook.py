"""The playbook against the reference decision table: every leaf, its steps, their commands."""

from __future__ import annotations

import re

import pytest

from bot.playbook import DIALECTS, load_playbook, render_commands
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.rules import collected_at
from tests.playbook_table import EXPECTED, route  # the reference table; the steps an admin is shown for a set of answers

# Key cmdlets: step id -> (in the modern dialect, in the original dialect).
KEY_CMDLETS = {
    "connect": ("Connect-ExchangeOnline", "New-PSSession"),
    "connect_graph": ("Connect-MgGraph -Scopes", "Connect-MsolService"),
    "record_state": ("Get-MgUser", "Get-MsolUser"),
    "hold_mailbox": ("-LitigationHoldEnabled $true", "-LitigationHoldEnabled $true"),
    "resume_sync": ("Set-ADSyncScheduler -SyncCycleEnabled $true", "Set-ADSyncScheduler -SyncCycleEnabled $true"),
    "find_soft_deleted": ("Get-Mailbox -SoftDeletedMailbox", "Get-Mailbox -SoftDeletedMailbox"),
    "older_mailboxes": ("Get-Mailbox -SoftDeletedMailbox", "Get-Mailbox -SoftDeletedMailbox"),
    "record_older_mailbox": ("Get-Mailbox -SoftDeletedMailbox", "Get-Mailbox -SoftDeletedMailbox"),
    "shared_mailbox": ("New-Mailbox -Shared", "New-Mailbox -Shared"),
    "insurance_shared_mailbox": ("New-Mailbox -Shared", "New-Mailbox -Shared"),
    "copy_to_shared": ("New-MailboxRestoreRequest -SourceMailbox {exchange_guid}", "New-MailboxRestoreRequest"),
    "insurance_copy": ("New-MailboxRestoreRequest -SourceMailbox {exchange_guid}", "New-MailboxRestoreRequest"),
    "insurance_offer": ("", ""),  # a question: no command
    "backup_check": ("", ""),  # a question to whoever runs backups: no command
    "closing_checklist": ("", ""),  # a checklist: no command
    "grant_access": ("Add-MailboxPermission", "Add-MailboxPermission"),
    "convert_to_shared": ("Set-Mailbox -Identity {upn} -Type Shared", "Set-Mailbox -Identity {upn} -Type Shared"),
    "block_sign_in_ad": ("Set-ADUser -Enabled $false", "Set-ADUser -Enabled $false"),
    "block_sign_in_cloud": ("-AccountEnabled:$false", "-BlockCredential $true"),
    "find_target_mailbox": ("Get-Mailbox -Identity {upn}", "Get-Mailbox -Identity {upn}"),
    "add_x500": ("{legacy_dn_x500}", "{legacy_dn_x500}"),
    "copy_addresses": ("-EmailAddresses @{Add = $addresses}", "-EmailAddresses @{Add = $addresses}"),
    "check_owner": ("Get-MgDirectoryDeletedItemAsUser -DirectoryObjectId {object_id}", "-ReturnDeletedUsers"),
    "check_guid_free": ("Get-Mailbox -SoftDeletedMailbox -Identity {remote_exchange_guid}", "Get-RemoteMailbox"),
    "check_old_mail": ("WhenMailboxCreated", "WhenMailboxCreated"),
    "match_address": ("-WindowsEmailAddress {primary_smtp}", "-WindowsEmailAddress {primary_smtp}"),
    "match_address_federated": ("Set-Mailbox -Identity {onmicrosoft_upn}", "Set-Mailbox -Identity {onmicrosoft_upn}"),
    "release_insurance_x500": ("@{Remove = {legacy_dn_x500}}", "@{Remove = {legacy_dn_x500}}"),
    "delta_sync": ("Start-ADSyncSyncCycle -PolicyType Delta", "Start-ADSyncSyncCycle -PolicyType Delta"),
    "verify_entra_user": ("Get-MgUser", "Get-MsolUser"),
    "license": ("Set-MgUserLicense", "Set-MsolUserLicense"),
    "check_license": ("Get-MgUserLicenseDetail", "Get-MsolUser"),
    "restore_deleted_user": ("Restore-MgDirectoryDeletedItem", "Restore-MsolUser"),
    "restore_user": ("Restore-MgDirectoryDeletedItem", "Restore-MsolUser"),
    "soft_delete_user": ("Remove-MgUser", "Remove-MsolUser"),
    "remove_mailbox": ("Remove-Mailbox", "Remove-Mailbox"),
    "restore_request": ("New-MailboxRestoreRequest", "New-MailboxRestoreRequest"),
    "find_mailbox_guids": ("Get-Mailbox -SoftDeletedMailbox", "Get-Mailbox -SoftDeletedMailbox"),
    "new_mailbox_inactive": ("New-Mailbox", "New-Mailbox"),
    "new_mailbox_managed": ("-InactiveMailbox", "-InactiveMailbox"),
    "new_mailbox_federated": ("-InactiveMailbox", "-InactiveMailbox"),
    "undo_soft_deleted": ("Undo-SoftDeletedMailbox", "Undo-SoftDeletedMailbox"),
    "inactive_state": ("IsInactiveMailbox", "IsInactiveMailbox"),
    "enable_remote_mailbox": ("Enable-RemoteMailbox", "Enable-RemoteMailbox"),
    "restore_ad_user": ("Restore-ADObject", "Restore-ADObject"),
    "create_ad_user": ("New-ADUser", "New-ADUser"),
    "move_to_synced_ou": ("Move-ADObject", "Move-ADObject"),
    "deleted_user_licenses": ("Get-MgDirectoryDeletedItemAsUser", "-ReturnDeletedUsers"),
    "deleted_user_id": ("Get-MgDirectoryDeletedItemAsUser", "-ReturnDeletedUsers"),
    "find_deleted_user": ("Get-MgDirectoryDeletedItemAsUser", "-ReturnDeletedUsers"),
    "compare_ids": ("ExternalDirectoryObjectId", "ExternalDirectoryObjectId"),
    "item_recovery": ("Restore-RecoverableItems", "Restore-RecoverableItems"),
    "find_missing_items": ("Get-RecoverableItems", "Get-RecoverableItems"),
    "item_recovery_all": ("Restore-RecoverableItems", "Restore-RecoverableItems"),
    "create_user": ("New-MgUser", "New-MsolUser"),
    "gather_for_support": ("Get-MgUser", "Get-MsolUser"),
    "verify_mailbox": ("Get-MailboxStatistics", "Get-MailboxStatistics"),
    "record_mailbox": ("ExchangeGuid", "ExchangeGuid"),
    "read_mailbox": ("Get-Mailbox -SoftDeletedMailbox", "Get-Mailbox -SoftDeletedMailbox"),
    "read_inactive_mailbox": ("WhenSoftDeleted", "WhenSoftDeleted"),
    "mailbox_owner": ("ExternalDirectoryObjectId", "ExternalDirectoryObjectId"),
    "check_link": ("ExternalDirectoryObjectId", "ExternalDirectoryObjectId"),
    "wait_replication": ("Get-Mailbox", "Get-Mailbox"),
    "check_reconnected": ("Get-Mailbox -Identity", "Get-Mailbox -Identity"),
    "check_soft_match": ("blockSoftMatchEnabled", "Get-MsolDirSyncFeatures"),
    "pause_sync": ("Set-ADSyncScheduler -SyncCycleEnabled $false", "Set-ADSyncScheduler -SyncCycleEnabled $false"),
    "hybrid_gate": ("msExchMailboxGuid", "msExchMailboxGuid"),
    "exchange_guid_gate": ("msExchMailboxGuid", "msExchMailboxGuid"),
    "create_ad_user_anchored": ("-OtherAttributes @{'mS-DS-ConsistencyGuid'", "-OtherAttributes @{'mS-DS-ConsistencyGuid'"),
    "read_immutable_id": ("OnPremisesImmutableId", "ImmutableId"),
    "verify_entra_user_federated": ("Get-MgUser -UserId {onmicrosoft_upn}", "Get-MsolUser -UserPrincipalName {onmicrosoft_upn}"),
    "verify_mailbox_federated": (
        "Get-MailboxStatistics -Identity {onmicrosoft_upn}",
        "Get-MailboxStatistics -Identity {onmicrosoft_upn}",
    ),
    "check_source_anchor": ("", ""),  # read in the Entra Connect wizard: no command
    "license_federated": (
        "Set-MgUserLicense -UserId {onmicrosoft_upn}",
        "Set-MsolUserLicense -UserPrincipalName {onmicrosoft_upn}",
    ),
    "new_mailbox_inactive_federated": (
        "-MicrosoftOnlineServicesID {onmicrosoft_upn}",
        "-MicrosoftOnlineServicesID {onmicrosoft_upn}",
    ),
    "undo_soft_deleted_federated": ("-WindowsLiveID {onmicrosoft_upn}", "-WindowsLiveID {onmicrosoft_upn}"),
    "try_restore_ad_user": ("Get-ADObject -Filter {ad_deleted_filter} -IncludeDeletedObjects", "-IncludeDeletedObjects"),
    "restore_ad_object": ("Restore-ADObject -Identity {ad_object_guid}", "Restore-ADObject -Identity {ad_object_guid}"),
    "read_addresses": ("EmailAddresses -join", "EmailAddresses -join"),
    "create_ad_user_new": ("New-ADUser", "New-ADUser"),
    "sync_remote_mailbox": ("Start-ADSyncSyncCycle -PolicyType Delta", "Start-ADSyncSyncCycle -PolicyType Delta"),
    "compare_exchange_guids": ("Get-RemoteMailbox", "Get-RemoteMailbox"),
    "compare_owner": ("ExternalDirectoryObjectId", "ExternalDirectoryObjectId"),
    ("B2", "compare_ids"): ("Get-MgUser -UserId {object_id}", "Get-MsolUser -ObjectId {object_id}"),
    ("A3", "read_immutable_id"): ("OnPremisesImmutableId", "ImmutableId"),
    ("A4", "restore_ad_user"): ("Get-ADObject -Filter {ad_deleted_filter} -IncludeDeletedObjects", "-IncludeDeletedObjects"),
}
RETIRED = re.compile(r"Msol|AzureAD|New-PSSession|Import-PSSession|-Authentication Basic")
ADDED = {"A5", "A8", "B1", "B7", "C1", "C4", "C7"}  # the seven leaves the seed leaves empty
SITUATIONS = {"recreated_user": "R1", "license_removed": "L1", "auxiliary_archive": "AUX"}

playbook = load_playbook()


def hints(leaf) -> dict[str, int]:
    """Which step reads each value, for a case that has not answered any sub-question yet."""
    return collected_at(RecoveryCase("MR-TEST00", "admin"), leaf)


def test_every_leaf_is_in_the_reference_table():
    assert sorted(playbook.by_answers.values()) == sorted(EXPECTED)
    assert sorted(playbook.leaves) == sorted([*EXPECTED, *SITUATIONS.values()])


@pytest.mark.parametrize("leaf_id", sorted(EXPECTED))
def test_answers_lead_to_the_leaf_with_its_outcome_and_ordered_steps(leaf_id):
    onprem, entra, mailbox, outcome, steps = EXPECTED[leaf_id]
    leaf = playbook.leaf_for({"onprem": onprem, "entra": entra, "mailbox": mailbox})
    assert leaf.id == leaf_id
    assert leaf.outcome == outcome
    assert [s.id for s in leaf.steps] == steps
    assert all(s.title for s in leaf.steps)
    assert leaf.summary


@pytest.mark.parametrize("leaf_id", sorted(EXPECTED))
def test_each_step_has_its_key_cmdlets_in_both_dialects(leaf_id):
    leaf = playbook.leaves[leaf_id]
    for step in leaf.steps:
        modern, original = KEY_CMDLETS.get((leaf_id, step.id)) or KEY_CMDLETS[step.id]
        assert modern in step.commands["modern"], (leaf_id, step.id)
        assert original in step.commands["original"], (leaf_id, step.id)
        assert not RETIRED.search(step.commands["modern"]), f"{leaf_id}/{step.id}: retired cmdlet in modern"


def test_c6_restores_the_deleted_user_with_graph_and_with_msonline():
    step = playbook.leaves["C6"].step("restore_deleted_user")
    assert "Restore-MgDirectoryDeletedItem -DirectoryObjectId {object_id}" in step.commands["modern"]
    assert "Restore-MsolUser -ObjectId $DelUser.ObjectId" in step.commands["original"]


def test_original_connect_is_the_seeds_remote_powershell_normalised():
    original = playbook.leaves["A3"].step("connect").commands["original"]
    assert "New-PSSession -ConfigurationName Microsoft.Exchange" in original
    assert "-AllowRedirection" in original


def test_no_source_typo_survives():
    texts = [c for leaf in playbook.leaves.values() for s in leaf.steps for c in s.commands.values()]
    texts += [c for q in playbook.questions for chk in q.check for c in chk.commands.values()]
    for text in texts:
        assert "\u2013" not in text and "\u2014" not in text, "en or em dash in a command"
        assert not re.search("[\u2018\u2019\u201c\u201d]", text), "curly quote in a command"
        assert "Undo- SoftDeletedMailbox" not in text
        assert "-AsPlainText" not in text and "Pa$$word" not in text
        assert ".mail.onmicrosoft.com \u201c" not in text


def test_seed_and_added_guidance_are_marked():
    for leaf in playbook.leaves.values():
        if leaf.id in ADDED or leaf.situation:
            assert leaf.source == "added" and leaf.reference, leaf.id
        else:
            assert leaf.source == "seed", leaf.id


def test_support_leaves_say_what_support_needs():
    for leaf in playbook.leaves.values():
        if leaf.outcome == "support":
            assert leaf.support_needs, leaf.id


def test_every_destructive_step_warns_and_records_first():
    destructive = {(leaf.id, s.id) for leaf in playbook.leaves.values() for s in leaf.steps if s.destructive}
    for leaf_id, step_id in destructive:
        step = playbook.leaves[leaf_id].step(step_id)
        assert step.warning and step.record, (leaf_id, step_id)
    # Remove-Mailbox, Remove-MgUser and licensing while a soft-deleted mailbox waits are all destructive.
    assert ("A4", "remove_mailbox") in destructive
    assert ("B2", "soft_delete_user") in destructive
    assert {("A3", "license"), ("C2", "license")} <= destructive
    # A4 licenses a new user while the old mailbox waits inactive, kept by the hold placed before
    # it was removed: nothing is purged by the license.
    assert ("A4", "license") not in destructive
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            if re.search(r"Remove-Mailbox|Remove-MgUser|Remove-MsolUser", " ".join(step.commands.values())):
                assert step.destructive, (leaf.id, step.id)


def test_sub_questions_and_failure_paths():
    assert playbook.leaves["A6"].ask_first == ("mail_for", "hybrid_recover", "sso")
    assert playbook.leaves["B9"].ask_first == ("mail_for", "hybrid")
    assert playbook.leaves["B8"].step("inactive_state").ask == "inactive"
    assert playbook.leaves["A7"].step("compare_ids").ask == "ids_match"
    assert playbook.leaves["B6"].step("deleted_user_licenses").ask == "has_license"
    # The seed's "if step 2 fails, skip to step 8" points at a step that does not exist: repaired.
    remove = playbook.leaves["A4"].step("remove_mailbox")
    assert remove.on_failure == "support" and "Microsoft Support" in remove.failure_note
    assert playbook.subquestions["ids_match"].option("no").end == "support"


def test_waits_say_how_long_and_how_to_check():
    waits = [(leaf.id, s) for leaf in playbook.leaves.values() for s in leaf.steps if s.wait_minutes]
    assert waits
    for leaf_id, step in waits:
        assert step.wait_check, (leaf_id, step.id)
    assert playbook.leaves["A9"].step("wait_replication").wait_minutes == 180


def test_status_checks_are_modernised_and_warn_about_typos():
    entra = playbook.question("entra")
    modern = " ".join(render_commands(c.commands, "modern", playbook, {"upn": "a@contoso.com"}) for c in entra.check)
    assert "Get-MgUser" in modern and "Get-MgDirectoryDeletedItemAsUser" in modern and "[regex]::Escape(" in modern
    assert any("mistyped" in c.text for c in entra.check)
    mailbox = " ".join(c.commands["modern"] for c in playbook.question("mailbox").check)
    assert "Connect-ExchangeOnline" in mailbox and "-SoftDeletedMailbox" in mailbox


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_command_renders_with_known_values_and_visible_hints(dialect):
    values = {"upn": "jane.doe@contoso.com"}
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            rendered = render_commands(step.commands, dialect, playbook, values, hints(leaf))
            assert "{" + "upn}" not in rendered
            for name in re.findall(r"\{([a-z_]+)\}", rendered):
                pytest.fail(f"{leaf.id}/{step.id}: placeholder {name} left unrendered")
    guids = playbook.leaves["A3"]
    rendered = render_commands(guids.step("restore_request").commands, dialect, playbook, values, hints(guids))
    # An unknown value is still one valid PowerShell string, naming what goes there and where it comes from.
    assert "-SourceMailbox '<ExchangeGuid of the soft-deleted mailbox from step 4>'" in rendered


# The Exchange review of the playbook (prompts/review_exchange.md): one test per item applied, each
# reading the steps an admin is shown for a set of answers, the way the defect was found.


def shown(steps) -> str:
    return "\n".join(s.commands["modern"] for s in steps)


def test_a3_asks_for_exchange_hybrid_before_restoring_the_ad_user():
    # The restored, synced AD user carries the soft-deleted mailbox's ExchangeGuid: in hybrid, a
    # license on it can purge the mailbox, so the question comes before anything is restored.
    for mailbox_back in ("yes", "no"):
        steps = route("A3", mailbox_back=mailbox_back)
        order = [s.id for s in steps]
        gate = next((i for i, s in enumerate(steps) if s.ask == "hybrid_merge"), None)
        assert gate is not None and gate < order.index("restore_ad_user"), "ask before the restore"
        assert "-IncludeDeletedObjects" in steps[gate].commands["modern"]  # read on the deleted object
    sub = playbook.subquestions["hybrid_merge"]
    assert sub.prompt == playbook.subquestions["hybrid_orphaned"].prompt
    assert sub.option("no").continues and sub.option("yes").end == "support"
    note = sub.option("yes").note
    assert "ExchangeGuid" in note and "Do not restore the AD user or license it" in note


@pytest.mark.parametrize("leaf_id", ["A6", "B8", "C8"])
def test_a_federated_recovery_licenses_the_account_by_the_address_it_has_now(leaf_id):
    # Recovered into an onmicrosoft.com account (AD FS): the user's own UPN reaches it only when
    # sync matches the AD user, after the license; licensing {upn} would find no one.
    for sso, account in (("yes", "{onmicrosoft_upn}"), ("no", "{upn}")):
        for inactive in ("true", "false"):
            steps = route(leaf_id, sso=sso, inactive=inactive, hybrid_orphaned="no")
            licensing = [s for s in steps if "Set-MgUserLicense" in s.commands["modern"]]
            assert licensing, (leaf_id, sso)
            assert all(f"Set-MgUserLicense -UserId {account}" in s.commands["modern"] for s in licensing), (leaf_id, sso)
            assert all(f"-UserPrincipalName {account}" in s.commands["original"] for s in licensing), (leaf_id, sso)


def test_the_deleted_user_lookups_find_that_user_and_no_other():
    # Entra puts the object id (32 hex digits) before a deleted user's UPN; an EndsWith lookup
    # for ann@ also found joann@, and the next step restored whoever it found.
    filters = re.compile(r"-match \('([^']*)' \+ \[regex\]::Escape\(\{upn\}\) \+ '([^']*)'\)")
    commands = [s.commands["modern"] for leaf in playbook.leaves.values() for s in leaf.steps]
    commands += [c.commands["modern"] for q in playbook.questions for c in q.check]
    lookups = [c for c in commands if "Get-MgDirectoryDeletedItemAsUser -All" in c]
    assert lookups
    for command in lookups:
        found = filters.search(command)
        assert found, command
        pattern = re.compile(found.group(1) + re.escape("ann@contoso.com") + found.group(2), re.IGNORECASE)
        assert pattern.search("0f1e2d3c4b5a49688776655443322110ann@contoso.com")
        assert pattern.search("Ann@Contoso.com")
        assert not pattern.search("0f1e2d3c4b5a49688776655443322110joann@contoso.com")
        assert not pattern.search("ann@contoso.com.au")


@pytest.mark.parametrize("leaf_id", ["A6", "B8"])
def test_hybrid_goes_to_support_before_a_soft_deleted_mailbox_is_recovered(leaf_id):
    # The recovered cloud mailbox would need the on-premises ExchangeGuid before the AD user syncs.
    leaf = playbook.leaves[leaf_id]
    assert leaf.ask_first[:2] == ("mail_for", "hybrid_recover")  # who needs the mail, then hybrid
    sub = playbook.subquestions["hybrid_recover"]
    assert sub.option("yes").end == "support" and sub.option("no").continues
    assert "ExchangeGuid" in sub.option("yes").note
    assert not any(s.ask == "hybrid" for s in leaf.steps), "asked once, first, not after the sync"


def test_a8_provisions_the_new_mailbox_from_on_premises_exchange_in_hybrid():
    # Before the first sync: a restored AD user brings the soft-deleted Entra user back with its
    # licenses at that sync, and Exchange Online would make a mailbox of its own first.
    steps = route("A8", hybrid="yes", ad_restored="no")
    order = [s.id for s in steps]
    assert "hybrid" in playbook.leaves["A8"].ask_first
    assert order.index("enable_remote_mailbox") < order.index("delta_sync") < order.index("license")
    assert order.index("license") < order.index("compare_exchange_guids")
    cloud_only = [s.id for s in route("A8", hybrid="no", ad_restored="no")]
    assert "enable_remote_mailbox" not in cloud_only and "license" in cloud_only


def test_c2_says_what_the_license_does_for_each_owner():
    warning = playbook.leaves["C2"].step("license").warning
    assert "new, empty mailbox" in warning and "reconnects the old mailbox" in warning


@pytest.mark.parametrize("leaf_id", ["A7", "A9"])
def test_a_new_ad_user_is_hard_matched_by_the_deleted_users_immutable_id(leaf_id):
    steps = route(leaf_id, ids_match="yes", ad_restored="no")
    order = [s.id for s in steps]
    reads = [s for s in steps if "OnPremisesImmutableId" in s.commands["modern"] and "immutable_id" in s.collect]
    assert reads
    # Created with its anchor in the same command: no sync cycle ever sees it without one (a cycle
    # between a create and a later stamp made a second Entra user).
    anchor = next(i for i, s in enumerate(steps) if "mS-DS-ConsistencyGuid" in s.commands["modern"])
    create = steps[anchor].commands["modern"].splitlines()[0]
    assert create.startswith("New-ADUser") and "[Convert]::FromBase64String({immutable_id})" in create
    assert not any("New-ADUser" in s.commands["modern"] for s in steps if s is not steps[anchor])
    assert order.index(reads[0].id) < order.index("try_restore_ad_user") < anchor < order.index("wait_replication")
    # Asked, not only advised: with objectGUID as sourceAnchor the anchor is ignored (support).
    gate = next(i for i, s in enumerate(steps) if s.ask == "source_anchor")
    assert order.index("try_restore_ad_user") < gate < anchor
    assert playbook.subquestions["source_anchor"].option("object_guid").end == "support"
    assert playbook.subquestions["source_anchor"].option("consistency_guid").continues
    assert not any(s.ask == "source_anchor" for s in route(leaf_id, ids_match="yes", ad_restored="yes"))
    sync = [i for i, s in enumerate(steps) if "Start-ADSyncSyncCycle" in s.commands["modern"]]
    assert any(anchor < i < order.index("wait_replication") for i in sync), "a delta sync before the 3-hour wait"
    # Hard matches only (the restored objectGUID, or the ImmutableId): no soft-match question.
    assert not any(s.ask == "soft_match" for s in playbook.leaves[leaf_id].steps)
    restored = route(leaf_id, ids_match="yes", ad_restored="yes")
    assert not any("New-ADUser" in s.commands["modern"] for s in restored), "a restored AD user keeps its objectGUID"


@pytest.mark.parametrize("leaf_id", ["A6", "B8"])
def test_soft_matching_is_checked_before_anything_that_cannot_be_undone(leaf_id):
    # Right after the read-only steps (connect, IsInactiveMailbox, the identifiers), before the first change.
    for inactive in ("true", "false"):
        for sso in ("no", "yes"):
            steps = route(leaf_id, inactive=inactive, sso=sso)
            check = next(i for i, s in enumerate(steps) if s.ask == "soft_match")
            change = re.compile(r"-InactiveMailbox|Undo-SoftDeletedMailbox|Set-MgUserLicense|Set-Mailbox")
            first_change = next(i for i, s in enumerate(steps) if change.search(s.commands["modern"]))
            assert check < first_change, (leaf_id, inactive, sso)
            assert all(s.id in ("connect", "connect_graph", "inactive_state", "read_inactive_mailbox") for s in steps[:check])


def test_a4_puts_the_mailbox_on_hold_before_removing_it():
    steps = route("A4", hybrid_orphaned="no", sso="no")
    order = [s.id for s in steps]
    hold = next(i for i, s in enumerate(steps) if "-LitigationHoldEnabled $true" in s.commands["modern"])
    assert hold < order.index("remove_mailbox")
    assert "exchange_online" in steps[hold].runs_in and steps[hold].wait_minutes >= 60 and steps[hold].wait_check
    assert "30-day clock applies" in steps[hold].look_for


def test_a1_pauses_sync_before_the_deletion_reaches_entra():
    first = playbook.leaves["A1"].steps[0]
    assert "Set-ADSyncScheduler -SyncCycleEnabled $false" in first.commands["modern"]
    assert first.runs_in == ("entra_connect",) or list(first.runs_in) == ["entra_connect"]
    assert "-SyncCycleEnabled $true only after the AD user is restored" in first.look_for


def test_b2_checks_licenses_before_deleting_and_deletes_the_recorded_object():
    steps = route("B2", ids_match="yes")
    order = [s.id for s in steps]
    licenses = next(i for i, s in enumerate(steps) if "Get-MgUserLicenseDetail" in s.commands["modern"])
    assert licenses < order.index("soft_delete_user")
    assert "assign one first" in steps[licenses].look_for
    delete = playbook.leaves["B2"].step("soft_delete_user")
    assert "Remove-MgUser -UserId {object_id}" in delete.commands["modern"]
    assert "-ObjectId {object_id}" in delete.commands["original"]


def test_an_inactive_mailbox_has_no_30_day_deadline():
    from datetime import UTC, datetime

    from bot.walkthrough.deadlines import applicable, deadlines, finish_before

    now = datetime(2026, 11, 25, tzinfo=UTC)
    case = RecoveryCase("MR-TEST00", "admin")
    case.answers.update(playbook.leaves["B8"].answers)
    case.leaf_id = "B8"
    case.deadline_starts["mailbox"] = "2026-09-01T00:00:00+00:00"
    assert "closed" in finish_before(case, now), "an ordinary soft-deleted mailbox: the window closed"
    case.answers["inactive"] = "true"
    assert not deadlines(case) and "mailbox" not in [k.id for k in applicable(case, playbook)]
    text = finish_before(case, now)
    assert "closed" not in text and "kept while the hold lasts" in text


def test_b4_brings_the_restored_user_back_under_sync():
    order = [s.id for s in route("B4", deleted_user_found="yes")]
    assert order.index("restore_user") < order.index("move_to_synced_ou") < order.index("delta_sync")


def test_a3_shows_the_exchange_guid_before_the_license_records_it():
    check = playbook.leaves["A3"].step("check_reconnected")
    # Named by the ExchangeGuid recorded before the restore (several may share the address).
    assert "Get-Mailbox -SoftDeletedMailbox -Identity {exchange_guid} | Select-Object ExchangeGuid" in check.commands["modern"]
    find = playbook.leaves["A3"].index_of("find_soft_deleted")
    assert find < playbook.leaves["A3"].index_of("check_reconnected")
    assert "exchange_guid" in playbook.leaves["A3"].steps[find].collect


@pytest.mark.parametrize("leaf_id", ["B8", "C8"])
def test_a_federated_recovery_is_looked_up_by_its_onmicrosoft_address(leaf_id):
    federated = shown(s for s in route(leaf_id, sso="yes", inactive="false") if "Get-MgUser" in s.commands["modern"])
    assert "Get-MgUser -UserId {onmicrosoft_upn}" in federated and "Get-MgUser -UserId {upn}" not in federated
    managed = shown(s for s in route(leaf_id, sso="no", inactive="false") if "Get-MgUser" in s.commands["modern"])
    assert "Get-MgUser -UserId {upn}" in managed


def test_c8_says_how_a_federated_cloud_only_account_gets_its_name_back():
    for inactive in ("true", "false"):
        texts = " ".join(s.look_for for s in route("C8", sso="yes", inactive=inactive))
        assert "Update-MgUser -UserPrincipalName" in texts, inactive


@pytest.mark.parametrize("leaf_id, create", [("A4", "create_ad_user"), ("A8", "create_ad_user_anchored")])
def test_without_the_ad_recycle_bin_the_ad_user_is_created(leaf_id, create):
    answers = dict(hybrid_orphaned="no", sso="no", inactive="false", soft_match="allowed")
    leaf = playbook.leaves[leaf_id]
    assert any(s.ask == "ad_restored" and "-IncludeDeletedObjects" in s.commands["modern"] for s in leaf.steps)
    assert create not in [s.id for s in route(leaf_id, ad_restored="yes", **answers)]
    assert "restore_ad_object" in [s.id for s in route(leaf_id, ad_restored="yes", **answers)]
    assert create in [s.id for s in route(leaf_id, ad_restored="no", **answers)]
    assert create not in [s.id for s in route(leaf_id, ad_restored="yes", **answers)]


@pytest.mark.parametrize("leaf_id", ["A5", "A8", "B6"])
def test_licenses_are_checked_before_one_is_assigned(leaf_id):
    order = [s.id for s in playbook.leaves[leaf_id].steps]
    assert order.index("check_license") == order.index("license") - 1


def test_b5_waits_for_the_mailbox_and_asks_whether_it_reconnected():
    verify = playbook.leaves["B5"].step("verify_mailbox")
    assert verify.wait_minutes == 30 and verify.wait_check and verify.ask == "reconnected"


def test_b6_never_says_purged_while_a_removed_license_may_reconnect():
    # Issue 23 (B3/C3/A8/B6): never "purged" while a license removed within 30 days may still
    # reconnect the mailbox; the note says what decides it and where old mail can come from.
    sub = playbook.subquestions["has_license"]
    note = sub.option("no").note
    assert "purged either way" not in note and "30 days" in note and "backup" in note
    assert not sub.option("yes").note


def test_item_recovery_looks_back_over_the_whole_retention_period():
    step = playbook.leaves["B1"].step("item_recovery")
    assert "AddDays(-14)" not in step.commands["modern"] and "(Get-Date).AddDays(-30)" in step.commands["modern"]
    assert any("up to your retention period" in b.condition for b in step.blocks)


def test_the_closing_window_allows_for_inactive_mailboxes():
    assert any("(inactive mailboxes: as long as the hold lasts)" in r for r in playbook.resources)
