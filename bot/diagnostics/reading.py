"""Reading what the admin pastes back: the diagnostics' marker lines, found among anything else,
checked and normalised into evidence (plain JSON) that a case keeps.

The paste is untrusted text. Sizes are capped before anything is parsed; a marker line for another
user or tenant, too old, cut short, with broken JSON, an unknown format version or a value of the
wrong shape is refused with a message that says which, and nothing of it reaches the case. Text
values (names, LegacyExchangeDN) are kept as written but capped; they reach a card only through
`shown` and a command only through the playbook's validation and quoting.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnostics.scripts import PLACES, default_scripts

MAX_PASTE_CHARS = 120_000  # Teams itself caps a message near 28 KB; anything longer is refused unread
MAX_LINE_CHARS = 48_000  # one marker line's JSON
MAX_MARKERS = 6
MAX_ITEMS = 20  # mailboxes, deleted users, errors... per list
MAX_TEXT = 512
MAX_ERRORS_KEPT = 10
KNOWN_VERSIONS = (1,)
DEFAULT_MAX_AGE = timedelta(hours=2)
FUTURE_SLACK = timedelta(minutes=10)
PLACE_NAMES = {"exo": "Exchange Online", "graph": "Microsoft Graph", "ad": "Active Directory"}
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})\}?$")
_MS_DATE = re.compile(r"^/Date\((-?\d{1,15})(?:[+-]\d{4})?\)/$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]{4,64}={0,2}$")
# Errors that mean "not found here": an answer, not a failure to look.
NOT_FOUND = (
    "couldn't be found",
    "could not be found",
    "couldn't find",
    "request_resourcenotfound",
    "resourcenotfound",
    "does not exist",
    "managementobjectnotfound",
    "cannot find an object with identity",
)


def marker_re() -> re.Pattern[str]:
    scripts = default_scripts()
    return re.compile(re.escape(scripts.marker) + r"[ \t]+(\S{1,12})[ \t]+(\S{1,12})[ \t]*")


def shown(value: Any, limit: int = 120) -> str:
    """A pasted value as a card may show it: control, format (bidi overrides, zero-width) and
    line/paragraph separator characters removed, whitespace collapsed, cut to `limit`."""
    text = "".join(ch for ch in str(value or "") if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs"))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    # too_long | too_many | version | place | truncated | json | shape | other_user | other_tenant | too_old | future
    code: str
    message: str  # for the admin; pasted values in it went through `shown`
    place: str | None = None


@dataclass(frozen=True)
class Reading:
    place: str
    read_at: datetime
    data: dict[str, Any]  # normalised evidence for the place (plain JSON)


@dataclass
class PasteReading:
    readings: dict[str, Reading] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    markers: int = 0  # marker lines seen (read or refused)

    @property
    def found(self) -> bool:
        return self.markers > 0


class ShapeError(ValueError):
    """A value in a marker line is not what the diagnostic prints; the message names it."""


# --- values ----------------------------------------------------------------------------------


def _guid(value: Any, what: str, required: bool = False) -> str | None:
    if value in (None, "", "00000000-0000-0000-0000-000000000000"):
        if required:
            raise ShapeError(f"{what} is missing")
        return None
    match = _GUID.match(value) if isinstance(value, str) else None
    if not match:
        raise ShapeError(f"{what} is not a GUID")
    return match.group(1).lower()


def _text(value: Any, what: str, limit: int = MAX_TEXT) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, bool)):
        value = str(value)
    if not isinstance(value, str):
        raise ShapeError(f"{what} is not text")
    if len(value) > limit:
        raise ShapeError(f"{what} is {len(value):,} characters long")
    return value


def _bool(value: Any, what: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ShapeError(f"{what} is not True or False")


def _int(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"\d{1,12}", str(value)):
        raise ShapeError(f"{what} is not a number")
    return int(value)


def parse_time(value: Any, what: str) -> datetime | None:
    """ISO 8601 (as the scripts print), or Windows PowerShell 5.1's \\/Date(ms)\\/; always UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ShapeError(f"{what} is not a date")
    ms = _MS_DATE.match(value.replace("\\/", "/"))
    try:
        if ms:
            return datetime.fromtimestamp(int(ms.group(1)) / 1000, UTC)
        # .NET's round-trip format has 7 fractional digits; Python reads at most 6.
        cleaned = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
        moment = datetime.fromisoformat(cleaned)
    except (ValueError, OverflowError, OSError) as exc:
        raise ShapeError(f"{what} is not a date") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(value: Any, what: str) -> str | None:
    moment = parse_time(value, what)
    return moment.isoformat() if moment else None


