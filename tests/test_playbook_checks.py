"""A broken playbook is refused at load, with the leaf and step named."""

from __future__ import annotations

import copy
import tomllib

import pytest

from bot.playbook import DEFAULT_PATH, PlaybookError, load_playbook
from bot.playbook.loader import build_playbook

RAW = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def broken(mutate) -> str:
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(PlaybookError) as refused:
        build_playbook(data)
    return str(refused.value)


def leaf(data, leaf_id):
    return next(x for x in data["leaves"] if x["id"] == leaf_id)


def test_the_shipped_playbook_loads():
    assert len(load_playbook().leaves) == 27


def test_a_missing_combination_is_refused():
    message = broken(lambda d: d["leaves"].remove(leaf(d, "B5")))
    assert "no leaf for the answers onprem=present, entra=soft_deleted, mailbox=soft_deleted" in message


def test_a_sub_question_answer_that_leads_nowhere_is_refused():
    def drop_federated_branch(data):
        steps = leaf(data, "A6")["steps"]
        steps.remove(next(s for s in steps if s.get("id") == "new_mailbox_federated"))
        for s in steps:  # no later step runs for sso=yes now
            if s.get("use") in ("create_ad_user", "delta_sync", "verify_mailbox"):
                s["when"] = {"sso": "no"}

    assert "leaf A6: sub-question 'sso' answer 'yes' leads nowhere" in broken(drop_federated_branch)


def test_a_self_service_step_without_a_command_is_refused():
    def no_original(data):
        leaf(data, "B2")["steps"][3]["original"] = ""

    assert "leaf B2, step 4 ('soft_delete_user'): no original command" in broken(no_original)


def test_an_unknown_placeholder_is_refused():
    def typo(data):
        leaf(data, "C9")["steps"][1]["modern"] = "New-MgUser -UserPrincipalName {upm}"

    assert "leaf C9, step 2 ('create_user'): unknown placeholder {upm}" in broken(typo)


def test_a_goto_to_a_missing_step_is_refused():
    def bad_goto(data):
        leaf(data, "A4")["steps"][2]["on_failure"] = "step_8"

    assert "leaf A4, step 3 ('remove_mailbox'): on failure goes to step 'step_8', which the leaf does not have" in broken(
        bad_goto
    )


def test_a_destructive_step_without_warning_is_refused():
    def no_warning(data):
        del leaf(data, "A4")["steps"][2]["warning"]

    assert "leaf A4, step 3 ('remove_mailbox'): a destructive step needs a 'warning'" in broken(no_warning)


def test_a_password_typed_into_a_command_is_refused():
    def seed_password(data):
        leaf(data, "C9")["steps"][1]["original"] = (
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
