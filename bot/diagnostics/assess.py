"""What the evidence says about a case: the three scoping answers (or a situation the three
answers miss), the sub-answers it settles, the values it gives the steps, the deadlines, and the
facts each state came from, for the "What I read" card. A pure function of the evidence (and of
today's Graph finding, merged with it: where they disagree, the question stays open and the card
says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.diagnostics.reading import PLACE_NAMES, parse_time, shown
from bot.playbook import InvalidValue
from bot.walkthrough.rules import accept_value

# Situations (engineer P's contract): leaves reached by a situation, not by the three answers.
RECREATED_USER = "recreated_user"  # -> R1: an active new mailbox and an older soft-deleted/inactive one
LICENSE_REMOVED = "license_removed"  # -> L1: the mailbox is disabled because the license was removed
AUXILIARY_ARCHIVE = "auxiliary_archive"  # -> AUX: restore requests do not move an auxiliary archive
SITUATIONS = (RECREATED_USER, LICENSE_REMOVED, AUXILIARY_ARCHIVE)
LICENSE_DAYS = 30
HYBRID_QUESTIONS = ("hybrid", "hybrid_orphaned", "hybrid_recover", "hybrid_merge")
# Placeholder -> where the evidence has it (filled in only after the placeholder's own validation).
STATE_WORDS = {
    "onprem": {"deleted": "deleted", "present": "present (synced)", "none": "none: a cloud-only user"},
    "entra": {"present": "present", "soft_deleted": "soft-deleted", "hard_deleted": "hard-deleted"},
    "mailbox": {"present": "present", "soft_deleted": "soft-deleted", "not_present": "not present (purged)"},
}


@dataclass(frozen=True)
class Fact:
    subject: str  # "On-premises AD", "Entra ID", "Mailbox", "Tenant", ...
    state: str  # "soft-deleted", "present", ... ("" for a plain remark)
    source: str  # the fact it came from, in words (pasted values through `shown`)


@dataclass(frozen=True)
class Candidate:
    """One of several soft-deleted mailboxes for the address: the admin picks by date and size."""

    exchange_guid: str
    when_soft_deleted: str | None
    is_inactive: bool
    total_item_size: str | None
    item_count: int | None
    display_name: str

    def label(self) -> str:
        when = _day(self.when_soft_deleted) or "an unknown date"
        size = f", {shown(self.total_item_size, 40)}" if self.total_item_size else ""
        items = f", {self.item_count:,} items" if self.item_count is not None else ""
        inactive = ", inactive (on hold)" if self.is_inactive else ""
        return f"Deleted {when}{size}{items}{inactive} · ExchangeGuid {short_guid(self.exchange_guid)}"


@dataclass
class Assessment:
    answers: dict[str, str] = field(default_factory=dict)  # onprem / entra / mailbox, only those settled
    sub_answers: dict[str, str] = field(default_factory=dict)  # settled sub-questions (inactive, has_license)
    suggestions: dict[str, str] = field(default_factory=dict)  # likely answers shown, not applied (hybrid)
    situation: str | None = None
    leaf_id: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # placeholder -> validated value
    value_sources: dict[str, str] = field(default_factory=dict)  # placeholder -> "exo" | "graph" | "ad"
    deadline_starts: dict[str, str] = field(default_factory=dict)  # kind -> ISO start of its 30-day clock
    facts: list[Fact] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # places still to paste: exo | graph | ad
    not_checked: list[str] = field(default_factory=list)  # errors the diagnostics printed (not "not found")
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def needs_choice(self) -> bool:
        return bool(self.candidates)

    @property
    def settled(self) -> bool:
        """Enough to show a plan: a leaf, no choice pending, no disagreement open."""
        return self.leaf_id is not None and not self.candidates and not self.disagreements


def short_guid(guid: str | None) -> str:
    return f"{guid[:4]}…" if guid else "?"


def _day(iso: str | None) -> str:
    moment = parse_time(iso, "date") if iso else None
    return f"{moment.day} {moment:%b}" if moment else ""


def _leaf_for_situation(playbook: Any, situation: str) -> str | None:
    finder = getattr(playbook, "leaf_for_situation", None)
    leaf = finder(situation) if finder else None
    return leaf.id if leaf is not None else None


def _add_value(assessment: Assessment, playbook: Any, name: str, value: Any, source: str) -> None:
    placeholder = playbook.placeholders.get(name)
    if placeholder is None or value in (None, "") or name in assessment.values:
        return
    try:  # as a typed value is: capped, clean to the redaction screen, of its shape
        assessment.values[name] = accept_value(placeholder, str(value))
        assessment.value_sources[name] = source
    except InvalidValue as exc:
        assessment.notes.append(f"Not filled in: {exc}")


def assess(
    evidence: Mapping[str, Any] | None,
    playbook: Any,
    graph_finding: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Assessment:
    evidence = evidence or {}
    result = Assessment()
    exo, graph, ad = evidence.get("exo"), evidence.get("graph"), evidence.get("ad")
    for place in ("exo", "graph", "ad"):
        for error in (evidence.get(place) or {}).get("errors", []):
            result.not_checked.append(f"{PLACE_NAMES[place]}: {shown(error, 300)}")

    # --- Entra ID ----------------------------------------------------------------------------
    user = deleted = None
    if graph:
        user = graph.get("user")
        deleted_users = sorted(graph.get("deleted_users") or [], key=lambda u: u.get("deleted_at") or "", reverse=True)
        deleted = deleted_users[0] if deleted_users else None
        if user:
            result.answers["entra"] = "present"
            result.facts.append(Fact("Entra ID", "present", f"Get-MgUser returned it (Id {short_guid(user['id'])})."))
        elif deleted:
            result.answers["entra"] = "soft_deleted"
            more = f" ({len(deleted_users)} deleted users match; the newest is used)" if len(deleted_users) > 1 else ""
            result.facts.append(
                Fact(
                    "Entra ID",
                    "soft-deleted",
                    f"deleted on {_day(deleted.get('deleted_at')) or '?'} (Id {short_guid(deleted['id'])}){more}.",
                )
            )
            if deleted.get("deleted_at"):
                result.deadline_starts["entra_user"] = deleted["deleted_at"]
        else:
            result.answers["entra"] = "hard_deleted"
            result.facts.append(
                Fact(
                    "Entra ID",
                    "hard-deleted",
                    "neither Get-MgUser nor the deleted users return it (or the UPN is mistyped: check it).",
                )
            )
    checked: Mapping[str, Any] = graph_finding if graph_finding and not graph_finding.get("error") else {}
    finding = checked.get("entra")
    if finding:
        said = {"present": "present", "soft_deleted": "soft_deleted", "not_found": "hard_deleted"}[finding["state"]]
        if "entra" not in result.answers:
            result.answers["entra"] = said
            result.facts.append(Fact("Entra ID", STATE_WORDS["entra"][said], "from the bot's own Microsoft Graph check."))
            if said == "soft_deleted" and finding.get("deleted_at"):
                result.deadline_starts.setdefault("entra_user", finding["deleted_at"])
        elif result.answers["entra"] != said:
            assert graph is not None  # an "entra" answer so far came from the Graph paste
            result.disagreements.append(
                f"Entra ID: the bot's Graph check ({str(checked.get('checked_at', ''))[11:16]} UTC) says "
                f"{STATE_WORDS['entra'][said]}, your diagnostic ({_time(graph)}) says "
                f"{STATE_WORDS['entra'][result.answers['entra']]}."
            )
            del result.answers["entra"]
    entra_state = result.answers.get("entra")
    owner = user if entra_state == "present" else deleted if entra_state == "soft_deleted" else None

    # --- On-premises AD: decided from the cloud side first -----------------------------------------
    synced: bool | None = None
    if owner is not None:
        synced = bool(owner.get("sync_enabled")) or bool(owner.get("immutable_id"))
        why = (
            f"OnPremisesSyncEnabled {owner.get('sync_enabled')}, OnPremisesImmutableId "
            f"{'set' if owner.get('immutable_id') else 'empty'}"
        )
    elif finding and finding.get("state") != "not_found":
        synced = bool(finding.get("synced"))
        why = "the bot's own Graph check"
    elif graph and graph.get("tenant_syncs") is not None:
        synced = bool(graph["tenant_syncs"])  # no user left to ask: the tenant decides
        why = f"no Entra user is left; the tenant {'synchronizes' if synced else 'does not synchronize'} from AD"
    if synced is False:
        result.answers["onprem"] = "none"
        tenant = " although the tenant synchronizes from AD" if graph and graph.get("tenant_syncs") else ""
        result.facts.append(Fact("On-premises AD", "none: a cloud-only user", f"{why}{tenant}."))
    elif synced:
        if ad:
            if ad.get("user"):
                result.answers["onprem"] = "present"
                result.facts.append(Fact("On-premises AD", "present", f"Get-ADUser returned {shown(ad['user'].get('dn'), 80)}."))
            elif ad.get("deleted"):
                gone = ad["deleted"][0]
                result.answers["onprem"] = "deleted"
                result.facts.append(
                    Fact(
                        "On-premises AD",
                        "deleted",
                        f"in the AD Recycle Bin since {_day(gone.get('when_changed')) or '?'} (last in "
                        f"{shown(gone.get('last_known_parent'), 60)}).",
                    )
                )
            else:
                result.answers["onprem"] = "deleted"
                bin_state = "enabled" if ad.get("recycle_bin") else "not enabled"
                result.facts.append(
                    Fact(
                        "On-premises AD",
                        "deleted",
                        f"no AD user and nothing in the AD Recycle Bin ({bin_state}): gone beyond it.",
                    )
                )
            hybrid = next(
                (o.get("mailbox_guid") for o in [ad.get("user"), *ad.get("deleted", [])] if o and o.get("mailbox_guid")), None
            )
            if hybrid:
                for question in HYBRID_QUESTIONS:
                    result.suggestions[question] = "yes"
                result.facts.append(
                    Fact("Exchange hybrid", "likely", f"the AD object carries msExchMailboxGuid {short_guid(hybrid)}.")
                )
        else:
            result.missing.append("ad")
            result.facts.append(
                Fact("On-premises AD", "to read", f"the user is synchronized from AD ({why}): run the AD diagnostic.")
            )

    # --- Mailbox ---------------------------------------------------------------------------------
    if exo:
        _mailbox_state(result, playbook, exo, evidence.get("choice") or {}, entra_state, user)
    elif "exo" not in result.missing:
        result.missing.insert(0, "exo")
    if not graph and not finding:
        result.missing.insert(1 if "exo" in result.missing else 0, "graph")

    # --- Sub-answers the evidence settles --------------------------------------------------------
    if entra_state == "soft_deleted" and deleted is not None:
        result.sub_answers["has_license"] = "yes" if deleted.get("sku_ids") else "no"

    # --- Values for the steps --------------------------------------------------------------------
    if owner is not None:
        _add_value(result, playbook, "object_id", owner["id"], "graph")
        _add_value(result, playbook, "immutable_id", owner.get("immutable_id"), "graph")
    gone_in_ad = (ad or {}).get("deleted") or []
    anchor = (owner or {}).get("immutable_id")
    matching = [o for o in gone_in_ad if anchor and anchor in (o.get("object_guid_base64"), o.get("consistency_guid"))]
    # The deleted AD object to restore: the one whose anchor is the Entra user's ImmutableId, or the only one.
    restore = matching[0] if len(matching) == 1 else gone_in_ad[0] if len(gone_in_ad) == 1 and not anchor else None
    if restore is not None and not (ad or {}).get("user"):
        _add_value(result, playbook, "ad_object_guid", restore.get("object_guid"), "ad")

    # --- The scenario ----------------------------------------------------------------------------
    if result.situation:
        result.leaf_id = _leaf_for_situation(playbook, result.situation)
    elif all(q in result.answers for q in ("onprem", "entra", "mailbox")):
        leaf = playbook.leaf_for(result.answers)
        result.leaf_id = leaf.id if leaf else None
    return result


def _time(place: Mapping[str, Any]) -> str:
    moment = parse_time(place.get("read_at"), "read_at")
    return f"read {moment:%H:%M} UTC" if moment else "read earlier"


def _mailbox_state(
    result: Assessment, playbook: Any, exo: Mapping[str, Any], choice: Mapping[str, Any], entra_state: str | None, user: Any
) -> None:
    mailboxes = exo.get("mailboxes") or []
    active = [m for m in mailboxes if m["state"] == "active"]
    soft = sorted(
        (m for m in mailboxes if m["state"] == "soft_deleted"), key=lambda m: m.get("when_soft_deleted") or "", reverse=True
    )
    chosen = None
    if len(soft) == 1:
        chosen = soft[0]
    elif soft:
        chosen = next((m for m in soft if m["exchange_guid"] == choice.get("exchange_guid")), None)
        if chosen is None:
            result.candidates = [
                Candidate(
                    m["exchange_guid"],
                    m.get("when_soft_deleted"),
                    bool(m.get("is_inactive")),
                    m.get("total_item_size"),
                    m.get("item_count"),
                    shown(m.get("display_name") or m.get("name"), 60),
                )
                for m in soft
            ]
            result.facts.append(
                Fact(
                    "Mailbox",
                    f"{len(soft)} soft-deleted mailboxes",
                    "for this address: choose the one to recover by its date and size.",
                )
            )
    newest_active = max(active, key=lambda m: m.get("when_created") or "") if active else None
    exo_user = exo.get("user") or {}

    if newest_active is not None:
        result.answers["mailbox"] = "present"
        _add_value(result, playbook, "target_exchange_guid", newest_active["exchange_guid"], "exo")
    elif soft:
        result.answers["mailbox"] = "soft_deleted"
    else:
        kind = (exo_user.get("recipient_type_details") or "").lower()
        if kind == "mailuser":
            result.facts.append(
                Fact(
                    "Mailbox",
                    "not in Exchange Online",
                    "Get-User shows a MailUser: in an Exchange hybrid deployment the mailbox may live on-premises. "
                    "Check there, then answer the mailbox question.",
                )
            )
        else:
            result.answers["mailbox"] = "not_present"
            if kind == "disableduser" and entra_state in ("present", None):
                result.situation = LICENSE_REMOVED
                result.facts.append(
                    Fact(
                        "Mailbox",
                        "disabled (license removed)",
                        f"no mailbox in any state, and Get-User shows RecipientTypeDetails DisabledUser: the "
                        f"Exchange license was removed. "
                        f"Relicensing within {LICENSE_DAYS} days of the removal reconnects it.",
                    )
                )
                plans = (user or {}).get("exchange_plans") or []
                if "Enabled" in plans:
                    result.notes.append(
                        "Graph shows an Exchange plan enabled again: the mailbox may be reconnecting; run the "
                        "diagnostic again in 15 minutes."
                    )
            else:
                result.facts.append(
                    Fact("Mailbox", "not present", "no mailbox in any state (active, soft-deleted, inactive) for this address.")
                )

    # Describe what was found, recoverable mailbox first.
    if chosen is not None:
        state = "inactive (on hold)" if chosen.get("is_inactive") else "soft-deleted"
        holds = []
        if chosen.get("litigation_hold"):
            holds.append("Litigation Hold")
        if chosen.get("in_place_holds"):
            holds.append(f"{len(chosen['in_place_holds'])} in-place hold(s)")
        detail = (
            f"{state} on {_day(chosen.get('when_soft_deleted')) or '?'}, ExchangeGuid {short_guid(chosen['exchange_guid'])}, "
            f"{'inactive: kept while its hold lasts' if chosen.get('is_inactive') else 'not inactive'}"
            + (f" ({', '.join(holds)})" if holds else "")
        )
        if newest_active is not None:
            detail += f"; a newer active mailbox created {_day(newest_active.get('when_created')) or '?'} with the same address"
        result.facts.append(Fact("Mailbox", state, detail + "."))
        result.sub_answers["inactive"] = "true" if chosen.get("is_inactive") else "false"
        if chosen.get("when_soft_deleted") and not chosen.get("is_inactive"):
            result.deadline_starts["mailbox"] = chosen["when_soft_deleted"]
        for name, key in (
            ("exchange_guid", "exchange_guid"),
            ("legacy_dn", "legacy_dn"),
            ("name", "name"),
            ("display_name", "display_name"),
            ("alias", "alias"),
            ("primary_smtp", "primary_smtp"),
            ("online_services_id", "online_services_id"),
            ("email_addresses", "email_addresses"),
        ):
            _add_value(result, playbook, name, chosen.get(key), "exo")
        if newest_active is not None and entra_state in ("present", None):
            owner_differs = chosen.get("external_directory_object_id") != newest_active.get("external_directory_object_id")
            if owner_differs or not chosen.get("external_directory_object_id"):
                result.situation = RECREATED_USER
        if chosen.get("aux_archive"):
            result.situation = AUXILIARY_ARCHIVE
            result.facts.append(
                Fact(
                    "Archive",
                    "auxiliary archive",
                    "MailboxLocations lists an auxiliary archive (auto-expanding archiving): a restore request "
                    "does not move it. Microsoft Support recovers it.",
                )
            )
        elif chosen.get("archive_status") == "Active":
            result.facts.append(Fact("Archive", "active", f"ArchiveGuid {short_guid(chosen.get('archive_guid'))}: merge it too."))
    elif newest_active is not None:
        result.facts.append(
            Fact(
                "Mailbox",
                "present",
                f"active, created {_day(newest_active.get('when_created')) or '?'}, ExchangeGuid "
                f"{short_guid(newest_active['exchange_guid'])}; "
                "no soft-deleted or inactive mailbox with this address.",
            )
        )
        if entra_state in ("soft_deleted", "hard_deleted"):
            # No soft-deleted mailbox, and its owner is gone from Entra: the active mailbox is the
            # one recovered (A4 records its ExchangeGuid before it is removed and reattached).
            _add_value(result, playbook, "exchange_guid", newest_active["exchange_guid"], "exo")
        for name, key in (
            ("primary_smtp", "primary_smtp"),
            ("display_name", "display_name"),
            ("alias", "alias"),
            ("email_addresses", "email_addresses"),
        ):
            _add_value(result, playbook, name, newest_active.get(key), "exo")
    if len(active) > 1:
        result.notes.append(f"{len(active)} active mailboxes answer to this address; the newest is taken as the user's.")
