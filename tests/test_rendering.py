"""Values an admin types, hostile and odd, end up refused or as one inert PowerShell string."""

from __future__ import annotations

import re

import pytest

from bot.playbook import InvalidValue, check_upn, load_playbook, ps_quote, render_text, validate
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.rules import collected_at

playbook = load_playbook()


def hints(leaf) -> dict[str, int]:
    """Which step reads each value, for a case that has not answered any sub-question yet."""
    return collected_at(RecoveryCase("MR-TEST00", "admin"), leaf)


def parse_single_quoted(literal: str) -> tuple[str, str]:
    """Read one PowerShell single-quoted string from the start of `literal` the way PowerShell's
    tokenizer does (any of the five single-quote characters opens, closes or, doubled, escapes);
    returns (value, what follows the string)."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert literal[0] in quotes
    i, value = 1, []
    while i < len(literal):
        ch = literal[i]
        if ch in quotes:
            if i + 1 < len(literal) and literal[i + 1] in quotes:
                value.append(ch)
                i += 2
                continue
            return "".join(value), literal[i + 1 :]
        value.append(ch)
        i += 1
    raise AssertionError("unterminated string")


HOSTILE = [
    "o'brien@contoso.com",
    "o\u2019brien@contoso.com",
    "$(Remove-Mailbox)",
    '"; Remove-Mailbox -Identity * ;"',
    "",
    "a" * 10_000,
    "Zoë Ñandú-Łukasz 山田",
    "x'; Remove-Mailbox -Identity * -Confirm:$false; '",
    "\u2018; Remove-Mailbox *; \u201b",
    "line1\nRemove-Mailbox *",
    "tab\there",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("kind", ["upn", "text", "alias", "guid", "email"])
def test_hostile_values_are_refused_or_inert(kind, value):
    try:
        accepted = validate(kind, value, "value")
    except InvalidValue as exc:
        assert str(exc), "a refusal must say why"
        return
    command = render_text("Get-Mailbox -Identity {upn} | Select-Object Name", playbook, {"upn": accepted})
    literal = command[len("Get-Mailbox -Identity ") :]
    parsed, rest = parse_single_quoted(literal)
    assert parsed == accepted, "the value must come back whole"
    assert rest == " | Select-Object Name", "nothing may follow the string but the template"


def test_apostrophe_upn_is_accepted_and_doubled():
    assert check_upn("o'brien@contoso.com") == "o'brien@contoso.com"
    assert ps_quote("o'brien@contoso.com") == "'o''brien@contoso.com'"


def test_every_powershell_single_quote_is_doubled():
    for quote in "'\u2018\u2019\u201a\u201b":
        assert ps_quote(f"a{quote}b") == f"'a{quote}{quote}b'"


@pytest.mark.parametrize(
    "upn, reason",
    [
        ("", "empty"),
        ("jane.doe", "exactly one @"),
        ("jane@doe@contoso.com", "exactly one @"),
        ("o\u2019brien@contoso.com", "U+2019"),
        ("$(Remove-Mailbox)@contoso.com", "$"),
        ("jane doe@contoso.com", "U+0020"),
        ("jane@contoso", "needs a dot"),
        (".jane@contoso.com", "cannot start or end with a dot"),
        ("jane..doe@contoso.com", "two dots"),
        ("a" * 10_000 + "@contoso.com", "characters long"),
        ("a" * 65 + "@contoso.com", "at most 64"),
        ("jane@-contoso.com", "hyphen"),
        ("jane@contoso.c0m", "must end in a name"),
        ("jane@cont\u00f6so.com", "U+00F6"),
    ],
)
def test_invalid_upns_are_refused_with_what_is_wrong(upn, reason):
    with pytest.raises(InvalidValue) as refused:
        check_upn(upn)
    assert reason in str(refused.value)


def test_non_ascii_display_names_are_kept_and_quoted():
    name = validate("text", "Zoë Ñandú 山田", "display name")
    assert render_text("New-ADUser -Name {display_name}", playbook, {"display_name": name}) == "New-ADUser -Name 'Zoë Ñandú 山田'"


def test_unknown_values_stay_visible_as_named_hints():
    leaf = playbook.leaves["B8"]
    text = render_text(leaf.step("new_mailbox_inactive").commands["modern"], playbook, {"upn": "a@contoso.com"}, hints(leaf))
    # Still one PowerShell string each: the line stays valid while the value is unknown.
    assert "-InactiveMailbox '<ExchangeGuid of the soft-deleted mailbox from step 3>'" in text
    assert "-Name '<Name of the soft-deleted mailbox from step 3>'" in text


def test_derived_values_escape_each_layer():
    text = render_text("-Filter {ad_upn_filter}", playbook, {"upn": "o'brien@contoso.com"})
    # The AD filter doubles the quote inside its literal; PowerShell doubles every quote again.
    assert text == "-Filter 'userPrincipalName -eq ''o''''brien@contoso.com'''"
    text = render_text("-RemoteRoutingAddress {routing_address}", playbook, {"alias": "kima", "tenant_name": "contoso"})
    assert text == "-RemoteRoutingAddress 'kima@contoso.mail.onmicrosoft.com'"
    assert render_text("{routing_address}", playbook, {"alias": "kima"}) == "'<remote routing address>'"


def test_no_step_asks_for_or_prints_a_password():
    for leaf in playbook.leaves.values():
        for step in leaf.steps:
            for command in step.commands.values():
                for line in command.splitlines():
                    if re.search(r"-Password\b|-AccountPassword\b", line):
                        assert "Read-Host" in line and "-AsSecureString" in line, (leaf.id, step.id, line)
