"""Each field of a marker line read on its own (bot.diagnostics.reading's normalisers): every field
the diagnostics print, kept under its name in its shape, and each malformed value refused with the
words that name it. The corpus tests reach the leaves; these pin the reader down field by field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.diagnostics.reading import MAX_ITEMS, NORMALISERS, ShapeError, parse_time, shown, split_errors

GUID = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"
GUID2 = "2c4e5f6a-1111-4f30-8b9c-23456789abcd"
B64 = "XD9bHQAATk+aixI0VniavA=="
NOT_A_UPN = "UserPrincipalName of the user is not a user principal name"


def a_mailbox(**fields) -> dict:
    raw = {
        "ExchangeGuid": "{" + GUID.upper() + "}",
        "ArchiveGuid": GUID2,
        "ArchiveStatus": "Active",
        "AuxArchive": "True",
        "WhenCreated": "2024-01-02T03:04:05Z",
        "WhenSoftDeleted": "/Date(1764000000000)/",
        "IsInactiveMailbox": False,
        "ExternalDirectoryObjectId": GUID2,
        "LegacyExchangeDN": "/o=ExchangeLabs/cn=jane",
        "LitigationHoldEnabled": "false",
        "InPlaceHolds": ["UniH1", "", "mbx2"],
        "PrimarySmtpAddress": "jane@contoso.com",
        "RecipientTypeDetails": "UserMailbox",
        "Name": "Jane",
        "DisplayName": "Jane Doe",
        "Alias": "jane",
        "MicrosoftOnlineServicesID": "jane@contoso.com",
        "EmailAddresses": "SMTP:jane@contoso.com",
    }
    raw.update(fields)
    return raw


def test_every_exchange_field_is_kept_under_its_name():
    read = NORMALISERS["exo"](
        {
            "SoftDeleted": a_mailbox(),
            "Stats": [{"MailboxGuid": GUID, "ItemCount": "1234", "TotalItemSize": "1.2 GB (1,288,490,188 bytes)"}],
            "Recipients": {
                "RecipientTypeDetails": "MailUser",
                "PrimarySmtpAddress": "jane@contoso.com",
                "ExchangeGuid": GUID2,
                "WhenSoftDeleted": "2025-11-20T10:00:00Z",
            },
            "User": [
                {
                    "UserPrincipalName": "jane@contoso.com",
                    "ExternalDirectoryObjectId": GUID,
                    "RecipientTypeDetails": "User",
                    "WhenChanged": "2025-11-21T10:00:00.1234567Z",
                }
            ],
        }
    )
    assert read == {
        "mailboxes": [
            {
                "state": "soft_deleted",
                "exchange_guid": GUID,
                "archive_guid": GUID2,
                "archive_status": "Active",
                "aux_archive": True,
                "when_created": "2024-01-02T03:04:05+00:00",
                "when_soft_deleted": "2025-11-24T16:00:00+00:00",
                "is_inactive": False,
                "external_directory_object_id": GUID2,
                "legacy_dn": "/o=ExchangeLabs/cn=jane",
                "litigation_hold": False,
                "in_place_holds": ["UniH1", "mbx2"],
                "primary_smtp": "jane@contoso.com",
                "recipient_type_details": "UserMailbox",
                "name": "Jane",
                "display_name": "Jane Doe",
                "alias": "jane",
                "online_services_id": "jane@contoso.com",
                "email_addresses": "SMTP:jane@contoso.com",
                "item_count": 1234,
                "total_item_size": "1.2 GB (1,288,490,188 bytes)",
            }
        ],
        "recipients": [
            {
                "recipient_type_details": "MailUser",
                "primary_smtp": "jane@contoso.com",
                "exchange_guid": GUID2,
                "when_soft_deleted": "2025-11-20T10:00:00+00:00",
            }
        ],
        "user": {
            "upn": "jane@contoso.com",
            "external_directory_object_id": GUID,
            "recipient_type_details": "User",
            "when_changed": "2025-11-21T10:00:00.123456+00:00",
        },
    }


def test_mailboxes_keep_their_state_and_one_seen_twice_is_one_inactive_mailbox():
    read = NORMALISERS["exo"](
        {
            "Active": [a_mailbox(ExchangeGuid=GUID2)],
            "SoftDeleted": [a_mailbox(IsInactiveMailbox=False)],
            "Inactive": [a_mailbox(IsInactiveMailbox=True, DisplayName="ignored: the first one is kept")],
            "Stats": [{"MailboxGuid": "00000000-0000-0000-0000-000000000000", "ItemCount": 5}],
        }
    )
    assert [(m["exchange_guid"], m["state"], m["is_inactive"], m["display_name"]) for m in read["mailboxes"]] == [
        (GUID2, "active", False, "Jane Doe"),
        (GUID, "soft_deleted", True, "Jane Doe"),
    ]
    assert [m["item_count"] for m in read["mailboxes"]] == [None, None]  # statistics of no known mailbox
    assert read["recipients"] == [] and read["user"] is None


def test_every_graph_field_is_kept_under_its_name():
    user = {
        "Id": GUID,
        "UserPrincipalName": "jane@contoso.com",
        "OnPremisesSyncEnabled": True,
        "OnPremisesImmutableId": B64,
        "OnPremisesLastSyncDateTime": "2025-11-21T10:00:00Z",
        "DeletedDateTime": None,
        "SkuIds": [GUID2.upper(), ""],
        "ExchangePlans": "EXCHANGE_S_ENTERPRISE",
    }
    deleted = {"Id": GUID2, "DeletedDateTime": "2025-11-20T10:00:00Z"}
    read = NORMALISERS["graph"](
        {
            "Organization": [{"OnPremisesSyncEnabled": "True", "OnPremisesLastSyncDateTime": "2025-11-21T09:30:00Z"}],
            "User": user,
            "DeletedUsers": [deleted, deleted],
        }
    )
    assert read["tenant_syncs"] is True and read["tenant_last_sync"] == "2025-11-21T09:30:00+00:00"
    assert read["user"] == {
        "id": GUID,
        "upn": "jane@contoso.com",
        "sync_enabled": True,
        "immutable_id": B64,
        "last_sync": "2025-11-21T10:00:00+00:00",
        "deleted_at": None,
        "sku_ids": [GUID2],
        "exchange_plans": ["EXCHANGE_S_ENTERPRISE"],
    }
    assert [u["deleted_at"] for u in read["deleted_users"]] == ["2025-11-20T10:00:00+00:00"] * 2
    assert read["deleted_users"][0]["sync_enabled"] is None and read["deleted_users"][0]["sku_ids"] == []
    nothing = NORMALISERS["graph"]({})
    assert nothing == {"tenant_syncs": None, "tenant_last_sync": None, "user": None, "deleted_users": []}
    assert NORMALISERS["graph"]({"Organization": {"OnPremisesSyncEnabled": None}})["tenant_syncs"] is False


def test_every_active_directory_field_is_kept_under_its_name():
    obj = {
        "DistinguishedName": "CN=Jane,OU=Users,DC=contoso,DC=com",
        "UserPrincipalName": "jane@contoso.com",
        "ObjectGUID": GUID,
        "ObjectGUIDBase64": B64,
        "ConsistencyGuid": B64,
        "LastKnownParent": "OU=Users,DC=contoso,DC=com",
        "msExchMailboxGuid": GUID2,
        "WhenChanged": "2025-11-21T10:00:00Z",
        "isDeleted": "True",
    }
    read = NORMALISERS["ad"]({"User": obj, "Deleted": [obj], "RecycleBin": [{"Enabled": True}]})
    assert read["user"] == {
        "dn": "CN=Jane,OU=Users,DC=contoso,DC=com",
        "upn": "jane@contoso.com",
        "object_guid": GUID,
        "object_guid_base64": B64,
        "consistency_guid": B64,
        "last_known_parent": "OU=Users,DC=contoso,DC=com",
        "mailbox_guid": GUID2,
        "when_changed": "2025-11-21T10:00:00+00:00",
        "is_deleted": True,
    }
    assert read["deleted"] == [read["user"]] and read["recycle_bin"] is True
    bare = NORMALISERS["ad"]({"User": {"ObjectGUID": GUID}})
    assert bare["user"]["object_guid_base64"] is None and bare["user"]["consistency_guid"] is None
    assert bare["user"]["is_deleted"] is False and bare["deleted"] == [] and bare["recycle_bin"] is False


@pytest.mark.parametrize(
    "place, data, message",
    [
        ("exo", {"Active": {"ExchangeGuid": ""}}, "ExchangeGuid of mailbox 1 is missing"),
        ("exo", {"Active": [a_mailbox(), a_mailbox(ExchangeGuid="nope")]}, "ExchangeGuid of mailbox 2 is not a GUID"),
        ("exo", {"Active": a_mailbox(ArchiveGuid=7)}, "ArchiveGuid of mailbox 1 is not a GUID"),
        ("exo", {"Active": a_mailbox(ArchiveStatus="x" * 41)}, "ArchiveStatus of mailbox 1 is 41 characters long"),
        ("exo", {"Active": a_mailbox(Alias="x" * 65)}, "Alias of mailbox 1 is 65 characters long"),
        ("exo", {"Active": a_mailbox(Name=["x"])}, "Name of mailbox 1 is not text"),
        ("exo", {"Active": a_mailbox(AuxArchive="yes")}, "AuxArchive of mailbox 1 is not True or False"),
        ("exo", {"Active": a_mailbox(WhenCreated="yesterday")}, "WhenCreated of mailbox 1 is not a date"),
        ("exo", {"Active": a_mailbox(WhenCreated="2" * 41)}, "WhenCreated of mailbox 1 is not a date"),
        ("exo", {"Active": a_mailbox(WhenCreated=20240102)}, "WhenCreated of mailbox 1 is not a date"),
        ("exo", {"Active": a_mailbox(InPlaceHolds=["h"] * 101)}, "InPlaceHolds of mailbox 1 has 101 entries"),
        ("exo", {"Active": [a_mailbox()] * 21}, "Active has 21 entries; at most 20 are read"),
        ("exo", {"SoftDeleted": ["not an object"]}, "SoftDeleted is not a list of objects"),
        ("exo", {"Active": a_mailbox(), "Stats": {"MailboxGuid": GUID, "ItemCount": "12a"}}, "ItemCount is not a number"),
        ("exo", {"Active": a_mailbox(), "Stats": {"MailboxGuid": GUID, "ItemCount": True}}, "ItemCount is not a number"),
        ("exo", {"Active": a_mailbox(), "Stats": {"MailboxGuid": GUID, "ItemCount": 1.5}}, "ItemCount is not a number"),
        ("exo", {"Active": a_mailbox(), "Stats": {"MailboxGuid": GUID, "ItemCount": "1" * 13}}, "ItemCount is not a number"),
        ("exo", {"User": {"UserPrincipalName": "jane"}}, NOT_A_UPN),
        ("exo", {"User": {"UserPrincipalName": "ja ne@contoso.com"}}, NOT_A_UPN),
        ("exo", {"User": {"UserPrincipalName": "x@" + "c" * 299}}, "UserPrincipalName of the user is 301 characters long"),
        ("graph", {"User": {"Id": None}}, "Id of the user is missing"),
        (
            "graph",
            {"User": {"Id": GUID, "OnPremisesImmutableId": "not base64!"}},
            "OnPremisesImmutableId of the user is not an ImmutableId",
        ),
        ("graph", {"DeletedUsers": [{"Id": GUID}, {"Id": GUID, "SkuIds": "x"}]}, "a SkuId of deleted user 2 is not a GUID"),
        ("ad", {"User": {"ObjectGUID": GUID, "ConsistencyGuid": "???"}}, "ConsistencyGuid of the AD user is not base64"),
        (
            "ad",
            {"Deleted": {"ObjectGUID": GUID, "ObjectGUIDBase64": "a b"}},
            "ObjectGUIDBase64 of deleted object 1 is not base64",
        ),
        ("ad", {"User": {"ObjectGUID": GUID, "isDeleted": 1}}, "isDeleted of the AD user is not True or False"),
    ],
)
def test_a_malformed_field_is_refused_by_name(place, data, message):
    with pytest.raises(ShapeError) as refused:
        NORMALISERS[place](data)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "value, moment",
    [
        (None, None),
        ("", None),
        ("2025-11-21T10:00:00Z", datetime(2025, 11, 21, 10, tzinfo=UTC)),
        ("2025-11-21T10:00:00", datetime(2025, 11, 21, 10, tzinfo=UTC)),  # no zone: UTC
        ("2025-11-21T12:00:00+02:00", datetime(2025, 11, 21, 10, tzinfo=UTC)),
        (" 2025-11-21T10:00:00.1234567Z ", datetime(2025, 11, 21, 10, 0, 0, 123456, tzinfo=UTC)),
        ("\\/Date(1764000000000)\\/", datetime(2025, 11, 24, 16, tzinfo=UTC)),
        ("/Date(1764000000000+0100)/", datetime(2025, 11, 24, 16, tzinfo=UTC)),
        ("/Date(-1000)/", datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2025-11-21T10:00:00." + "0" * 19 + "Z", datetime(2025, 11, 21, 10, tzinfo=UTC)),  # 40 characters
    ],
)
def test_dates_as_the_scripts_print_them(value, moment):
    assert parse_time(value, "d") == moment


@pytest.mark.parametrize("value", ["2025-11-21T10:00:00." + "0" * 20 + "Z", "/Date(9999999999999999)/", "soon", 5, []])
def test_anything_else_is_not_a_date(value):
    with pytest.raises(ShapeError, match=r"^When is not a date$"):
        parse_time(value, "When")


def test_shown_strips_controls_collapses_whitespace_and_cuts():
    assert shown("a\u202eb\u200bc\x07d\u2028e\u2029f\ue000g") == "abcdefg"
    assert shown("  two\t\n words  ") == "two words"
    assert shown(None) == "" and shown(0) == "" and shown(12) == "12"
    assert shown("x" * 120) == "x" * 120
    assert shown("x" * 121) == "x" * 119 + "…"
    assert shown("abcdef", 4) == "abc…"


def test_split_errors_tells_not_found_from_not_checked():
    errors = [
        "Get-Mailbox : The operation couldn't be performed because object 'jane' couldn't be found.",
        "Get-MgUser : Resource 'jane' does not exist. Request_ResourceNotFound",
        "Get-ADUser : Cannot find an object with identity: 'jane'",
        "Get-Mailbox : Access denied",
    ]
    assert split_errors(errors) == (errors[:3], errors[3:])
    assert MAX_ITEMS == 20
