"""The catalog of pasted errors: one real error text per entry, each matched to its entry; an
unknown error matches none (today's path); a broken catalog refuses to load, naming the entry."""

from __future__ import annotations

import pytest

from bot.diagnostics.errors import ERRORS_PATH, CatalogError, load_catalog, match_error

# One error as the admin pastes it, per catalog entry.
EXAMPLES = {
    "graph_method_not_found": (
        "Connect-MgGraph : Method not found: 'Void Microsoft.Identity.Client.AuthenticationResult..ctor(System.String, Boolean, "
        "System.String, System.DateTimeOffset, System.DateTimeOffset, System.String, Microsoft.Identity.Client.IAccount)'."
    ),
    "insufficient_privileges": (
        "Restore-MgDirectoryDeletedItem : Insufficient privileges to complete the operation.\n"
        "Status: 403 (Forbidden)\nErrorCode: Authorization_RequestDenied"
    ),
    "out_of_sync_scope": "The object CN=Oisin OBrien,OU=Leavers,DC=contoso,DC=com is not within the scope of synchronization.",
    "multiple_mailboxes_match": (
        "Undo-SoftDeletedMailbox : The operation couldn't be performed because 'o'brien@contoso.com' matches multiple entries."
    ),
    "mailbox_on_hold": (
        "Remove-Mailbox : The mailbox o'brien@contoso.com is on hold and can't be removed until the hold is released."
    ),
    "throttled": "Get-Mailbox : The request was throttled. Micro delay applied. Try again later. (429) Too Many Requests",
    "not_connected": (
        "Get-Mailbox : The term 'Get-Mailbox' is not recognized as the name of a cmdlet, function, script file, "
        "or operable program."
    ),
    "not_found_after_change": (
        "Get-Mailbox : The operation couldn't be performed because object 'o'brien@contoso.com' couldn't be found on "
        "'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'."
    ),
}


def test_every_entry_has_an_example():
    assert sorted(e.id for e in load_catalog()) == sorted(EXAMPLES)


@pytest.mark.parametrize("entry_id", sorted(EXAMPLES))
def test_each_example_matches_its_entry(entry_id):
    found = match_error(EXAMPLES[entry_id])
    assert found is not None and found.id == entry_id
    assert found.meaning and found.action


def test_replication_and_throttling_offer_a_wait():
    assert match_error(EXAMPLES["not_found_after_change"]).wait_minutes == 30
    assert match_error(EXAMPLES["throttled"]).wait_minutes == 5


def test_an_unknown_error_keeps_todays_path():
    unknown = "Set-MgUserLicense : License assignment failed because service plans 1 and 2 are mutually exclusive."
    assert match_error(unknown) is None
    assert match_error("") is None and match_error(None) is None  # type: ignore[arg-type]


def test_a_guid_with_429_in_it_is_not_throttling():
    assert match_error("New-Mailbox: failed for 4c5d6e7f-8091-4a2b-8c3d-4e5f6a7b4298 with an unexpected error") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id = "throttled"', 'id = "Throttled!"'), "entry 6 .*id must be"),
        (('id = "throttled"', 'id = "not_connected"'), "used twice"),
        (("regex = \"mailbox .{0,200}", "regex = \"(mailbox) \\\\1 .{0,200}"), "mailbox_on_hold.*backreferences"),
        (('wait_minutes = 5', 'wait_minutes = -5'), "throttled.*wait_minutes"),
        (('match = ["Method not found"]\n', ''), "graph_method_not_found.*give 'match' or 'regex'"),
    ],
)
def test_a_broken_catalog_names_the_entry(tmp_path, change, message):
    text = ERRORS_PATH.read_text(encoding="utf-8")
    assert change[0] in text
    (tmp_path / "errors.toml").write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(tmp_path / "errors.toml")