def _strings(value: Any, what: str, limit: int = MAX_TEXT) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_ITEMS * 5:
        raise ShapeError(f"{what} has {len(items)} entries")
    return [t for t in (_text(v, what, limit) for v in items) if t]


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A list of objects as ConvertTo-Json writes @(...): a list, one object, or null."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_ITEMS:
        raise ShapeError(f"{what} has {len(items)} entries; at most {MAX_ITEMS} are read")
    if not all(isinstance(i, Mapping) for i in items):
        raise ShapeError(f"{what} is not a list of objects")
    return items


def _upn(value: Any, what: str) -> str | None:
    text = _text(value, what, 300)
    if text is not None and ("@" not in text or any(unicodedata.category(c)[0] in "CZ" for c in text)):
        raise ShapeError(f"{what} is not a user principal name")
    return text


# --- one place at a time -----------------------------------------------------------------------


def _mailbox(raw: Mapping[str, Any], state: str, n: int) -> dict[str, Any]:
    what = f"mailbox {n}"
    return {
        "state": state,
        "exchange_guid": _guid(raw.get("ExchangeGuid"), f"ExchangeGuid of {what}", required=True),
        "archive_guid": _guid(raw.get("ArchiveGuid"), f"ArchiveGuid of {what}"),
        "archive_status": _text(raw.get("ArchiveStatus"), f"ArchiveStatus of {what}", 40),
        "aux_archive": bool(_bool(raw.get("AuxArchive"), f"AuxArchive of {what}")),
        "when_created": _iso(raw.get("WhenCreated"), f"WhenCreated of {what}"),
        "when_soft_deleted": _iso(raw.get("WhenSoftDeleted"), f"WhenSoftDeleted of {what}"),
        "is_inactive": bool(_bool(raw.get("IsInactiveMailbox"), f"IsInactiveMailbox of {what}")),
        "external_directory_object_id": _guid(raw.get("ExternalDirectoryObjectId"), f"ExternalDirectoryObjectId of {what}"),
        "legacy_dn": _text(raw.get("LegacyExchangeDN"), f"LegacyExchangeDN of {what}"),
        "litigation_hold": bool(_bool(raw.get("LitigationHoldEnabled"), f"LitigationHoldEnabled of {what}")),
        "in_place_holds": _strings(raw.get("InPlaceHolds"), f"InPlaceHolds of {what}", 200)[:MAX_ITEMS],
        "primary_smtp": _text(raw.get("PrimarySmtpAddress"), f"PrimarySmtpAddress of {what}", 320),
        "recipient_type_details": _text(raw.get("RecipientTypeDetails"), f"RecipientTypeDetails of {what}", 60),
        "name": _text(raw.get("Name"), f"Name of {what}", 256),
        "display_name": _text(raw.get("DisplayName"), f"DisplayName of {what}", 256),
        "alias": _text(raw.get("Alias"), f"Alias of {what}", 64),
        "online_services_id": _text(raw.get("MicrosoftOnlineServicesID"), f"MicrosoftOnlineServicesID of {what}", 320),
        "email_addresses": _text(raw.get("EmailAddresses"), f"EmailAddresses of {what}", 8000),
        "item_count": None,
        "total_item_size": None,
    }


