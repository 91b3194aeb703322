"""The diagnostic scripts: reading cmdlets only, every cmdlet and parameter in Microsoft's
reference, the UPN quoted as in every command, one marker line each."""

from __future__ import annotations

import pytest

from bot.diagnostics.scripts import PLACES, READ_VERBS, SCRIPTS_PATH, ScriptsError, cmdlets_in, load_scripts, render_script
from bot.playbook import load_playbook
from tests import powershell_reference as ps
from tests.powershell_reference import problems_in

playbook = load_playbook()
scripts = load_scripts()
HOSTILE_UPN = "o'brien$(whoami)`x\u2019y@contoso.com"


@pytest.mark.parametrize("place", PLACES)
def test_every_command_fits_the_reference(place):
    assert problems_in(scripts.places[place].block(), "modern", f"diagnostic {place}") == []


def _nested_commands(text: str) -> list[ps.Command]:
    """Commands anywhere, inside script blocks and hashtables too (the reference test looks into
    ( ), $( ) and @( ) only)."""
    found = []
    for statement in ps.split_statements(text):
        for position, element in enumerate(statement):
            words = ps.words_of(element)
            if len(words) >= 2 and words[0].text.startswith("$") and words[1].text == "=":
                words = words[2:]
            if words and ps.COMMAND_NAME.match(words[0].text):
                found.append(ps.Command(words[0].text, words[1:], piped=position > 0))
            for word in words:
                for _opener, inner in word.groups:
                    found.extend(_nested_commands(inner))
    return found


@pytest.mark.parametrize("place", PLACES)
def test_only_reading_cmdlets_anywhere(place):
    text = render_script(scripts.places[place], playbook, "jane@contoso.com")
    reference = ps.load_reference()
    commands = _nested_commands(text)
    assert commands
    for command in commands:
        found = reference.find(command.name)
        assert found is not None, command.name
        assert found[0].split("-")[0] in READ_VERBS, found[0]
        assert ps.check_command(command, reference, False) == [], command.name
    assert {v for v, _ in cmdlets_in(text)} <= READ_VERBS


def test_a_writing_verb_is_refused(tmp_path):
    source = (scripts_path := tmp_path / "scripts.toml")
    text = SCRIPTS_PATH.read_text(encoding="utf-8")
    source.write_text(text.replace("$diagErrors = @()\n$conn", "$diagErrors = @()\nSet-Mailbox -Identity $upn\n$conn", 1))
    with pytest.raises(ScriptsError, match=r"places.exo.*Set-Mailbox is not a reading cmdlet"):
        load_scripts(scripts_path)


def test_an_unknown_placeholder_is_refused(tmp_path):
    text = SCRIPTS_PATH.read_text(encoding="utf-8")
    (tmp_path / "s.toml").write_text(text.replace("$upn = {upn}\n$diagErrors", "$upn = {object_id}\n$diagErrors", 1))
    with pytest.raises(ScriptsError, match=r"places\.exo"):
        load_scripts(tmp_path / "s.toml")


@pytest.mark.parametrize("place", PLACES)
def test_the_upn_is_quoted_as_every_value(place):
    text = render_script(scripts.places[place], playbook, HOSTILE_UPN)
    assert text.splitlines()[0] == "$upn = 'o''brien$(whoami)`x\u2019\u2019y@contoso.com'"
    ps.commands_in(text)  # still tokenises: nothing escaped the string
    assert f"'{scripts.marker} {scripts.version} {place} '" in text


def test_the_ad_filter_doubles_quotes_for_the_filter_then_for_powershell():
    text = render_script(scripts.places["ad"], playbook, "o'brien@contoso.com")
    assert "$filter = 'userPrincipalName -eq ''o''''brien@contoso.com'''" in text
