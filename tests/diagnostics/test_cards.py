"""The diagnostics' cards: valid Adaptive Cards 1.5, pasted text only in TextRuns and without
format characters, the scripts with the case's UPN quoted."""

from __future__ import annotations

import json

import pytest

from bot.cards.diagnostics import QUESTIONS_INSTEAD, diagnostic_card, error_card, reading_card
from bot.diagnostics.assess import assess
from bot.diagnostics.errors import load_catalog
from bot.diagnostics.reading import merge, read_paste
from bot.diagnostics.scripts import load_scripts
from bot.playbook import load_playbook
from bot.walkthrough.case import RecoveryCase
from tests.cardcheck import schema_problems
from tests.diagnostics import corpus
from tests.diagnostics.corpus import read_all
from tests.harness import TENANT, flatten

playbook = load_playbook()


def a_case() -> RecoveryCase:
    return RecoveryCase("MR-ABC234", "admin-1", upn=corpus.UPN, tenant_id=TENANT)


def text_blocks(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "TextBlock" else []
        return found + [t for v in node.values() for t in text_blocks(v)]
    if isinstance(node, list):
        return [t for v in node for t in text_blocks(v)]
    return []


def test_the_diagnostic_card_has_the_three_scripts_with_the_upn_quoted():
    card = diagnostic_card(a_case(), playbook, load_scripts())
    assert schema_problems(card) == []
    codes = [e["codeSnippet"] for e in card["body"] if e.get("type") == "CodeBlock"]
    assert len(codes) == 3 and all(c.startswith("$upn = 'o''brien@contoso.com'") for c in codes)
    assert [a["title"] for a in card["actions"]] == [QUESTIONS_INSTEAD]
    only_ad = diagnostic_card(a_case(), playbook, load_scripts(), places=["ad"])
    assert len([e for e in only_ad["body"] if e.get("type") == "CodeBlock"]) == 1


@pytest.mark.parametrize("name", ["A9", "recreated_user", "several_soft_deleted", "license_removed"])
def test_what_i_read_is_a_valid_card_with_confirm(name):
    found = assess(read_all(corpus.CORPUS[name]) | {"choice": {}}, playbook, now=corpus.NOW)
    card = reading_card(a_case(), found, playbook, read_now=["exo", "graph"])
    assert schema_problems(card) == [], schema_problems(card)
    assert [a["title"] for a in card["actions"]][:2] == ["Confirm", "That's not right"]
    if name == "several_soft_deleted":
        choice = next(e for e in card["body"] if e.get("id") == "exchange_guid")
        assert [c["value"] for c in choice["choices"]] == [corpus.SECOND_GUID, corpus.OLD_GUID]


def test_pasted_text_is_never_markdown_nor_carries_format_characters():
    reading = read_paste(corpus.HOSTILE_NAME_PASTE, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    evidence, _ = merge({}, reading)
    found = assess(evidence, playbook, now=corpus.NOW)
    card = reading_card(a_case(), found, playbook)
    dumped = json.dumps(card, ensure_ascii=False)
    assert "\u202e" not in dumped
    assert not any("evil.example" in t or "Remove-Mailbox" in t for t in text_blocks(card))


def test_a_disagreement_is_said_and_goes_to_the_questions():
    finding = {"checked_at": "2026-11-25T14:00:00+00:00", "entra": {"state": "present", "synced": None}}
    found = assess(read_all(corpus.CORPUS["C6"]), playbook, graph_finding=finding, now=corpus.NOW)
    card = reading_card(a_case(), found, playbook)
    assert "They disagree" in flatten(card) and card["actions"][0]["title"] == "Go on with the questions"


def test_missing_places_are_named():
    evidence, _ = merge({}, read_paste(corpus.CORPUS["B5"].pastes["exo"], upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT))
    card = reading_card(a_case(), assess(evidence, playbook, now=corpus.NOW), playbook)
    assert "Still missing: the Microsoft Graph diagnostic." in flatten(card)
    assert [a["title"] for a in card["actions"]] == [QUESTIONS_INSTEAD]


@pytest.mark.parametrize("entry", load_catalog(), ids=lambda e: e.id)
def test_error_cards(entry):
    card = error_card(entry, "MR-ABC234")
    assert schema_problems(card) == []
    assert ("remind me in" in flatten(card)) == bool(entry.wait_minutes)
