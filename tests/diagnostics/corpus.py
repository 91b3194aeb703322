"""A corpus of diagnostic outputs, written in the exact shape the scripts in
bot/diagnostics/scripts.toml print (ConvertTo-Json -Compress of the same ordered hashtables,
Microsoft's property names), one per leaf A1-C9 and one per state the three answers miss, with
the console noise an admin's paste carries around the marker line. Plus a malformed and hostile
corpus, each with the problem code it must be refused with.

Every case is: the pastes per place, the leaf (or situation) it must reach, the values it must
fill in. Time is fixed: READ_AT is 'now' for the tests (NOW).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.diagnostics.reading import merge, read_paste
from bot.playbook import load_playbook
from tests.harness import TENANT

NOW = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
READ_AT = "2026-11-25T14:02:11.4570000Z"
UPN = "o'brien@contoso.com"
MARKER = "MAILBOX-RECOVERY-DIAG"
OTHER_TENANT = "0c1e7f7a-1111-4a3b-8c9d-5e6f7a8b9c0d"

# Identities of the corpus (GUIDs as Exchange and Graph print them).
USER_ID = "5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"  # the Entra user (and its deleted copy)
NEW_USER_ID = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"  # a user created again with the same name
OLD_GUID = "1d5e3c2b-7a8f-4e6d-9b0a-3c4d5e6f7a8b"  # the mailbox to recover
NEW_GUID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"  # a newer, active mailbox
SECOND_GUID = "2b3c4d5e-6f70-4a81-9b2c-3d4e5f6a7b8c"  # a second soft-deleted mailbox
ARCHIVE_GUID = "4c5d6e7f-8091-4a2b-8c3d-4e5f6a7b8c9d"
AD_GUID = "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9"
IMMUTABLE_ID = "bVxKOn5/kUCis8TV5vqLuQ=="
LEGACY_DN = "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=1d5e3c2b7a8f-obrien"
SKU = "05e9a617-0261-4cee-bb44-138d3ef5d965"
DELETED_AT = "2026-11-20T09:15:00.0000000Z"
SOFT_DELETED_AT = "2026-11-20T09:45:12.0000000Z"

CONSOLE_BEFORE = (
    "PS C:\\Users\\admin> $upn = 'o''brien@contoso.com'\nWARNING: Please use Get-EXOMailbox for better performance.\n"
)
CONSOLE_AFTER = "\nPS C:\\Users\\admin> "


def line(place: str, payload: dict, version: str = "1") -> str:
    return f"{MARKER} {version} {place} " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def mailbox(
    guid: str = OLD_GUID,
    *,
    owner: str | None = USER_ID,
    deleted: str | None = None,
    created: str = "2024-03-02T10:00:00.0000000Z",
    inactive: bool = False,
    aux: bool = False,
    archive: bool = False,
    hold: bool = False,
    name: str = "O'Brien, Oisín",
) -> dict:
    return {
        "Name": name,
        "DisplayName": "Oisín O'Brien",
        "Alias": "obrien",
        "MicrosoftOnlineServicesID": UPN,
        "ExternalDirectoryObjectId": owner or "",
        "LegacyExchangeDN": LEGACY_DN
        if guid == OLD_GUID
        else f"/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={guid[:8]}-obrien",
        "ArchiveStatus": "Active" if archive or aux else "None",
        "IsInactiveMailbox": inactive,
        "LitigationHoldEnabled": hold,
        "PrimarySmtpAddress": UPN,
        "RecipientTypeDetails": "UserMailbox",
        "ExchangeGuid": guid,
        "ArchiveGuid": ARCHIVE_GUID if archive or aux else "00000000-0000-0000-0000-000000000000",
        "AuxArchive": aux,
        "InPlaceHolds": ["mbx7d3c1e0c2f4a4b6e9c8d7e6f5a4b3c2d:2"] if hold else [],
        "EmailAddresses": f"SMTP:{UPN};smtp:obrien@contoso.onmicrosoft.com",
        "WhenCreated": created,
        "WhenSoftDeleted": deleted,
    }


def exo(
    active=(),
    soft=(),
    inactive=(),
    user_kind: str | None = "UserMailbox",
    *,
    tenant: str = TENANT,
    upn: str = UPN,
    read_at: str = READ_AT,
    errors=(),
    user_id: str | None = USER_ID,
) -> str:
    stats = [
        {
            "ItemCount": 1520 + n * 700,
            "MailboxGuid": m["ExchangeGuid"],
            "TotalItemSize": f"{1.2 + n:.1f} GB ({1288490188 + n:,} bytes)",
        }
        for n, m in enumerate(soft)
    ]
    recipients = [
        {
            "RecipientTypeDetails": m["RecipientTypeDetails"],
            "PrimarySmtpAddress": UPN,
            "ExchangeGuid": m["ExchangeGuid"],
            "WhenSoftDeleted": m["WhenSoftDeleted"],
        }
        for m in [*active, *soft]
    ]
    user = (
        []
        if user_kind is None
        else [
            {
                "UserPrincipalName": upn,
                "ExternalDirectoryObjectId": user_id,
                "RecipientTypeDetails": user_kind,
                "WhenChanged": "2026-11-22T08:00:00.0000000Z",
            }
        ]
    )
    return line(
        "exo",
        {
            "Upn": upn,
            "ReadAt": read_at,
            "TenantId": tenant,
            "ReadBy": "admin@contoso.onmicrosoft.com",
            "Active": list(active),
            "SoftDeleted": list(soft),
            "Inactive": list(inactive),
            "Stats": stats,
            "Recipients": recipients,
            "User": user,
            "Errors": list(errors),
        },
    )


def entra_user(
    user_id: str = USER_ID, *, synced: bool = False, deleted: str | None = None, licensed: bool = True, exchange: str = "Enabled"
) -> dict:
    prefix = user_id.replace("-", "") if deleted else ""
    return {
        "Id": user_id,
        "UserPrincipalName": prefix + UPN,
        "OnPremisesSyncEnabled": True if synced else None,
        "OnPremisesImmutableId": IMMUTABLE_ID if synced else None,
        "OnPremisesLastSyncDateTime": "2026-11-19T22:30:00.0000000Z" if synced else None,
        "DeletedDateTime": deleted,
        "SkuIds": [SKU] if licensed else [],
        "ExchangePlans": [exchange] if licensed else [],
    }


def graph(
    user: dict | None = None, deleted=(), *, tenant_syncs: bool = False, tenant: str = TENANT, read_at: str = READ_AT, errors=()
) -> str:
    return line(
        "graph",
        {
            "Upn": UPN,
            "ReadAt": read_at,
            "TenantId": tenant,
            "ReadBy": "admin@contoso.onmicrosoft.com",
            "Organization": [
                {
                    "Id": tenant,
                    "OnPremisesSyncEnabled": True if tenant_syncs else None,
                    "OnPremisesLastSyncDateTime": "2026-11-25T13:40:00.0000000Z" if tenant_syncs else None,
                }
            ],
            "User": [user] if user else [],
            "DeletedUsers": list(deleted),
            "Errors": list(errors),
        },
    )


def ad_object(*, deleted: bool = False, hybrid: bool = False) -> dict:
    cn = "Oisín O'Brien" + ("\\0ADEL:" + AD_GUID if deleted else "")
    return {
        "DistinguishedName": f"CN={cn},{'CN=Deleted Objects,' if deleted else 'OU=Staff,'}DC=contoso,DC=com",
        "UserPrincipalName": UPN,
        "isDeleted": True if deleted else None,
        "ObjectGUID": AD_GUID,
        "LastKnownParent": "OU=Staff,DC=contoso,DC=com" if deleted else "",
        "msExchMailboxGuid": OLD_GUID if hybrid else None,
        "ConsistencyGuid": IMMUTABLE_ID,
        "ObjectGUIDBase64": IMMUTABLE_ID,
        "WhenChanged": "2026-11-19T17:00:00.0000000Z",
    }


def ad(user: dict | None = None, deleted=(), *, recycle_bin: bool = True, read_at: str = READ_AT) -> str:
    return line(
        "ad",
        {
            "Upn": UPN,
            "ReadAt": read_at,
            "User": [user] if user else [],
            "Deleted": list(deleted),
            "RecycleBin": [{"Name": "Recycle Bin Feature", "Enabled": recycle_bin}],
            "Errors": [],
        },
    )


def console(*lines: str) -> str:
    """A paste as it comes from the console: a prompt and a warning around the marker line(s)."""
    return CONSOLE_BEFORE + "\n".join(lines) + CONSOLE_AFTER


@dataclass
class Case:
    pastes: dict[str, str]  # place -> the admin's paste (console text)
    leaf: str  # the leaf it reaches (R1/L1/AUX for the situations)
    answers: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # values the steps get pre-filled
    sub_answers: dict[str, str] = field(default_factory=dict)
    choose: str | None = None  # several soft-deleted mailboxes: the ExchangeGuid the admin picks
    synced: bool = False


ANSWERS = {"A": "deleted", "B": "present", "C": "none"}
_PLAYBOOK = load_playbook()


def leaf_case(leaf_id: str) -> Case:
    """The pastes an admin in scenario leaf_id gets back from the three diagnostics."""
    answers = _PLAYBOOK.leaves[leaf_id].answers
    onprem, entra, state = answers["onprem"], answers["entra"], answers["mailbox"]
    synced = onprem != "none"
    values: dict[str, str] = {}
    # Entra
    if entra == "present":
        graph_paste = graph(entra_user(synced=synced), tenant_syncs=True)
        values["object_id"] = USER_ID
    elif entra == "soft_deleted":
        graph_paste = graph(None, [entra_user(synced=synced, deleted=DELETED_AT)], tenant_syncs=True)
        values["object_id"] = USER_ID
    else:
        graph_paste = graph(None, [], tenant_syncs=synced)
    if synced and entra != "hard_deleted":
        values["immutable_id"] = IMMUTABLE_ID
    # Mailbox
    owner = USER_ID
    if state == "present":
        exo_paste = exo(active=[mailbox(OLD_GUID, owner=owner)])
        values["target_exchange_guid"] = OLD_GUID
    elif state == "soft_deleted":
        exo_paste = exo(
            soft=[mailbox(OLD_GUID, owner=owner, deleted=SOFT_DELETED_AT)], user_kind=None if entra != "present" else "User"
        )
        values.update(exchange_guid=OLD_GUID, legacy_dn=LEGACY_DN, name="O'Brien, Oisín")
    else:
        exo_paste = exo(user_kind="User" if entra == "present" else None)
    pastes = {"exo": console(exo_paste), "graph": console(graph_paste)}
    if synced:
        if onprem == "present":
            pastes["ad"] = console(ad(ad_object()))
        else:
            pastes["ad"] = console(ad(None, [ad_object(deleted=True)]))
    answers = {"onprem": onprem, "entra": entra, "mailbox": state}
    sub = {"inactive": "false"} if state == "soft_deleted" else {}
    if entra == "soft_deleted":
        sub["has_license"] = "yes"
    return Case(pastes, leaf_id, answers, values, sub, synced=synced)


LEAVES = [f"{letter}{n}" for letter in "ABC" for n in range(1, 10)]
CORPUS: dict[str, Case] = {leaf_id: leaf_case(leaf_id) for leaf_id in LEAVES}

# The states the three answers miss.
CORPUS["recreated_user"] = Case(
    {
        "exo": console(
            exo(
                active=[mailbox(NEW_GUID, owner=NEW_USER_ID, created="2026-11-22T08:12:00.0000000Z")],
                soft=[mailbox(OLD_GUID, owner=USER_ID, deleted=SOFT_DELETED_AT)],
                user_id=NEW_USER_ID,
            )
        ),
        "graph": console(graph(entra_user(NEW_USER_ID))),
    },
    "R1",
    {"onprem": "none", "entra": "present", "mailbox": "present"},
    {"exchange_guid": OLD_GUID, "target_exchange_guid": NEW_GUID, "legacy_dn": LEGACY_DN, "object_id": NEW_USER_ID},
    {"inactive": "false"},
)
CORPUS["recreated_user_inactive"] = Case(
    {
        "exo": console(
            exo(
                active=[mailbox(NEW_GUID, owner=NEW_USER_ID, created="2026-11-22T08:12:00.0000000Z")],
                soft=[mailbox(OLD_GUID, owner=USER_ID, deleted="2026-08-01T10:00:00.0000000Z", inactive=True, hold=True)],
                inactive=[mailbox(OLD_GUID, owner=USER_ID, deleted="2026-08-01T10:00:00.0000000Z", inactive=True, hold=True)],
                user_id=NEW_USER_ID,
            )
        ),
        "graph": console(graph(entra_user(NEW_USER_ID))),
    },
    "R1",
    {"onprem": "none", "entra": "present", "mailbox": "present"},
    {"exchange_guid": OLD_GUID, "target_exchange_guid": NEW_GUID, "legacy_dn": LEGACY_DN},
    {"inactive": "true"},
)
CORPUS["license_removed"] = Case(
    {
        "exo": console(exo(user_kind="DisabledUser")),
        "graph": console(graph(entra_user(licensed=True, exchange="Deleted"))),
    },
    "L1",
    {"onprem": "none", "entra": "present", "mailbox": "not_present"},
    {"object_id": USER_ID},
)
CORPUS["cloud_user_in_synced_tenant"] = Case(
    {
        "exo": console(exo(soft=[mailbox(OLD_GUID, deleted=SOFT_DELETED_AT)], user_kind=None)),
        "graph": console(graph(None, [entra_user(deleted=DELETED_AT)], tenant_syncs=True)),
    },
    "C6",
    {"onprem": "none", "entra": "soft_deleted", "mailbox": "soft_deleted"},
    {"exchange_guid": OLD_GUID, "object_id": USER_ID},
    {"inactive": "false", "has_license": "yes"},
)
CORPUS["several_soft_deleted"] = Case(
    {
        "exo": console(
            exo(
                soft=[
                    mailbox(SECOND_GUID, deleted="2026-11-23T16:00:00.0000000Z", owner="8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e"),
                    mailbox(OLD_GUID, deleted=SOFT_DELETED_AT),
                ],
                user_kind=None,
            )
        ),
        "graph": console(graph(None, [])),
    },
    "C8",
    {"onprem": "none", "entra": "hard_deleted", "mailbox": "soft_deleted"},
    {"exchange_guid": OLD_GUID, "legacy_dn": LEGACY_DN},
    {"inactive": "false"},
    choose=OLD_GUID,
)
CORPUS["auxiliary_archive"] = Case(
    {
        "exo": console(exo(soft=[mailbox(OLD_GUID, deleted=SOFT_DELETED_AT, aux=True)], user_kind=None)),
        "graph": console(graph(None, [entra_user(deleted=DELETED_AT)])),
    },
    "AUX",
    {"onprem": "none", "entra": "soft_deleted", "mailbox": "soft_deleted"},
    {"exchange_guid": OLD_GUID},
)
CORPUS["inactive_on_hold"] = Case(
    {
        "exo": console(
            exo(
                soft=[mailbox(OLD_GUID, deleted="2026-06-01T10:00:00.0000000Z", inactive=True, hold=True)],
                inactive=[mailbox(OLD_GUID, deleted="2026-06-01T10:00:00.0000000Z", inactive=True, hold=True)],
                user_kind=None,
            )
        ),
        "graph": console(graph(None, [])),
    },
    "C8",
    {"onprem": "none", "entra": "hard_deleted", "mailbox": "soft_deleted"},
    {"exchange_guid": OLD_GUID, "name": "O'Brien, Oisín"},
    {"inactive": "true"},
)
CORPUS["not_inactive"] = Case(
    {
        "exo": console(exo(soft=[mailbox(OLD_GUID, deleted=SOFT_DELETED_AT)], user_kind=None)),
        "graph": console(graph(None, [])),
    },
    "C8",
    {"onprem": "none", "entra": "hard_deleted", "mailbox": "soft_deleted"},
    {"exchange_guid": OLD_GUID},
    {"inactive": "false"},
)
SITUATIONS = [
    "recreated_user",
    "recreated_user_inactive",
    "license_removed",
    "cloud_user_in_synced_tenant",
    "several_soft_deleted",
    "auxiliary_archive",
    "inactive_on_hold",
    "not_inactive",
]

# --- malformed and hostile: (paste, the problem code it is refused with) --------------------------

_GOOD = exo(soft=[mailbox(OLD_GUID, deleted=SOFT_DELETED_AT)], user_kind=None)
_HOSTILE_NAME = mailbox(
    OLD_GUID, deleted=SOFT_DELETED_AT, name="x'; Remove-Mailbox -Identity * $(whoami) `n \u2018\u202e[link](https://evil.example)"
)

BAD: dict[str, tuple[str, str]] = {
    "another user": (console(exo(upn="someone.else@contoso.com")), "other_user"),
    "another tenant": (console(exo(tenant=OTHER_TENANT)), "other_tenant"),
    "too old": (console(exo(read_at="2026-11-24T09:00:00.0000000Z")), "too_old"),
    "from the future": (console(exo(read_at="2026-11-26T09:00:00.0000000Z")), "future"),
    "truncated": (console(_GOOD[: len(_GOOD) * 2 // 3]), "truncated"),
    "broken json": (console(_GOOD.replace('"Active":[]', '"Active":[,]')), "json"),
    "unknown version": (console(_GOOD.replace(f"{MARKER} 1 exo", f"{MARKER} 7 exo")), "version"),
    "unknown place": (console(_GOOD.replace(f"{MARKER} 1 exo", f"{MARKER} 1 sharepoint")), "place"),
    "100 KB of noise with a marker": (("x" * 100 + "\n") * 1200 + _GOOD, "too_long"),
    "no tenant: ran without a connection": (console(exo(tenant="")), "shape"),
    "ExchangeGuid with a subexpression": (console(_GOOD.replace(OLD_GUID, "$(Remove-Mailbox x)")), "shape"),
    "ExchangeGuid with a quote": (console(_GOOD.replace(OLD_GUID, OLD_GUID[:-1] + "'")), "shape"),
    "WhenSoftDeleted not a date": (console(_GOOD.replace(SOFT_DELETED_AT, "`whoami`")), "shape"),
    "Upn with a newline": (console(_GOOD.replace(json.dumps(UPN)[1:-1], "o'brien@contoso.com\\nSet-Mailbox")), "shape"),
    "Upn with an RTL override": (console(_GOOD.replace(json.dumps(UPN)[1:-1], "o'brien@contoso.com\\u202e")), "shape"),
    "ImmutableId with smart quotes": (
        console(graph(None, [{**entra_user(synced=True, deleted=DELETED_AT), "OnPremisesImmutableId": "\u2018; rm\u2019"}])),
        "shape",
    ),
    "a list where an object belongs": (console(_GOOD.replace('"User":[]', '"User":[["nested"]]')), "shape"),
    "too many mailboxes": (console(exo(soft=[mailbox(OLD_GUID, deleted=SOFT_DELETED_AT)] * 25, user_kind=None)), "shape"),
    "deeply nested json": (console(f"{MARKER} 1 exo " + "[" * 5000 + "]" * 5000), "json"),
}
# Hostile text in a field with no shape (a name): read, never rendered as Markdown, never unquoted.
HOSTILE_NAME_PASTE = console(exo(soft=[_HOSTILE_NAME], user_kind=None))
NO_MARKER = (
    "Get-Mailbox : The operation couldn't be performed because object 'o'brien@contoso.com' couldn't be found on "
    "'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'."
)

def read_all(case: Case, order: list[str] | None = None) -> dict:
    """The evidence the case's pastes give, read and merged in `order` (each must read cleanly)."""
    evidence: dict = {}
    for place in order or case.pastes:
        reading = read_paste(case.pastes[place], upn=UPN, now=NOW, tenant_id=TENANT)
        assert reading.problems == [], reading.problems
        assert list(reading.readings) == [place]
        evidence, notes = merge(evidence, reading)
        assert notes == []
    if case.choose:
        evidence["choice"] = {"exchange_guid": case.choose}
    return evidence
