"""A broken playbook is refused at load, with the leaf and step named."""

from __future__ import annotations

import copy

import pytest

from bot.playbook import DEFAULT_PATH, PlaybookError, load_playbook
from bot.playbook.loader import build_playbook
from tests.playbook_source import RAW, leaf, step


def broken(mutate) -> str:
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(PlaybookError) as refused:
        build_playbook(data)
    return str(refused.value)


def test_the_shipped_playbook_loads():
    playbook = load_playbook()
    assert len(playbook.by_answers) == 27 and len(playbook.leaves) == 30  # and three situation leaves


def test_a_missing_combination_is_refused():
    message = broken(lambda d: d["leaves"].remove(leaf(d, "B5")))
    assert "no leaf for the answers onprem=present, entra=soft_deleted, mailbox=soft_deleted" in message


def test_a_sub_question_answer_that_leads_nowhere_is_refused():
    def drop_federated_branch(data):
        steps = leaf(data, "A6")["steps"]
        federated = {name for name, step in data["steps"].items() if step.get("when", {}).get("sso") == "yes"}
        # no step runs for sso=yes now (shared ones, and the leaf's own)
        steps[:] = [s for s in steps if s.get("use") not in federated and s.get("when", {}).get("sso") != "yes"]

    assert "leaf A6: sub-question 'sso' answer 'yes' leads nowhere" in broken(drop_federated_branch)


def test_a_self_service_step_without_a_command_is_refused():
    def no_original(data):
        step(data, "B2", "soft_delete_user")["original"] = ""

    assert "leaf B2, step 5 ('soft_delete_user'): no original command" in broken(no_original)


def test_an_unknown_placeholder_is_refused():
    def typo(data):
        step(data, "C9", "create_user")["modern"] = "New-MgUser -UserPrincipalName {upm}"

    assert "leaf C9, step 4 ('create_user'): unknown placeholder {upm}" in broken(typo)


def test_a_goto_to_a_missing_step_is_refused():
    def bad_goto(data):
        step(data, "A4", "remove_mailbox")["on_failure"] = "step_8"

    assert "leaf A4, step 6 ('remove_mailbox'): on failure goes to step 'step_8', which the leaf does not have" in broken(
        bad_goto
    )


def test_a_destructive_step_without_warning_is_refused():
    def no_warning(data):
        del step(data, "A4", "remove_mailbox")["warning"]

    assert "leaf A4, step 6 ('remove_mailbox'): a destructive step needs a 'warning'" in broken(no_warning)


def test_a_password_typed_into_a_command_is_refused():
    def seed_password(data):
        step(data, "C9", "create_user")["original"] = (
            "New-MsolUser -Password (ConvertTo-SecureString -String 'Pa$$word1' -AsPlainText -Force)"
        )

    assert "a password is typed into the original command" in broken(seed_password)


def test_a_condition_on_a_question_not_yet_asked_is_refused():
    def early_when(data):
        leaf(data, "B8")["steps"][0]["when"] = {"inactive": "true"}

    assert "leaf B8, step 1 ('connect'): depends on 'inactive', which is not asked before this step" in broken(early_when)


def test_an_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "playbook.toml"
    path.write_text("schema_version = 1\n[leaves\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as refused:
        load_playbook(path)
    assert "cannot read it" in str(refused.value)


def test_the_bot_does_not_start_with_a_broken_playbook(tmp_path):
    from app import build
    from bot.settings import Settings

    path = tmp_path / "playbook.toml"
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace("{upn}", "{upm}", 1), encoding="utf-8")
    with pytest.raises(PlaybookError):
        build(Settings(state_store="memory", playbook_path=str(path)))


@pytest.mark.parametrize(
    "command, named",
    [
        ("Remove-MgDirectoryDeletedItem -DirectoryObjectId {object_id}", "Remove-MgDirectoryDeletedItem"),
        ("Remove-Mailbox -Identity {upn} -PermanentlyDelete", "-PermanentlyDelete"),
        ("Set-User -Identity {upn} -PermanentlyClearPreviousMailboxInfo", "-PermanentlyClearPreviousMailboxInfo"),
        ("Remove-MsolUser -UserPrincipalName {upn} -RemoveFromRecycleBin -Force", "-RemoveFromRecycleBin"),
    ],
)
def test_a_command_that_destroys_data_for_good_is_refused_naming_leaf_and_step(command, named):
    def purge(data):
        step(data, "B2", "soft_delete_user")["modern"] = command

    message = broken(purge)
    assert "leaf B2, step 5 ('soft_delete_user'): the modern command destroys data for good" in message
    assert named in message


def test_a_purge_in_a_how_do_i_check_is_refused_too():
    def purge(data):
        data["questions"]["entra"]["check"][1]["original"] = "Remove-MsolUser -UserPrincipalName {upn} -RemoveFromRecycleBin"

    assert "question 'entra', check 2: the original command destroys data for good" in broken(purge)


def test_a_step_must_say_where_it_runs():
    def nowhere(data):
        del data["steps"]["delta_sync"]["runs_in"]

    assert "step 10 ('delta_sync'): say where its commands run ('runs_in')" in broken(nowhere)

    def elsewhere(data):
        data["steps"]["delta_sync"]["runs_in"] = ["the_server_room"]

    assert "runs_in 'the_server_room' is not one of exchange_online, graph, exchange_onprem, ad, entra_connect" in broken(
        elsewhere
    )


def test_alternatives_each_need_a_condition_and_no_loose_commands():
    def no_condition(data):
        del data["steps"]["read_addresses"]["blocks"][1]["condition"]

    assert "('read_addresses'), block 2: one of several alternatives needs its 'condition'" in broken(no_condition)

    def both(data):
        data["steps"]["read_addresses"]["modern"] = "Get-Mailbox -Identity {upn}"

    assert "('read_addresses'): has both 'blocks' and its own commands" in broken(both)
