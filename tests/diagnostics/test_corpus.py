"""The corpus read and assessed without the bot: each leaf's pastes reach that leaf, each state the
three answers miss reaches its own advice, every value the paste gives is filled in, and every
malformed or hostile paste is refused with its own message and nothing kept."""

from __future__ import annotations

import pytest

from bot.diagnostics.assess import assess
from bot.diagnostics.reading import merge, read_paste, shown
from bot.playbook import load_playbook
from tests.diagnostics import corpus
from tests.diagnostics.corpus import read_all
from tests.harness import TENANT

playbook = load_playbook()




@pytest.mark.parametrize("name", [*corpus.LEAVES, *corpus.SITUATIONS])
def test_each_case_reaches_its_leaf(name):
    case = corpus.CORPUS[name]
    found = assess(read_all(case), playbook, now=corpus.NOW)
    assert found.leaf_id == case.leaf, [f.source for f in found.facts]
    assert found.missing == [] and found.disagreements == [] and found.candidates == []
    for question, option in case.answers.items():
        assert found.answers.get(question) == option, question
    for name_, value in case.values.items():
        assert found.values.get(name_) == value, name_
    for question, option in case.sub_answers.items():
        assert found.sub_answers.get(question) == option, question
    assert all(f.source for f in found.facts)


@pytest.mark.parametrize("name", ["A9", "B5", "recreated_user"])
def test_the_order_of_the_pastes_does_not_matter(name):
    case = corpus.CORPUS[name]
    forward = assess(read_all(case), playbook, now=corpus.NOW)
    backward = assess(read_all(case, list(reversed(case.pastes))), playbook, now=corpus.NOW)
    assert (forward.leaf_id, forward.values, forward.answers) == (backward.leaf_id, backward.values, backward.answers)


