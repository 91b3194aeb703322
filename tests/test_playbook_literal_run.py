"""Issue 23: every leaf followed literally, in order, as an Exchange escalation engineer would.

One test per defect found, named by what it guards. Each reads the steps an admin is shown for a
set of answers (route()), the way the defect was found, and failed on the playbook as it was
before the fix (checked against the previous playbook.toml).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import tomllib

import pytest

from bot.playbook import DEFAULT_PATH, PlaybookError, load_playbook, render_blocks
from bot.playbook.loader import PLACEHOLDER_RE, build_playbook
from bot.playbook.model import OUTCOMES
from bot.playbook.values import InvalidValue, validate
from tests.playbook_table import route

playbook = load_playbook()
REFERENCE = json.loads((DEFAULT_PATH.parent / "reference" / "cmdlets.json").read_text(encoding="utf-8"))["cmdlets"]
RAW = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
BY_ANSWERS = sorted(playbook.by_answers.values())
NOT_SUPPORT = sorted(leaf.id for leaf in playbook.leaves.values() if leaf.outcome != "support")
IDENTITY_CHANGE = re.compile(
    r"Restore-ADObject|New-ADUser|Set-MgUserLicense|-InactiveMailbox|Undo-SoftDeletedMailbox|Remove-MgUser|Move-ADObject"
)


def modern(step) -> str:
    return step.commands["modern"]


def ids(steps) -> list[str]:
    return [s.id for s in steps]


def routes(leaf_id: str, **fixed: str):
    """Every route through a leaf: each combination of the sub-answers its steps depend on."""
    leaf = playbook.leaves[leaf_id]
    subs = sorted({q for s in leaf.steps for q in s.when} - set(fixed))
    options = [[o.id for o in playbook.subquestions[q].options] for q in subs]
    for combo in itertools.product(*options):
        answers = {**dict(zip(subs, combo, strict=True)), **fixed}
        yield answers, route(leaf_id, **answers)


def first(steps, pattern: str) -> int | None:
    return next((i for i, s in enumerate(steps) if re.search(pattern, modern(s))), None)


# --- The three that left the admin stuck -------------------------------------------------------


def test_a4_never_uses_new_mailbox_inactive_within_30_days():
    # Purview: an inactive mailbox soft-deleted less than 30 days ago cannot be recovered with
    # New-Mailbox -InactiveMailbox; A4 makes it inactive minutes earlier, and its user is purged.
    for answers, steps in routes("A4"):
        text = "\n".join(modern(s) for s in steps)
        assert "-InactiveMailbox" not in text, answers
        assert "Undo-SoftDeletedMailbox" not in text, answers
        order = ids(steps)
        if "remove_mailbox" not in order:
            continue
        remove = order.index("remove_mailbox")
        hold = first(steps, r"-LitigationHoldEnabled \$true")
        assert hold is not None and hold < remove, answers
        after = steps[remove + 1 :]
        # Removed, the mailbox is copied or merged by its ExchangeGuid: the admin is never stuck.
        assert any("New-MailboxRestoreRequest -SourceMailbox {exchange_guid}" in modern(s) for s in after), answers
    said = " ".join(s.look_for + s.why + s.warning for s in playbook.leaves["A4"].steps)
    assert "recovered mailbox keeps the hold" not in said


def test_a4_reads_the_mailbox_owner_before_removing_it():
    steps = route("A4", hybrid_orphaned="no")
    order = ids(steps)
    read = next(i for i, s in enumerate(steps) if "ExternalDirectoryObjectId" in modern(s) and "object_id" in s.collect)
    check = next(i for i, s in enumerate(steps) if s.ask == "owner_gone")
    assert read < check < order.index("remove_mailbox")
    assert "{object_id}" in modern(steps[check])
    assert playbook.subquestions["owner_gone"].option("yes").end == "support"


def test_a8_brings_back_the_original_user_and_relicenses_instead_of_making_a_new_one():
    leaf = playbook.leaves["A8"]
    for answers, steps in routes("A8"):
        for step in steps:
            for line in modern(step).splitlines():
                if line.startswith("New-ADUser"):
                    # A new AD user always carries the deleted user's anchor: sync brings THIS user back.
                    assert "mS-DS-ConsistencyGuid" in line and "{immutable_id}" in line, (answers, step.id)
    steps = route("A8", hybrid="no", ad_restored="no", source_anchor="consistency_guid")
    order = ids(steps)
    reads = next(i for i, s in enumerate(steps) if "immutable_id" in s.collect)
    assert reads < order.index("try_restore_ad_user")
    assert order.index("license") < order.index("check_old_mail")
    assert leaf.step("check_old_mail").ask == "old_mail_back"
    assert playbook.subquestions["old_mail_back"].option("no").end == "support"
    assert "3158794" in leaf.summary + leaf.reference and "30 days" in leaf.summary


def test_b9_moves_the_ad_user_back_into_the_sync_scope_before_the_sync():
    for hybrid in ("yes", "no"):
        steps = route("B9", hybrid=hybrid)
        move = first(steps, r"Move-ADObject -TargetPath \{target_ou\}")
        sync = first(steps, r"Start-ADSyncSyncCycle")
        assert move is not None and move < sync, hybrid
        if hybrid == "yes":
            enable = first(steps, r"Enable-RemoteMailbox")
            assert enable is not None and enable < sync, "the remote mailbox before the first sync"
        verify = next(s for s in steps if s.id == "verify_entra_user")
        assert verify.ask and any(o.end == "support" for o in playbook.subquestions[verify.ask].options)
        assert verify.check_every_minutes, "checked again, not failed on the first look"
    assert "4337973" in playbook.leaves["B9"].summary


# --- Every leaf --------------------------------------------------------------------------------


@pytest.mark.parametrize("leaf_id", sorted(playbook.leaves))
def test_graph_and_exchange_online_run_in_two_windows_each_connected_once(leaf_id):
    # msgraph-sdk-powershell issue 3394: the two modules conflict in one PowerShell session.
    leaf = playbook.leaves[leaf_id]
    blocks = [b for s in leaf.steps for b in s.blocks]
    assert not [b for b in blocks if {"graph", "exchange_online"} <= set(b.runs_in)]
    text = "\n".join(modern(s) for s in leaf.steps)
    assert text.count("Connect-ExchangeOnline") <= 1 and text.count("Connect-MgGraph") <= 1
    for line in text.splitlines():
        if "Install-Module" in line:
            assert re.match(
                r"if \(-not \(Get-InstalledModule (\S+) -ErrorAction SilentlyContinue\)\) \{ Install-Module \1 ", line
            ), line
            assert not re.search(r"Install-Module Microsoft\.Graph[ ,]", line), "the whole Graph meta-module"
    graph_cmdlets = {c for c in REFERENCE if REFERENCE[c].get("module", "").startswith("Microsoft.Graph")}
    used = {c for c in graph_cmdlets if re.search(rf"\b{re.escape(c)}\b", text)} - {"Connect-MgGraph"}
    installed = set(re.findall(r"Install-Module (Microsoft\.Graph\.[A-Za-z.]+)", text))
    if used:
        assert installed == {REFERENCE[c]["module"] for c in used} | {"Microsoft.Graph.Authentication"}, leaf_id
    else:
        assert not installed and "Connect-MgGraph" not in text
    for block in render_blocks(blocks, "modern", playbook, {"upn": "jane@contoso.com"}):
        if "graph" in block.runs_in:
            assert "the Graph window" in block.where
        if "exchange_online" in block.runs_in:
            assert "the Exchange Online window" in block.where


def test_graph_permissions_cover_every_command_and_the_roles_are_named():
    for leaf in playbook.leaves.values():
        text = "\n".join(modern(s) for s in leaf.steps)
        if "Get-MgSubscribedSku" in text:
            scopes = re.search(r"Connect-MgGraph -Scopes ([^\n]+)", text).group(1)
            assert "'LicenseAssignment.Read.All'" in scopes or "'Organization.Read.All'" in scopes, leaf.id
    connect = RAW["steps"]["connect_graph"]["why"]
    for role in ("Cloud Application Administrator", "Application Administrator", "Privileged Role Administrator"):
        assert role in connect
    soft_match = RAW["steps"]["check_soft_match"]
    assert "Global Administrator" in soft_match["why"] + soft_match["look_for"]


def test_no_restore_request_relies_on_allow_legacy_dn_mismatch():
    # New-MailboxRestoreRequest's reference: -AllowLegacyDNMismatch is being deprecated in
    # Exchange Online; add the source's LegacyExchangeDN to the target as an X500 address first.
    for leaf_id in sorted(playbook.leaves):
        for answers, steps in routes(leaf_id):
            for i, step in enumerate(steps):
                if "New-MailboxRestoreRequest" not in modern(step):
                    continue
                assert "-AllowLegacyDNMismatch" not in modern(step), (leaf_id, step.id)
                before = "\n".join(modern(s) for s in steps[: i + 1])
                assert re.search(r"(EmailAddresses @\{Add = |proxyAddresses = )\{legacy_dn_x500\}", before), (
                    leaf_id,
                    answers,
                    step.id,
                )
    # The original dialect keeps the walkthrough's switch, marked retired with the rest of it.
    assert "-AllowLegacyDNMismatch" in playbook.leaves["A3"].step("restore_request").commands["original"]
    # C2 also copies the old mailbox's other X500 addresses and smtp aliases.
    copy_step = playbook.leaves["C2"].step("copy_addresses")
    assert "email_addresses" in copy_step.collect and "x500" in modern(copy_step) and "smtp" in modern(copy_step)


def test_soft_deleted_and_inactive_mailboxes_are_named_by_exchange_guid():
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            text = modern(step)
            assert "-SoftDeletedMailbox -Identity {upn}" not in text, (leaf.id, step.id)
            assert not re.search(r"Undo-SoftDeletedMailbox (?!-SoftDeletedObject \{exchange_guid\})", text), (leaf.id, step.id)
            if "-SoftDeletedMailbox -ResultSize Unlimited" in text and ("exchange_guid" in step.collect):
                assert "newest WhenSoftDeleted" in step.look_for, (leaf.id, step.id)


@pytest.mark.parametrize("leaf_id", ["A6", "B8", "C8"])
def test_new_mailbox_inactive_is_preceded_by_its_age_and_archive(leaf_id):
    # Purview: not within 30 days of the soft deletion; not with an auxiliary archive.
    steps = route(leaf_id, inactive="true", sso="no", hybrid_recover="no")
    recover = first(steps, r"-InactiveMailbox")
    read = next(i for i, s in enumerate(steps) if s.ask == "inactive_age")
    assert read < recover
    for field in ("WhenSoftDeleted", "MailboxLocations", "ExternalDirectoryObjectId"):
        assert field in modern(steps[read])
    sub = playbook.subquestions["inactive_age"]
    assert sub.option("within_30").end == "support" and sub.option("auxiliary").end == "support"
    assert sub.option("over_30").continues


def test_soft_matching_reads_every_setting_and_the_address_is_set_in_both_branches():
    check = RAW["steps"]["check_soft_match"]["modern"]
    assert "blockSoftMatchEnabled" in check and "softMatchOnUpnEnabled" in check
    for leaf_id in ("A6", "B8"):
        for sso in ("no", "yes"):
            steps = route(leaf_id, sso=sso, inactive="false", hybrid_recover="no")
            address = first(steps, r"-WindowsEmailAddress \{primary_smtp\}")
            sync = first(steps, r"Start-ADSyncSyncCycle")
            assert address is not None and address < sync, (leaf_id, sso)
            assert "Get-MgUserMemberOf" in modern(steps[address]), "no admin role: Entra will not match those"
    # A3 relies on a hard match: it reads the user's ImmutableId and restores the object that has it.
    steps = route("A3", hybrid_merge="no")
    order = ids(steps)
    read = next(i for i, s in enumerate(steps) if "immutable_id" in s.collect)
    assert read < order.index("restore_ad_user")
    assert "ImmutableId" in modern(steps[order.index("restore_ad_user")])


def test_the_ad_restore_restores_one_object_by_its_object_guid():
    for leaf in playbook.leaves.values():
        for i, step in enumerate(leaf.steps):
            text = modern(step)
            assert "| Restore-ADObject" not in text, (leaf.id, step.id)
            if "Restore-ADObject" in text:
                assert "Restore-ADObject -Identity {ad_object_guid}" in text and "ad_object_guid" in step.collect
                # The deleted objects were listed first, with what tells them apart.
                listed = "\n".join(modern(s) for s in leaf.steps[: i + 1])
                assert "-Filter {ad_deleted_filter}" in listed and "whenChanged" in listed and "ImmutableId" in listed
    assert "isDeleted -eq $true" in playbook.placeholders["ad_deleted_filter"].derive


@pytest.mark.parametrize("leaf_id", ["A5", "B3", "B9"])
def test_a_hybrid_license_is_preceded_by_a_check_that_no_soft_deleted_mailbox_holds_the_guid(leaf_id):
    # "Delete or restore user mailboxes": a new synced user licensed with the ExchangeGuid of a
    # soft-deleted mailbox hard-deletes it.
    steps = route(leaf_id, hybrid="yes", ad_restored="no")
    license_at = first(steps, r"Set-MgUserLicense")
    check = next(i for i, s in enumerate(steps) if s.ask == "guid_in_use")
    assert check < license_at
    assert "Get-Mailbox -SoftDeletedMailbox -Identity {remote_exchange_guid}" in modern(steps[check])
    assert playbook.subquestions["guid_in_use"].option("yes").end == "support"


@pytest.mark.parametrize("leaf_id", sorted(playbook.leaves))
def test_every_value_a_command_uses_is_asked_for_on_its_card_or_before(leaf_id):
    # No '<...>' hint left in a command the admin copies.
    for answers, steps in routes(leaf_id):
        known = {"upn"}
        for step in steps:
            known |= set(step.collect) | set(step.record)
            for name in PLACEHOLDER_RE.findall(modern(step)):
                placeholder = playbook.placeholders[name]
                parts = set(PLACEHOLDER_RE.findall(placeholder.derive)) if placeholder.derive else {name}
                assert parts <= known, f"{leaf_id} {answers} step {step.id}: {sorted(parts - known)} never asked"


def test_a_sam_account_name_is_checked_before_it_reaches_new_ad_user():
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            if "-SamAccountName {" in modern(step):
                name = re.search(r"-SamAccountName \{([a-z_]+)\}", modern(step)).group(1)
                assert playbook.placeholders[name].kind == "sam", (leaf.id, step.id)
    assert validate("sam", "jdoe", "logon name") == "jdoe"
    for bad in ("a" * 21, "j=doe", "j+doe", "j*doe", "j?doe", "j|doe", "j/doe"):
        with pytest.raises(InvalidValue):
            validate("sam", bad, "logon name")


def test_only_smtp_and_x500_addresses_go_into_ad_proxy_addresses():
    pattern = re.compile(r"Where-Object \{ \$_ -match '\^\(smtp\|x500\):' -and \$_ -notlike '\*\.mail\.onmicrosoft\.com' \}")
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            if "{email_addresses}" in modern(step) and "Set-ADUser" in modern(step):
                assert pattern.search(modern(step)), (leaf.id, step.id)
    # What the filter keeps, the way PowerShell's -match (case-insensitive) and -notlike read it.
    sample = "SMTP:jane@contoso.com;smtp:j@contoso.com;SPO:SPO_1@SPO_2;X500:/o=x/cn=y;smtp:jane@contoso.mail.onmicrosoft.com"
    kept = [
        a
        for a in sample.split(";")
        if re.match(r"^(smtp|x500):", a, re.IGNORECASE) and not a.lower().endswith(".mail.onmicrosoft.com")
    ]
    assert kept == ["SMTP:jane@contoso.com", "smtp:j@contoso.com", "X500:/o=x/cn=y"]


def test_a1_says_the_pause_is_tenant_wide_restores_the_ad_user_and_resumes_sync():
    leaf = playbook.leaves["A1"]
    pause = leaf.step("pause_sync")
    assert "tenant-wide" in pause.why and "7 days" in pause.why
    steps = route("A1", ad_back="yes")
    order = ids(steps)
    restore = first(steps, r"Restore-ADObject")
    resume = first(steps, r"-SyncCycleEnabled \$true")
    assert order.index("pause_sync") < restore < resume
    assert "deletion threshold" in steps[resume].why + steps[resume].look_for
    assert leaf.step("try_restore_ad_user").ask == "ad_back"
    assert playbook.subquestions["ad_back"].option("no").end == "support"


@pytest.mark.parametrize("leaf_id", ["B1", "C1"])
def test_nothing_is_called_lost_before_looking_for_an_older_mailbox(leaf_id):
    leaf = playbook.leaves[leaf_id]
    assert "nothing is lost" not in (leaf.summary + OUTCOMES[leaf.outcome]).lower()
    look = next(s for s in leaf.steps if s.ask == "older_mailbox")
    assert "-SoftDeletedMailbox" in modern(look)
    found = ids(route(leaf_id, older_mailbox="found", ids_match="yes"))
    assert "restore_request" in found and "restore_request" not in ids(route(leaf_id, older_mailbox="none"))


@pytest.mark.parametrize("leaf_id", ["A8", "B3", "B6", "C3", "C5"])
def test_no_mailbox_is_called_purged_while_a_removed_license_may_reconnect_it(leaf_id):
    # KB 3158794: a removed license disables the mailbox and keeps it 30 days.
    leaf = playbook.leaves[leaf_id]
    assert not re.search(r"\bwas purged\b|\bis purged\b", leaf.summary), leaf.summary
    assert "30 days" in leaf.summary and "3158794" in leaf.summary + leaf.reference + leaf.differs + leaf.summary
    steps = route(leaf_id, hybrid="no", ad_restored="yes", has_license="no")
    plans = first(steps, r"ServicePlans")
    license_at = first(steps, r"Set-MgUserLicense")
    assert plans is not None and plans < license_at
    assert "ProvisioningStatus" in modern(steps[plans])


def test_a3_tells_whether_the_mailbox_is_back_by_its_exchange_guid():
    check = playbook.leaves["A3"].step("check_reconnected")
    assert "{exchange_guid}" in modern(check) and "ExchangeGuid" in modern(check)
    assert "ExchangeGuid" in playbook.subquestions["mailbox_back"].prompt


# --- Waits -------------------------------------------------------------------------------------


def test_every_wait_has_a_check_interval_within_it():
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            if step.wait_minutes:
                assert 0 < step.check_every_minutes <= step.wait_minutes, (leaf.id, step.id)


def test_a_step_that_checks_a_wait_never_goes_to_support_on_the_first_no():
    for leaf in playbook.leaves.values():
        for i, step in enumerate(leaf.steps):
            ends = step.ask and any(o.end == "support" for o in playbook.subquestions[step.ask].options)
            waited = any(s.wait_minutes for s in leaf.steps[: i + 1])
            observes = re.search(r"Get-Mailbox -Identity|Get-MgUser|Get-RemoteMailbox", modern(step))
            if (
                ends
                and waited
                and observes
                and step.ask not in ("ids_match", "deleted_user_found", "owner_gone", "same_owner", "guid_in_use")
            ):
                assert step.check_every_minutes, (leaf.id, step.id, step.ask)


def test_restore_requests_are_watched_and_their_wait_is_the_check_interval():
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            if "New-MailboxRestoreRequest" in modern(step):
                assert "PercentComplete" in modern(step) and "Get-MailboxRestoreRequestStatistics" in modern(step)
                assert step.wait_minutes == step.check_every_minutes, (leaf.id, step.id)
                assert "up to" not in step.look_for.lower() and "hours" in step.wait_check


def test_leaf_durations_cover_their_waits():
    for leaf in playbook.leaves.values():
        said = re.search(r"[Uu]p to ([\d.]+) hours", leaf.duration)
        if said:
            returning = [s for s in leaf.steps if s.when.get("mail_for") != "leaver"]
            assert float(said.group(1)) * 60 >= sum(s.wait_minutes for s in returning), (leaf.id, leaf.duration)


# --- What the mail is for ------------------------------------------------------------------------


def test_every_leaf_asks_who_needs_the_mail_before_its_plan():
    sub = playbook.subquestions["mail_for"]
    assert [o.id for o in sub.options] == ["returning", "leaver"]
    assert playbook.ask_every_leaf == ("mail_for",)
    for leaf in playbook.leaves.values():
        assert leaf.ask_first[0] == "mail_for", leaf.id
    assert "sign-in" in sub.option("leaver").note and "shared mailbox" in sub.option("leaver").note


@pytest.mark.parametrize("leaf_id", NOT_SUPPORT)
def test_a_leavers_mail_goes_to_the_manager_and_sign_in_stays_blocked(leaf_id):
    creates = re.compile(
        r"New-ADUser|Restore-ADObject|Restore-MgDirectoryDeletedItem|New-MgUser|-InactiveMailbox|Undo-SoftDeletedMailbox"
    )
    for answers, steps in routes(leaf_id, mail_for="leaver"):
        text = "\n".join(modern(s) for s in steps)
        assert "New-MgUser" not in text and "-InactiveMailbox" not in text and "Undo-SoftDeletedMailbox" not in text, answers
        made = first(steps, creates.pattern)
        if made is not None:
            blocked = first(steps, r"-Enabled \$false|-AccountEnabled:\$false")
            assert blocked is not None and blocked > made, (answers, "sign-in blocked after the account is back")
            sync = next((i for i, s in enumerate(steps) if i > made and "Start-ADSyncSyncCycle" in modern(s)), None)
            assert sync is None or blocked < sync, (answers, "blocked before it syncs")
        if "Add-MailboxPermission" not in text:
            # Nothing left to hand over (the mailbox is purged): only the backup question, nothing created.
            assert "backup_check" in ids(steps) and made is None and "Set-MgUserLicense" not in text, answers


@pytest.mark.parametrize("leaf_id", ["A3", "A4", "A6", "B8", "C2"])
def test_an_insurance_copy_is_offered_before_identities_change(leaf_id):
    steps = route(
        leaf_id,
        insurance_copy="yes",
        hybrid_merge="no",
        hybrid_orphaned="no",
        hybrid_recover="no",
        owner_gone="no",
        inactive="false",
        sso="no",
        ad_restored="yes",
        mailbox_back="no",
    )
    offer = next(i for i, s in enumerate(steps) if s.ask == "insurance_copy")
    copy_at = first(steps, r"New-MailboxRestoreRequest -SourceMailbox \{exchange_guid\} -TargetMailbox \{shared_exchange_guid\}")
    change = first(steps, IDENTITY_CHANGE.pattern)
    assert offer < copy_at < change, leaf_id
    assert playbook.subquestions["insurance_copy"].option("no").continues


@pytest.mark.parametrize("leaf_id", ["A2", "A5", "A8", "B3", "B6", "B9", "C3", "C5", "C9"])
def test_old_mail_is_not_called_gone_before_asking_about_a_backup(leaf_id):
    steps = route(leaf_id, hybrid="no")
    backup = next(i for i, s in enumerate(steps) if s.ask == "backup")
    change = first(steps, IDENTITY_CHANGE.pattern)
    assert change is None or backup < change


# --- After the recovery --------------------------------------------------------------------------


@pytest.mark.parametrize("leaf_id", sorted(playbook.leaves))
def test_every_plan_that_does_not_end_in_support_ends_with_the_closing_checklist(leaf_id):
    leaf = playbook.leaves[leaf_id]
    last = leaf.steps[-1]
    if leaf.outcome == "support":
        assert last.id != "closing_checklist"
        return
    assert last.id == "closing_checklist" and last.manual and not last.when
    for item in ("permissions", "Forwarding", "Teams", "OneDrive", "RetentionHold", "Litigation Hold", "archive", "X500"):
        assert item in last.look_for, item


def test_the_ending_says_what_was_checked_not_congratulations():
    assert "Congratulations" not in playbook.complete_text
    assert "ExchangeGuid" in playbook.complete_text and "checklist" in playbook.complete_text


# --- The contract with the diagnostic reader and the conversation --------------------------------


def test_situation_leaves_are_reached_by_situation_not_by_the_three_answers():
    assert dict(playbook.by_situation) == {"recreated_user": "R1", "license_removed": "L1", "auxiliary_archive": "AUX"}
    for situation, leaf_id in playbook.by_situation.items():
        leaf = playbook.leaf_for_situation(situation)
        assert leaf.id == leaf_id and leaf.situation == situation and not leaf.answers
        assert leaf_id not in playbook.by_answers.values()
    assert playbook.leaf_for_situation("unknown") is None
    r1 = route("R1")
    request = first(r1, r"New-MailboxRestoreRequest -SourceMailbox \{exchange_guid\} -TargetMailbox \{target_exchange_guid\}")
    x500 = first(r1, r"\{legacy_dn_x500\}")
    assert x500 < request
    l1 = playbook.leaves["L1"]
    assert l1.step("check_license").ask == "license_window"
    assert playbook.subquestions["license_window"].option("over_30").end == "support"
    assert "Set-MgUserLicense" in modern(l1.step("license")) and l1.step("check_old_mail").ask == "old_mail_back"
    aux = playbook.leaves["AUX"]
    assert aux.outcome == "support" and aux.support_needs
    assert not any("New-MailboxRestoreRequest" in modern(s) or "-InactiveMailbox" in modern(s) for s in aux.steps)


def broken(mutate) -> str:
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(PlaybookError) as refused:
        build_playbook(data)
    return str(refused.value)


def test_the_loader_refuses_a_leaf_with_answers_and_a_situation_or_a_situation_twice():
    def both(data):
        next(x for x in data["leaves"] if x["id"] == "R1")["answers"] = {"onprem": "none"}

    assert "leaf R1: has both 'answers' and a 'situation'" in broken(both)

    def twice(data):
        next(x for x in data["leaves"] if x["id"] == "L1")["situation"] = "recreated_user"

    assert "leaf L1: same situation as leaf R1" in broken(twice)


def test_the_loader_refuses_a_check_interval_without_or_longer_than_its_wait():
    def longer(data):
        data["steps"]["delta_sync"]["check_every_minutes"] = 45

    assert "checks every 45 minutes, longer than its wait of 30 minutes" in broken(longer)

    def without(data):
        del data["steps"]["delta_sync"]["wait_minutes"]
        data["steps"]["delta_sync"]["wait_check"] = ""

    assert "checks every 10 minutes but has no 'wait_minutes'" in broken(without)


def test_the_loader_refuses_graph_and_exchange_online_commands_in_one_block():
    def one_window(data):
        data["steps"]["connect"]["runs_in"] = ["exchange_online", "graph"]

    assert "Graph and Exchange Online commands run in two windows" in broken(one_window)


def test_a_step_whose_question_may_find_nothing_does_not_demand_a_value():
    # The dialog needs every value a step collects before Done: a step asking "is there one?"
    # cannot also collect what "no" would not have.
    nothing = {"ad_restored": "no", "ad_back": "no", "older_mailbox": "none"}
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            if step.ask in nothing:
                assert not step.collect, (leaf.id, step.id)


def test_every_leaf_says_where_and_why_it_departs_from_kb_20804():
    for leaf in playbook.leaves.values():
        assert "KB 20804" in leaf.differs and len(leaf.differs) > 80, leaf.id
