"""The 12 defects of issue 12, one test each: advice an admin can follow blindly.

Each test reads the playbook the way an admin walks it (the steps a set of answers reaches, the
commands those steps show) and fails on the playbook as it was before the fix.
"""

from __future__ import annotations

import re

import pytest

from bot.playbook import load_playbook, render_blocks
from tests.playbook_table import route

playbook = load_playbook()
DESTRUCTIVE_FOR_THE_SOURCE = re.compile(r"Remove-Mailbox|Remove-MgUser|Remove-MsolUser")


def ids(steps) -> list[str]:
    return [s.id for s in steps]


def modern(step) -> str:
    return step.commands["modern"]


def test_1_a4_holds_and_removes_the_mailbox_before_any_identity_changes_and_merges_it_back():
    leaf = playbook.leaves["A4"]
    hybrid = [q for q in leaf.ask_first if "hybrid" in playbook.subquestions[q].prompt.lower()]
    assert hybrid, "A4 must ask whether this is an Exchange hybrid deployment"
    yes = next(o for o in playbook.subquestions[hybrid[0]].options if o.id == "yes")
    assert yes.end == "support", "in hybrid the restored AD user carries the mailbox's ExchangeGuid: support"
    for restored in ("yes", "no"):
        steps = route("A4", **{hybrid[0]: "no", "ad_restored": restored, "owner_gone": "no"})
        order = ids(steps)
        hold = next(i for i, s in enumerate(steps) if "-LitigationHoldEnabled $true" in modern(s))
        remove = order.index("remove_mailbox")
        # Held first (so the removed mailbox is inactive and kept), then removed, and only then
        # does anything bring an AD user back or license one.
        assert hold < remove < order.index("restore_ad_user") < order.index("license")
        assert order.index("license") < order.index("restore_request")
        assert not any(re.search(r"-InactiveMailbox|Undo-SoftDeletedMailbox", modern(s)) for s in steps)
    warning = leaf.step("remove_mailbox").warning
    assert "30 days" in warning and "hold" in warning.lower()


def test_2_the_entra_check_and_every_deleted_user_lookup_use_parameters_that_exist():
    texts = [c.commands["modern"] for q in playbook.questions for c in q.check]
    texts += [modern(s) for leaf in playbook.leaves.values() for s in leaf.steps]
    lookups = [t for t in texts if "Get-MgDirectoryDeletedItemAsUser" in t]
    assert lookups
    for text in lookups:
        assert "-ConsistencyLevel" not in text
    entra = playbook.question("entra")
    deleted = next(c for c in entra.check if "Get-MgDirectoryDeletedItemAsUser" in c.commands["modern"])
    assert "-All" in deleted.commands["modern"] and "Where-Object" in deleted.commands["modern"]


def test_3_create_ad_user_is_asked_behind_did_the_restore_work_and_adds_addresses():
    for leaf_id in ("A6", "A7", "A9"):
        restored = ids(route(leaf_id, ad_restored="yes", sso="no", inactive="false", ids_match="yes", soft_match="allowed"))
        created = ids(route(leaf_id, ad_restored="no", sso="no", inactive="false", ids_match="yes", soft_match="allowed"))
        creates = [step_id for step_id in created if step_id.startswith("create_ad_user")]
        assert not [step_id for step_id in restored if step_id.startswith("create_ad_user")] and creates, leaf_id
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            for block in step.blocks:
                text = block.commands["modern"]
                assert not ("Restore-ADObject" in text and "New-ADUser" in text), (leaf.id, step.id, "one paste block")
                assert not re.search(r"Set-ADUser[^\n]*-Replace[^\n]*proxyAddresses", text), (leaf.id, step.id)
    create = playbook.leaves["A9"].step("create_ad_user_anchored")
    assert "-Add @{proxyAddresses" in modern(create) and "email_addresses" in create.commands["modern"]


@pytest.mark.parametrize(
    "leaf_id, answers",
    [
        ("A6", {"sso": "no", "inactive": "true", "soft_match": "allowed", "ad_restored": "yes"}),
        ("A6", {"sso": "no", "inactive": "false", "soft_match": "allowed", "ad_restored": "yes"}),
        ("B8", {"sso": "no", "inactive": "true", "soft_match": "allowed"}),
        ("B8", {"sso": "no", "inactive": "false", "soft_match": "allowed"}),
        ("C8", {"sso": "no", "inactive": "true"}),
        ("C8", {"sso": "no", "inactive": "false"}),
    ],
)
def test_4_a_recovered_soft_deleted_or_inactive_mailbox_is_licensed_in_both_branches(leaf_id, answers):
    steps = route(leaf_id, **answers)
    reattach = next(i for i, s in enumerate(steps) if re.search(r"-InactiveMailbox|Undo-SoftDeletedMailbox", modern(s)))
    assert any("Set-MgUserLicense" in modern(s) for s in steps[reattach:]), (leaf_id, answers)