def _exo(data: Mapping[str, Any]) -> dict[str, Any]:
    mailboxes: dict[str, dict[str, Any]] = {}
    n = 0
    for key, state in (("Active", "active"), ("SoftDeleted", "soft_deleted"), ("Inactive", "soft_deleted")):
        for raw in _objects(data.get(key), key):
            n += 1
            mailbox = _mailbox(raw, state, n)
            known = mailboxes.get(mailbox["exchange_guid"])
            if known is None:
                mailboxes[mailbox["exchange_guid"]] = mailbox
            else:  # the same mailbox from -SoftDeletedMailbox and -InactiveMailboxOnly
                known["is_inactive"] = known["is_inactive"] or mailbox["is_inactive"]
    for raw in _objects(data.get("Stats"), "Stats"):
        guid = _guid(raw.get("MailboxGuid"), "MailboxGuid of the statistics")
        if guid in mailboxes:
            mailboxes[guid]["item_count"] = _int(raw.get("ItemCount"), "ItemCount")
            mailboxes[guid]["total_item_size"] = _text(raw.get("TotalItemSize"), "TotalItemSize", 80)
    recipients = [
        {
            "recipient_type_details": _text(r.get("RecipientTypeDetails"), "RecipientTypeDetails of a recipient", 60),
            "primary_smtp": _text(r.get("PrimarySmtpAddress"), "PrimarySmtpAddress of a recipient", 320),
            "exchange_guid": _guid(r.get("ExchangeGuid"), "ExchangeGuid of a recipient"),
            "when_soft_deleted": _iso(r.get("WhenSoftDeleted"), "WhenSoftDeleted of a recipient"),
        }
        for r in _objects(data.get("Recipients"), "Recipients")
    ]
    users = _objects(data.get("User"), "User")
    user = None
    if users:
        raw = users[0]
        user = {
            "upn": _upn(raw.get("UserPrincipalName"), "UserPrincipalName of the user"),
            "external_directory_object_id": _guid(raw.get("ExternalDirectoryObjectId"), "ExternalDirectoryObjectId of the user"),
            "recipient_type_details": _text(raw.get("RecipientTypeDetails"), "RecipientTypeDetails of the user", 60),
            "when_changed": _iso(raw.get("WhenChanged"), "WhenChanged of the user"),
        }
    return {"mailboxes": list(mailboxes.values()), "recipients": recipients, "user": user}


def _entra_user(raw: Mapping[str, Any], what: str) -> dict[str, Any]:
    immutable = _text(raw.get("OnPremisesImmutableId"), f"OnPremisesImmutableId of {what}", 100)
    if immutable is not None and not _BASE64.match(immutable):
        raise ShapeError(f"OnPremisesImmutableId of {what} is not an ImmutableId")
    plans = _strings(raw.get("ExchangePlans"), f"ExchangePlans of {what}", 40)
    return {
        "id": _guid(raw.get("Id"), f"Id of {what}", required=True),
        "upn": _upn(raw.get("UserPrincipalName"), f"UserPrincipalName of {what}"),
        "sync_enabled": _bool(raw.get("OnPremisesSyncEnabled"), f"OnPremisesSyncEnabled of {what}"),
        "immutable_id": immutable,
        "last_sync": _iso(raw.get("OnPremisesLastSyncDateTime"), f"OnPremisesLastSyncDateTime of {what}"),
        "deleted_at": _iso(raw.get("DeletedDateTime"), f"DeletedDateTime of {what}"),
        "sku_ids": [g for g in (_guid(s, f"a SkuId of {what}") for s in _strings(raw.get("SkuIds"), "SkuIds", 40)) if g],
        "exchange_plans": plans,
    }


def _graph(data: Mapping[str, Any]) -> dict[str, Any]:
    orgs = _objects(data.get("Organization"), "Organization")
    syncs = _bool(orgs[0].get("OnPremisesSyncEnabled"), "OnPremisesSyncEnabled of the organization") if orgs else None
    users = _objects(data.get("User"), "User")
    return {
        "tenant_syncs": bool(syncs) if orgs else None,
        "tenant_last_sync": _iso(orgs[0].get("OnPremisesLastSyncDateTime"), "OnPremisesLastSyncDateTime") if orgs else None,
        "user": _entra_user(users[0], "the user") if users else None,
        "deleted_users": [
            _entra_user(u, f"deleted user {n}") for n, u in enumerate(_objects(data.get("DeletedUsers"), "DeletedUsers"), 1)
        ],
    }


def _ad_object(raw: Mapping[str, Any], what: str) -> dict[str, Any]:
    for key in ("ConsistencyGuid", "ObjectGUIDBase64"):
        value = _text(raw.get(key), f"{key} of {what}", 100)
        if value is not None and not _BASE64.match(value):
            raise ShapeError(f"{key} of {what} is not base64")
    return {
        "dn": _text(raw.get("DistinguishedName"), f"DistinguishedName of {what}", 1024),
        "upn": _text(raw.get("UserPrincipalName"), f"UserPrincipalName of {what}", 300),
        "object_guid": _guid(raw.get("ObjectGUID"), f"ObjectGUID of {what}", required=True),
        "object_guid_base64": raw.get("ObjectGUIDBase64") or None,
        "consistency_guid": raw.get("ConsistencyGuid") or None,
        "last_known_parent": _text(raw.get("LastKnownParent"), f"LastKnownParent of {what}", 1024),
        "mailbox_guid": _guid(raw.get("msExchMailboxGuid"), f"msExchMailboxGuid of {what}"),
        "when_changed": _iso(raw.get("WhenChanged"), f"WhenChanged of {what}"),
        "is_deleted": bool(_bool(raw.get("isDeleted"), f"isDeleted of {what}")),
    }


