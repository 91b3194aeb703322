"""A fresh paste answers the step's "did it work?" itself."""

from __future__ import annotations

from bot.diagnostics.reading import merge, read_paste
from bot.diagnostics.verify import can_verify, verify
from tests.diagnostics import corpus as c
from tests.harness import TENANT


def evidence(*pastes: str) -> dict:
    found: dict = {}
    for paste in pastes:
        found, _ = merge(found, read_paste(paste, upn=c.UPN, now=c.NOW, tenant_id=TENANT))
    return found


BEFORE = evidence(
    c.exo(soft=[c.mailbox(deleted=c.SOFT_DELETED_AT)], user_kind=None), c.graph(None, [c.entra_user(deleted=c.DELETED_AT)])
)


def test_reconnected_when_the_old_exchangeguid_is_active_and_belongs_to_the_user():
    after = evidence(c.exo(active=[c.mailbox()]), c.graph(c.entra_user()))
    verdict = verify(BEFORE, after, "reconnected", {"exchange_guid": c.OLD_GUID})
    assert (verdict.option, verdict.ok) == ("yes", True)
    assert verdict.message == "connected: ExchangeGuid 1d5e… now belongs to the user."


def test_not_reconnected_while_still_soft_deleted():
    verdict = verify(BEFORE, BEFORE, "mailbox_back")
    assert (verdict.option, verdict.ok) == ("no", False) and "still soft-deleted" in verdict.message


def test_a_new_empty_mailbox_is_not_the_old_one_reconnected():
    after = evidence(c.exo(active=[c.mailbox(c.NEW_GUID)]), c.graph(c.entra_user()))
    verdict = verify(BEFORE, after, "reconnected", {"exchange_guid": c.OLD_GUID})
    assert verdict.option == "no" and "not found in any state" in verdict.message


def test_the_mailbox_of_another_object_is_not_connected():
    after = evidence(c.exo(active=[c.mailbox(owner=c.NEW_USER_ID)]), c.graph(c.entra_user()))
    verdict = verify(BEFORE, after, "reconnected", {"exchange_guid": c.OLD_GUID})
    assert verdict.option == "no" and "another object" in verdict.message


def test_ids_guids_and_deleted_user():
    after = evidence(c.exo(active=[c.mailbox()]), c.graph(c.entra_user()))
    assert verify(BEFORE, after, "ids_match").option == "yes"
    assert verify(BEFORE, BEFORE, "deleted_user_found").option == "yes"
    ad = evidence(c.exo(active=[c.mailbox()]), c.ad(c.ad_object(hybrid=True)))
    assert verify({}, ad, "guids_match").option == "yes"
    assert verify({}, ad, "ad_restored").option == "yes"


def test_without_the_place_that_knows_the_admin_answers():
    assert verify(BEFORE, evidence(c.graph(c.entra_user())), "reconnected") is None
    assert verify(BEFORE, BEFORE, "sso") is None
    assert can_verify("reconnected") and not can_verify("sso") and not can_verify(None)