def test_5_sub_questions_route_by_inactive_state_federation_and_soft_match():
    a6 = playbook.leaves["A6"]
    assert any(s.ask == "inactive" for s in a6.steps), "A6 asks IsInactiveMailbox"
    assert "Undo-SoftDeletedMailbox" in " ".join(modern(s) for s in route("A6", inactive="false", sso="no"))
    federated = route("A6", inactive="true", sso="yes", soft_match="allowed", ad_restored="yes")
    assert any("-WindowsEmailAddress {primary_smtp}" in modern(s) for s in federated), "the address soft match uses"
    for leaf_id in ("B8", "C8"):
        assert "sso" in playbook.leaves[leaf_id].ask_first, leaf_id
        federated = " ".join(modern(s) for s in route(leaf_id, inactive="true", sso="yes"))
        assert "-MicrosoftOnlineServicesID {onmicrosoft_upn}" in federated, leaf_id
    # Every leaf that relies on a soft match checks first that the tenant has not blocked it.
    for leaf_id in ("A6", "B8"):  # (A7, A9 hard-match: test_playbook.py; A4 syncs a new user, no match)
        steps = playbook.leaves[leaf_id].steps
        check = next((i for i, s in enumerate(steps) if "blockSoftMatchEnabled" in modern(s)), None)
        assert check is not None, leaf_id
        assert steps[check].ask == "soft_match"
        # ... before anything brings the AD user into the sync scope.
        match = min(i for i, s in enumerate(steps) if re.search(r"Restore-ADObject|New-ADUser|Move-ADObject", modern(s)))
        assert check < match, leaf_id
    assert playbook.subquestions["soft_match"].option("blocked").end == "support"


GRAPH_SCOPES = {
    "Get-MgUser": "User.Read.All",
    "Get-MgUserLicenseDetail": "User.Read.All",
    "Get-MgDirectoryDeletedItemAsUser": "User.Read.All",
    # Learn's permission tables: subscribedSkus lists LicenseAssignment.Read.All (least), never the
    # ReadWrite scope; assignLicense needs User.ReadWrite.All (issue 23, X2).
    "Get-MgSubscribedSku": "LicenseAssignment.Read.All",
    "Get-MgUserMemberOf": "User.Read.All",
    "Update-MgUser": "User.ReadWrite.All",
    "New-MgUser": "User.ReadWrite.All",
    "Set-MgUserLicense": "User.ReadWrite.All",
    "Restore-MgDirectoryDeletedItem": "User.DeleteRestore.All",
    "Remove-MgUser": "User.DeleteRestore.All",
    "Invoke-MgGraphRequest": "OnPremDirectorySynchronization.Read.All",
}
IMPLIED = {"User.ReadWrite.All": {"User.Read.All"}}


@pytest.mark.parametrize("leaf_id", sorted(playbook.leaves))
def test_6_each_leaf_connects_first_with_exactly_the_graph_scopes_its_commands_need(leaf_id):
    steps = playbook.leaves[leaf_id].steps
    texts = [modern(s) for s in steps]
    needed = {scope for text in texts for cmdlet, scope in GRAPH_SCOPES.items() if re.search(rf"\b{cmdlet}\b", text)}
    needed -= {implied for scope in needed for implied in IMPLIED.get(scope, set())}
    connects = [i for i, t in enumerate(texts) if "Connect-MgGraph" in t]
    if needed:
        assert connects, f"{leaf_id} runs Graph commands without Connect-MgGraph"
        scopes = set(re.findall(r"'([A-Za-z.]+)'", re.search(r"Connect-MgGraph -Scopes ([^\n]+)", texts[connects[0]]).group(1)))
        assert scopes == needed, f"{leaf_id}: connects with {sorted(scopes)}, its commands need {sorted(needed)}"
        first_graph = next(i for i, t in enumerate(texts) if any(re.search(rf"\b{c}\b", t) for c in GRAPH_SCOPES))
        assert connects[0] <= first_graph
    exchange = [i for i, s in enumerate(steps) if "exchange_online" in s.runs_in and "Connect-ExchangeOnline" not in texts[i]]
    if exchange:
        connect = next((i for i, t in enumerate(texts) if "Connect-ExchangeOnline" in t), None)
        assert connect is not None and connect < exchange[0], f"{leaf_id} runs Exchange Online commands unconnected"