def _ad(data: Mapping[str, Any]) -> dict[str, Any]:
    users = _objects(data.get("User"), "User")
    bins = _objects(data.get("RecycleBin"), "RecycleBin")
    return {
        "user": _ad_object(users[0], "the AD user") if users else None,
        "deleted": [_ad_object(o, f"deleted object {n}") for n, o in enumerate(_objects(data.get("Deleted"), "Deleted"), 1)],
        "recycle_bin": _bool(bins[0].get("Enabled"), "Enabled of the Recycle Bin") if bins else False,
    }


NORMALISERS = {"exo": _exo, "graph": _graph, "ad": _ad}


def split_errors(errors: list[str]) -> tuple[list[str], list[str]]:
    """(not found: answers, other errors: the place was NOT CHECKED there)."""
    found: list[str] = []
    failed: list[str] = []
    for error in errors:
        (found if any(p in error.lower() for p in NOT_FOUND) else failed).append(error)
    return found, failed


# --- the paste -----------------------------------------------------------------------------------


def _word(value: str) -> str:
    return value if value.isalnum() and value.isascii() else "unreadable"


def _plain_upn(value: str) -> str:
    """A foreign UPN named in a message only when it is a plain address; otherwise 'another user'."""
    plain = re.fullmatch(r"[A-Za-z0-9._'+-]{1,64}@[A-Za-z0-9.-]{1,100}", value)
    return value if plain else "another user"


