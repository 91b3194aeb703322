"""What Microsoft Graph found about a target user, in words for the admin and as a suggested
answer. Plain functions of the finding stored on the case (bot.integrations.graph fetches it)."""

from __future__ import annotations

from typing import Any


def describe(record: dict[str, Any] | None) -> str:
    """One sentence for the admin about what Graph found (or why it could not look)."""
    if not record:
        return ""
    when = record.get("checked_at", "")[11:16]
    if record.get("error"):
        return f"I could not check Microsoft Graph: {record['error']}. Please answer the questions yourself."
    finding = record["entra"]
    synced = {True: " It is synchronized from on-premises AD.", None: " It is a cloud-only user."}.get(finding.get("synced"), "")
    if finding["state"] == "present":
        licensed = " It has licenses." if finding.get("licensed") else " It has no license."
        return f"Microsoft Graph (checked {when} UTC): the Entra account is present.{synced}{licensed}"
    if finding["state"] == "soft_deleted":
        return (
            f"Microsoft Graph (checked {when} UTC): the Entra account is soft-deleted (deleted "
            f"{finding.get('deleted_at', '')[:10]}, {finding.get('days_left')} days left in the recycle bin).{synced}"
        )
    return (
        f"Microsoft Graph (checked {when} UTC) finds no user and no deleted user with this UPN: it is hard-deleted, "
        "or the UPN is mistyped. Check the spelling before you answer."
    )


def suggestion(question_id: str, record: dict[str, Any] | None) -> tuple[str | None, str]:
    """(option Graph points to, why) for a scoping question; (None, "") where Graph cannot tell."""
    if not record or record.get("error"):
        return None, ""
    finding = record["entra"]
    when = record.get("checked_at", "")[11:16]
    if question_id == "entra":
        option = {"present": "present", "soft_deleted": "soft_deleted", "not_found": "hard_deleted"}[finding["state"]]
        caveat = " (or the UPN is mistyped)" if finding["state"] == "not_found" else ""
        return option, f"From Microsoft Graph, checked {when} UTC{caveat}."
    if question_id == "onprem" and finding["state"] != "not_found":
        if finding.get("synced") is None:
            return "none", f"From Microsoft Graph, checked {when} UTC: a cloud-only user."
        return (
            None,
            f"From Microsoft Graph, checked {when} UTC: synchronized from on-premises AD, so the AD user "
            "exists or was deleted; Graph cannot tell which.",
        )
    return None, ""