@pytest.mark.parametrize("leaf_id", ["A5", "B9"])
def test_7_hybrid_provisioning_checks_first_syncs_before_licensing_and_compares_guids(leaf_id):
    steps = route(leaf_id, hybrid="yes", ad_restored="no", guids_match="yes")
    order = ids(steps)
    enable = order.index("enable_remote_mailbox")
    blocks = steps[enable].blocks
    assert "Get-RemoteMailbox" in blocks[0].commands["modern"] and "Enable-RemoteMailbox" in blocks[1].commands["modern"]
    assert blocks[1].condition, "the enable block says when to run it"
    license_at = order.index("license")
    assert any("Start-ADSyncSyncCycle" in modern(s) for s in steps[enable + 1 : license_at]), "delta sync before licensing"
    compare = next(
        i for i, s in enumerate(steps) if "Get-RemoteMailbox" in modern(s) and "ExchangeGuid" in modern(s) and i > license_at
    )
    assert steps[compare].ask == "guids_match"
    assert playbook.subquestions["guids_match"].option("no").end == "support"


def test_8_a3_checks_whether_the_mailbox_reconnected_before_licensing_and_merging():
    back = ids(route("A3", mailbox_back="yes"))
    assert "license" not in back and "restore_request" not in back and "verify_mailbox" in back
    not_back = ids(route("A3", mailbox_back="no"))
    check = not_back.index("check_reconnected")
    assert check < not_back.index("license") < not_back.index("restore_request")


def test_9_the_merge_covers_the_archive_and_keeps_replies_to_old_mail_working():
    step = playbook.leaves["A3"].step("restore_request")
    text = modern(step)
    assert "-SourceIsArchive" in text and "-TargetIsArchive" in text
    archive = next(b for b in step.blocks if "-SourceIsArchive" in b.commands["modern"])
    assert "archive" in archive.condition.lower()
    order = [s.id for s in playbook.leaves["A3"].steps]
    x500 = playbook.leaves["A3"].step("add_x500")
    assert "{legacy_dn_x500}" in modern(x500), "the old LegacyExchangeDN becomes an X500 proxy"
    assert order.index("add_x500") < order.index("restore_request"), "before the request, which checks it"
    assert "legacy_dn" in playbook.leaves["A3"].step("find_soft_deleted").collect
    c2 = playbook.leaves["C2"]
    compare = next((s for s in c2.steps if "ExternalDirectoryObjectId" in modern(s) and s.ask), None)
    assert compare is not None and c2.steps.index(compare) < c2.index_of("license")


def test_10_item_recovery_says_how_to_get_the_role_and_restores_one_item_by_default():
    step = playbook.leaves["B1"].step("item_recovery")
    assert "Mailbox Import Export" in step.why + step.look_for
    first_restore = next(b for b in step.blocks if "Restore-RecoverableItems" in b.commands["modern"])
    assert "-EntryID" in first_restore.commands["modern"]
    assert "entry_id" in step.collect


def test_11_how_do_i_check_commands_stand_alone_cover_nothing_found_and_hybrid_mail_users():
    for question in playbook.questions:
        for check in question.check:
            for dialect, text in check.commands.items():
                for line in filter(str.strip, text.splitlines()):
                    used = set(re.findall(r"\$([A-Za-z_]\w*)", line)) - {"_", "true", "false", "null"}
                    assigned = set(re.findall(r"\$([A-Za-z_]\w*)\s*=", line))
                    assert used <= assigned, f"{question.id} [{dialect}]: {line!r} reads a variable from an earlier line"
    onprem = " ".join(c.text for c in playbook.question("onprem").check)
    assert "Recycle Bin" in onprem and "tombstone" in onprem.lower()
    assert any("Get-ADOptionalFeature" in c.commands["modern"] for c in playbook.question("onprem").check)
    mailbox = playbook.question("mailbox").check
    assert any("Get-Recipient" in c.commands["modern"] for c in mailbox)
    assert "MailUser" in " ".join(c.text for c in mailbox)


def test_11_every_check_says_an_error_means_not_checked():
    for question in playbook.questions:
        with_commands = [c for c in question.check if any(c.commands.values())]
        for check in with_commands:
            assert re.search(r"error[^.]*not checked", check.text, re.IGNORECASE), (question.id, check.text)
            assert "not found" not in check.text.lower() or "never" in check.text.lower()


def test_12_a1_says_the_next_sync_starts_the_30_day_clock():
    summary = playbook.leaves["A1"].summary
    assert "nothing is lost" not in summary.lower()
    assert "sync" in summary and "30" in summary


def test_where_a_leaf_departs_from_microsofts_walkthrough_it_says_why():
    changed = ("A3", "A4", "A6", "A7", "A9", "B8", "B9", "C2", "C5", "C8")
    for leaf_id in changed:
        assert len(playbook.leaves[leaf_id].differs) > 40, leaf_id


def test_alternatives_are_separate_blocks_each_with_its_condition_and_place():
    step = playbook.leaves["A9"].step("read_addresses")
    rendered = render_blocks(step.blocks, "modern", playbook, {"upn": "jane@contoso.com"})
    assert len(rendered) == 2 and all(b.condition for b in rendered)
    assert all(b.where == "the Exchange Online window (Exchange Online PowerShell)" and not b.retired for b in rendered)
