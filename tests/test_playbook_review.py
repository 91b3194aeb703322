"""Sign-off review of the recovery playbook (after issue 23), by an Exchange Online escalation
engineer following every leaf literally against Microsoft's current pages.

One test per critical or major finding, named by what it guards. Each failed on the playbook as
the review found it and passes after the fix.
"""

from __future__ import annotations

import re

import pytest

from bot.playbook import load_playbook
from tests.playbook_table import route

playbook = load_playbook()


def modern(step) -> str:
    return step.commands["modern"]


def original(step) -> str:
    return step.commands["original"]


def ids(steps) -> list[str]:
    return [s.id for s in steps]


def first(steps, pattern: str) -> int | None:
    return next((i for i, s in enumerate(steps) if re.search(pattern, modern(s))), None)


# --- Critical: data loss ---------------------------------------------------------------------------


def test_a4_reads_the_deleted_ad_users_exchange_guid_before_removing_or_restoring_anything():
    # "Delete or restore user mailboxes in Exchange Online": a new user synchronized from the
    # original on-premises recipient with the same ExchangeGuid, once licensed, hard-deletes the
    # soft-deleted mailbox. A tenant that answers "not hybrid" may still have msExchMailboxGuid on
    # its AD users (Exchange once ran on premises): A4 restores that AD object and licenses it.
    for restored in ("yes", "no"):
        steps = route("A4", hybrid_orphaned="no", owner_gone="no", ad_restored=restored, ad_carries_guid="no")
        order = ids(steps)
        gate = next(
            (i for i, s in enumerate(steps) if "msExchMailboxGuid" in modern(s) and "-IncludeDeletedObjects" in modern(s)),
            None,
        )
        assert gate is not None, "A4 never reads msExchMailboxGuid of the deleted AD user"
        assert gate < order.index("remove_mailbox")
        restore = first(steps, r"Restore-ADObject|New-ADUser")
        assert restore is not None and gate < restore
        # Shown as a GUID, comparable with the ExchangeGuid recorded (AD stores it as bytes).
        assert "[guid]::new(" in modern(steps[gate])
        sub = playbook.subquestions[steps[gate].ask]
        assert any(o.end == "support" for o in sub.options), "the same ExchangeGuid ends in support"
    # Once it carries the GUID, nothing is removed, restored or licensed.
    stopped = route("A4", hybrid_orphaned="no", owner_gone="no", ad_carries_guid="yes")
    gate_step = next(s for s in stopped if s.ask == "ad_carries_guid")
    assert playbook.subquestions["ad_carries_guid"].option("yes").end == "support"
    assert ids(stopped).index(gate_step.id) < ids(stopped).index("remove_mailbox")


# --- Major: the admin fails or is misled -------------------------------------------------------------


def test_every_copy_into_a_shared_mailbox_copies_the_archive_too():
    # Purview "Restore an inactive mailbox": the archive is restored with its own request
    # (-SourceIsArchive); a shared mailbox has no archive without a license, so the archive goes
    # into a folder of its primary mailbox (-TargetRootFolder).
    seen = 0
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            for dialect in (modern, original):
                text = dialect(step)
                if "-TargetMailbox {shared_exchange_guid}" not in text or "New-MailboxRestoreRequest" not in text:
                    continue
                seen += 1
                lines = text.splitlines()
                archive = [line for line in lines if "New-MailboxRestoreRequest" in line and "-SourceIsArchive" in line]
                assert archive, (leaf.id, step.id, "the old archive is never copied")
                assert all("-TargetRootFolder" in line and "-TargetIsArchive" not in line for line in archive), (leaf.id, step.id)
            if "New-MailboxRestoreRequest -SourceMailbox {exchange_guid} -TargetMailbox {shared_exchange_guid}" in modern(step):
                assert any("ArchiveStatus" in b.condition for b in step.blocks if "-SourceIsArchive" in b.commands["modern"])
    assert seen
    # The leaves that copy from inactive_state show ArchiveStatus and warn about an auxiliary archive.
    state = playbook.leaves["B8"].step("inactive_state")
    assert "ArchiveStatus" in modern(state) and "ArchiveStatus" in original(state)
    assert "AuxArchive" in state.look_for


def test_new_mailbox_inactive_is_chosen_by_microsofts_test_an_empty_external_directory_object_id():
    # Purview "Recover an inactive mailbox": an ExternalDirectoryObjectId that still has a value
    # means the soft-deleted retention has not expired, and New-Mailbox -InactiveMailbox refuses it.
    sub = playbook.subquestions["inactive_age"]
    over = sub.option("over_30")
    within = sub.option("within_30")
    assert "ExternalDirectoryObjectId" in over.label + over.meaning and "empty" in (over.label + over.meaning).lower()
    assert "ExternalDirectoryObjectId" in within.label + within.meaning
    read = playbook.leaves["A6"].step("read_inactive_mailbox")
    assert "ExternalDirectoryObjectId" in read.look_for and "ExternalDirectoryObjectId" in original(read)


@pytest.mark.parametrize("leaf_id", ["B1", "C1"])
def test_item_recovery_never_demands_an_entry_id_when_nothing_is_missing(leaf_id):
    # The dialog refuses Done until every value a step collects is filled in: an admin with
    # nothing missing could not finish B1/C1 without inventing an EntryID.
    leaf = playbook.leaves[leaf_id]
    asks = [s for s in leaf.steps if "Get-RecoverableItems" in modern(s)]
    assert asks and asks[0].ask, "the list of recoverable items asks what is missing"
    question = playbook.subquestions[asks[0].ask]
    nothing = [o for o in question.options if o.continues and not o.end]
    assert nothing, "an answer that goes on without restoring anything"
    for option in nothing:
        steps = route(leaf_id, ids_match="yes", older_mailbox="none", **{asks[0].ask: option.id})
        assert not any("entry_id" in s.collect for s in steps), option.id
        assert ids(steps)[-1] == "closing_checklist"
    for step in leaf.steps:
        if "entry_id" in step.collect:
            assert step.when.get(asks[0].ask), step.id
            assert not step.ask


def test_a1_leaver_waits_for_the_mailbox_to_turn_inactive_before_listing_it():
    # The sync deletes the Entra user; Exchange Online soft-deletes the mailbox some time later.
    steps = route("A1", mail_for="leaver")
    resume = ids(steps).index("resume_sync")
    listing = next(i for i, s in enumerate(steps) if i > resume and "-SoftDeletedMailbox" in modern(s))
    step = steps[listing]
    assert step.wait_minutes >= 30 and 0 < step.check_every_minutes <= step.wait_minutes
    assert "IsInactiveMailbox" in step.wait_check


def test_b3_hybrid_provisions_the_remote_mailbox_and_syncs_before_reading_its_exchange_guid():
    # A user that is not a remote mailbox yet has no on-premises ExchangeGuid to paste, and a
    # license before the sync gives the cloud mailbox an ExchangeGuid of its own.
    steps = route("B3", hybrid="yes")
    enable = first(steps, r"Enable-RemoteMailbox")
    check = next(i for i, s in enumerate(steps) if s.ask == "guid_in_use")
    license_at = first(steps, r"Set-MgUserLicense")
    assert enable is not None and enable < check < license_at
    sync = next((i for i, s in enumerate(steps) if enable < i < license_at and "Start-ADSyncSyncCycle" in modern(s)), None)
    assert sync is not None
    assert first(route("B3", hybrid="no"), r"Enable-RemoteMailbox") is None