def _when(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC on {moment.day} {moment:%b}"


def _decode(body: str) -> tuple[Any, str]:
    """(value, '') or (None, 'truncated' | 'json')."""
    joined = re.sub(r"[\r\n]+", "", body).strip()  # a console that wraps long lines adds line breaks
    if not joined.startswith("{"):
        return None, "json"
    for candidate in (joined, html.unescape(joined)):
        try:
            value, _end = json.JSONDecoder().raw_decode(candidate)
            return value, ""
        except json.JSONDecodeError:
            pass
        except RecursionError:
            return None, "json"
    return None, "json" if _closes(joined) else "truncated"


def _closes(text: str) -> bool:
    """Whether the object that starts the text is ever closed (else the line was cut short)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth <= 0:
                return True
    return False


def read_paste(
    text: str,
    *,
    upn: str,
    now: datetime,
    tenant_id: str = "",
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> PasteReading:
    """Every diagnostic line in `text`, read and checked against the case (its UPN and tenant)."""
    result = PasteReading()
    if not isinstance(text, str) or not text:
        return result
    if len(text) > MAX_PASTE_CHARS:
        result.problems.append(
            Problem(
                "too_long",
                f"That message is {len(text) // 1000} KB long, more than I read ({MAX_PASTE_CHARS // 1000} KB). "
                f"Paste only the line that starts with {default_scripts().marker}.",
            )
        )
        return result
    scripts = default_scripts()
    matches = list(marker_re().finditer(text))
    result.markers = len(matches)
    if len(matches) > MAX_MARKERS:
        result.problems.append(
            Problem("too_many", f"That message has {len(matches)} diagnostic lines; paste at most {MAX_MARKERS} at a time.")
        )
        return result
    for index, match in enumerate(matches):
        version, place = match.group(1), match.group(2)
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        name = PLACE_NAMES.get(place, "a diagnostic")
        if not version.isdigit() or int(version) not in KNOWN_VERSIONS:
            result.problems.append(
                Problem(
                    "version",
                    f"One line is another format version ({_word(version)}) of the diagnostic; I read version "
                    f"{scripts.version}. Copy the diagnostic again from my card and run that one.",
                    place if place in PLACES else None,
                )
            )
            continue
        if place not in PLACES:
            result.problems.append(
                Problem("place", f"One line names a place I do not know ({_word(place)}). Copy the diagnostic from my card.")
            )
            continue
        if len(body) > MAX_LINE_CHARS:
            body = body[:MAX_LINE_CHARS]
        value, failure = _decode(body)
        if failure:
            message = (
                f"The {name} line is cut short: copy the whole line (it ends with }}) and paste it again."
                if failure == "truncated"
                else f"The {name} line is not what the diagnostic prints (its JSON is broken). Run the diagnostic "
                f"again and paste its output unchanged."
            )
            result.problems.append(Problem(failure, message, place))
            continue
        problem = _check(value, place, upn=upn, tenant_id=tenant_id, now=now, max_age=max_age)
        if isinstance(problem, Problem):
            result.problems.append(problem)
            continue
        known = result.readings.get(place)
        if known is None or problem.read_at > known.read_at:
            result.readings[place] = problem
    return result


def _check(value: Any, place: str, *, upn: str, tenant_id: str, now: datetime, max_age: timedelta) -> Problem | Reading:
    name = PLACE_NAMES[place]
    if not isinstance(value, Mapping):
        return Problem(
            "json", f"The {name} line is not what the diagnostic prints. Run it again and paste its output unchanged.", place
        )
    try:
        asked = _upn(value.get("Upn"), "Upn")
        read_at = parse_time(value.get("ReadAt"), "ReadAt")
        tenant = _guid(value.get("TenantId"), "TenantId") if place != "ad" else None
        errors = _strings(value.get("Errors"), "Errors", 4000)
        data = NORMALISERS[place](value)
    except ShapeError as exc:
        return Problem(
            "shape",
            f"The {name} line has a value I cannot use: {exc}. Nothing from it was kept; run the diagnostic again.",
            place,
        )
    if asked is None or read_at is None:
        return Problem(
            "shape", f"The {name} line has no {'Upn' if asked is None else 'ReadAt'}. Run the diagnostic from my card.", place
        )
    if asked.casefold() != upn.casefold():
        return Problem(
            "other_user",
            f"The {name} line is about {_plain_upn(asked)}, not {upn}. Run the diagnostic from this case's card "
            f"(it names {upn}).",
            place,
        )
    if place != "ad" and not tenant:
        return Problem(
            "shape",
            f"The {name} line names no tenant: the diagnostic ran without a connection. Connect first, then run it again.",
            place,
        )
    # Teams always names the chat's tenant by its GUID; a local chat client (the Agents Playground
    # without a configured tenant) names none that a diagnostic could match, so there is no check.
    if tenant and tenant_id and _GUID.match(tenant_id) and tenant != tenant_id.lower():
        return Problem(
            "other_tenant",
            f"The {name} line was read in another tenant ({tenant}), not this one ({tenant_id}). Connect to this "
            f"tenant and run it again.",
            place,
        )
    if read_at > now + FUTURE_SLACK:
        return Problem(
            "future",
            f"The {name} line says it was read at {_when(read_at)}, in the future. Check the computer's clock and run it again.",
            place,
        )
    if now - read_at > max_age:
        hours = (now - read_at).total_seconds() / 3600
        age = f"{hours:.0f} hours" if hours >= 2 else f"{(now - read_at).total_seconds() // 60:.0f} minutes"
        return Problem(
            "too_old",
            f"The {name} line was read at {_when(read_at)}, {age} ago; things may have changed since (a sync, a "
            f"restore). Run it again and paste the fresh output.",
            place,
        )
    _found, failed = split_errors(errors)
    data.update(
        {
            "upn": asked,
            "read_at": read_at.isoformat(),
            "tenant_id": tenant,
            "errors": [e[:MAX_TEXT] for e in failed[:MAX_ERRORS_KEPT]],
        }
    )
    return Reading(place, read_at, data)


# --- evidence: what a case keeps -------------------------------------------------------------------


def merge(evidence: Mapping[str, Any] | None, reading: PasteReading) -> tuple[dict[str, Any], list[str]]:
    """The case's evidence with the new readings in: a place's newer reading replaces an older one
    (an older one is ignored, and said). Returns (new evidence, notes for the admin)."""
    merged = {k: v for k, v in dict(evidence or {}).items()}
    notes = []
    for place, new in reading.readings.items():
        known = merged.get(place)
        known_at = parse_time(known.get("read_at"), "read_at") if known else None
        if known_at is not None and known_at > new.read_at:
            notes.append(f"The {PLACE_NAMES[place]} line is older than the one I already have; I kept the newer one.")
            continue
        merged[place] = new.data
        chosen = (merged.get("choice") or {}).get("exchange_guid")
        if place == "exo" and chosen and chosen not in {m["exchange_guid"] for m in new.data["mailboxes"]}:
            merged.pop("choice", None)  # the chosen mailbox is gone from the fresh list: choose again
    return merged, notes