def test_all_pastes_in_one_message():
    case = corpus.CORPUS["A9"]
    text = "\n".join(case.pastes.values())
    reading = read_paste(text, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert sorted(reading.readings) == ["ad", "exo", "graph"] and reading.problems == []


def test_what_is_missing_is_said():
    case = corpus.CORPUS["B5"]
    evidence, _ = merge({}, read_paste(case.pastes["exo"], upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT))
    found = assess(evidence, playbook, now=corpus.NOW)
    assert found.missing == ["graph"] and found.leaf_id is None
    evidence, _ = merge(evidence, read_paste(case.pastes["graph"], upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT))
    found = assess(evidence, playbook, now=corpus.NOW)
    assert found.missing == ["ad"] and found.leaf_id is None  # a synced user: AD decides deleted or present


def test_a_cloud_only_user_in_a_syncing_tenant_takes_the_c_leaves():
    found = assess(read_all(corpus.CORPUS["cloud_user_in_synced_tenant"]), playbook, now=corpus.NOW)
    assert found.answers["onprem"] == "none" and "ad" not in found.missing
    assert any("although the tenant synchronizes" in f.source for f in found.facts)


def test_several_soft_deleted_mailboxes_are_offered_by_date_and_size():
    case = corpus.CORPUS["several_soft_deleted"]
    evidence = read_all(case)
    evidence.pop("choice")
    found = assess(evidence, playbook, now=corpus.NOW)
    assert found.leaf_id == "C8" and not found.settled
    assert [c.exchange_guid for c in found.candidates] == [corpus.SECOND_GUID, corpus.OLD_GUID]  # newest first
    assert "exchange_guid" not in found.values
    label = found.candidates[1].label()
    assert "20 Nov" in label and "GB" in label and "1d5e…" in label


def test_deadlines_come_from_the_evidence_exactly():
    found = assess(read_all(corpus.CORPUS["C6"]), playbook, now=corpus.NOW)
    assert found.deadline_starts == {"entra_user": "2026-11-20T09:15:00+00:00", "mailbox": "2026-11-20T09:45:12+00:00"}
    found = assess(read_all(corpus.CORPUS["inactive_on_hold"]), playbook, now=corpus.NOW)
    assert "mailbox" not in found.deadline_starts  # inactive: kept while the hold lasts


def test_the_recreated_user_card_facts_name_both_mailboxes():
    found = assess(read_all(corpus.CORPUS["recreated_user"]), playbook, now=corpus.NOW)
    mailbox = next(f for f in found.facts if f.subject == "Mailbox")
    assert mailbox.source == (
        "soft-deleted on 20 Nov, ExchangeGuid 1d5e…, not inactive; a newer active mailbox created 22 Nov with the same address."
    )


def test_graph_and_the_paste_disagreeing_leave_the_question_open():
    case = corpus.CORPUS["C6"]
    finding = {"checked_at": "2026-11-25T14:00:00+00:00", "entra": {"state": "present", "synced": None}}
    found = assess(read_all(case), playbook, graph_finding=finding, now=corpus.NOW)
    assert "entra" not in found.answers and found.leaf_id is None
    assert found.disagreements and "says present" in found.disagreements[0] and "says soft-deleted" in found.disagreements[0]


def test_graph_finding_stands_in_for_the_graph_paste():
    case = corpus.CORPUS["C2"]
    evidence, _ = merge({}, read_paste(case.pastes["exo"], upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT))
    finding = {
        "checked_at": "2026-11-25T14:00:00+00:00",
        "entra": {"state": "present", "synced": None, "object_id": corpus.USER_ID},
    }
    found = assess(evidence, playbook, graph_finding=finding, now=corpus.NOW)
    assert found.leaf_id == "C2" and found.missing == []


def test_hybrid_is_suggested_from_msexchmailboxguid_never_applied():
    case = corpus.CORPUS["A6"]
    case = corpus.Case(
        {**case.pastes, "ad": corpus.console(corpus.ad(None, [corpus.ad_object(deleted=True, hybrid=True)]))}, "A6"
    )
    found = assess(read_all(case), playbook, now=corpus.NOW)
    assert found.suggestions["hybrid_recover"] == "yes" and "hybrid_recover" not in found.sub_answers


def test_errors_the_diagnostic_printed_are_not_checked_not_not_found():
    text = corpus.console(
        corpus.exo(
            errors=[
                "The operation couldn't be performed because object 'o'brien@contoso.com' couldn't be found on 'AM0PR01'.",
                "Get-Recipient : Access is denied. The user has insufficient access rights.",
            ]
        )
    )
    reading = read_paste(text, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    evidence, _ = merge({}, reading)
    assert evidence["exo"]["errors"] == ["Get-Recipient : Access is denied. The user has insufficient access rights."]
    found = assess(evidence, playbook, now=corpus.NOW)
    assert found.not_checked == ["Exchange Online: Get-Recipient : Access is denied. The user has insufficient access rights."]


def test_a_newer_reading_replaces_an_older_one_and_not_the_reverse():
    older = corpus.console(corpus.exo(read_at="2026-11-25T13:30:00.0000000Z"))
    newer = corpus.console(corpus.exo(soft=[corpus.mailbox(deleted=corpus.SOFT_DELETED_AT)]))
    evidence, _ = merge({}, read_paste(newer, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT))
    evidence2, notes = merge(evidence, read_paste(older, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT))
    assert evidence2 == evidence and "older" in notes[0]


@pytest.mark.parametrize("name", sorted(corpus.BAD))
def test_bad_pastes_are_refused_with_their_message_and_nothing_kept(name):
    paste, code = corpus.BAD[name]
    reading = read_paste(paste, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert reading.readings == {}
    assert [p.code for p in reading.problems] == [code], reading.problems
    message = reading.problems[0].message
    assert message and len(message) < 400
    for hostile in ("$(", "`", "\u202e", "\u2018", "Remove-Mailbox", "\n"):
        assert hostile not in message
    evidence, _ = merge({"kept": True}, reading)
    assert evidence == {"kept": True}


def test_a_paste_without_a_marker_is_not_a_reading():
    reading = read_paste(corpus.NO_MARKER, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert not reading.found and reading.problems == [] and reading.readings == {}


def test_a_console_that_wraps_the_long_line_is_read():
    line = corpus.exo(soft=[corpus.mailbox(deleted=corpus.SOFT_DELETED_AT)], user_kind=None)
    wrapped = "\r\n".join(line[i : i + 120] for i in range(0, len(line), 120))
    reading = read_paste(corpus.console(wrapped), upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert list(reading.readings) == ["exo"] and reading.problems == []


def test_windows_powershell_dates_are_read():
    line = corpus.exo(soft=[corpus.mailbox(deleted="/Date(1795167912000)/")], user_kind=None)
    reading = read_paste(line, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert reading.readings["exo"].data["mailboxes"][0]["when_soft_deleted"].startswith("2026-11-20")


def test_hostile_names_are_kept_as_text_shown_without_format_characters_and_never_a_command_value():
    reading = read_paste(corpus.HOSTILE_NAME_PASTE, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert reading.problems == []
    evidence, _ = merge({}, reading)
    found = assess(evidence, playbook, now=corpus.NOW)
    assert "name" not in found.values  # the placeholder's own validation refuses the control characters
    assert any("Name of the soft-deleted mailbox" in n for n in found.notes)
    raw = evidence["exo"]["mailboxes"][0]["name"]
    assert "\u202e" not in shown(raw) and "\n" not in shown(raw)


def test_upn_and_case_compare_case_insensitively():
    reading = read_paste(corpus.console(corpus.exo(upn="O'Brien@Contoso.com")), upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert list(reading.readings) == ["exo"]


def test_the_deleted_ad_object_to_restore_is_the_one_anchored_to_the_entra_user():
    found = assess(read_all(corpus.CORPUS["A9"]), playbook, now=corpus.NOW)
    assert found.values["ad_object_guid"] == "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9"
    assert found.value_sources["ad_object_guid"] == "ad"
    evidence = read_all(corpus.CORPUS["A9"])
    other = dict(evidence["ad"]["deleted"][0], object_guid="9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", object_guid_base64="AAAA")
    other["consistency_guid"] = None
    evidence["ad"]["deleted"] = [other, *evidence["ad"]["deleted"]]  # a second deleted object of the same name
    found = assess(evidence, playbook, now=corpus.NOW)
    assert found.values["ad_object_guid"] == "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9"  # the anchored one, not the newest
    evidence["ad"]["deleted"] = [other]  # only an object that does not carry the anchor: nothing is filled in
    assert "ad_object_guid" not in assess(evidence, playbook, now=corpus.NOW).values


def test_the_tenant_is_checked_when_the_chat_names_one_as_teams_does():
    paste = corpus.CORPUS["C6"].pastes["exo"]
    other = read_paste(paste, upn=corpus.UPN, now=corpus.NOW, tenant_id=corpus.OTHER_TENANT)
    assert [p.code for p in other.problems] == ["other_tenant"]
    # The Agents Playground's default tenant is no GUID: a local try-out reads pastes from any tenant.
    local = read_paste(paste, upn=corpus.UPN, now=corpus.NOW, tenant_id="00000000-0000-0000-0000-0000000000001")
    assert local.problems == [] and list(local.readings) == ["exo"]
