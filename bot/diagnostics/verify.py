"""The same diagnostic verifies a step: where a step asks "did it work?" (the mailbox reconnected,
the ids match, the ExchangeGuids are the same), a fresh paste answers it, with the fact it read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.diagnostics.assess import short_guid


@dataclass(frozen=True)
class Verdict:
    question: str  # the step's sub-question
    option: str  # the option the evidence answers it with
    message: str  # the fact, for the admin ("connected: ExchangeGuid 1d5e… now belongs to the user")
    ok: bool  # whether the step worked (the option continues the walkthrough)


def _active(ev: Mapping[str, Any]) -> list[dict]:
    return [m for m in ((ev.get("exo") or {}).get("mailboxes") or []) if m["state"] == "active"]


def _soft(ev: Mapping[str, Any]) -> list[dict]:
    return [m for m in ((ev.get("exo") or {}).get("mailboxes") or []) if m["state"] == "soft_deleted"]


def _user(ev: Mapping[str, Any]) -> dict | None:
    return (ev.get("graph") or {}).get("user")


def _expected_guid(before: Mapping[str, Any], values: Mapping[str, str]) -> str | None:
    if values.get("exchange_guid"):
        return values["exchange_guid"].lower()
    chosen = (before.get("choice") or {}).get("exchange_guid")
    soft = _soft(before)
    return chosen or (soft[0]["exchange_guid"] if len(soft) == 1 else None)


def _connected(question: str) -> Callable[[Mapping, Mapping, Mapping], Verdict | None]:
    def check(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
        if "exo" not in after:
            return None
        expected = _expected_guid(before, values)
        user = _user(after)
        for mailbox in _active(after):
            if expected and mailbox["exchange_guid"] != expected:
                continue
            owner = mailbox.get("external_directory_object_id")
            if user and owner and owner != user["id"]:
                return Verdict(
                    question,
                    "no",
                    f"not yet: the active mailbox {short_guid(mailbox['exchange_guid'])} belongs to another object "
                    f"({short_guid(owner)}), not the user ({short_guid(user['id'])}).",
                    False,
                )
            return Verdict(
                question, "yes", f"connected: ExchangeGuid {short_guid(mailbox['exchange_guid'])} now belongs to the user.", True
            )
        still = [m for m in _soft(after) if not expected or m["exchange_guid"] == expected]
        where = "still soft-deleted" if still else "not found in any state"
        return Verdict(question, "no", f"not connected: the mailbox {short_guid(expected)} is {where}.", False)

    return check


def _ids_match(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
    user = _user(after)
    mailboxes = _active(after) or _soft(after)
    if not user or not mailboxes or "exo" not in after:
        return None
    owner = mailboxes[0].get("external_directory_object_id")
    same = owner == user["id"]
    return Verdict(
        "ids_match",
        "yes" if same else "no",
        f"the mailbox's ExternalDirectoryObjectId {short_guid(owner)} {'is' if same else 'is not'} the user's Id "
        f"{short_guid(user['id'])}.",
        same,
    )


def _same_owner(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
    user, soft = _user(after), _soft(after)
    if not user or not soft:
        return None
    owner = soft[0].get("external_directory_object_id")
    same = owner == user["id"]
    return Verdict(
        "same_owner",
        "yes" if same else "no",
        f"ExternalDirectoryObjectId {short_guid(owner)}, user Id {short_guid(user['id'])}.",
        True,
    )


def _deleted_user_found(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
    mailboxes = _active(after) or _soft(after)
    graph = after.get("graph")
    if not mailboxes or graph is None:
        return None
    owner = mailboxes[0].get("external_directory_object_id")
    found = any(u["id"] == owner for u in graph.get("deleted_users") or [])
    return Verdict(
        "deleted_user_found",
        "yes" if found else "no",
        f"{'a' if found else 'no'} deleted user has the mailbox's ExternalDirectoryObjectId {short_guid(owner)}.",
        found,
    )


def _guids_match(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
    ad_user = (after.get("ad") or {}).get("user")
    active = _active(after)
    if not ad_user or not active or not ad_user.get("mailbox_guid"):
        return None
    same = ad_user["mailbox_guid"] == active[0]["exchange_guid"]
    return Verdict(
        "guids_match",
        "yes" if same else "no",
        f"on-premises msExchMailboxGuid {short_guid(ad_user['mailbox_guid'])}, cloud ExchangeGuid "
        f"{short_guid(active[0]['exchange_guid'])}.",
        same,
    )


def _ad_restored(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
    ad = after.get("ad")
    if ad is None:
        return None
    user = ad.get("user")
    return Verdict(
        "ad_restored",
        "yes" if user else "no",
        # Only a validated field is said: a pasted DN is free text (a chat message renders Markdown).
        f"Get-ADUser returns the user (ObjectGUID {user.get('object_guid') or 'not shown'})."
        if user
        else "Get-ADUser returns no user for this UPN.",
        True,
    )


def _inactive(before: Mapping, after: Mapping, values: Mapping) -> Verdict | None:
    soft = _soft(after)
    if len(soft) != 1:
        return None
    inactive = bool(soft[0].get("is_inactive"))
    return Verdict("inactive", "true" if inactive else "false", f"IsInactiveMailbox is {inactive}.", True)


CHECKS: dict[str, Callable[[Mapping, Mapping, Mapping], Verdict | None]] = {
    "reconnected": _connected("reconnected"),
    "mailbox_back": _connected("mailbox_back"),
    "ids_match": _ids_match,
    "same_owner": _same_owner,
    "deleted_user_found": _deleted_user_found,
    "guids_match": _guids_match,
    "ad_restored": _ad_restored,
    "inactive": _inactive,
}


def can_verify(question_id: str | None) -> bool:
    return question_id in CHECKS


def verify(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, question_id: str, values: Mapping[str, str] | None = None
) -> Verdict | None:
    """The answer the fresh evidence gives to a step's sub-question, or None when it cannot tell
    (the place that knows was not pasted): then the admin answers, as today."""
    check = CHECKS.get(question_id)
    return check(before or {}, after or {}, values or {}) if check else None
